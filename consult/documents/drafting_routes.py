"""The committee's pages: editing a draft paragraph by paragraph, conflicts, taking up
suggestions, reviewing lineage, the explanatory note and the committee itself.

Routes on the documents blueprint; each loads, asks the policy, calls one service
and renders or redirects. A failed save shows the form again with what was typed.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts import policy
from consult.accounts.routes import current_actor
from consult.accounts.services import get_user_by_email
from consult.consultation.models import Comment, Response
from consult.consultation.takeup import preview_take_up, take_up_suggestion
from consult.converters import parse_id
from consult.documents import drafting
from consult.documents import services as docs
from consult.documents.drafting import Correction, EditConflict
from consult.documents.forms import (
    SPLIT_MARK,
    CommitteeForm,
    InsertForm,
    NoteForm,
    ParagraphForm,
    SplitForm,
    TakeUpForm,
    split_offset,
)
from consult.documents.models import Document, Paragraph, ResponseEffect, Version
from consult.documents.routes import bp, visible_document, visible_version
from consult.errors import ConsultError, NotFound
from consult.extensions import db

# ---------------------------------------------------------------- loading


def _draft(slug: str, number: int) -> tuple[Document, Version]:
    """The version, which the user may edit (a frozen one is refused by the services)."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "version.edit", v)
    return doc, v


def _paragraph(v: Version, paragraph_id: int) -> Paragraph:
    return drafting.get_draft_paragraph(v, paragraph_id)


def _editor(doc: Document, v: Version, p: Paragraph | None = None) -> str:
    anchor = f"p-{p.id}" if p is not None else None
    return url_for("documents.draft", slug=doc.slug, number=v.number, _anchor=anchor)


def _failed(e: ConsultError) -> None:
    db.session.rollback()
    flash(e.message, "error")


def _lf(text: str) -> str:
    """Browsers send a textarea's lines with CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _set_revision(form, revision: int) -> None:
    # An IntegerField shows what was posted before its data; the new revision must win.
    form.revision.data, form.revision.raw_data = revision, None


def ref(p: Paragraph) -> str:
    """How the review page names a paragraph: its display number, or #position."""
    return p.number or f"#{p.position + 1}"


# ---------------------------------------------------------------- the paragraph editor


@bp.get("/documents/<slug>/versions/<int:number>/draft")
@login_required
def draft(slug: str, number: int):
    doc, v = _draft(slug, number)
    rows = drafting.review_links(v) if number > 1 else []
    relation = {r.paragraph.id: r for r in rows if r.paragraph is not None}
    return render_template(
        "drafting/editor.html",
        doc=doc,
        version=v,
        paragraphs=v.paragraphs,
        relation=relation,
        removed=[r for r in rows if r.paragraph is None],
        ref=ref,
    )


@bp.route(
    "/documents/<slug>/versions/<int:number>/paragraphs/<int:paragraph_id>/edit",
    methods=["GET", "POST"],
)
@login_required
def edit_paragraph(slug: str, number: int, paragraph_id: int):
    doc, v = _draft(slug, number)
    form = ParagraphForm()
    if request.method == "GET":
        drafting.refuse_frozen(v)
        p = _paragraph(v, paragraph_id)
        form.source.data, form.revision.data, form.base_source.data = p.source, p.revision, p.source
        return _paragraph_form(doc, v, p, form)
    if not form.validate_on_submit():
        p = db.session.get(Paragraph, paragraph_id)
        return _paragraph_form(doc, v, p, form, "Type the paragraph's text."), 400
    try:
        saved = drafting.save_paragraph(
            v,
            paragraph_id,
            _lf(form.source.data),
            form.revision.data,
            by=current_actor(),
            base_source=_lf(form.base_source.data) if form.base_source.data else None,
        )
    except EditConflict as e:
        db.session.rollback()
        return _conflict(doc, v, paragraph_id, e), 409
    except ConsultError as e:
        db.session.rollback()
        p = db.session.get(Paragraph, paragraph_id)
        return _paragraph_form(doc, v, p, form, e.message), e.status
    db.session.commit()
    flash(
        f"Paragraph {saved[0].number or '(title)'} is saved"
        + (f" ({len(saved)} paragraphs)." if len(saved) > 1 else ".")
    )
    return redirect(_editor(doc, v, saved[0]))


def _paragraph_form(doc, v, p, form, error: str = ""):
    return render_template(
        "drafting/paragraph.html", doc=doc, version=v, paragraph=p, form=form, error=error
    )


