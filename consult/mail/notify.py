"""Who is told what: receivers of the domain signals that queue notifications.

They run inside the sender's transaction (see consult.signals), so a notification
is queued exactly when the change it tells of is committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from consult import signals
from consult.accounts.models import Membership, User
from consult.extensions import db
from consult.mail.outbox import queue
from consult.timeutil import utcnow

#: "Closing soon" is sent this long before a consultation's deadline.
CLOSING_SOON = timedelta(hours=48)


def _members(org_ids: list[int] | None = None, *, admins: bool = False) -> list[User]:
    """Approved members of the organisations (of every organisation when None)."""
    q = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.status == "approved")
        .distinct()
        .order_by(User.id)
    )
    if org_ids is not None:
        q = q.where(Membership.organisation_id.in_(org_ids))
    if admins:
        q = q.where(Membership.role == "admin")
    return list(db.session.scalars(q))


def _on_comment_posted(sender, subject, actor=None, data=None) -> None:
    c = subject
    if c.author is None:
        return  # entered by the secretariat: the organisation gets its answer later
    queue(
        c.author,
        "receipt",
        f"Receipt {c.tracking}: your comment on {c.version.document.title}",
        "receipt",
        comment=c,
    )


def _on_response_given(sender, subject, actor=None, data=None) -> None:
    r = subject
    c = r.comment
    # The author, or (for a comment entered on its behalf) the organisation's admins.
    people = [c.author] if c.author is not None else _members([c.organisation_id], admins=True)
    for user in people:
        queue(
            user,
            "response",
            f"The committee answered {c.tracking}: {r.decision_label}",
            "response",
            comment=c,
            response=r,
        )


def _on_version_published(sender, subject, actor=None, data=None) -> None:
    v = subject
    if v.state != "consultation":
        return
    for user in _members():
        queue(
            user,
            "consultation_opened",
            f"Open for comments: {v.document.title}, {v.title}",
            "consultation_opened",
            version=v,
            dedup_key=f"opened:{v.id}:{user.id}",
        )


def _on_organisation_verified(sender, subject, actor=None, data=None) -> None:
    org = subject
    for user in _members([org.id]):
        queue(user, "organisation", f"{org.name} is verified", "organisation_verified", org=org)


def _on_membership_requested(sender, subject, actor=None, data=None) -> None:
    m = subject
    for admin in _members([m.organisation_id], admins=True):
        queue(
            admin,
            "organisation",
            f"{m.user.display_name} asks to join {m.organisation.name}",
            "membership_requested",
            membership=m,
        )


def _on_membership_decided(sender, subject, actor=None, data=None) -> None:
    m = subject
    verb = "approved" if m.status == "approved" else "refused"
    queue(
        m.user,
        "organisation",
        f"Your request to join {m.organisation.name} was {verb}",
        "membership_decided",
        membership=m,
    )


def _on_reply(sender, subject, actor=None, data=None) -> None:
    """A reply to a comment: its author hears of it (unless they wrote the reply)."""
    c = getattr(subject, "comment", None)
    author = getattr(c, "author", None)
    if author is None or (actor is not None and actor.id == author.id):
        return
    queue(
        author, "reply", f"A reply to your comment {c.tracking}", "reply", comment=c, reply=subject
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
    queued = 0
    for v in versions:
        for user in _members():
            row = queue(
                user,
                "closing_soon",
                f"Closing soon: {v.document.title}, {v.title}",
                "closing_soon",
                version=v,
                dedup_key=f"closing:{v.id}:{user.id}",
            )
            queued += row is not None
    return queued


def connect() -> None:
    pairs = [
        (signals.comment_posted, _on_comment_posted),
        (signals.response_given, _on_response_given),
        (signals.version_published, _on_version_published),
        (signals.organisation_verified, _on_organisation_verified),
        (signals.membership_requested, _on_membership_requested),
        (signals.membership_decided, _on_membership_decided),
        (signals.reply_posted, _on_reply),
    ]
    for sig, receiver in pairs:
        sig.connect(receiver, weak=False)
