"""Adopting the hash chain: the events recorded while the record was one hash chain
become the first leaves of the Merkle tree, in their order, each leaf keeping the
event's place in the chain (seq, previous hash, chain hash), so that a receipt given
then still verifies. Plain SQL on a connection: migration 0016 runs it, and tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from consult.record import verify_standalone as rules

BATCH = 5_000


def iso(value) -> str:
    """An event's created_at as its hashes take it: the isoformat of the UTC time (SQLite
    gives the stored text, PostgreSQL a datetime)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def adopt_chain(conn: Connection) -> int:
    """Give every placed event (seq set) its leaf hash, in seq order, and store the
    complete subtrees and the tree's state anew. Returns the number of leaves."""
    conn.execute(text("DELETE FROM record_node"))
    f = rules.Frontier()
    last = 0
    while True:
        rows = conn.execute(
            text(
                "SELECT id, seq, kind, created_at, subject_type, subject_id, payload, "
                "prev_hash, hash FROM event WHERE seq > :last ORDER BY seq LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        leaves, nodes = [], []
        for r in rows:
            chain = (r.seq, r.prev_hash, r.hash) if r.hash else None
            data = rules.leaf_bytes(
                r.kind, iso(r.created_at), f"{r.subject_type}:{r.subject_id}", r.payload, chain
            )
            leaf = rules.leaf_hash(data)
            leaves.append({"i": r.id, "h": leaf.hex()})
            nodes += [{"h": h, "i": i, "x": x.hex()} for h, i, x in f.append(leaf)]
            last = r.seq
        conn.execute(text("UPDATE event SET leaf_hash = :h WHERE id = :i"), leaves)
        if nodes:
            conn.execute(
                text("INSERT INTO record_node (height, idx, hash) VALUES (:h, :i, :x)"), nodes
            )
    conn.execute(text("DELETE FROM record_tree"))
    conn.execute(
        text("INSERT INTO record_tree (id, size, root_hash) VALUES (1, :n, :r)"),
        {"n": f.size, "r": f.root().hex()},
    )
    return f.size