def _conflict(doc: Document, v: Version, paragraph_id: int, e: EditConflict):
    """Both texts and a merge to save again over the revision now saved."""
    form = ParagraphForm(formdata=None)
    form.source.data = e.merged if e.merged is not None else e.yours
    form.revision.data = e.revision
    form.base_source.data = e.theirs or ""
    insert = InsertForm(formdata=None)
    insert.source.data = e.yours
    return render_template(
        "drafting/conflict.html",
        doc=doc,
        version=v,
        conflict=e,
        paragraph_id=paragraph_id,
        form=form,
        insert=insert,
        whole=False,
    )


@bp.route("/documents/<slug>/versions/<int:number>/insert", methods=["GET", "POST"])
@login_required
def insert_paragraph(slug: str, number: int):
    doc, v = _draft(slug, number)
    form = InsertForm()
    after_id = form.after.data if request.method == "POST" else request.args.get("after", "")
    after = _after(v, after_id)
    if request.method == "GET":
        drafting.refuse_frozen(v)
        form.after.data = str(after.id) if after else ""
        return _insert_form(doc, v, after, form)
    if not form.validate_on_submit():
        return _insert_form(doc, v, after, form, "Type the new paragraph's text."), 400
    try:
        if after is None:
            new = drafting.insert_first(v, _lf(form.source.data), by=current_actor())
        else:
            new = drafting.insert_after(after, _lf(form.source.data), by=current_actor())
    except ConsultError as e:
        db.session.rollback()
        return _insert_form(doc, v, _after(v, after_id), form, e.message), e.status
    db.session.commit()
    flash(_("Paragraph %(x)s is added.", x=new[0].number or "(title)"))
    return redirect(_editor(doc, v, new[0]))


def _after(v: Version, value: str | None) -> Paragraph | None:
    if not value:
        return None
    pid = parse_id(value)
    if pid is None:
        raise NotFound(
            _("Version %(number)s has no paragraph %(value)s.", number=v.number, value=value)
        )
    return _paragraph(v, pid)


def _insert_form(doc, v, after, form, error: str = ""):
    return render_template(
        "drafting/insert.html", doc=doc, version=v, after=after, form=form, error=error
    )


@bp.route(
    "/documents/<slug>/versions/<int:number>/paragraphs/<int:paragraph_id>/split",
    methods=["GET", "POST"],
)
@login_required
def split_paragraph(slug: str, number: int, paragraph_id: int):
    doc, v = _draft(slug, number)
    drafting.refuse_frozen(v)
    p = _paragraph(v, paragraph_id)
    form = SplitForm()
    if request.method == "GET":
        form.source.data, form.revision.data = p.source, p.revision
        return _split_form(doc, v, p, form)
    if not form.validate_on_submit():
        return _split_form(doc, v, p, form, "Mark the split point with ||."), 400
    try:
        if form.revision.data != p.revision:
            raise ConsultError(
                _(
                    "Someone else changed this paragraph since you opened it: "
                    "mark the split point again in its new text."
                ),
                status=409,
            )
        at = split_offset(_lf(form.source.data), p.source)
        first, second = drafting.split_paragraph(
            p, at, by=current_actor(), expected_revision=form.revision.data
        )
    except ConsultError as e:
        db.session.rollback()
        p = _paragraph(v, paragraph_id)
        if e.status == 409:
            form.source.data = p.source
            _set_revision(form, p.revision)
        return _split_form(doc, v, p, form, e.message), e.status
    db.session.commit()
    flash(_("Paragraph %(x)s is split in two.", x=first.number or "(title)"))
    return redirect(_editor(doc, v, first))


def _split_form(doc, v, p, form, error: str = ""):
    return render_template(
        "drafting/split.html",
        doc=doc,
        version=v,
        paragraph=p,
        form=form,
        error=error,
        mark=SPLIT_MARK,
    )


#: The buttons of a paragraph in the editor.
ACTIONS = {
    "move_up": (drafting.move_up, "moved up"),
    "move_down": (drafting.move_down, "moved down"),
    "merge": (drafting.merge_with_next, "merged with the next one"),
    "delete": (drafting.delete_paragraph, "deleted"),
}


