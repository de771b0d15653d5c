"""Appending to the hash-chained record and verifying it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text

from consult import signals
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.record.models import Event
from consult.timeutil import utcnow

GENESIS = "0" * 64


def event_hash(
    prev_hash: str, seq: int, kind: str, created_at: str, subject: str, payload: str
) -> str:
    return sha256(canonical([prev_hash, seq, kind, created_at, subject, payload]))


def recomputed_hash(ev: Event, prev_hash: str) -> str:
    """The hash `ev` must carry when it follows an event with hash `prev_hash`."""
    return event_hash(
        prev_hash,
        ev.seq,
        ev.kind,
        ev.created_at.isoformat(),
        f"{ev.subject_type}:{ev.subject_id}",
        ev.payload,
    )


def head() -> Event | None:
    return db.session.scalar(select(Event).order_by(Event.seq.desc()).limit(1))


def head_hash() -> str | None:
    """The hash of the last event (None for an empty record), without loading it."""
    return db.session.scalar(select(Event.hash).order_by(Event.seq.desc()).limit(1))


def append(
    kind: str, subject_type: str, subject_id: int, actor_id: int | None, data: dict
) -> Event:
    """Add one event at the head of the chain, in the caller's transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Several app processes append; one at a time keeps the chain linear.
        db.session.execute(text("SELECT pg_advisory_xact_lock(7426001)"))
    last = head()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    created = utcnow().replace(microsecond=0)
    payload = canonical(data)
    ev = Event(
        seq=seq,
        kind=kind,
        created_at=created,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        prev_hash=prev,
        hash=event_hash(
            prev, seq, kind, created.isoformat(), f"{subject_type}:{subject_id}", payload
        ),
    )
    db.session.add(ev)
    db.session.flush()
    return ev


@dataclass
class Verification:
    ok: bool
    events: int
    versions: int
    head: str
    problem: str = ""


def verify() -> Verification:
    """Recompute the chain and every published version's hash; report the first break."""
    from consult.consultation.models import Comment
    from consult.consultation.services import comment_hash
    from consult.documents.models import Version
    from consult.documents.services import compute_hash

    prev = GENESIS
    count = 0
    for ev in db.session.scalars(select(Event).order_by(Event.seq)).yield_per(500):
        count += 1
        if ev.seq != count:
            return Verification(
                False, count, 0, prev, f"event {count} is missing (found seq {ev.seq})"
            )
        if ev.prev_hash != prev or ev.hash != recomputed_hash(ev, prev):
            return Verification(
                False, count, 0, prev, f"event {ev.seq} ({ev.kind}) does not match its hash"
            )
        prev = ev.hash
    versions = 0
    for v in db.session.scalars(select(Version).where(Version.state != "draft")):
        versions += 1
        if compute_hash(v) != v.content_hash:
            return Verification(
                False,
                count,
                versions,
                prev,
                f"{v.document.slug} version {v.number}: text does not match its published hash",
            )
    for c in db.session.scalars(select(Comment)).yield_per(500):
        if comment_hash(c) != c.content_hash:
            return Verification(False, count, versions, prev, f"comment {c.tracking} was altered")
    from consult.consultation.models import CommentRevision
    from consult.consultation.services import revision_hash

    for r in db.session.scalars(select(CommentRevision)).yield_per(500):
        if revision_hash(r.comment, r) != r.content_hash:
            return Verification(
                False,
                count,
                versions,
                prev,
                f"comment {r.comment.tracking} text {r.number} was altered",
            )
    return Verification(True, count, versions, prev)


def _subject_type(obj) -> str:
    return type(obj).__name__.lower()


def _on_event(sender: str, subject, actor=None, data=None) -> None:
    append(
        sender,
        _subject_type(subject),
        subject.id,
        actor.id if actor is not None else None,
        data or {},
    )


def connect() -> None:
    for sig in (
        signals.version_created,
        signals.version_published,
        signals.version_state_changed,
        signals.comment_posted,
        signals.comment_cosigned,
        signals.comment_edited,
        signals.comment_withdrawn,
        signals.reply_posted,
        signals.comment_flagged,
        signals.comment_moderated,
        signals.response_given,
        signals.committee_member_added,
        signals.committee_member_removed,
        signals.suggestion_taken_up,
        signals.draft_changed,
        signals.responses_grouped,
        signals.response_feedback_given,
        signals.organisation_created,
        signals.organisation_updated,
        signals.organisation_verified,
        signals.membership_requested,
        signals.membership_decided,
    ):
        sig.connect(_on_event, weak=False)
