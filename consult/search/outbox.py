"""Feeding the search index: outbox rows at flush, the index after commit.

A change to a paragraph, a comment or a response writes an outbox row on the
same connection, inside the same transaction, so the row exists exactly when
the change does. After commit the outbox is drained into the index by one
bounded writer; if that fails (locked, crashed), the rows wait for the next
drain and the user's request is not affected.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from consult.consultation.models import Comment, Response
from consult.documents.models import Paragraph, Version
from consult.extensions import db
from consult.search.models import OutboxEntry
from consult.timeutil import utcnow

log = logging.getLogger(__name__)
BATCH = 500


def _targets(obj) -> list[tuple[str, int]]:
    if isinstance(obj, Paragraph):
        return [("paragraph", obj.id)]
    if isinstance(obj, Comment):
        return [("comment", obj.id)]
    if isinstance(obj, Response):
        return [("comment", obj.comment_id)]
    if isinstance(obj, Version):
        # Publishing changes who may find the version's paragraphs; expanded at drain
        # time, since loading them here, inside a flush, is not allowed.
        return [("version", obj.id)]
    return []


def _after_flush(session: Session, flush_context) -> None:
    rows = {t for obj in list(session.new) + list(session.dirty) + list(session.deleted) for t in _targets(obj)}
    if rows:
        now = utcnow()
        session.connection().execute(
            insert(OutboxEntry.__table__),
            [{"doc_type": kind, "object_id": oid, "created_at": now} for kind, oid in sorted(rows)],
        )
        session.info["search_pending"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("search_pending", False) and current_app:
        if current_app.config.get("SEARCH_SYNC", True):
            try:
                drain(current_app._get_current_object())
            except Exception:  # an index failure never fails the user's request
                log.exception("search index update failed; the outbox keeps the rows")


def drain(app, limit: int | None = None) -> int:
    """Apply pending outbox rows to the index; returns how many rows were applied."""
    from consult.search import backend

    done = 0
    with app.app_context():
        engine = db.engine
        while limit is None or done < limit:
            with Session(engine) as s:
                rows = s.execute(select(OutboxEntry.id, OutboxEntry.doc_type, OutboxEntry.object_id)
                                 .order_by(OutboxEntry.id).limit(BATCH)).all()
                if not rows:
                    break
                targets = sorted({(r.doc_type, r.object_id) for r in rows})
                backend.get(app).apply(s, targets)
                s.execute(delete(OutboxEntry).where(OutboxEntry.id <= rows[-1].id,
                                                    OutboxEntry.id.in_([r.id for r in rows])))
                s.commit()
                done += len(rows)
    return done


def connect() -> None:
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
