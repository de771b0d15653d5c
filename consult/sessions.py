"""Helpers about the database session shared by the whole app (consult.extensions.db)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from consult.extensions import db


@contextmanager
def kept_through_commits() -> Iterator[None]:
    """Commits inside this block leave the session's objects loaded (not expired): for a
    caller that goes on reading what it has just written itself, where reading each one
    back would cost a query per row or relation."""
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True