@bp.post("/documents/<slug>/versions/<int:number>/paragraphs/<int:paragraph_id>/act")
@login_required
def paragraph_action(slug: str, number: int, paragraph_id: int):
    doc, v = _draft(slug, number)
    p = _paragraph(v, paragraph_id)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        raise ConsultError(_("Choose what to do with the paragraph."))
    operation, done = ACTIONS[action]
    name = p.number or "(title)"
    try:
        operation(p, by=current_actor())
    except ConsultError as e:
        _failed(e)
        return redirect(_editor(doc, v, _paragraph(v, paragraph_id)))
    db.session.commit()
    flash(_("Paragraph %(name)s is %(done)s.", name=name, done=done))
    if action == "delete":
        return redirect(_editor(doc, v))
    return redirect(_editor(doc, v, _paragraph(v, paragraph_id)))


# ---------------------------------------------------------------- the explanatory note


@bp.post("/documents/<slug>/versions/<int:number>/note")
@login_required
def save_note(slug: str, number: int):
    doc, v = _draft(slug, number)
    form = NoteForm()
    form.validate_on_submit()
    try:
        drafting.set_note(v, form.note.data or "", by=current_actor())
    except ConsultError as e:
        db.session.rollback()
        return render_template(
            "drafting/note.html", doc=doc, version=v, form=form, error=e.message
        ), e.status
    db.session.commit()
    flash(_("The explanatory note is saved."))
    return redirect(url_for("documents.version", slug=doc.slug, number=v.number))


# ---------------------------------------------------------------- taking up suggestions


def _suggestions(v: Version) -> list[Comment]:
    """The suggestions made on the version before the draft, in paragraph order."""
    if v.number == 1:
        return []
    previous = docs.get_version(v.document, v.number - 1)
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.version_id == previous.id, Comment.kind == "suggestion")
        .options(
            selectinload(Comment.responses),
            selectinload(Comment.revisions),
            selectinload(Comment.paragraph),
            selectinload(Comment.organisation),
            selectinload(Comment.withdrawal),
        )
        .order_by(Comment.id)
    ).all()
    kept = [c for c in comments if not c.withdrawn]
    return sorted(kept, key=lambda c: (c.paragraph.position if c.paragraph else -1, c.id))


def _taken_up(v: Version) -> dict[int, Paragraph]:
    """Comment id → the draft paragraph its wording went into."""
    rows = db.session.execute(
        select(Response.comment_id, ResponseEffect.paragraph_id)
        .join(ResponseEffect, ResponseEffect.response_id == Response.id)
        .where(ResponseEffect.version_id == v.id)
    ).all()
    by_id = {p.id: p for p in v.paragraphs}
    return {c: by_id[p] for c, p in rows if p in by_id}


@bp.get("/documents/<slug>/versions/<int:number>/suggestions")
@login_required
def suggestions(slug: str, number: int):
    doc, v = _draft(slug, number)
    comments = _suggestions(v)
    return render_template(
        "drafting/suggestions.html",
        doc=doc,
        version=v,
        comments=comments,
        taken=_taken_up(v),
    )


@bp.route(
    "/documents/<slug>/versions/<int:number>/suggestions/<int:comment_id>",
    methods=["GET", "POST"],
)
@login_required
def take_up(slug: str, number: int, comment_id: int):
    doc, v = _draft(slug, number)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.version.document_id != doc.id:
        raise NotFound(
            _("There is no suggestion %(comment_id)s on this document.", comment_id=comment_id)
        )
    form = TakeUpForm()
    if request.method == "POST":
        form.validate_on_submit()
        try:
            effects = take_up_suggestion(
                comment,
                v,
                by=current_actor(),
                reason=form.reason.data,
                decision=form.decision.data or "accepted",
                expected_revision=form.revision.data,
            )
        except ConsultError as e:
            db.session.rollback()
            return _take_up_page(doc, v, comment, form, e.message), e.status
        db.session.commit()
        p = effects[0].paragraph
        flash(
            _(
                "Suggestion %(tracking)s is taken up in paragraph %(x)s; the "
                "answer now points to it.",
                tracking=comment.tracking,
                x=p.number or "(title)",
            )
        )
        return redirect(url_for("documents.suggestions", slug=doc.slug, number=v.number))
    return _take_up_page(doc, v, comment, form)


def _take_up_page(doc, v, comment, form, error: str = ""):
    try:
        preview = preview_take_up(comment, v)
    except ConsultError as e:
        preview, error = None, error or e.message
    if preview is not None and (form.revision.data is None or error):
        # After a conflict the preview shows the text now saved: confirm again over it.
        _set_revision(form, preview.revision)
    return render_template(
        "drafting/take_up.html",
        doc=doc,
        version=v,
        comment=comment,
        preview=preview,
        form=form,
        error=error,
    )


