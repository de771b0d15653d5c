"""Choosing the search backend: CONSULT_SEARCH_BACKEND = whoosh (default) or postgres.

    backend.get(app).search(q, limit=20, page=1)   the simple call (words, public view)
    service.search(SearchParams(...), user)        filters, facets, visibility for a user

Whoosh keeps an index directory (INDEX_DIR, under instance/); postgres keeps the
entries in the database itself and needs a PostgreSQL database.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

from consult.config import ConfigError
from consult.extensions import db
from consult.search.base import Backend, IndexBusy
from consult.search.postgres_backend import PostgresBackend
from consult.search.results import EXACT_LIMIT, Hit, Results
from consult.search.whoosh_backend import WhooshBackend

__all__ = ["Backend", "Hit", "IndexBusy", "PostgresBackend", "Results", "WhooshBackend", "get"]

BACKENDS = ("whoosh", "postgres")


def get(app: Flask) -> Backend:
    name = app.config.get("SEARCH_BACKEND", "whoosh")
    if name == "whoosh":
        return WhooshBackend(
            app.config["INDEX_DIR"], app.config.get("SEARCH_EXACT_LIMIT", EXACT_LIMIT)
        )
    if name == "postgres":
        if has_app_context() and current_app._get_current_object() is app:
            engine = db.engine
        else:
            with app.app_context():
                engine = db.engine
        if engine.dialect.name != "postgresql":
            raise ConfigError(
                "CONSULT_SEARCH_BACKEND=postgres needs a PostgreSQL database "
                f"(CONSULT_DATABASE_URL), not {engine.dialect.name}; use 'whoosh' instead."
            )
        return PostgresBackend(engine, app.config.get("SEARCH_EXACT_LIMIT", EXACT_LIMIT))
    raise ConfigError(f"CONSULT_SEARCH_BACKEND={name!r} is not known; use one of {BACKENDS}.")
