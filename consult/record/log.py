"""The record as a Merkle tree log (RFC 9162): entries written as they come, placed in
the tree in batches by one sequencer, tree heads signed with the instance's key, and
inclusion and consistency proofs read from the stored subtree hashes.

- `append` writes an entry in the caller's transaction and takes no lock: any number of
  requests append at once. The entry has its leaf hash but no place yet.
- `sequence` (one at a time: it takes the row of record_tree) gives the waiting entries
  their places in the order they were written, stores the subtrees they complete and the
  new root, and signs a tree head when one is due. It runs after each commit that
  appended (the `sequence_record` job: inline, or on the worker's queue) and every minute
  (`record_sweep`), or by `flask --app consult sequence`.
- A head is due at publication, closing and finalisation of a version (signed right after
  the commit that recorded it), and whenever the tree grew and the newest head is older
  than RECORD_HEAD_INTERVAL seconds (CONSULT_RECORD_HEAD_INTERVAL, default 10).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consult.extensions import db
from consult.hashing import canonical
from consult.record import keys, tree
from consult.record import verify_standalone as rules
from consult.record.models import Event, TreeHead, TreeNode, TreeState
from consult.timeutil import utcnow

log = logging.getLogger(__name__)

#: Entries placed per sequencer transaction.
BATCH = 5_000
#: Seconds between interval heads (when the tree grew), unless configured.
HEAD_INTERVAL = 10.0


def head_interval(app: Flask | None = None) -> float:
    app = app or current_app
    value = app.config.get("RECORD_HEAD_INTERVAL")
    if value is None:
        value = os.environ.get("CONSULT_RECORD_HEAD_INTERVAL", str(HEAD_INTERVAL))
    return float(value)


# --------------------------------------------------------------------------- writing


def leaf_of(ev: Event) -> bytes:
    chain = (ev.seq, ev.prev_hash, ev.hash) if ev.hash else None
    return rules.leaf_bytes(ev.kind, ev.created_at.isoformat(), ev.subject, ev.payload, chain)


def entry(kind: str, subject_type: str, subject_id: int, actor_id: int | None, data: dict) -> Event:
    """A new entry (not yet in the tree), its leaf hash computed."""
    created = utcnow().replace(microsecond=0)
    payload = canonical(data)
    leaf = rules.leaf_bytes(kind, created.isoformat(), f"{subject_type}:{subject_id}", payload)
    return Event(
        kind=kind,
        created_at=created,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        leaf_hash=rules.leaf_hash(leaf).hex(),
    )


def append(
    kind: str,
    subject_type: str,
    subject_id: int,
    actor_id: int | None,
    data: dict,
    *,
    head: tuple[str, str] | None = None,
) -> Event:
    """Write one entry in the caller's transaction (no lock); the sequencer places it
    after the commit. `head`: (reason, about) to sign a tree head covering it. The entry
    is written with the transaction's next flush (a query's, or the commit's): a flush of
    its own was about a twentieth of a comment's POST."""
    ev = entry(kind, subject_type, subject_id, actor_id, data)
    db.session.add(ev)
    db.session.info["record_pending"] = True
    if head is not None:
        db.session.info.setdefault("record_heads", []).append(head)
    return ev


def _after_commit(session: Session) -> None:
    pending = session.info.pop("record_pending", False)
    heads = session.info.pop("record_heads", [])
    if not (pending or heads) or not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("RECORD_SEQUENCE_ON_COMMIT", True):
        return  # something else sequences (a benchmark, a dedicated loop)
    from consult import jobs

    if "consult_jobs" not in app.extensions:
        _sequence_quietly(app, heads)
        return
    if heads:
        for reason, about in heads:
            try:
                jobs.task("sequence_record", app)(reason, about)
            except Exception:  # the minute's sweep sequences; a head is signed then
                log.exception("could not ask for the %s tree head", reason)
    else:
        jobs.poke("sequence_record", app)


def _sequence_quietly(app: Flask, heads: list[tuple[str, str]]) -> None:
    try:
        for reason, about in heads or [(None, "")]:
            sequence(app, reason=reason, about=about)
    except Exception:  # never fail the request: the entries wait for the next run
        log.exception("sequencing the record failed; the entries wait for the next run")


