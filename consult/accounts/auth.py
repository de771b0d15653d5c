"""Who is asking: the session cookie for pages, a bearer token for the API."""

from __future__ import annotations

from flask import request

from consult.accounts.models import User
from consult.accounts.services import user_for_token
from consult.extensions import db, login_manager


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


@login_manager.request_loader
def _load_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer ") and req.path.startswith("/api/"):
        return user_for_token(header[len("Bearer ") :].strip())
    return None


def bearer_token_given() -> bool:
    return request.headers.get("Authorization", "").startswith("Bearer ")
