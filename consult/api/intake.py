"""JSON API v1 for comments by e-mail (the intake queue, for the secretariat) and for
attaching files to comments. Same services and rules as the pages; added to the API
blueprint of consult.api.routes.

- GET /intake: what waits (or was decided), page by page.
- POST /intake/<id>/confirm {organisation, paragraph?, kind?}: the message becomes a
  comment entered on behalf (channel email) → 201 with the comment.
- POST /intake/<id>/reject {reason} → 200 with the message.
- POST /comments/<id>/attachments (multipart/form-data, field `file`) → 201 with the
  attachment; `GET /comments/<id>` lists them.
"""

from __future__ import annotations

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from consult.accounts import policy
from consult.api import schemas, serializers
from consult.api.comments import _comment
from consult.api.contract import operation
from consult.api.routes import POST_LIMIT, WRITE_ERRORS, _created, _signed_in_actor, bp
from consult.consultation import attachments as files
from consult.consultation.attachment_routes import read_upload
from consult.documents.models import Paragraph
from consult.errors import ConsultError
from consult.extensions import db, limiter
from consult.intake import service
from consult.intake.models import IntakeMessage

PER_PAGE = 50


def _secretariat():
    user = _signed_in_actor()
    policy.require(user, "comment.enter_on_behalf")
    return user


def _item(m: IntakeMessage) -> dict:
    return {
        "id": m.id,
        "status": m.status,
        "received_at": serializers.iso(m.received_at),
        "via": m.via,
        "sha256": m.sha256,
        "size": m.size,
        "sender": m.sender,
        "sender_name": m.sender_name,
        "subject": m.subject,
        "body": m.body,
        "quoted": m.quoted,
        "flags": list(m.flags or []),
        "flag_labels": m.flag_labels,
        "document": m.version.document.slug if m.version is not None else None,
        "version": m.version.number if m.version is not None else None,
        "paragraph": serializers.paragraph_ref(m.paragraph),
        "organisation": (
            {"slug": m.organisation.slug, "name": m.organisation.name}
            if m.organisation is not None
            else None
        ),
        "files": [dict(f) for f in m.files or []],
        "comment": m.comment.tracking if m.comment is not None else None,
        "reject_reason": m.reject_reason,
        "links": {
            "confirm": url_for("api.intake_confirm", message_id=m.id),
            "reject": url_for("api.intake_reject", message_id=m.id),
            "original": url_for("intake.original", message_id=m.id),
            **(
                {"comment": url_for("api.comment", comment_id=m.comment_id)} if m.comment_id else {}
            ),
        },
    }


@bp.get("/intake")
@operation(
    summary="Messages received by e-mail, waiting for the secretariat (or decided)",
    tag="intake",
    query=schemas.IntakeQuery,
    answer=schemas.IntakeList,
    auth=True,
    errors=(403,),
)
def intake_list(query: schemas.IntakeQuery) -> ResponseReturnValue:
    """Oldest first. Each message shows what was found (document, version, paragraph,
    organisation) and why it needs a closer look (flags)."""
    _secretariat()
    status = query.status or "waiting"
    messages, total = service.queue_page(status, query.page, PER_PAGE)
    return jsonify(
        status=status,
        total=total,
        page=query.page,
        per_page=PER_PAGE,
        messages=[_item(m) for m in messages],
    )


@bp.post("/intake/<int:message_id>/confirm")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Make a message received by e-mail a comment entered for an organisation",
    tag="intake",
    body=schemas.IntakeConfirmation,
    answer=schemas.Comment,
    status=201,
    auth=True,
    empty_ok=False,
    errors=WRITE_ERRORS,
)
def intake_confirm(message_id: int, body: schemas.IntakeConfirmation) -> ResponseReturnValue:
    """The comment is entered on behalf of the organisation (channel email), dated when
    the message was received, with the message's files as attachments; the message's
    sha256 goes into the record and the sender gets an acknowledgment with the tracking
    number."""
    user = _secretariat()
    m = service.get_message(message_id)
    paragraph = None
    if body.paragraph is not None:
        paragraph = db.session.get(Paragraph, body.paragraph)
        if paragraph is None or paragraph.version.state == "draft":
            raise ConsultError(
                _(
                    "There is no paragraph %(paragraph)s in a published version.",
                    paragraph=body.paragraph,
                ),
                code="unknown_paragraph",
            )
    c = service.confirm(
        m,
        organisation=service.organisation_by_slug(body.organisation),
        paragraph=paragraph,
        by=user,
        kind=body.kind or "comment",
    )
    db.session.commit()
    return _created(serializers.comment(c), url_for("api.comment", comment_id=c.id))


@bp.post("/intake/<int:message_id>/reject")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Reject a message received by e-mail, with a reason",
    tag="intake",
    body=schemas.IntakeRejection,
    answer=schemas.IntakeItem,
    auth=True,
    empty_ok=False,
    errors=WRITE_ERRORS,
)
def intake_reject(message_id: int, body: schemas.IntakeRejection) -> ResponseReturnValue:
    """Nothing is published and no mail is sent; the reason is kept and its hash recorded."""
    user = _secretariat()
    m = service.reject(service.get_message(message_id), reason=body.reason, by=user)
    db.session.commit()
    return jsonify(_item(m))


@bp.post("/comments/<int:comment_id>/attachments")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Attach a file (PDF, DOCX or ODT) to a comment",
    tag="comments",
    answer=schemas.Attachment,
    status=201,
    auth=True,
    errors=(*WRITE_ERRORS, 413, 415),
    description=(
        "Send multipart/form-data with the file in the field 'file'. By the comment's "
        "organisation until the deadline (or the secretariat, for a comment it entered). "
        "The type is read from the file's bytes; size and count are limited by the "
        "configuration (413 too large, 415 not a PDF, DOCX or ODT, 409 too many). The "
        "file's sha256 goes into the record and its text into search."
    ),
)
def comment_attachments(comment_id: int) -> ResponseReturnValue:
    user = _signed_in_actor()
    c = _comment(comment_id, user)
    data, name = read_upload()
    a = files.upload(c, data, name, by=user)
    db.session.commit()
    return _created(serializers.attachment(a), url_for("api.comment", comment_id=c.id))
