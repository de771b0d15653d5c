"""The search outbox: rows written in the same transaction as the change they index."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow


class OutboxEntry(db.Model):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "paragraph", "comment" or "version" (all the paragraphs of a version)
    doc_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
