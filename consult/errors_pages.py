"""Answers for when the service, not the request, is the problem: the database does not
answer, or heavy work is already running. Both are 503 with Retry-After, as a plain page
that needs neither the database nor the templates (the base template asks who is signed
in, which needs the database), or the API's JSON error shape under /api/."""

from __future__ import annotations

import contextlib
from html import escape

from flask import Flask, Response, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

DATABASE_DOWN = (
    "The service cannot reach its database just now. Nothing you sent was stored; "
    "please try again in a minute."
)
PLAIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>{title}</h1><p>{message}</p><p>Error 503.</p></body></html>
"""


def unavailable(message: str, *, title: str, code: str, retry_after: int = 60) -> Response:
    """A 503 answer telling the client when to try again."""
    if request.path.startswith("/api/"):
        resp = jsonify(error={"code": code, "message": message})
    else:
        page = PLAIN_PAGE.format(title=escape(title), message=escape(message))
        resp = Response(page, mimetype="text/html")
    resp.status_code = 503
    resp.headers["Retry-After"] = str(retry_after)
    resp.headers["Cache-Control"] = "no-store"
    return resp


#: SQLite's messages for a file that cannot be opened or stays locked ("no such
#: column" and other mistakes of ours are OperationalErrors too, and stay 500s).
SQLITE_UNAVAILABLE = ("unable to open database", "database is locked", "disk i/o error")
#: PostgreSQL: connection exceptions (class 08), the server shutting down or starting,
#: too many connections.
PG_UNAVAILABLE = ("08", "57P01", "57P02", "57P03", "53300")


def database_unavailable(e: OperationalError) -> bool:
    """Whether the error says the database cannot be reached, as opposed to a query
    that is wrong."""
    if e.connection_invalidated:
        return True
    orig = e.orig
    if type(orig).__module__.startswith("sqlite3"):
        return str(orig).lower().startswith(SQLITE_UNAVAILABLE)
    state = getattr(orig, "sqlstate", None)
    # psycopg gives no SQLSTATE when it could not connect at all.
    return state is None or state.startswith(PG_UNAVAILABLE)


def register(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    def _database_error(e: OperationalError):
        if not database_unavailable(e):
            raise e  # a fault of ours: the ordinary 500
        from consult.extensions import db

        with contextlib.suppress(Exception):  # the session may be as unreachable as the server
            db.session.rollback()
        app.logger.error("Database unavailable: %s", e)
        return unavailable(DATABASE_DOWN, title=_("Service unavailable"), code="unavailable")
