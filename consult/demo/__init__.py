"""The demo consultation (filled in by the demo loader)."""

from __future__ import annotations

from sqlalchemy import select

from consult.documents.models import Document
from consult.extensions import db


def is_empty() -> bool:
    return db.session.scalar(select(Document.id).limit(1)) is None


def load_demo() -> str:
    raise RuntimeError("demo loader not written yet")
