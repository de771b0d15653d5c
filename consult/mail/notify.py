"""Who is told what: receivers of the domain signals that queue notifications.

They run inside the sender's transaction (see consult.signals), so a notification
is queued exactly when the change it tells of is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import joinedload

from consult import signals
from consult.accounts.models import Membership, NotificationSetting, User
from consult.documents.closing import closed_early
from consult.extensions import db
from consult.mail import NOTIFICATIONS
from consult.mail.models import MailOutbox
from consult.mail.outbox import LOAD_LATER, MAX_ATTEMPTS, PREPARE_LATER, RENDER_LATER, queue
from consult.timeutil import utcnow

#: "Closing soon" is sent this long before a consultation's deadline.
CLOSING_SOON = timedelta(hours=48)


def _approved_members():
    return (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.status == "approved")
        .distinct()
        .order_by(User.id)
    )


def _members(org_ids: list[int], *, admins: bool = False) -> list[User]:
    """Approved members of the organisations."""
    q = _approved_members().where(Membership.organisation_id.in_(org_ids))
    if admins:
        q = q.where(Membership.role == "admin")
    return list(db.session.scalars(q))


def _subscribers(kind: str) -> list[User]:
    """Approved members of any organisation who want `kind`, in one query: asking each
    member's settings in turn would cost a query per member of every organisation."""
    chosen = (
        select(NotificationSetting.enabled)
        .where(NotificationSetting.user_id == User.id, NotificationSetting.kind == kind)
        .scalar_subquery()
    )
    default = NOTIFICATIONS[kind][1]
    return list(
        db.session.scalars(_approved_members().where(func.coalesce(chosen, literal(default))))
    )


def _tell_subscribers(v, kind: str, subject: str, dedup: str) -> int:
    """Queue `kind` about version `v` for each subscriber, once per person (the keys
    `dedup`:version:user); returns how many were queued."""
    queued = 0
    for user in _subscribers(kind):
        row = queue(user, kind, subject, kind, version=v, dedup_key=f"{dedup}:{v.id}:{user.id}")
        queued += row is not None
    return queued


def _on_comment_posted(sender, subject, actor=None, data=None) -> None:
    c = subject
    if c.author is None:
        return  # entered by the secretariat: the organisation gets its answer later
    # Written in the request, made when sent (render_waiting, _receipt below): rendering
    # it in the request was a third of a POST's time.
    queue(
        c.author,
        "receipt",
        c.tracking,
        "receipt",
        dedup_key=f"receipt:{c.id}",
        later=True,
    )


def _receipt_comment_id(row) -> int:
    return int(row.dedup_key.split(":", 1)[1])  # queued as receipt:<comment id>


@dataclass
class _Receipts:
    """What a batch of receipts reads: its comments (with what a receipt names of them),
    the entries that recorded their posting and the newest signed head."""

    comments: dict
    entries: dict
    head: object


def _load_receipts(rows) -> _Receipts:
    from consult.consultation.models import Comment
    from consult.documents.models import Version
    from consult.record import log as tree_log
    from consult.record.receipts import posted_entries

    ids = {_receipt_comment_id(row) for row in rows}
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.id.in_(ids))
        .options(
            joinedload(Comment.version).joinedload(Version.document),
            joinedload(Comment.organisation),
            joinedload(Comment.paragraph),
        )
    )
    return _Receipts({c.id: c for c in comments}, posted_entries(ids), tree_log.newest_head())


def _receipt(row, batch: _Receipts) -> tuple[object, str, dict] | None:
    """The subject, template and context of the receipt a row queued with later=True is
    about (its comment's id is in the row's dedup_key), from what its batch loaded."""
    from consult.consultation.models import Comment
    from consult.record import keys
    from consult.record.receipts import receipt_of

    cid = _receipt_comment_id(row)
    c = batch.comments.get(cid) or db.session.get(Comment, cid)
    subject = _l(
        "Receipt %(tracking)s: your comment on %(title)s",
        tracking=c.tracking,
        title=c.version.document.title,
    )
    # Its place in the tree and the proof against the newest signed head (entries placed
    # and a head signed by _place_entries just before). Should no head cover the entry
    # yet, the mail waits (None) for the next run.
    r = receipt_of(c, batch.entries.get(cid), batch.head)
    proved = r.head is not None and r.proof_ok
    if r.event is not None and not proved:
        return None
    return (
        subject,
        "receipt",
        {
            "comment": c,
            "entry": r.event,
            "head": r.head if proved else None,
            "proof": r.proof if proved else [],
            "key_id": keys.KnownKey(r.head.public_key).key_id if proved else "",
        },
    )


