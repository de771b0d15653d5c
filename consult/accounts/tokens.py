"""Signed, time-limited links sent by e-mail: password reset, address confirmation and
one-click unsubscribe. Nothing is stored: the signature (with the app's secret key)
proves the link was made here, and what it carries decides whether it still works.

A password-reset link carries a fingerprint of the password hash it was made for, so
it works once: after the password changes, the fingerprint no longer matches.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from consult.accounts.models import User
from consult.errors import ConsultError
from consult.extensions import db
from consult.hashing import sha256

RESET_MAX_AGE = 60 * 60  # one hour
CONFIRM_MAX_AGE = 7 * 24 * 60 * 60  # a week


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"consult-{purpose}")


def _fingerprint(user: User) -> str:
    return sha256(user.password_hash)[:16]


def _load(purpose: str, token: str, max_age: int | None, what: str) -> dict:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ConsultError(
            _("This %(what)s link has expired; ask for a new one.", what=what)
        ) from None
    except BadSignature:
        raise ConsultError(
            _("This %(what)s link is not valid; ask for a new one.", what=what)
        ) from None
    if not isinstance(data, dict):
        raise ConsultError(_("This %(what)s link is not valid; ask for a new one.", what=what))
    return data


def _user(data: dict, what: str) -> User:
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None:
        raise ConsultError(_("This %(what)s link is not valid; ask for a new one.", what=what))
    return user


def reset_token(user: User) -> str:
    return _serializer("reset").dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_reset(token: str) -> User:
    """The user the reset link is for; ConsultError when expired, forged or used."""
    data = _load("reset", token, RESET_MAX_AGE, _("password reset"))
    user = _user(data, _("password reset"))
    if data.get("p") != _fingerprint(user):
        raise ConsultError(_("This password reset link was already used; ask for a new one."))
    return user


def confirm_token(user: User) -> str:
    return _serializer("confirm").dumps({"u": user.id, "e": user.email})


def confirmation(token: str) -> tuple[User, str]:
    data = _load("confirm", token, CONFIRM_MAX_AGE, _("confirmation"))
    return _user(data, _("confirmation")), str(data.get("e", ""))


def unsubscribe_token(user: User | int, kind: str) -> str:
    """The one-click unsubscribe token of a user (or a user's id: a mail batch does not
    load the account to sign its link)."""
    user_id = user if isinstance(user, int) else user.id
    return _serializer("unsubscribe").dumps({"u": user_id, "k": kind})


def unsubscription(token: str) -> tuple[User, str]:
    """(user, notification kind) of a one-click unsubscribe link; it never expires."""
    data = _load("unsubscribe", token, None, _("unsubscribe"))
    return _user(data, _("unsubscribe")), str(data.get("k", ""))
