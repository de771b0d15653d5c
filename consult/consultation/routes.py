"""Pages of the consultation part: paragraphs with their comments, posting and answering."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts import policy
from consult.accounts.models import Organisation
from consult.accounts.routes import current_actor, safe_next
from consult.consultation import services
from consult.consultation.forms import (
    WHOLE_VERSION,
    CommentForm,
    ReceivedCommentForm,
    ResponseForm,
)
from consult.consultation.models import Comment, Response
from consult.documents import services as docs
from consult.documents.forms import parse_local_datetime
from consult.documents.models import LineageLink, Paragraph, Version
from consult.documents.routes import visible_paragraph, visible_version
from consult.errors import ConsultError, NotAllowed, NotFound
from consult.extensions import db
from consult.tracing.diff import diff_html, word_diff

bp = Blueprint("consultation", __name__)

_COMMENT_LOADS = (
    selectinload(Comment.organisation),
    selectinload(Comment.author),
    selectinload(Comment.entered_by),
    selectinload(Comment.paragraph),
    selectinload(Comment.responses).selectinload(Response.responder),
)


def proposed_change(c: Comment) -> str | None:
    """A suggestion as <ins>/<del> against its paragraph. With a quote, the wording
    replaces only the quoted span, so the diff shows the paragraph as it would read."""
    if not c.suggested_text:
        return None
    if c.paragraph is None:
        return diff_html([("insert", c.suggested_text)])
    text = c.paragraph.text
    if c.quote_start is not None and c.quote_end is not None:
        proposed = text[: c.quote_start] + c.suggested_text + text[c.quote_end :]
    else:
        proposed = c.suggested_text
    return diff_html(word_diff(text, proposed))


def _may_respond(v: Version) -> bool:
    return v.state in ("closed", "final") and policy.can(current_user, "response.create")


def _may_enter(v: Version) -> bool:
    return v.state in ("consultation", "closed") and policy.can(
        current_user, "comment.enter_on_behalf", v
    )


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


@bp.get("/paragraphs/<int:paragraph_id>")
def paragraph(paragraph_id: int):
    p = visible_paragraph(paragraph_id)
    v = p.version
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.paragraph_id == p.id)
        .options(*_COMMENT_LOADS)
        .order_by(Comment.created_at, Comment.id)
    ).all()
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
    received_form = None
    if _may_enter(v):
        received_form = ReceivedCommentForm(_organisations())
        received_form.paragraph.choices = {str(p.id): p.number or "this paragraph"}
    return render_template(
        "consultation/paragraph.html",
        doc=v.document,
        version=v,
        p=p,
        comments=comments,
        changes={c.id: proposed_change(c) for c in comments},
        history=history,
        relations=relations,
        may_comment=may_comment,
        new_comment=CommentForm(current_user.organisations) if may_comment else None,
        received_form=received_form,
        response_form=ResponseForm() if _may_respond(v) else None,
    )


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int):
    c = services.get_comment(comment_id)
    return render_template(
        "consultation/comment.html",
        c=c,
        doc=c.version.document,
        version=c.version,
        change=proposed_change(c),
        response_form=ResponseForm() if _may_respond(c.version) else None,
    )


@bp.get("/documents/<slug>/versions/<int:number>/comments")
def version_comments(slug: str, number: int):
    """All comments on a version; with ?unanswered=1 the ones still waiting for an answer."""
    doc, v = visible_version(slug, number)
    comments = db.session.scalars(
        select(Comment).where(Comment.version_id == v.id).options(*_COMMENT_LOADS)
    ).all()
    positions = {p.id: p.position for p in v.paragraphs}
    # Version-wide comments first, then in the order of the text.
    comments = sorted(
        comments, key=lambda c: (positions.get(c.paragraph_id, -1), c.created_at, c.id)
    )
    unanswered_only = bool(request.args.get("unanswered"))
    waiting = sum(1 for c in comments if not c.responses)
    if unanswered_only:
        comments = [c for c in comments if not c.responses]
    return render_template(
        "consultation/version_comments.html",
        doc=doc,
        version=v,
        comments=comments,
        waiting=waiting,
        unanswered_only=unanswered_only,
        changes={c.id: proposed_change(c) for c in comments},
        response_form=ResponseForm() if _may_respond(v) else None,
    )


def _paragraph_in(v: Version, value: str | None) -> Paragraph | None:
    """The paragraph named by a form field, which must belong to the version."""
    if value in (None, WHOLE_VERSION):
        return None
    try:
        p = db.session.get(Paragraph, int(value))
    except ValueError:
        p = None
    if p is None or p.version_id != v.id:
        raise ConsultError("That paragraph is not in this version.")
    return p


def _comment_page(doc, v, p, form, *, error: str = "", status: int = 200, received=False):
    return (
        render_template(
            "consultation/comment_form.html",
            doc=doc,
            version=v,
            p=p,
            form=form,
            error=error,
            received=received,
            accepting=docs.accepting_comments(v),
        ),
        status,
    )


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
def post_comment(slug: str, number: int):
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.create", v)
    form = CommentForm(current_user.organisations)
    p = _paragraph_in(v, form.paragraph.data)
    if not form.validate_on_submit():
        return _comment_page(doc, v, p, form, error="Check the fields marked below.", status=400)
    org = next((o for o in current_user.organisations if o.id == form.organisation.data), None)
    if org is None:
        raise NotAllowed("You can only comment for an organisation you belong to.")
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
        )
    except ConsultError as e:
        db.session.rollback()
        return _comment_page(doc, v, p, form, error=e.message, status=e.status)
    db.session.commit()
    flash(f"Your comment is received. Its tracking number is {c.tracking}.")
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/documents/<slug>/versions/<int:number>/comments/received")
@login_required
def enter_comment(slug: str, number: int):
    """The secretariat enters a comment that came by e-mail, on paper or at a workshop."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.enter_on_behalf", v)
    form = ReceivedCommentForm(_organisations())
    p = _paragraph_in(v, form.paragraph.data)
    form.paragraph.choices = {form.paragraph.data: p.number if p else "the version as a whole"}
    if not form.validate_on_submit():
        return _comment_page(
            doc, v, p, form, error="Check the fields marked below.", status=400, received=True
        )
    org = db.session.get(Organisation, form.organisation.data)
    if org is None:
        raise NotFound("There is no such organisation.")
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
        )
    except ConsultError as e:
        db.session.rollback()
        return _comment_page(doc, v, p, form, error=e.message, status=e.status, received=True)
    db.session.commit()
    flash(f"Comment {c.tracking} entered for {org.name}.")
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/responses")
@login_required
def respond(comment_id: int):
    c = services.get_comment(comment_id)
    policy.require(current_user, "response.create", c)
    form = ResponseForm()
    if not form.validate_on_submit():
        raise ConsultError("Choose a decision and give the reason for it.")
    services.respond(c, decision=form.decision.data, reason=form.reason.data, by=current_actor())
    db.session.commit()
    flash(f"The answer to {c.tracking} is saved.")
    back = safe_next(form.next.data) or url_for("consultation.comment", comment_id=c.id)
    return redirect(back)