# ---------------------------------------------------------------- lineage review


@bp.route("/documents/<slug>/versions/<int:number>/lineage", methods=["GET", "POST"])
@login_required
def lineage(slug: str, number: int):
    doc, v = _draft(slug, number)
    previous = docs.get_version(doc, number - 1) if number > 1 else None
    if previous is None:
        raise NotFound(_("Version 1 has no version before it: there is no lineage to review."))
    refs = {}
    for q in previous.paragraphs:
        refs.setdefault(ref(q), q.id)
    typed: dict[int, str] = {}
    if request.method == "POST":
        try:
            corrections = []
            for p in v.paragraphs:
                value = request.form.get(f"from-{p.id}")
                if value is None:
                    continue
                typed[p.id] = value
                if _norm(value) == _norm(request.form.get(f"was-{p.id}", "")):
                    continue
                corrections.append(Correction(p.id, _predecessors(value, refs, previous)))
            drafting.confirm_links(v, corrections, by=current_actor())
        except ConsultError as e:
            db.session.rollback()
            return _lineage_page(doc, v, previous, typed, e.message), e.status
        db.session.commit()
        flash(
            f"The lineage of version {v.number} is confirmed"
            + (f", with {len(corrections)} correction(s)." if corrections else ".")
        )
        return redirect(url_for("documents.lineage", slug=doc.slug, number=v.number))
    return _lineage_page(doc, v, previous, typed)


def _norm(value: str) -> list[str]:
    return [t for t in value.replace(",", " ").split() if t]


def _predecessors(value: str, refs: dict[str, int], previous: Version) -> tuple[int, ...]:
    tokens = _norm(value)
    if [t.lower() for t in tokens] in ([], ["new"]):
        return ()
    unknown = [t for t in tokens if t not in refs]
    if unknown:
        raise ConsultError(
            _(
                "Version %(number)s has no paragraph %(x)s: write the "
                "numbers shown in the 'comes from' column (or #position for "
                "unnumbered ones), or 'new'.",
                number=previous.number,
                x=", ".join(unknown),
            )
        )
    return tuple(refs[t] for t in tokens)


def _lineage_page(doc, v, previous, typed, error: str = ""):
    rows = drafting.review_links(v)
    return render_template(
        "drafting/lineage.html",
        doc=doc,
        version=v,
        previous=previous,
        rows=rows,
        typed=typed,
        ref=ref,
        refs=lambda ps: ", ".join(ref(q) for q in ps) or "new",
        unreviewed=drafting.unreviewed_links(v),
        counts=drafting.review_counts(v),
        error=error,
    )


# ---------------------------------------------------------------- the committee


@bp.route("/documents/<slug>/committee", methods=["GET", "POST"])
@login_required
def committee(slug: str):
    doc = visible_document(slug)
    policy.require(current_user, "committee.manage", doc)
    form = CommitteeForm()
    error, status = "", 200
    if request.method == "POST":
        if form.validate_on_submit():
            user = get_user_by_email(form.email.data.strip())
            try:
                if user is None:
                    raise NotFound(
                        _("There is no account with the address %(data)s.", data=form.email.data)
                    )
                member = docs.add_committee_member(
                    doc, user, role=form.role.data, by=current_actor()
                )
            except ConsultError as e:
                db.session.rollback()
                error, status = e.message, e.status
            else:
                db.session.commit()
                flash(
                    _(
                        "%(display_name)s is %(lower)s of the committee.",
                        display_name=user.display_name,
                        lower=member.role_label.lower(),
                    )
                )
                return redirect(url_for("documents.committee", slug=doc.slug))
        else:
            error, status = _("Give the e-mail address of the account."), 400
    return render_template(
        "drafting/committee.html",
        doc=doc,
        members=docs.committee_of(doc),
        form=form,
        error=error,
    ), status


@bp.post("/documents/<slug>/committee/<int:user_id>/remove")
@login_required
def remove_member(slug: str, user_id: int):
    doc = visible_document(slug)
    policy.require(current_user, "committee.manage", doc)
    member = next((m for m in doc.committee_members if m.user_id == user_id), None)
    name = member.user.display_name if member else ""
    try:
        docs.remove_committee_member(doc, member.user if member else None, by=current_actor())
    except ConsultError as e:
        _failed(e)
    else:
        db.session.commit()
        flash(_("%(name)s has left the committee.", name=name))
    return redirect(url_for("documents.committee", slug=doc.slug))
