"""The secretariat's intake page: messages received by e-mail, confirmed as comments or
rejected, and the original message as received."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from consult.accounts import policy
from consult.converters import parse_id
from consult.documents.models import Paragraph
from consult.errors import ConsultError
from consult.extensions import db
from consult.i18n import labels
from consult.intake import service
from consult.intake.models import STATUSES
from consult.paging import page_count

bp = Blueprint("intake", __name__)
PER_PAGE = 50


def _secretariat() -> None:
    policy.require(current_user, "comment.enter_on_behalf")


@bp.get("/intake")
@login_required
def queue():
    _secretariat()
    status = request.args.get("status", "waiting")
    if status not in (*STATUSES, "all"):
        status = "waiting"
    try:
        page = max(1, min(10_000, int(request.args.get("page", "1"))))
    except ValueError:
        page = 1
    messages, total = service.queue_page(status, page, PER_PAGE)
    return render_template(
        "intake/queue.html",
        messages=messages,
        total=total,
        status=status,
        page=page,
        pages=page_count(total, PER_PAGE),
        statuses=labels(STATUSES),
    )


@bp.get("/intake/<int:message_id>")
@login_required
def message(message_id: int):
    _secretariat()
    m = service.get_message(message_id)
    paragraphs = []
    if m.version is not None:
        paragraphs = db.session.execute(
            select(Paragraph.id, Paragraph.number, Paragraph.text)
            .where(Paragraph.version_id == m.version_id)
            .order_by(Paragraph.position)
        ).all()
    return render_template("intake/message.html", m=m, paragraphs=paragraphs)


@bp.post("/intake/<int:message_id>/confirm")
@login_required
def confirm(message_id: int):
    _secretariat()
    m = service.get_message(message_id)
    paragraph = None
    raw = (request.form.get("paragraph") or "").strip()
    if raw:
        pid = parse_id(raw)
        paragraph = db.session.get(Paragraph, pid) if pid is not None else None
        if paragraph is None or paragraph.version_id != m.version_id:
            raise ConsultError(_("Choose a paragraph of the consultation the message is for."))
    org = service.organisation_by_slug(request.form.get("organisation", ""))
    kind = request.form.get("kind") or "comment"
    c = service.confirm(m, organisation=org, paragraph=paragraph, by=current_user, kind=kind)
    db.session.commit()
    flash(
        _(
            "Entered as comment %(tracking)s; the sender is sent its tracking number.",
            tracking=c.tracking,
        )
    )
    return redirect(url_for("consultation.comment", comment_id=c.id))


@bp.post("/intake/<int:message_id>/reject")
@login_required
def reject(message_id: int):
    _secretariat()
    m = service.reject(
        service.get_message(message_id), reason=request.form.get("reason"), by=current_user
    )
    db.session.commit()
    flash(_("Message %(id)s rejected; nothing was published and no mail is sent.", id=m.id))
    return redirect(url_for("intake.queue"))


@bp.get("/intake/<int:message_id>/original")
@login_required
def original(message_id: int):
    """The message exactly as received (.eml), checked against its recorded sha256."""
    _secretariat()
    m = service.get_message(message_id)
    return Response(
        service.original(m),
        mimetype="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="intake-{m.id}.eml"',
            "X-Content-Type-Options": "nosniff",
        },
    )
