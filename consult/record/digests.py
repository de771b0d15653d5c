"""Content digests: what the public reads as published, read from the database as the
open-data export writes it, so that an event can carry the digest of what it published
and `verify` (or anyone with the export) can recompute it.

Which fields of which rows are covered, and how they are hashed, is written once in
verify_standalone.py (standard library only, shipped in the open-data zip); this module
only reads the rows. The chain itself (event bytes and hashes) is service.py's business.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.extensions import db
from consult.record import verify_standalone as rules

#: Rows read per query when verify reads everything.
BATCH = 200


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    return v


def _models() -> dict[str, Any]:
    # The record reads the domain; the domain never imports the record.
    from consult.accounts.models import Organisation
    from consult.consultation.models import ModerationAction, Response
    from consult.documents.models import Paragraph, Version
    from consult.tracing.models import ResponseFeedback, ResponseGroup, StoredUptake
    from consult.translations.models import TranslatedParagraph, Translation

    return {
        "version": Version,
        "paragraph": Paragraph,
        "uptake": StoredUptake,
        "response": Response,
        "response_group": ResponseGroup,
        "moderation": ModerationAction,
        "organisation": Organisation,
        "feedback": ResponseFeedback,
        "translation": Translation,
        "translated_paragraph": TranslatedParagraph,
    }


def row_content(thing: str, obj: Any) -> dict[str, Any]:
    """The covered fields of one row, with the values the open-data export gives."""
    out = {}
    for f in rules.COVERED[thing]:
        if thing == "uptake" and f == "evidence":
            v = obj.evidence
        elif thing == "response_group" and f == "members":
            v = [[m.comment_id, m.response_id] for m in sorted(obj.members, key=lambda m: m.id)]
        else:
            v = getattr(obj, f)
        out[f] = _value(v)
    return out


def load(
    subject_type: str, ids: Iterable[int], things: Iterable[str] | None = None
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """The current content of what events about these subjects cover (`things`, all
    those of their subject type when None), by subject id (one query per kind of thing,
    whatever the number of ids; keep `ids` to a batch)."""
    ids = sorted(set(ids))
    things = tuple(things or rules.SUBJECT_THINGS[subject_type])
    models = _models()
    out: dict[int, dict[str, list[dict[str, Any]]]] = {i: {t: [] for t in things} for i in ids}
    if not ids:
        return out
    for thing in things:
        scope = rules.SCOPED.get(thing, "id")
        for obj in db.session.scalars(_covered(models[thing], thing, ids)):
            out[getattr(obj, scope)][thing].append(row_content(thing, obj))
    return out


def _covered(model: Any, thing: str, ids: list[int]):
    """The query of the rows of `thing` that events about these subjects cover, as they
    are in the database now, in id order."""
    key = getattr(model, rules.SCOPED.get(thing, "id"))
    q = (
        select(model)
        .where(key.in_(ids))
        .order_by(model.id)
        .execution_options(populate_existing=True)
    )
    if thing == "response_group":
        q = q.options(selectinload(model.members))
    return q


def _rows_of(thing: str, subject_id: int) -> Iterator[dict[str, Any]]:
    """The content of the rows of `thing` one subject's events cover, in id order, read
    in batches."""
    q = _covered(_models()[thing], thing, [subject_id]).execution_options(yield_per=1000)
    for obj in db.session.scalars(q):
        yield row_content(thing, obj)


def document_of(subject_type: str, subject_id: int) -> str | None:
    """The slug of the document the subject belongs to (None for an organisation)."""
    from consult.consultation.models import Comment, ModerationAction, Response
    from consult.documents.models import Document, Version
    from consult.tracing.models import ResponseFeedback, ResponseGroup

    via_comment = {
        "response": Response,
        "moderationaction": ModerationAction,
        "responsefeedback": ResponseFeedback,
    }
    q = select(Document.slug).join(Version, Version.document_id == Document.id)
    if subject_type == "version":
        q = q.where(Version.id == subject_id)
    elif subject_type == "responsegroup":
        q = q.join(ResponseGroup, ResponseGroup.version_id == Version.id).where(
            ResponseGroup.id == subject_id
        )
    elif subject_type == "translation":
        from consult.translations.models import Translation

        q = q.join(Translation, Translation.version_id == Version.id).where(
            Translation.id == subject_id
        )
    elif subject_type in via_comment:
        model = via_comment[subject_type]
        q = (
            q.join(Comment, Comment.version_id == Version.id)
            .join(model, model.comment_id == Comment.id)
            .where(model.id == subject_id)
        )
    else:
        return None
    return db.session.scalar(q)


def covers_for(
    subject_type: str, subject_id: int, things: Iterable[str] | None = None
) -> dict[str, Any]:
    """What an event about this subject records of the content it published (`things`,
    all those of its subject type when None), read row by row: a version published after
    a million comments covers a few hundred thousand measured suggestions, which are
    never held at once."""
    return rules.covers_in_order(
        document_of(subject_type, subject_id),
        {t: _rows_of(t, subject_id) for t in things or rules.SUBJECT_THINGS[subject_type]},
    )


def covered_ids(subject_type: str) -> Iterable[list[int]]:
    """The ids of every row an event about `subject_type` must cover, in batches: the
    published versions, every answer, grouped answer, moderation action and reply to
    an answer, and the verified organisations."""
    from consult.accounts.models import Organisation
    from consult.documents.models import Version

    model = _models()[
        {
            "version": "version",
            "response": "response",
            "responsegroup": "response_group",
            "moderationaction": "moderation",
            "organisation": "organisation",
            "responsefeedback": "feedback",
            "translation": "translation",
        }[subject_type]
    ]
    q = select(model.id).order_by(model.id)
    if model is Version:
        q = q.where(Version.state != "draft")
    elif model is Organisation:
        q = q.where(Organisation.verified_at.is_not(None))
    elif subject_type == "translation":
        q = q.where(model.state == "published")
    batch: list[int] = []
    for i in db.session.scalars(q.execution_options(yield_per=1000)):
        batch.append(i)
        if len(batch) >= 1000:
            yield batch
            batch = []
    if batch:
        yield batch


def names() -> tuple:
    """(tracking, version) callables naming comments and versions from their ids, as
    verify_standalone.describe wants them."""
    from consult.consultation.models import Comment
    from consult.documents.models import Version

    def tracking(comment_id: int | None) -> str | None:
        c = db.session.get(Comment, comment_id) if comment_id is not None else None
        return c.tracking if c else None

    def version(version_id: int | None) -> str:
        v = db.session.get(Version, version_id) if version_id is not None else None
        return f"version {v.number} of {v.document.slug}" if v else f"version {version_id}"

    return tracking, version


def group(rows: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for subject_type, subject_id in rows:
        out[subject_type].append(subject_id)
    return out
