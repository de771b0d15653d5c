"""Attachments on the web: download (with safe headers) and upload from the comment page."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from consult.accounts import policy
from consult.consultation import attachments as files
from consult.consultation.models import Comment
from consult.consultation.services import get_comment
from consult.documents.models import Version
from consult.errors import ConsultError, NotFound
from consult.extensions import csrf, db

bp = Blueprint("attachments", __name__)


#: The views that take an uploaded file, allowed larger requests than the app's limit.
UPLOAD_ENDPOINTS = frozenset({"api.comment_attachments", "attachments.upload"})
#: Room for the form's other fields and the multipart framing around the file.
FRAMING = 256 * 1024


def _upload_limit() -> None:
    """Before any other hook reads the form (the text policy, CSRF): an upload may be as
    large as an attachment may be; a larger one is refused at once with a readable 413."""
    if request.endpoint not in UPLOAD_ENDPOINTS:
        return
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    request.max_content_length = limit + FRAMING
    if (request.content_length or 0) > limit + FRAMING:
        raise ConsultError(
            _(
                "The upload is larger than an attachment may be (%(human_size)s).",
                human_size=files.human_size(limit),
            ),
            code="file_too_large",
            status=413,
        )


@bp.record_once
def _first_hook(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


@bp.app_template_global()
def may_attach(comment) -> bool:
    """Whether the signed-in user may attach a file to `comment` now (the comment page
    shows the upload form only then)."""
    return files.may_attach(current_user, comment)


@bp.app_template_global()
def version_attachments(version, limit: int = 200):
    """(the newest `limit` attachments on comments of `version`, how many there are), for
    the report; each with its comment (and the comment's moderation) loaded."""
    return files.attachments_of(Comment.version_id == version.id, limit)


@bp.app_template_global()
def organisation_attachments(org, limit: int = 50):
    """(the newest `limit` attachments on the organisation's comments on published
    versions, how many there are), for its profile."""
    published = select(Version.id).where(Version.state != "draft")
    return files.attachments_of(
        (Comment.organisation_id == org.id) & Comment.version_id.in_(published), limit
    )


@bp.app_template_filter("filesize")
def filesize(n: int) -> str:
    return files.human_size(n)


@bp.get("/attachments/<int:attachment_id>/<name>")
def download(attachment_id: int, name: str):
    """The file, always as a download (never shown in the browser), with the type read
    from its bytes, nosniff, and its sha256 as ETag."""
    a = db.session.get(files.Attachment, attachment_id)
    c = a.comment if a is not None else None
    if (
        c is None
        or not policy.can(current_user, "version.view", c.version)
        or (c.is_hidden and not policy.can(current_user, "comment.moderate", c))
    ):
        raise NotFound(_("There is no attachment %(attachment_id)s.", attachment_id=attachment_id))
    resp = send_file(
        io.BytesIO(files.attachment_bytes(a)),
        mimetype=a.content_type,
        as_attachment=True,
        download_name=a.filename,
        etag=a.sha256,
        conditional=True,
        max_age=3600,
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def read_upload(field: str = "file"):
    """(bytes, file name) of the uploaded file, with the request allowed to be as large
    as an attachment may be; a readable 4xx when it is missing or too large."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    request.max_content_length = limit + FRAMING
    try:
        f = request.files.get(field)
    except RequestEntityTooLarge:
        raise ConsultError(
            _(
                "The upload is larger than an attachment may be (%(human_size)s).",
                human_size=files.human_size(limit),
            ),
            code="file_too_large",
            status=413,
        ) from None
    if f is None or not f.filename:
        raise ConsultError(
            _("Send the file as multipart/form-data in the field '%(field)s'.", field=field),
            code="file_required",
        )
    data = f.read(limit + 1)
    return data, f.filename


@bp.post("/comments/<int:comment_id>/attachments")
@csrf.exempt  # checked below, once the larger upload limit is set
@login_required
def upload(comment_id: int):
    c = get_comment(comment_id)
    if not policy.can(current_user, "version.view", c.version):
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    data, name = read_upload()
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    a = files.upload(c, data, name, by=current_user)
    db.session.commit()
    flash(
        _(
            "Attached %(filename)s (%(human_size)s, sha256 %(x)s…).",
            filename=a.filename,
            human_size=files.human_size(a.size),
            x=a.sha256[:12],
        )
    )
    if a.no_text:
        flash(_("No text was found in it (a scanned document?): search will not find its words."))
    return redirect(url_for("consultation.comment", comment_id=c.id) + "#attachments-h")
