"""Pages of the consultation part: paragraphs with their comments, posting and answering."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts import policy
from consult.accounts.models import Organisation
from consult.accounts.routes import current_actor, safe_next
from consult.accounts.services import all_organisations
from consult.consultation import listing, repeats, services
from consult.consultation.forms import (
    WHOLE_VERSION,
    CommentForm,
    CosignForm,
    EditCommentForm,
    FlagForm,
    ModerateForm,
    ReceivedCommentForm,
    ReplyForm,
    ResponseForm,
    WithdrawForm,
)
from consult.consultation.models import (
    Comment,
    CoSignature,
    Flag,
    ModerationAction,
    Reply,
    Response,
)
from consult.consultation.redaction import public_texts
from consult.converters import parse_id
from consult.documents import services as docs
from consult.documents.forms import parse_local_datetime
from consult.documents.models import LineageLink, Paragraph, Version
from consult.documents.routes import received_comment_form, visible_paragraph, visible_version
from consult.errors import ConsultError, NotAllowed, NotFound
from consult.extensions import db, limiter
from consult.tracing.diff import diff_html, word_diff
from consult.tracing.suggested import stored_diff

bp = Blueprint("consultation", __name__)

#: Posting comments, replies and flags, per person (or per address when signed out),
#: shared by those pages: generous for a person, a brake for a script.
POSTING_LIMIT = "15 per minute; 300 per day"


def _poster() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


posting_limit = limiter.shared_limit(
    POSTING_LIMIT, scope="posting", key_func=_poster, methods=["POST"]
)

_COMMENT_LOADS = (
    selectinload(Comment.organisation),
    selectinload(Comment.author),
    selectinload(Comment.entered_by),
    selectinload(Comment.paragraph),
    selectinload(Comment.responses).selectinload(Response.responder),
    selectinload(Comment.revisions),
    selectinload(Comment.withdrawal),
    selectinload(Comment.moderation),
    selectinload(Comment.replies),
    selectinload(Comment.cosignatures).selectinload(CoSignature.organisation),
)


def change_html(paragraph, suggested_text: str | None, span: tuple[int, int] | None) -> str | None:
    """Proposed wording as <ins>/<del> against its paragraph. With a quote, the wording
    replaces only the quoted span, so the diff shows the paragraph as it would read."""
    if not suggested_text:
        return None
    if paragraph is None:
        return diff_html([("insert", suggested_text)])
    text = paragraph.text
    proposed = text[: span[0]] + suggested_text + text[span[1] :] if span else suggested_text
    return diff_html(word_diff(text, proposed))


def proposed_change(c: Comment, text=None) -> str | None:
    """The suggestion as it stands (or as `text`, one of its revisions) as a word diff:
    stored when the text was written (computed here only for older rows)."""
    t = text or c.current
    span = (t.quote_start, t.quote_end) if t.quote_start is not None else None
    if not t.suggested_text:
        return None
    if t.suggested_diff or c.paragraph_id is None:
        return diff_html(stored_diff(t, None))
    return change_html(c.paragraph, t.suggested_text, span)


def comment_actions(c: Comment) -> dict:
    """What the current user may do to the comment now (the templates only show it)."""
    user = current_user
    if not user.is_authenticated:
        return {}
    open_ = docs.accepting_comments(c.version)
    standing = not c.withdrawn and not c.is_hidden
    signed = {s.organisation_id for s in c.cosignatures} | {c.organisation_id}
    cosign = []
    if open_ and standing and policy.can(user, "comment.cosign", c):
        cosign = [o for o in user.organisations if o.id not in signed]
    uncosign = []
    if open_ and policy.can(user, "comment.cosign_withdraw", c):
        mine = {o.id for o in user.organisations}
        uncosign = [
            s.organisation for s in c.cosignatures if not s.joint and s.organisation_id in mine
        ]
    return {
        "uncosign": uncosign,
        "edit": open_ and standing and policy.can(user, "comment.edit", c),
        "withdraw": open_ and not c.withdrawn and policy.can(user, "comment.withdraw", c),
        "cosign": cosign,
        "reply": open_ and standing and policy.can(user, "comment.reply", c),
        "flag": policy.can(user, "comment.flag", c),
        "moderate": policy.can(user, "comment.moderate", c),
    }


def _may_respond(v: Version) -> bool:
    return v.state in ("closed", "final") and policy.can(current_user, "response.create")


@bp.get("/paragraphs/<int:paragraph_id>")
def paragraph(paragraph_id: int):
    p = visible_paragraph(paragraph_id)
    v = p.version
    page = listing.paragraph_page(p, listing.page_number(request.args.get("page")), *_COMMENT_LOADS)
    comments = page.comments
    history = [
        q for q in docs.lineage_history(p) if policy.can(current_user, "version.view", q.version)
    ]
    relations = dict(
        db.session.execute(
            select(LineageLink.paragraph_id, LineageLink.relation).where(
                LineageLink.paragraph_id.in_([q.id for q in history])
            )
        ).all()
    )
    may_comment = docs.accepting_comments(v) and policy.can(current_user, "comment.create", v)
    received_form = received_comment_form(v)
    if received_form is not None:
        received_form.paragraph.choices = {str(p.id): p.number or "this paragraph"}
    new_comment = CommentForm(current_user.organisations) if may_comment else None
    if new_comment is not None and request.args.get("lang") in new_comment.language.choices:
        # Reached from the version page read in a translation: written in that language.
        new_comment.language.data = request.args["lang"]
    return render_template(
        "consultation/paragraph.html",
        doc=v.document,
        version=v,
        p=p,
        comments=comments,
        changes={c.id: proposed_change(c) for c in comments},
        page=page,
        page_url=lambda n: url_for("consultation.paragraph", paragraph_id=p.id, page=n),
        moderator=policy.can(current_user, "comment.moderate"),
        history=history,
        relations=relations,
        may_comment=may_comment,
        new_comment=new_comment,
        received_form=received_form,
        response_form=ResponseForm() if _may_respond(v) else None,
    )


def _visible_comment(comment_id: int) -> Comment:
    """The comment, or 404 when its version is a draft the user may not see."""
    c = services.get_comment(comment_id)
    if not policy.can(current_user, "version.view", c.version):
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    return c


def _acting_on(comment_id: int, action: str, form_class, invalid: str, *args):
    """(comment, submitted form) for an action on a comment: the comment must be visible,
    the policy must allow `action`, and the form must validate (else 400 with `invalid`)."""
    c = _visible_comment(comment_id)
    policy.require(current_user, action, c)
    form = form_class(*args)
    if not form.validate_on_submit():
        # What a field could not read (a number out of range, a NUL) says more than `invalid`.
        unread = [str(e) for field in form for e in field.process_errors]
        raise ConsultError(" ".join([invalid, *unread]))
    return c, form


def _own_organisation(organisation_id: int | None):
    """The signed-in user's organisation with this id, or None."""
    return next((o for o in current_user.organisations if o.id == organisation_id), None)


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int):
    c = db.session.scalars(
        select(Comment)
        .where(Comment.id == comment_id)
        .options(
            *_COMMENT_LOADS,
            selectinload(Comment.replies).selectinload(Reply.author),
            selectinload(Comment.replies).selectinload(Reply.organisation),
            selectinload(Comment.replies).selectinload(Reply.moderation),
            selectinload(Comment.moderation).selectinload(ModerationAction.moderator),
        )
    ).one_or_none()
    if c is None or not policy.can(current_user, "version.view", c.version):
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    if c.held and not (
        policy.can(current_user, "comment.review_personal_data", c)
        or policy.can(current_user, "comment.edit", c)
    ):  # held for review of personal data: unknown to the public until reviewed
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    actions = comment_actions(c)
    reply_form = ReplyForm() if actions.get("reply") else None
    if reply_form is not None:  # only a signed-in user may reply
        reply_form.organisation.choices = {o.id: o.display_name for o in current_user.organisations}
    # The texts the comment had, oldest first: as posted, then every revision.
    texts = public_texts(c, current_user)
    return render_template(
        "consultation/comment.html",
        c=c,
        doc=c.version.document,
        version=c.version,
        change=proposed_change(c),
        texts=texts,
        earlier_changes={t.content_hash: proposed_change(c, t) for t in texts[:-1]},
        actions=actions,
        cosign_form=CosignForm(actions["cosign"]) if actions.get("cosign") else None,
        reply_form=reply_form,
        withdraw_form=WithdrawForm() if actions.get("withdraw") else None,
        flag_form=FlagForm() if actions.get("flag") else None,
        moderate_form=ModerateForm() if actions.get("moderate") else None,
        open_flags=services.open_flags([c]).get(c.id, 0) if actions.get("moderate") else 0,
        response_form=ResponseForm() if _may_respond(c.version) else None,
    )


