"""Feeding the search index: outbox rows at flush, the index after commit.

A change to anything searchable (paragraph, comment, response, version,
document, organisation) writes an outbox row on the same connection, inside the
same transaction, so the row exists exactly when the change does. After commit
the outbox is drained into the index: by a background job when a queue is
configured (CONSULT_JOBS, consult.jobs), else in the process that committed;
`flask --app consult index-drain` does the same by hand. Both backends use this path
(for PostgreSQL the entries are a table in the same database, written by the
drain in the transaction that deletes the outbox rows).

One writer at a time, across processes (backend.exclusive): it waits a bounded
time and, if another process keeps the index, gives up and leaves the rows for
the next drain. The rows and the objects they name are read after the writer is
held, so what is written is at least as new as what any earlier writer wrote;
rows are deleted only after the index has committed, so nothing is lost when a
drain is interrupted — the rows are applied again, which changes nothing.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from consult.accounts.models import Organisation
from consult.consultation.models import (
    Comment,
    CommentRevision,
    CommentWithdrawal,
    ModerationAction,
    Response,
)
from consult.documents.models import Document, Paragraph, Version
from consult.extensions import db
from consult.search.base import IndexBusy, Progress
from consult.search.models import OutboxEntry
from consult.timeutil import utcnow

log = logging.getLogger(__name__)
BATCH = 500
#: Seconds a request waits for another process's writer after its commit; its rows are
#: otherwise left to the next drain. The command line waits longer.
REQUEST_WAIT = 2.0
COMMAND_WAIT = 30.0


def _targets(obj) -> list[tuple[str, int]]:
    if isinstance(obj, Paragraph):
        return [("paragraph", obj.id)]
    if type(obj).__name__ == "CommentTheme":
        # The comment's entry carries its themes (consult.analysis), for theme:.
        return [("comment", obj.comment_id)]
    if type(obj).__name__ == "CommentRedaction":
        # The comment's entry holds its public text (consultation.redaction).
        return [("comment", obj.comment_id)]
    if type(obj).__name__ == "Attachment":
        # The comment's entry carries its attachments' text (consultation.attachments).
        return [("comment", obj.comment_id)]
    if isinstance(obj, Comment):
        return [("comment", obj.id)]
    if isinstance(obj, Response | CommentRevision | CommentWithdrawal | ModerationAction):
        # The comment's entry carries its answer, its current text and whether it is hidden.
        return [("comment", obj.comment_id)]
    if isinstance(obj, Version):
        # Publishing changes who may find the version's paragraphs and its document;
        # expanded at drain time, since loading them here, inside a flush, is not allowed.
        return [("version", obj.id)]
    if isinstance(obj, Document):
        return [("document", obj.id)]
    if isinstance(obj, Organisation):
        return [("organisation", obj.id)]
    return []


def _after_flush(session: Session, flush_context) -> None:
    changed = list(session.new) + list(session.dirty) + list(session.deleted)
    rows = {t for obj in changed for t in _targets(obj) if t[1] is not None}
    if rows:
        now = utcnow()
        session.connection().execute(
            insert(OutboxEntry.__table__),
            [{"doc_type": kind, "object_id": oid, "created_at": now} for kind, oid in sorted(rows)],
        )
        session.info["search_pending"] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop("search_pending", False) or not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("SEARCH_SYNC", True):
        return  # a separate worker runs index-drain
    from consult import jobs

    if jobs.queued(app):
        # A worker drains (consult.jobs.tasks.drain_search): the request only asks for it,
        # once for however many requests commit before the worker starts.
        jobs.poke("drain_search", app)
        return
    try:
        drain(app, wait=REQUEST_WAIT)
    except IndexBusy:
        log.info("search index busy; the outbox keeps the rows for the next drain")
    except Exception:  # an index failure never fails the user's request
        log.exception("search index update failed; the outbox keeps the rows")


def _after_rollback(session: Session, previous_transaction=None) -> None:
    session.info.pop("search_pending", None)


def drain(app: Flask, limit: int | None = None, *, wait: float = COMMAND_WAIT) -> int:
    """Apply pending outbox rows to the index, in batches; returns how many rows were
    applied. Raises IndexBusy when the writer stays taken longer than `wait` seconds
    (rows applied before that stay applied)."""
    from consult.search import backend

    be = backend.get(app)
    done = 0
    with app.app_context():
        engine = db.engine
        while limit is None or done < limit:
            with Session(engine) as s, be.exclusive(s, wait):
                # Read inside exclusive(): the rows and the objects are as new as the
                # last writer's, or newer.
                rows = s.execute(
                    select(OutboxEntry.id, OutboxEntry.doc_type, OutboxEntry.object_id)
                    .order_by(OutboxEntry.id)
                    .limit(BATCH)
                ).all()
                if not rows:
                    break
                be.apply(s, sorted({(r.doc_type, r.object_id) for r in rows}))
                s.execute(delete(OutboxEntry).where(OutboxEntry.id.in_([r.id for r in rows])))
                s.commit()
            done += len(rows)
    return done


def pending(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxEntry.id))) or 0


def rebuild(
    app: Flask, progress: Progress | None = None, *, wait: float = COMMAND_WAIT
) -> dict[str, int]:
    """Index everything again, holding the writer; outbox rows that were pending when it
    started are applied by the rebuild and deleted with it."""
    from consult.search import backend

    be = backend.get(app)
    with app.app_context(), Session(db.engine) as s, be.exclusive(s, wait):
        seen = list(s.scalars(select(OutboxEntry.id)))
        counts = be.rebuild(s, progress)
        for start in range(0, len(seen), 1000):
            s.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(seen[start : start + 1000])))
        s.commit()
    return counts


def connect() -> None:
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
