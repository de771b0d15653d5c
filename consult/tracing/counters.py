"""Counts of comments kept as comments arrive (issue 18; DESIGN.md, idea 8).

The version, document, report and list pages show counts of a version's comments: per
paragraph, still waiting for an answer, per kind / decision / uptake label, per
organisation. Counting them from the comments on every view grows with the comments;
here they are kept in one small table, `comment_count`, one row per (version,
dimension, key) with its number, and a page reads a few rows.

Every comment counts once in each dimension (or in none, see below):

- ``paragraph``: key the paragraph id ("" for the version as a whole); every comment.
- ``waiting``: the same key; only the comments still waiting for an answer (no answer,
  not withdrawn, not hidden by a moderator).
- ``facts``: key "kind|decision|label|withdrawn": the comment's kind, the decision of
  its latest answer ("" when none), the uptake label measured against the version after
  its own ("" when none) and "w" when withdrawn.
- ``organisation``: key the organisation id ("" for an individual); comments not
  withdrawn.

The counts change in the same transaction as what changes them: a session listener
sees, at each flush, the comments, answers, withdrawals, moderation actions and uptake
rows being written, reads the affected comments' keys before and after the flush (a
new comment's key is known without a query), and just before the commit applies the
differences with one UPSERT increment per row (INSERT … ON CONFLICT DO UPDATE, on
SQLite and PostgreSQL alike): the rows are locked only for the commit, so comments on
one version are not written one at a time. Within the transaction, before its commit,
the counts do not yet include its own writes.
Rows written with bulk inserts bypass the session: `recount()` (``flask recount``)
rebuilds the table from the comments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, delete, event, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from consult.consultation.models import (
    Comment,
    CommentWithdrawal,
    ModerationAction,
    Response,
)
from consult.documents.models import Version
from consult.extensions import db
from consult.tracing.models import StoredUptake

DIMENSIONS = ("paragraph", "waiting", "facts", "organisation")


class CommentCount(db.Model):
    """How many comments of a version fall under one key of one dimension (see the
    module's docstring). Derived data: `recount()` rebuilds it from the comments."""

    __tablename__ = "comment_count"

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


# --- a comment's keys ---------------------------------------------------------------------


def _facts_query() -> Any:
    """One row per comment: what its keys are made of (correlated subqueries that each
    read one index entry or a few)."""
    c = Comment.__table__
    r = Response.__table__
    w = CommentWithdrawal.__table__
    m = ModerationAction.__table__
    u = StoredUptake.__table__
    later = m.alias("later_moderation")
    own = Version.__table__.alias("own_version")
    following = Version.__table__.alias("following_version")
    decision = (
        select(r.c.decision)
        .where(r.c.comment_id == c.c.id)
        .order_by(r.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    label = (
        select(u.c.label)
        .join(following, following.c.id == u.c.version_id)
        .join(own, own.c.id == c.c.version_id)
        .where(
            u.c.comment_id == c.c.id,
            following.c.document_id == own.c.document_id,
            following.c.number == own.c.number + 1,
        )
        .limit(1)
        .scalar_subquery()
    )
    withdrawn = exists().where(w.c.comment_id == c.c.id)
    hidden = exists().where(
        m.c.comment_id == c.c.id,
        m.c.reply_id.is_(None),
        m.c.action == "hide",
        ~exists().where(
            later.c.comment_id == m.c.comment_id, later.c.reply_id.is_(None), later.c.id > m.c.id
        ),
    )
    return select(
        c.c.id,
        c.c.version_id,
        c.c.paragraph_id,
        c.c.kind,
        c.c.organisation_id,
        decision.label("decision"),
        label.label("label"),
        withdrawn.label("withdrawn"),
        hidden.label("hidden"),
    )


def _keys(
    version_id: int,
    paragraph_id: int | None,
    kind: str,
    organisation_id: int | None,
    decision: str | None,
    label: str | None,
    withdrawn: bool,
    hidden: bool,
) -> list[tuple[int, str, str]]:
    """The (version, dimension, key) rows one comment counts under."""
    para = "" if paragraph_id is None else str(paragraph_id)
    out = [
        (version_id, "paragraph", para),
        (version_id, "facts", f"{kind}|{decision or ''}|{label or ''}|{'w' if withdrawn else ''}"),
    ]
    if decision is None and not withdrawn and not hidden:
        out.append((version_id, "waiting", para))
    if not withdrawn:
        out.append(
            (version_id, "organisation", "" if organisation_id is None else str(organisation_id))
        )
    return out


def _keys_of(conn, comment_ids: Iterable[int]) -> Counter:
    ids = sorted(set(comment_ids))
    counts: Counter = Counter()
    for k in range(0, len(ids), 500):
        q = _facts_query().where(Comment.__table__.c.id.in_(ids[k : k + 500]))
        for row in conn.execute(q):
            counts.update(_keys(*row[1:]))
    return counts


def _apply(conn, delta: Counter) -> None:
    """Add `delta` to the counts, one UPSERT increment for every row that changes, in a
    fixed order (two transactions never wait for each other's rows crosswise)."""
    rows = [
        {"version_id": v, "dimension": d, "key": k, "n": n}
        for (v, d, k), n in sorted(delta.items())
        if n
    ]
    if rows:
        conn.execute(_increment(conn.dialect.name), rows)


@cache
def _increment(dialect_name: str):
    """The UPSERT that adds to a count, built once for each database (every comment
    posted runs it)."""
    table = CommentCount.__table__
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.version_id, table.c.dimension, table.c.key],
        set_={"n": table.c.n + stmt.excluded.n},
    )


# --- kept as the session writes ------------------------------------------------------------

_WATCHED = (Comment, Response, CommentWithdrawal, ModerationAction, StoredUptake)


def _comment_id(obj) -> int | None:
    if isinstance(obj, Comment):
        return obj.id
    if isinstance(obj, ModerationAction) and obj.reply_id is not None:
        return None  # a reply's moderation counts nowhere
    cid = obj.comment_id
    if cid is None and getattr(obj, "comment", None) is not None:
        cid = obj.comment.id
    return cid


def _before_flush(session: Session, flush_context, instances) -> None:
    watched = [
        o
        for o in (*session.new, *session.dirty)
        if isinstance(o, _WATCHED) and not (isinstance(o, Comment) and o in session.new)
    ]
    new_comments = [o for o in session.new if isinstance(o, Comment)]
    if not watched and not new_comments:
        return
    existing = {cid for o in watched if (cid := _comment_id(o)) is not None}
    before = _keys_of(session.connection(), existing) if existing else Counter()
    session.info.setdefault("counters_pending", []).append((watched, new_comments, before))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop("counters_pending", None)
    if not pending:
        return
    conn = session.connection()
    delta: Counter = Counter()
    for watched, new_comments, before in pending:
        # A comment new in this flush: no answer, withdrawal, moderation or uptake yet,
        # unless one came in the same flush (then its keys are read like the others').
        touched = {cid for o in watched if (cid := _comment_id(o)) is not None}
        for c in new_comments:
            if c.id in touched:
                continue
            delta.update(
                _keys(
                    c.version_id,
                    c.paragraph_id,
                    c.kind or "comment",
                    c.organisation_id,
                    None,
                    None,
                    False,
                    False,
                )
            )
        delta.update(_keys_of(conn, touched))
        delta.subtract(before)
    # Applied just before the commit (_before_commit), not now: an increment locks its
    # row until the transaction ends, and every comment on a version increments the same
    # few rows; taken at the flush, they would make every other comment's transaction
    # wait for the rest of this one (about 20 ms of a request), one writer at a time.
    txn = session.get_transaction()
    kept = session.info.get("counters_delta")
    if kept is None or kept[0] is not txn:
        kept = session.info["counters_delta"] = (txn, Counter())
    kept[1].update(delta)


def _before_commit(session: Session) -> None:
    if "counters_delta" not in session.info:
        return
    session.flush()  # the commit's own flush comes after this event: its counts too
    txn, delta = session.info.pop("counters_delta", (None, None))
    if delta and txn is session.get_transaction():
        _apply(session.connection(), delta)


def _after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop("counters_pending", None)
    session.info.pop("counters_delta", None)


def connect() -> None:
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


# --- rebuilt from the comments -------------------------------------------------------------


def recount(conn, version_ids: Iterable[int] | None = None) -> int:
    """Rebuild the counts (of `version_ids`, or of every version) from the comments, in
    the caller's transaction. Returns the number of comments counted."""
    table = CommentCount.__table__
    ids = None if version_ids is None else sorted(set(version_ids))
    clear = delete(table)
    q = _facts_query()
    if ids is not None:
        clear = clear.where(table.c.version_id.in_(ids))
        q = q.where(Comment.__table__.c.version_id.in_(ids))
    conn.execute(clear)
    counts: Counter = Counter()
    seen = 0
    # Streamed (a server-side cursor on PostgreSQL), for this statement only.
    for row in conn.execute(q, execution_options={"yield_per": 5000}):
        counts.update(_keys(*row[1:]))
        seen += 1
    rows = [
        {"version_id": v, "dimension": d, "key": k, "n": n}
        for (v, d, k), n in sorted(counts.items())
        if n
    ]
    for k in range(0, len(rows), 5000):
        conn.execute(table.insert(), rows[k : k + 5000])
    return seen


# --- read by the pages ---------------------------------------------------------------------


def _rows(version_ids: Iterable[int], dimension: str) -> list[tuple[int, str, int]]:
    ids = sorted(set(version_ids))
    if not ids:
        return []
    return [
        (v, k, n)
        for v, k, n in db.session.execute(
            select(CommentCount.version_id, CommentCount.key, CommentCount.n).where(
                CommentCount.version_id.in_(ids),
                CommentCount.dimension == dimension,
                CommentCount.n != 0,
            )
        )
    ]


def _paragraph(key: str) -> int | None:
    return int(key) if key else None


def per_version(version_ids: Iterable[int]) -> dict[int, int]:
    """Comments per version id (every comment: withdrawn and hidden ones too)."""
    out: Counter = Counter()
    for v, _k, n in _rows(version_ids, "paragraph"):
        out[v] += n
    return dict(out)


def per_paragraph(version_id: int) -> dict[int | None, int]:
    """Comments per paragraph id of a version; None: on the version as a whole."""
    return {_paragraph(k): n for _v, k, n in _rows([version_id], "paragraph")}


def waiting_per_paragraph(version_id: int) -> dict[int | None, int]:
    """Comments still waiting for an answer per paragraph id (None: the version)."""
    return {_paragraph(k): n for _v, k, n in _rows([version_id], "waiting")}


def facts(version_ids: Iterable[int]) -> list[tuple[int, str, str | None, str | None, bool, int]]:
    """(version id, kind, decision, uptake label, withdrawn, number of comments)."""
    out = []
    for v, key, n in _rows(version_ids, "facts"):
        kind, decision, label, withdrawn = key.split("|")
        out.append((v, kind, decision or None, label or None, withdrawn == "w", n))
    return out


def per_organisation(version_ids: Iterable[int]) -> list[tuple[int, int | None, int]]:
    """(version id, organisation id or None for individuals, comments not withdrawn)."""
    return [(v, int(k) if k else None, n) for v, k, n in _rows(version_ids, "organisation")]


def unanswered(version: Version) -> int:
    """Comments on `version` and the versions before it with no answer and not
    withdrawn (the finalize guard's count)."""
    ids = db.session.scalars(
        select(Version.id).where(
            Version.document_id == version.document_id, Version.number <= version.number
        )
    ).all()
    return sum(
        n for _v, _k, decision, _l, withdrawn, n in facts(ids) if decision is None and not withdrawn
    )
