"""E-mail: notifications through an outbox table, sent by `flask send-mail`.

Each kind of notification can be turned off by its user (the account page, or the
one-click unsubscribe link at the foot of every notification). Mails about the
account itself (address confirmation, password reset) are not notifications: they
are sent only when the person asks for them.
"""

from __future__ import annotations

from collections.abc import Collection

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consult.accounts.models import NotificationSetting, User
from consult.errors import ConsultError
from consult.extensions import db
from consult.timeutil import utcnow

#: kind → (what the user chooses, on by default). Notices about every consultation
#: are opt-in; notices about one's own comments and organisation are on by default.
NOTIFICATIONS: dict[str, tuple[str, bool]] = {
    "consultation_opened": (_l("A document is opened for comments"), False),
    "closing_soon": (_l("A consultation closes in 48 hours"), False),
    "receipt": (_l("A receipt when I post a comment"), True),
    "response": (_l("The committee answers a comment of mine or my organisation's"), True),
    "reply": (_l("Someone replies to a comment of mine"), True),
    "organisation": (
        _l("News of my organisation: verified, membership requests and decisions"),
        True,
    ),
}


def settings_of(user: User) -> dict[str, bool]:
    """Every notification kind with the user's choice (or the default)."""
    chosen = {
        s.kind: s.enabled
        for s in db.session.scalars(
            select(NotificationSetting).where(NotificationSetting.user_id == user.id)
        )
    }
    return {kind: chosen.get(kind, default) for kind, (_, default) in NOTIFICATIONS.items()}


def wants(user: User, kind: str) -> bool:
    return settings_of(user)[kind]


def wanting(user_ids: Collection[int], kind: str) -> set[int]:
    """Those of `user_ids` (a batch: a few hundred at most) who want notifications of
    `kind`, their choice or the default, in one query."""
    chosen = dict(
        db.session.execute(
            select(NotificationSetting.user_id, NotificationSetting.enabled).where(
                NotificationSetting.kind == kind, NotificationSetting.user_id.in_(user_ids)
            )
        ).all()
    )
    default = NOTIFICATIONS[kind][1]
    return {u for u in user_ids if chosen.get(u, default)}


def set_notification(user: User, kind: str, enabled: bool) -> None:
    if kind not in NOTIFICATIONS:
        raise ConsultError(_("Unknown notification '%(kind)s'.", kind=kind))
    row = db.session.scalar(
        select(NotificationSetting).where(
            NotificationSetting.user_id == user.id, NotificationSetting.kind == kind
        )
    )
    if row is None:
        row = NotificationSetting(user_id=user.id, kind=kind, enabled=enabled)
        db.session.add(row)
    row.enabled, row.updated_at = enabled, utcnow()
    db.session.flush()
