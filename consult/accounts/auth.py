"""Who is asking: the session cookie for pages, a bearer token for the API."""

from __future__ import annotations

from flask import request

from consult.accounts.models import User
from consult.accounts.services import user_for_token
from consult.extensions import db, login_manager


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie ("<id>:<session generation>"), or None
    when the account has ended that session since (User.session_generation)."""
    ident, _, generation = (user_id or "").partition(":")
    if not (ident.isdigit() and generation.isdigit()) or not 0 < int(ident) < 2**31:
        return None
    user = db.session.get(User, int(ident))
    if user is None or (user.session_generation or 0) != int(generation):
        return None
    return user


#: Where the API keeps the user of this request's bearer token (request.environ), so
#: that the token is looked up once a request.
TOKEN_USER = "consult.token_user"  # noqa: S105 (a key of request.environ, no secret)


@login_manager.request_loader
def _load_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer ") and req.path.startswith("/api/"):
        if TOKEN_USER in req.environ:
            return req.environ[TOKEN_USER]  # the API looked it up for this request
        return user_for_token(header[len("Bearer ") :].strip())
    return None


def bearer_token_given() -> bool:
    return request.headers.get("Authorization", "").startswith("Bearer ")