@bp.get("/documents/<slug>/versions/<int:number>/comments")
def version_comments(slug: str, number: int):
    """A version's comments page by page, in the order of its text; with ?unanswered=1
    the ones still waiting for an answer (withdrawn and hidden comments wait for none)."""
    doc, v = visible_version(slug, number)
    if request.args.get("letters"):
        return _version_letters(doc, v)
    unanswered_only = bool(request.args.get("unanswered"))
    page, waiting = listing.version_page(
        v,
        listing.page_number(request.args.get("page")),
        *_COMMENT_LOADS,
        only_waiting=unanswered_only,
    )
    comments = page.comments
    extra = {"unanswered": 1} if unanswered_only else {}
    return render_template(
        "consultation/version_comments.html",
        doc=doc,
        version=v,
        comments=comments,
        page=page,
        page_url=lambda n: url_for(
            "consultation.version_comments", slug=doc.slug, number=v.number, page=n, **extra
        ),
        waiting=waiting,
        unanswered_only=unanswered_only,
        changes={c.id: proposed_change(c) for c in comments},
        moderator=policy.can(current_user, "comment.moderate"),
        response_form=ResponseForm() if _may_respond(v) else None,
    )


def _version_letters(doc, v: Version):
    """?letters=1: the version's comments with each form letter on one row (its master
    text, its size, a link to its page), then the comments in no letter; page by page,
    from aggregates (analysis.grouping.letters_page)."""
    from consult.analysis import grouping  # a later layer

    page = grouping.letters_page(v, listing.page_number(request.args.get("page")))
    # The masters and the page's comments loaded together; the letters' masters are then
    # found in the session (no query per row).
    wanted = [g.master_comment_id for g in page.groups] + page.comment_ids
    loaded = {
        c.id: c
        for c in db.session.scalars(
            select(Comment).where(Comment.id.in_(wanted or [-1])).options(*_COMMENT_LOADS)
        )
    }
    comments = [loaded[cid] for cid in page.comment_ids]
    return render_template(
        "consultation/version_letters.html",
        doc=doc,
        version=v,
        page=page,
        masters={g.id: loaded.get(g.master_comment_id) for g in page.groups},
        master_texts={g.id: grouping.master_text(g, current_user) for g in page.groups},
        comments=comments,
        page_url=lambda n: url_for(
            "consultation.version_comments", slug=doc.slug, number=v.number, letters=1, page=n
        ),
        changes={c.id: proposed_change(c) for c in comments},
        moderator=policy.can(current_user, "comment.moderate"),
        response_form=ResponseForm() if _may_respond(v) else None,
    )