def _after_rollback(session: Session, previous_transaction=None) -> None:
    session.info.pop("record_pending", None)
    session.info.pop("record_heads", None)


def connect() -> None:
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_rollback)


# ------------------------------------------------------------------------ sequencing


@dataclass
class Sequenced:
    sequenced: int
    size: int
    root_hash: str
    head: TreeHead | None


def _take_turn(s: Session) -> TreeState:
    """The tree's state row, taken for this transaction: sequencers wait for each other
    here, writers never do."""
    for _ in range(2):
        # A write first: SQLite takes its write lock before anything is read, and
        # PostgreSQL locks the row until commit.
        s.execute(update(TreeState).where(TreeState.id == 1).values(size=TreeState.size))
        state = s.get(TreeState, 1, populate_existing=True)
        if state is not None:
            return state
        try:
            with s.begin_nested():
                s.add(TreeState(id=1, size=0, root_hash=rules.EMPTY_ROOT))
        except IntegrityError:
            continue
    raise RuntimeError("the record's tree state row cannot be taken")


def fetch(s: Session | None, wanted: set[tree.Block]) -> dict[tree.Block, bytes]:
    """Stored hashes of complete subtrees (height 0: the events' leaf hashes), in one
    query: the leaves by seq, the subtrees one index range per height. The numbers are
    whole numbers of ours, written into the SQL (a proof's query is then as cheap to
    prepare as it is to run)."""
    s = s or db.session
    by_height: dict[int, list[int]] = {}
    for h, i in sorted(wanted):
        by_height.setdefault(int(h), []).append(int(i))
    parts = []
    if 0 in by_height:
        seqs = ",".join(str(i + 1) for i in by_height[0])
        parts.append(
            f"SELECT 0 AS h, seq - 1 AS i, leaf_hash AS x FROM event WHERE seq IN ({seqs})"  # noqa: S608 - int() above
        )
    nodes = [
        f"(height = {h} AND idx IN ({','.join(map(str, ids))}))"
        for h, ids in by_height.items()
        if h > 0
    ]
    if nodes:
        where = " OR ".join(nodes)
        parts.append(f"SELECT height, idx, hash FROM record_node WHERE {where}")  # noqa: S608 - ints
    out: dict[tree.Block, bytes] = {}
    if parts:
        for h, i, x in s.execute(text(" UNION ALL ".join(parts))):
            out[(int(h), int(i))] = bytes.fromhex(x)
    missing = wanted - out.keys()
    if missing:
        raise LookupError(f"stored subtree hashes missing: {sorted(missing)[:5]}")
    return out


def _frontier(s: Session, size: int) -> rules.Frontier:
    blocks = tree.blocks(0, size)
    got = fetch(s, set(blocks))
    f = rules.Frontier()
    f.size = size
    f.stack = [(h, got[(h, i)]) for h, i in blocks]
    return f


def sequence(
    app: Flask | None = None,
    *,
    reason: str | None = None,
    about: str = "",
    force_head: bool = False,
    engine=None,
    now: datetime | None = None,
) -> Sequenced:
    """Place every waiting entry in the tree (in batches of BATCH, each its own short
    transaction) and sign a head when one is due (see the module's docstring)."""
    app = app or current_app._get_current_object()
    engine = engine or db.engine
    done = 0
    head = None
    while True:
        with Session(engine, expire_on_commit=False) as s:
            state = _take_turn(s)
            rows = s.execute(
                select(Event.id, Event.leaf_hash)
                .where(Event.seq.is_(None))
                .order_by(Event.id)
                .limit(BATCH)
            ).all()
            if rows:
                f = _frontier(s, state.size)
                updates, nodes = [], []
                for ev_id, leaf in rows:
                    updates.append({"id": ev_id, "seq": f.size + 1})
                    made = f.append(bytes.fromhex(leaf))
                    nodes += [{"height": h, "idx": i, "hash": x.hex()} for h, i, x in made]
                s.execute(update(Event), updates)
                if nodes:
                    s.execute(TreeNode.__table__.insert(), nodes)
                state.size = f.size
                state.root_hash = f.root().hex()
                done += len(rows)
            last = len(rows) < BATCH
            # Interval heads are due between batches too: under a steady stream of
            # entries one run can last long. The asked-for head covers the last batch.
            signed = _maybe_sign(
                s, state, app, reason if last else None, about, force_head and last, now
            )
            head = signed or head
            s.commit()
            size, root = state.size, state.root_hash
        if last:
            return Sequenced(done, size, root, head)


