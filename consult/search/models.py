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


class VocabularyWord(db.Model):
    """A word of the public search entries, with how many entries hold it (counted when
    entries are indexed, reset by a rebuild): the vocabulary of "did you mean"."""

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