def _paragraph_in(v: Version, value: str | None) -> Paragraph | None:
    """The paragraph named by a form field, which must belong to the version."""
    if value in (None, WHOLE_VERSION):
        return None
    pid = parse_id(value)
    p = db.session.get(Paragraph, pid) if pid is not None else None
    if p is None or p.version_id != v.id:
        raise ConsultError(_("That paragraph is not in this version."))
    return p


def _comment_page(
    doc,
    v,
    p,
    form,
    *,
    error: str = "",
    status: int = 200,
    received=False,
    preview=None,
    repeat=None,
):
    return (
        render_template(
            "consultation/comment_form.html",
            doc=doc,
            version=v,
            p=p,
            form=form,
            error=error,
            received=received,
            preview=preview,
            repeat=repeat,
            accepting=docs.accepting_comments(v),
        ),
        status,
    )


def _preview(kind: str, p, form) -> dict:
    """The comment as it would be posted: its body rendered and, for a suggestion, the
    change as a word diff. Raises ConsultError as posting would; stores nothing."""
    body, suggested, quote, span = services.checked_text(
        kind, p, form.body.data, form.suggested_text.data, form.quote.data
    )
    # What the proposed wording replaces, and the paragraph as it would then read in full.
    replaces = result = None
    if suggested:
        replaces = "version" if p is None else ("quote" if span else "paragraph")
        if p is not None:
            result = p.text[: span[0]] + suggested + p.text[span[1] :] if span else suggested
    return {
        "body": body,
        "quote": quote,
        "change": change_html(p, suggested, span),
        "replaces": replaces,
        "result": result,
        "paragraph": p,
    }


