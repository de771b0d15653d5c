"""Files attached to a comment: position papers as PDF, DOCX or ODT.

An attachment's bytes are stored once, content-addressed, in the file store's
"attachments" area (consult.blobs: instance/attachments/ or CONSULT_ATTACHMENT_DIR, or an
S3-compatible bucket), named by their sha256; the row keeps the name the sender gave,
the type read from the bytes (never the one claimed), the size, the sha256 (also in the
record's event) and the extracted text, which the search index holds with the comment.
Like comments, attachments are never changed or deleted.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ForeignKey, Index, String, Text, exists, func, select
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from consult import blobs, signals
from consult.accounts.models import User
from consult.consultation import extract
from consult.consultation.models import Comment
from consult.errors import ConsultError
from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow

#: Longest file name kept (longer names are cut, keeping the extension).
MAX_NAME = 200


class Attachment(db.Model):
    """A file attached to a comment. Never updated in place or deleted."""

    __table_args__ = (Index("ix_attachment_comment_id", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    #: The file name as the sender gave it (cleaned: no folders, no control characters).
    filename: Mapped[str] = mapped_column(String(255))
    #: Read from the bytes (extract.sniff): one of extract.TYPES.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    #: sha256 of the bytes: their name in the store, and what the record keeps.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: The extracted text (at most extract.MAX_TEXT characters), indexed with the comment.
    text: Mapped[str] = mapped_column(Text, default="")
    #: extract.TEXT, NO_TEXT (scanned?) or UNREADABLE.
    text_status: Mapped[str] = mapped_column(String(20))
    pages: Mapped[int | None]
    #: Who attached it (None: it came with an e-mail, see intake_id).
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The e-mail it came with (consult.intake.models.IntakeMessage), if it did.
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intake_message.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(
        backref=backref("attachments", order_by="Attachment.id", lazy="select")
    )
    added_by: Mapped[User | None] = relationship()

    @property
    def type_label(self) -> str:
        return extract.TYPES.get(self.content_type, (self.content_type, ""))[0]

    @property
    def text_label(self) -> str:
        return extract.STATUS_LABELS.get(self.text_status, self.text_status)

    @property
    def no_text(self) -> bool:
        return self.text_status == extract.NO_TEXT


# --- the store ----------------------------------------------------------------------------------


def attachment_bytes(a: Attachment) -> bytes:
    return blobs.get("attachments", a.sha256)


# --- attaching ----------------------------------------------------------------------------------


def clean_filename(name: str | None, content_type: str) -> str:
    """A file name safe to show and to send back: the last path part, no control or
    format characters, at most MAX_NAME characters, with the extension of its real type."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    ext = extract.TYPES[content_type][1]
    stem = name[: -len(ext)] if name.lower().endswith(ext) else name
    stem = stem[: MAX_NAME - len(ext)].strip() or "attachment"
    return stem + ext


