"""The mail outbox: every message is a row first, sent later by `flask send-mail`.

Writing the row in the same transaction as the change that caused it means a
rolled-back change never sends mail, and a mail server that is down never fails
a user's request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow


class MailOutbox(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The account it is for (None for an address without an account).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    to_email: Mapped[str] = mapped_column(String(254))
    #: One of consult.mail.KINDS (or "account" for confirmations and password resets).
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: Set for notifications that must go once only (e.g. "closing soon" per version and
    #: user): a second row with the same key is never written.
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    #: The Message-ID this mail answers (the acknowledgment of a comment sent by e-mail).
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