def _preview_page(doc, v, p, form, *, received=False):
    """The comment form again, with the comment as it would be posted (or why it would
    be refused)."""
    try:
        preview = _preview(form.kind.data, p, form)
    except ConsultError as e:
        return _comment_page(doc, v, p, form, error=e.message, status=e.status, received=received)
    return _comment_page(doc, v, p, form, preview=preview, received=received)


def _exact_repeat(v: Version, p, org: Organisation, form) -> Comment | None:
    """The organisation's earlier comment with exactly these words here, if any (the page
    then warns and asks to confirm before storing a second copy)."""
    try:
        body, suggested, quote, _span = services.checked_text(
            form.kind.data, p, form.body.data, form.suggested_text.data, form.quote.data
        )
    except ConsultError:
        return None  # posting refuses it, saying why
    return repeats.exact_repeat(
        version_id=v.id,
        paragraph_id=p.id if p is not None else None,
        organisation_id=org.id,
        body=body,
        suggested_text=suggested,
        quote=quote,
    )


def _chosen(form, organisations) -> list[Organisation]:
    wanted = set(form.cosigners.data or [])
    return [o for o in organisations if o.id in wanted]


@bp.get("/documents/<slug>/versions/<int:number>/comments/new")
@login_required
def new_comment(slug: str, number: int):
    """One paragraph and its comment form: a light page to comment from."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.create", v)
    p = _paragraph_in(v, request.args.get("paragraph"))
    form = CommentForm(current_user.organisations, paragraph=str(p.id) if p else WHOLE_VERSION)
    return _comment_page(doc, v, p, form)


@bp.post("/documents/<slug>/versions/<int:number>/comments")
@login_required
@posting_limit
def post_comment(slug: str, number: int):
    """Post a comment; with the "Preview" button, show it (and a suggestion's diff) first."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.create", v)
    form = CommentForm(current_user.organisations)
    p = _paragraph_in(v, form.paragraph.data)
    if not form.validate_on_submit():
        return _comment_page(doc, v, p, form, error=_("Check the fields marked below."), status=400)
    org = _own_organisation(form.organisation.data)
    if org is None:
        raise NotAllowed(_("You can only comment for an organisation you belong to."))
    if request.form.get("preview"):
        return _preview_page(doc, v, p, form)
    if request.form.get("repeat") != "1":
        earlier = _exact_repeat(v, p, org, form)
        if earlier is not None:
            return _comment_page(doc, v, p, form, repeat=earlier, status=409)
    try:
        c = services.post_comment(
            version=v,
            paragraph=p,
            organisation=org,
            kind=form.kind.data,
            body=form.body.data,
            suggested_text=form.suggested_text.data,
            quote=form.quote.data,
            by=current_actor(),
            cosigners=_chosen(form, current_user.organisations),
            language=form.language.data or None,
        )
    except ConsultError as e:
        db.session.rollback()
        return _comment_page(doc, v, p, form, error=e.message, status=e.status)
    db.session.commit()
    flash(_("Your comment is received. Its tracking number is %(tracking)s.", tracking=c.tracking))
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/documents/<slug>/versions/<int:number>/comments/received")
@login_required
def enter_comment(slug: str, number: int):
    """The secretariat enters a comment that came by e-mail, on paper or at a workshop."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.enter_on_behalf", v)
    organisations = all_organisations()
    form = ReceivedCommentForm(organisations)
    p = _paragraph_in(v, form.paragraph.data)
    form.paragraph.choices = {form.paragraph.data: p.number if p else "the version as a whole"}
    if not form.validate_on_submit():
        return _comment_page(
            doc, v, p, form, error=_("Check the fields marked below."), status=400, received=True
        )
    org = db.session.get(Organisation, form.organisation.data)
    if org is None:
        raise NotFound(_("There is no such organisation."))
    if request.form.get("preview"):
        return _preview_page(doc, v, p, form, received=True)
    try:
        received_at = (
            parse_local_datetime(form.received_on.data, doc.timezone, date_means="start")
            if (form.received_on.data or "").strip()
            else None
        )
        c = services.post_comment(
            version=v,
            paragraph=p,
            organisation=org,
            kind=form.kind.data,
            body=form.body.data,
            suggested_text=form.suggested_text.data,
            quote=form.quote.data,
            by=current_actor(),
            channel=form.channel.data,
            on_behalf=True,
            received_at=received_at,
            cosigners=_chosen(form, organisations),
            language=form.language.data or None,
        )
    except ConsultError as e:
        db.session.rollback()
        return _comment_page(doc, v, p, form, error=e.message, status=e.status, received=True)
    db.session.commit()
    flash(_("Comment %(tracking)s entered for %(name)s.", tracking=c.tracking, name=org.name))
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/responses")
@login_required
def respond(comment_id: int):
    c = services.get_comment(comment_id)
    policy.require(current_user, "response.create", c)
    form = ResponseForm()
    if not form.validate_on_submit():
        raise ConsultError(_("Choose a decision and give the reason for it."))
    services.respond(c, decision=form.decision.data, reason=form.reason.data, by=current_actor())
    db.session.commit()
    flash(_("The answer to %(tracking)s is saved.", tracking=c.tracking))
    back = safe_next(form.next.data) or url_for("consultation.comment", comment_id=c.id)
    return redirect(back)


# --- what the author, other organisations, the committee and the moderators do ---------------


def _edit_page(c: Comment, form, *, error: str = "", status: int = 200, preview=None):
    return (
        render_template(
            "consultation/edit_comment.html",
            c=c,
            doc=c.version.document,
            version=c.version,
            form=form,
            error=error,
            preview=preview,
        ),
        status,
    )


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
@posting_limit
def edit_comment(comment_id: int):
    """A new text for one's comment, until the deadline; the earlier texts stay readable."""
    c = _visible_comment(comment_id)
    policy.require(current_user, "comment.edit", c)
    if request.method == "GET":
        now = c.current
        form = EditCommentForm(
            data={"body": now.body, "suggested_text": now.suggested_text, "quote": now.quote}
        )
        return _edit_page(c, form)
    form = EditCommentForm()
    if not form.validate_on_submit():
        return _edit_page(c, form, error=_("Check the fields marked below."), status=400)
    try:
        if request.form.get("preview"):
            return _edit_page(c, form, preview=_preview(c.kind, c.paragraph, form))
        services.edit_comment(
            c,
            body=form.body.data,
            suggested_text=form.suggested_text.data,
            quote=form.quote.data,
            by=current_actor(),
        )
    except ConsultError as e:
        db.session.rollback()
        return _edit_page(c, form, error=e.message, status=e.status)
    db.session.commit()
    flash(
        _("Comment %(tracking)s is changed; its earlier text stays readable.", tracking=c.tracking)
    )
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/withdraw")
@login_required
def withdraw_comment(comment_id: int):
    c, form = _acting_on(comment_id, "comment.withdraw", WithdrawForm, "The reason is too long.")
    services.withdraw_comment(c, by=current_actor(), reason=form.reason.data)
    db.session.commit()
    flash(
        _(
            "Comment %(tracking)s is withdrawn. It stays on the record, marked withdrawn.",
            tracking=c.tracking,
        )
    )
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/cosign")
@login_required
def cosign(comment_id: int):
    c, form = _acting_on(
        comment_id,
        "comment.cosign",
        CosignForm,
        "Choose one of your organisations to co-sign for.",
        current_user.organisations,
    )
    org = _own_organisation(form.organisation.data)
    services.cosign(c, org, by=current_actor())
    db.session.commit()
    flash(_("%(name)s now supports comment %(tracking)s.", name=org.name, tracking=c.tracking))
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/cosign/withdraw")
@login_required
def withdraw_cosignature(comment_id: int):
    c, form = _acting_on(
        comment_id,
        "comment.cosign_withdraw",
        CosignForm,
        "Choose the organisation whose co-signature you withdraw.",
        current_user.organisations,
    )
    org = _own_organisation(form.organisation.data)
    services.withdraw_cosignature(c, org, by=current_actor())
    db.session.commit()
    flash(
        _(
            "%(name)s no longer co-signs comment %(tracking)s; the "
            "co-signature and its withdrawal stay in the comment's "
            "history.",
            name=org.name,
            tracking=c.tracking,
        )
    )
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/replies")
@login_required
@posting_limit
def reply(comment_id: int):
    c, form = _acting_on(
        comment_id, "comment.reply", ReplyForm, "Write the reply (at most 5,000 characters)."
    )
    org = None
    if form.organisation.data:
        org = _own_organisation(form.organisation.data)
        if org is None:
            raise NotAllowed(_("You can only reply for an organisation you belong to."))
    r = services.post_reply(c, body=form.body.data, by=current_actor(), organisation=org)
    db.session.commit()
    flash(_("Your reply is posted."))
    return redirect(url_for("consultation.comment", comment_id=c.id, _anchor=f"reply-{r.id}"))


@bp.post("/comments/<int:comment_id>/flag")
@login_required
@posting_limit
def flag(comment_id: int):
    c, form = _acting_on(
        comment_id, "comment.flag", FlagForm, "Say why the moderators should look at it."
    )
    services.flag(
        c, reason=form.reason.data, by=current_actor(), reply=services.get_reply(c, form.reply.data)
    )
    db.session.commit()
    flash(_("Thank you: the moderators will look at it."))
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/moderate")
@login_required
def moderate(comment_id: int):
    c, form = _acting_on(
        comment_id, "comment.moderate", ModerateForm, "Choose an action and give its public reason."
    )
    m = services.moderate(
        c,
        action=form.action.data,
        reason=form.reason.data,
        by=current_actor(),
        reply=services.get_reply(c, form.reply.data),
    )
    db.session.commit()
    what = _("The reply") if m.reply_id else _("Comment %(tracking)s", tracking=c.tracking)
    flash(
        _(
            "%(what)s: %(lower)s, with the reason shown in its place.",
            what=what,
            lower=m.action_label.lower(),
        )
    )
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.get("/moderation")
@login_required
def moderation_queue():
    """Comments flagged since their last moderation, most flagged first."""
    policy.require(current_user, "comment.moderate")
    flagged = db.session.scalars(
        select(Comment).where(Comment.id.in_(select(Flag.comment_id))).options(*_COMMENT_LOADS)
    ).all()
    counts = services.open_flags(flagged)
    comments = sorted((c for c in flagged if counts.get(c.id)), key=lambda c: -counts[c.id])
    return render_template(
        "consultation/moderation.html", comments=comments, counts=counts, changes={}
    )