def check_file(data: bytes, filename: str | None) -> str:
    """The content type of an acceptable file, or a ConsultError saying why not."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if not data:
        raise ConsultError(_("The file is empty."), code="empty_file")
    if len(data) > limit:
        raise ConsultError(
            _(
                "'%(x)s' is %(size)s; an attachment is at most %(size2)s.",
                x=filename or "The file",
                size=_size(len(data)),
                size2=_size(limit),
            ),
            code="file_too_large",
            status=413,
        )
    try:
        return extract.sniff(data, filename or "")
    except extract.NotAcceptedType as e:
        raise ConsultError(str(e), code="unsupported_type", status=415) from None


def count_for(comment: Comment) -> int:
    return db.session.scalar(
        select(func.count(Attachment.id)).where(Attachment.comment_id == comment.id)
    )


def attach(
    comment: Comment,
    data: bytes,
    filename: str | None,
    *,
    by: User | None,
    intake_id: int | None = None,
    message_sha256: str | None = None,
) -> Attachment:
    """Attach a file to a comment: checked (type from the bytes, size, count), stored,
    its text extracted, its sha256 in the record. The caller checks who may and until
    when; the service flushes, the caller commits."""
    content_type = check_file(data, filename)
    most = current_app.config["ATTACHMENT_MAX_COUNT"]
    if count_for(comment) >= most:
        raise ConsultError(
            ngettext(
                "A comment carries at most %(num)s attachment; %(tracking)s has it already.",
                "A comment carries at most %(num)s attachments; %(tracking)s has %(num)s already.",
                most,
                tracking=comment.tracking,
            ),
            code="too_many_attachments",
            status=409,
        )
    digest = blobs.put("attachments", data)
    found = extract.extract(data, content_type)
    a = Attachment(
        comment=comment,
        comment_id=comment.id,
        filename=clean_filename(filename, content_type),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        text=found.text,
        text_status=found.status,
        pages=found.pages,
        added_by=by,
        intake_id=intake_id,
        created_at=utcnow(),
    )
    db.session.add(a)
    db.session.flush()
    data_out = {
        "comment": comment.tracking,
        "name": a.filename,
        "type": content_type,
        "size": a.size,
        "sha256": digest,
    }
    if message_sha256:
        data_out["message_sha256"] = message_sha256
    signals.emit(signals.attachment_added, a, by, **data_out)
    return a


def attachments_of(where, limit: int) -> tuple[list[Attachment], int]:
    """(the newest `limit` attachments of the comments `where` selects, their number):
    one count and one page, whatever the number of comments (for the report and a
    profile). Each comes with its comment, organisation and moderation loaded."""
    from sqlalchemy.orm import selectinload

    # From the attachments (few) to their comments, never the other way: SQLite would
    # otherwise read every comment `where` selects to find them.
    theirs = exists().where(Comment.id == Attachment.comment_id, where)
    total = db.session.scalar(select(func.count(Attachment.id)).where(theirs))
    rows = db.session.scalars(
        select(Attachment)
        .where(theirs)
        .order_by(Attachment.id.desc())
        .limit(limit)
        .options(
            selectinload(Attachment.comment).selectinload(Comment.moderation),
            selectinload(Attachment.comment).selectinload(Comment.organisation),
            selectinload(Attachment.comment).selectinload(Comment.paragraph),
        )
    ).all()
    return list(rows), total or 0


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


human_size = _size


# --- who may attach, and until when ---------------------------------------------------------------


def may_attach(user, comment: Comment) -> bool:
    """Whether `user` may attach a file to `comment` now: a member of the comment's
    organisation (or its author) until the deadline; the secretariat, for a comment it
    entered on an organisation's behalf, while the version takes such comments."""
    from consult.accounts import policy
    from consult.documents.services import accepting_comments

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if comment.withdrawn or comment.is_hidden:
        return False
    if comment.author_id is None and policy.can(user, "comment.enter_on_behalf"):
        return comment.version.state in ("consultation", "closed")
    allowed = policy.can(user, "comment.edit", comment) or policy.can(
        user, "organisation.act_for", comment.organisation
    )
    return allowed and accepting_comments(comment.version)


def upload(comment: Comment, data: bytes, filename: str | None, *, by: User) -> Attachment:
    """A file attached by a person (the page or the API): refused with 403 to those who
    may not, with 409 after the deadline or on a withdrawn or hidden comment."""
    from consult.accounts import policy
    from consult.documents.services import accepting_comments
    from consult.errors import Conflict, NotAllowed

    if not may_attach(by, comment):
        member = policy.can(by, "comment.edit", comment) or policy.can(
            by, "organisation.act_for", comment.organisation
        )
        if not member and not policy.can(by, "comment.enter_on_behalf"):
            raise NotAllowed(
                _(
                    "Only the comment's organisation can attach files to it (or "
                    "the secretariat, for a comment it entered)."
                )
            )
        if comment.withdrawn:
            raise Conflict(
                _(
                    "Comment %(tracking)s was withdrawn: no files can be added.",
                    tracking=comment.tracking,
                )
            )
        if comment.is_hidden:
            raise Conflict(
                _("Comment %(tracking)s is hidden by the moderators.", tracking=comment.tracking)
            )
        if not accepting_comments(comment.version):
            raise Conflict(
                _(
                    "The consultation on version %(number)s is closed: files can "
                    "no longer be attached.",
                    number=comment.version.number,
                )
            )
        raise NotAllowed(_("Your account may not attach files to this comment."))
    return attach(comment, data, filename, by=by)
