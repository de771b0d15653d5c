"""Read queries the API needs beyond the domain services: lists and grouped counts.

Each returns plain data in a fixed number of queries, whatever the number of
rows, so the API's heavy endpoints stay free of N+1 loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from consult.consultation.models import Comment, Reply
from consult.documents.models import Document, Paragraph, Version
from consult.errors import NotFound
from consult.extensions import db
from consult.tracing import counters


def list_documents() -> list[Document]:
    """Every document with its versions loaded, oldest document first."""
    return list(
        db.session.scalars(
            select(Document)
            .options(selectinload(Document.versions))
            .order_by(Document.created_at, Document.id)
        )
    )


@cache
def _paragraph_by_id():
    # Built once: every comment posted through the API asks it.
    return (
        select(Paragraph)
        .where(Paragraph.id == bindparam("paragraph_id"))
        .options(joinedload(Paragraph.version).joinedload(Version.document))
    )


def get_paragraph(paragraph_id: int) -> Paragraph:
    """The paragraph with its version and document (every answer about it names them),
    in one query."""
    paragraph = db.session.scalars(_paragraph_by_id(), {"paragraph_id": paragraph_id}).first()
    if paragraph is None:
        raise NotFound(_("There is no paragraph %(paragraph_id)s.", paragraph_id=paragraph_id))
    return paragraph


def paragraph_counts(version_ids: Iterable[int]) -> dict[int, int]:
    """Number of paragraphs per version id."""
    ids = list(version_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Paragraph.version_id, func.count(Paragraph.id))
        .where(Paragraph.version_id.in_(ids))
        .group_by(Paragraph.version_id)
    )
    return {version_id: n for version_id, n in rows}


def comment_counts_by_version(version_ids: Iterable[int]) -> dict[int, int]:
    """Number of comments per version id, on paragraphs and on the version as a whole
    (kept as comments arrive: tracing.counters)."""
    return counters.per_version(version_ids)


def comment_counts_by_paragraph(version: Version) -> dict[int | None, int]:
    """Number of comments per paragraph id of a version; the key None counts the
    comments on the version as a whole."""
    return counters.per_paragraph(version.id)


def replies(comment: Comment) -> list[Reply]:
    """A comment's thread, oldest first, with each reply's author, organisation and
    moderation loaded (the API shows all three for every reply)."""
    return list(
        db.session.scalars(
            select(Reply)
            .where(Reply.comment_id == comment.id)
            .order_by(Reply.id)
            .options(
                selectinload(Reply.author),
                selectinload(Reply.organisation),
                selectinload(Reply.moderation),
            )
        )
    )