def _maybe_sign(s, state, app, reason, about, force, now) -> TreeHead | None:
    newest = s.scalar(select(TreeHead).order_by(TreeHead.id.desc()).limit(1))
    now = now or utcnow()
    grew = state.size > (newest.tree_size if newest else 0)
    due = (
        force
        or reason is not None
        or (
            grew
            and (newest is None or now - newest.signed_at >= timedelta(seconds=head_interval(app)))
        )
    )
    if not due:
        return None
    return _sign(s, state.size, state.root_hash, reason or "interval", about, app, now)


def _sign(s, size, root, reason, about, app, now) -> TreeHead:
    now = now.astimezone(UTC)
    stamp = int(now.timestamp() * 1000)
    h = TreeHead(
        tree_size=size,
        root_hash=root,
        timestamp=stamp,
        signed_at=datetime.fromtimestamp(stamp / 1000, UTC),
        reason=reason,
        about=about[:200],
        public_key=keys.public_key_hex(app),
        signature=keys.sign(rules.head_bytes(size, root, stamp), app),
    )
    s.add(h)
    s.flush()
    return h


def ensure_head(app: Flask | None = None) -> None:
    """Sequence and sign a head if one is due (a receipt wants its entry covered)."""
    app = app or current_app._get_current_object()
    state = db.session.get(TreeState, 1)
    newest = newest_head()
    waiting = db.session.scalar(select(Event.id).where(Event.seq.is_(None)).limit(1))
    if waiting is None and state is not None and newest and newest.tree_size == state.size:
        return
    sequence(app)
    db.session.expire_all()


# ---------------------------------------------------------------------------- reading


def state() -> tuple[int, str]:
    """(size, root hash) of the tree as sequenced now."""
    row = db.session.execute(select(TreeState.size, TreeState.root_hash)).first()
    return (row.size, row.root_hash) if row else (0, rules.EMPTY_ROOT)


def newest_head() -> TreeHead | None:
    return db.session.scalar(select(TreeHead).order_by(TreeHead.id.desc()).limit(1))


def head_of_size(size: int) -> TreeHead | None:
    """The first head signed for a tree of this size."""
    return db.session.scalar(
        select(TreeHead).where(TreeHead.tree_size == size).order_by(TreeHead.id).limit(1)
    )


def first_head_covering(seq: int) -> TreeHead | None:
    return db.session.scalar(
        select(TreeHead).where(TreeHead.tree_size >= seq).order_by(TreeHead.id).limit(1)
    )


def inclusion_proof(leaf_index: int, size: int) -> list[str]:
    ranges = tree.inclusion_ranges(leaf_index, size)
    got = fetch(None, tree.needed(ranges))
    return [h.hex() for h in tree.proof(ranges, got.__getitem__)]


def consistency_proof(first: int, second: int) -> list[str]:
    ranges = tree.consistency_ranges(first, second)
    got = fetch(None, tree.needed(ranges))
    return [h.hex() for h in tree.proof(ranges, got.__getitem__)]


def root_at(size: int) -> str:
    """The root hash of the tree of the first `size` entries, from stored subtrees."""
    if size == 0:
        return rules.EMPTY_ROOT
    got = fetch(None, set(tree.blocks(0, size)))
    return tree.range_hash(0, size, got.__getitem__).hex()


def head_json(h: TreeHead) -> dict:
    """A signed tree head as the API, receipts and the open data give it."""
    return {
        "tree_size": h.tree_size,
        "root_hash": h.root_hash,
        "timestamp": h.timestamp,
        "signed_at": h.signed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "reason": h.reason,
        "about": h.about,
        "key_id": rules.key_id(h.public_key),
        "public_key": h.public_key,
        "signature": h.signature,
    }


def entry_json(ev: Event) -> dict:
    """An entry with everything needed to recompute its leaf hash."""
    return {
        "leaf_index": ev.leaf_index,
        "seq": ev.seq,
        "kind": ev.kind,
        "created_at": ev.created_at.isoformat(),
        "subject_type": ev.subject_type,
        "subject_id": ev.subject_id,
        "payload": ev.payload,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
        "leaf_hash": ev.leaf_hash,
    }
