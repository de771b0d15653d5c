"""The record: every event as an entry of an append-only Merkle tree log (RFC 9162),
with the stored hashes of its complete subtrees and its signed tree heads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow


class Event(db.Model):
    #: Receipts and verify find an event by what it is about.
    __table_args__ = (
        Index("ix_event_subject", "subject_type", "subject_id"),
        # The latest event of a kind in one index step (tracing.views.provenance_key).
        Index("ix_event_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the record, 1, 2, 3 … with no gaps: its leaf index + 1. Empty until
    #: the sequencer places the entry in the tree (entries are written without a lock).
    seq: Mapped[int | None] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    #: Canonical JSON of what the event records (content hashes included).
    payload: Mapped[str] = mapped_column(Text)
    #: The hash chain, for events recorded while the record was one (kept inside their
    #: leaf so that receipts given then still verify); empty for later events.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: sha256(0x00 || the event's leaf bytes), hex (verify_standalone.leaf_bytes).
    leaf_hash: Mapped[str | None] = mapped_column(String(64))

    @property
    def leaf_index(self) -> int | None:
        return self.seq - 1 if self.seq is not None else None

    @property
    def subject(self) -> str:
        return f"{self.subject_type}:{self.subject_id}"


class TreeNode(db.Model):
    """The hash of a complete subtree of 2**height leaves: leaves idx·2**height to
    (idx+1)·2**height − 1. Heights from 1 (the leaves themselves are the events'
    leaf hashes); written once, when the sequencer completes the subtree."""

    __tablename__ = "record_node"

    height: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class TreeState(db.Model):
    """One row: how many entries the tree holds and its root (only the sequencer writes
    it, and taking its row is how sequencers take turns)."""

    __tablename__ = "record_tree"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root_hash: Mapped[str] = mapped_column(String(64))


class TreeHead(db.Model):
    """A signed tree head: tree size, root hash and time, signed with the instance's
    Ed25519 key (verify_standalone.head_bytes). Kept forever."""

    __tablename__ = "record_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    #: Milliseconds since 1970-01-01 UTC, as signed.
    timestamp: Mapped[int] = mapped_column(BigInteger)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Why it was signed: "interval", "publication", "closing", "finalisation", "rotation",
    #: "receipts" (a batch of receipt mails wanted proofs) or "command".
    reason: Mapped[str] = mapped_column(String(40))
    #: What the reason is about, in words ("aipa-framework version 2").
    about: Mapped[str] = mapped_column(String(200), default="")
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