def _place_entries() -> None:
    """Place the waiting entries in the tree, and sign a head when the newest one does not
    cover them all (one head for a whole batch of receipts: the mail job's run)."""
    from consult.record import log as tree_log

    done = tree_log.sequence()
    newest = tree_log.newest_head()
    if done.head is None and (newest is None or newest.tree_size < done.size):
        tree_log.sequence(reason="receipts", force_head=True)
    db.session.expire_all()


RENDER_LATER["receipt"] = _receipt
LOAD_LATER["receipt"] = _load_receipts
PREPARE_LATER["receipt"] = _place_entries


def _on_response_given(sender, subject, actor=None, data=None) -> None:
    r = subject
    c = r.comment
    # The author, or (for a comment entered on its behalf) the organisation's admins.
    people = [c.author] if c.author is not None else _members([c.organisation_id], admins=True)
    for user in people:
        queue(
            user,
            "response",
            _l(
                "The committee answered %(tracking)s: %(decision_label)s",
                tracking=c.tracking,
                decision_label=r.decision_label,
            ),
            "response",
            comment=c,
            response=r,
        )


def _on_version_published(sender, subject, actor=None, data=None) -> None:
    v = subject
    if v.state != "consultation":
        return
    subject = f"Open for comments: {v.document.title}, {v.title}"
    _tell_subscribers(v, "consultation_opened", subject, "opened")


def _on_organisation_verified(sender, subject, actor=None, data=None) -> None:
    org = subject
    for user in _members([org.id]):
        queue(
            user,
            "organisation",
            _l("%(name)s is verified", name=org.name),
            "organisation_verified",
            org=org,
        )


def _on_membership_requested(sender, subject, actor=None, data=None) -> None:
    m = subject
    for admin in _members([m.organisation_id], admins=True):
        queue(
            admin,
            "organisation",
            _l(
                "%(display_name)s asks to join %(name)s",
                display_name=m.user.display_name,
                name=m.organisation.name,
            ),
            "membership_requested",
            membership=m,
        )


def _on_membership_decided(sender, subject, actor=None, data=None) -> None:
    m = subject
    queue(
        m.user,
        "organisation",
        _l("Your request to join %(name)s was approved", name=m.organisation.name)
        if m.status == "approved"
        else _l("Your request to join %(name)s was refused", name=m.organisation.name),
        "membership_decided",
        membership=m,
    )


def _on_reply(sender, subject, actor=None, data=None) -> None:
    """A reply to a comment: its author hears of it (unless they wrote the reply)."""
    c = subject.comment
    author = c.author
    if author is None or (actor is not None and actor.id == author.id):
        return
    queue(
        author,
        "reply",
        _l("A reply to your comment %(tracking)s", tracking=c.tracking),
        "reply",
        comment=c,
        reply=subject,
    )


def queue_closing_soon(now: datetime | None = None) -> int:
    """Queue "closes in 48 hours" for every open consultation whose deadline is near;
    each user hears it once per version. Returns the number of mails queued."""
    from consult.documents.models import Version

    now = now or utcnow()
    versions = db.session.scalars(
        select(Version).where(
            Version.state == "consultation",
            Version.closes_at.is_not(None),
            Version.closes_at > now,
            Version.closes_at <= now + CLOSING_SOON,
        )
    ).all()
    return sum(
        _tell_subscribers(
            v, "closing_soon", f"Closing soon: {v.document.title}, {v.title}", "closing"
        )
        for v in versions
    )


def _on_version_closed(sender, subject, actor=None, data=None) -> None:
    """Closed before its deadline: whoever follows deadlines hears the actual closing
    time, and a "closes in 48 hours" notice still waiting is not sent."""
    v = subject
    if (data or {}).get("state") != "closed" or not closed_early(v):
        return
    db.session.execute(
        update(MailOutbox)
        .where(MailOutbox.dedup_key.like(f"closing:{v.id}:%"), MailOutbox.sent_at.is_(None))
        .values(attempts=MAX_ATTEMPTS, last_error="Not sent: comments closed early.")
    )
    subject = f"Closed early: {v.document.title}, {v.title}"
    for kind in ("closing_soon", "consultation_opened"):
        for user in _subscribers(kind):
            queue(
                user, kind, subject, "closed_early", version=v, dedup_key=f"closed:{v.id}:{user.id}"
            )


def connect() -> None:
    pairs = [
        (signals.comment_posted, _on_comment_posted),
        (signals.version_state_changed, _on_version_closed),
        (signals.response_given, _on_response_given),
        (signals.version_published, _on_version_published),
        (signals.organisation_verified, _on_organisation_verified),
        (signals.membership_requested, _on_membership_requested),
        (signals.membership_decided, _on_membership_decided),
        (signals.reply_posted, _on_reply),
    ]
    for sig, receiver in pairs:
        sig.connect(receiver, weak=False)
