"""What arrived by e-mail and waits for the secretariat."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import Organisation, User
from consult.consultation.models import Comment
from consult.documents.models import Paragraph, Version
from consult.extensions import db
from consult.i18n import N_
from consult.timeutil import UTCDateTime, utcnow

STATUSES = {"waiting": N_("Waiting"), "confirmed": N_("Confirmed"), "rejected": N_("Rejected")}
#: Why a message needs a closer look; shown on the intake page and in the API.
FLAGS = {
    "unknown_sender": N_("unknown sender (not a member of a registered organisation)"),
    "spoofed": N_("the sender's address failed SPF or DKIM: the From line may be forged"),
    "no_consultation": N_("no consultation found from the address or the reply"),
    "no_paragraph": N_("no paragraph number found in the subject or quoted text"),
    "not_open": N_("the consultation is not open for comments"),
    "attachment_refused": N_("an attachment was not taken (type or size)"),
}


class IntakeMessage(db.Model):
    """One message received by e-mail. The raw bytes are kept, content-addressed, under
    instance/intake/ (CONSULT_INTAKE_DIR), named by `sha256`; the row is what was read
    from them. Confirmed or rejected once; never deleted."""

    __table_args__ = (
        Index("ix_intake_message_status_id", "status", "id"),
        # The per-sender rate of the receiver (service._within_rate).
        Index("ix_intake_message_sender_received_at", "sender", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: "smtp" (the receiver) or "imap" (mail-fetch).
    via: Mapped[str] = mapped_column(String(10))
    #: sha256 of the message's raw bytes: its name in the store, and what the record keeps.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    #: The Message-ID header (a message fetched twice is stored once).
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)
    #: The sender's address (From) and display name.
    sender: Mapped[str] = mapped_column(String(254))
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    #: The address it was sent to that named the consultation (or the first one).
    recipient: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    #: The message's own words (quoted lines and signature left out) and the quoted text.
    body: Mapped[str] = mapped_column(Text, default="")
    quoted: Mapped[str] = mapped_column(Text, default="")
    #: What was found, for the secretariat to confirm or correct.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"))
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraph.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: Keys of FLAGS.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The attached files: [{name, type, size, sha256, refused?}], stored at receipt.
    files: Mapped[list[dict]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(Text)

    version: Mapped[Version | None] = relationship()
    paragraph: Mapped[Paragraph | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    sender_user: Mapped[User | None] = relationship(foreign_keys=[sender_user_id])
    comment: Mapped[Comment | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        return gettext(STATUSES[self.status])

    @property
    def flag_labels(self) -> list[str]:
        return [gettext(FLAGS.get(f, f)) for f in self.flags or []]
