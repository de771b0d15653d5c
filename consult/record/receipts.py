"""Receipts anyone can check: a comment's content hash, the entry that recorded it, its
place in the Merkle tree (leaf index), an inclusion proof and the signed tree head it
is proved against. Each view proves against the newest head, so a later view gives a
fresh proof; the standalone verifier checks the JSON form offline."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from consult.consultation.models import Comment
from consult.consultation.services import comment_hash
from consult.errors import NotFound
from consult.extensions import db
from consult.record import keys
from consult.record import log as tree_log
from consult.record import verify_standalone as rules
from consult.record.models import Event, TreeHead

FORMAT = "consult-receipt/1"


@dataclass
class Receipt:
    comment: Comment
    stored_hash: str
    recomputed_hash: str
    event: Event | None
    #: The entry's leaf hash recomputes (and its chain hash, for an older event) and the
    #: entry records this content hash.
    event_ok: bool
    head: TreeHead | None = None
    proof: list[str] | None = None
    #: The proof leads from the entry's leaf to the head's root.
    proof_ok: bool = False

    @property
    def matches(self) -> bool:
        return self.stored_hash == self.recomputed_hash and self.event_ok and self.proof_ok

    @property
    def pending(self) -> bool:
        """Written, but no signed head covers it yet (it is placed within seconds)."""
        return self.event is not None and self.event_ok and self.head is None


def _event_ok(ev: Event | None, content_hash: str) -> bool:
    if ev is None:
        return False
    if rules.leaf_hash(tree_log.leaf_of(ev)).hex() != ev.leaf_hash:
        return False
    if ev.hash is not None:
        from consult.record.service import recomputed_hash

        if ev.hash != recomputed_hash(ev, ev.prev_hash):
            return False
    return json.loads(ev.payload).get("content_hash") == content_hash


def _posted_entries():
    return select(Event).where(Event.kind == "comment.posted", Event.subject_type == "comment")


def posted_entry(comment_id: int) -> Event | None:
    """The entry that recorded a comment's posting (written, perhaps not placed yet)."""
    return db.session.scalar(
        _posted_entries().where(Event.subject_id == comment_id).order_by(Event.id).limit(1)
    )


def posted_entries(comment_ids: Collection[int]) -> dict[int, Event]:
    """posted_entry() of each of a batch of comments (a few hundred ids at most), in one
    query: comment id → entry."""
    found: dict[int, Event] = {}
    for ev in db.session.scalars(
        _posted_entries().where(Event.subject_id.in_(comment_ids)).order_by(Event.id)
    ):
        found.setdefault(ev.subject_id, ev)
    return found


def receipt_for(tracking: str) -> Receipt:
    c = db.session.scalar(select(Comment).where(Comment.tracking == tracking.strip().upper()))
    if c is None:
        raise NotFound(
            _("There is no comment with the tracking number %(tracking)s.", tracking=tracking)
        )

    ev = posted_entry(c.id)
    if ev is not None and (ev.seq is None or _uncovered(ev.seq)):
        tree_log.ensure_head()  # placed and signed now, if a head is due
    return receipt_of(c)


def receipt_of(c: Comment, entry: Event | None = None, head: TreeHead | None = None) -> Receipt:
    """The comment's receipt as the record stands: its entry, and when a signed head
    covers it, the inclusion proof against the newest head (nothing is sequenced here).
    A batch of receipts gives the entry and the newest head it has read for them all;
    either is looked up when not given."""
    ev = entry if entry is not None else posted_entry(c.id)
    r = Receipt(c, c.content_hash, comment_hash(c), ev, _event_ok(ev, c.content_hash))
    if ev is not None and ev.seq is not None:
        head = head if head is not None else tree_log.newest_head()
        if head is not None and head.tree_size >= ev.seq:
            r.head = head
            r.proof = tree_log.inclusion_proof(ev.leaf_index, head.tree_size)
            r.proof_ok = rules.verify_inclusion(
                ev.leaf_index,
                head.tree_size,
                bytes.fromhex(ev.leaf_hash),
                [bytes.fromhex(p) for p in r.proof],
                bytes.fromhex(head.root_hash),
            )
    return r


def _uncovered(seq: int) -> bool:
    newest = tree_log.newest_head()
    return newest is None or newest.tree_size < seq


def receipt_json(r: Receipt) -> dict:
    """The receipt as a file: what verify_standalone.py checks offline."""
    ev = r.event
    return {
        "format": FORMAT,
        "tracking": r.comment.tracking,
        "content_hash": r.stored_hash,
        "entry": tree_log.entry_json(ev) if ev is not None else None,
        "leaf_index": ev.leaf_index if ev is not None else None,
        "tree_head": tree_log.head_json(r.head) if r.head is not None else None,
        "inclusion_proof": r.proof,
        "public_key": r.head.public_key if r.head is not None else keys.public_key_hex(),
        "status": "included" if r.matches else ("pending" if r.pending else "mismatch"),
    }
