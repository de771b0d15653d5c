"""Public pages of the record: the event log with its hashes and how to verify it, and
receipts, which anyone can check: an organisation can prove what it submitted and
that it was not altered."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from consult.consultation.models import Comment
from consult.consultation.services import comment_hash
from consult.errors import NotFound
from consult.extensions import db
from consult.record.models import Event
from consult.record.service import GENESIS, head_hash, recomputed_hash, verify
from consult.web import page_number

bp = Blueprint("record", __name__, url_prefix="/record")

PER_PAGE = 50
#: Up to this many events the page verifies the whole record on every view; beyond,
#: it verifies when asked (the check reads every event and every comment).
VERIFY_ON_VIEW = 5_000


@dataclass
class Receipt:
    comment: Comment
    stored_hash: str
    recomputed_hash: str
    event: Event | None
    event_ok: bool  # the event's own hash recomputes and it records this content hash

    @property
    def matches(self) -> bool:
        return self.stored_hash == self.recomputed_hash and self.event_ok


def _event_ok(ev: Event | None, content_hash: str) -> bool:
    if ev is None:
        return False
    return (
        ev.hash == recomputed_hash(ev, ev.prev_hash)
        and f'"content_hash":"{content_hash}"' in ev.payload
    )


def receipt_for(tracking: str) -> Receipt:
    c = db.session.scalar(select(Comment).where(Comment.tracking == tracking.strip().upper()))
    if c is None:
        raise NotFound(f"There is no comment with the tracking number {tracking}.")
    ev = db.session.scalar(
        select(Event)
        .where(
            Event.kind == "comment.posted",
            Event.subject_type == "comment",
            Event.subject_id == c.id,
        )
        .limit(1)
    )
    return Receipt(c, c.content_hash, comment_hash(c), ev, _event_ok(ev, c.content_hash))


@bp.get("/receipts/<tracking>")
def receipt(tracking: str):
    r = receipt_for(tracking)
    return render_template("record/receipt.html", r=r, c=r.comment, doc=r.comment.version.document)


@bp.get("/")
def log():
    """The event log, newest first, with the head hash and the verification."""
    total = db.session.scalar(select(func.count(Event.id))) or 0
    page = page_number()
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    events = db.session.scalars(
        select(Event).order_by(Event.seq.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    head = events[0].hash if events and page == 1 else head_hash()
    check = None
    if request.args.get("verify") or total <= VERIFY_ON_VIEW:
        check = verify()
    return render_template(
        "record/log.html",
        events=events,
        total=total,
        page=page,
        pages=pages,
        per_page=PER_PAGE,
        head=head or GENESIS,
        check=check,
    )
