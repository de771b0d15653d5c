"""Rate-limit plumbing: a counter storage shared by every process of one machine, and
the keys that make a limit hold per account as well as per address.

flask-limiter counts in a `limits` storage. Its `memory://` storage lives inside one
process, so with four gunicorn workers a client gets every limit four times. The
embedded default is therefore a small SQLite file under instance/ (`consult+sqlite://`,
registered below with `limits`), which every process on the machine shares without
installing anything; beyond one machine, Redis (`redis://host:6379`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from flask import request
from flask_limiter import ApplicationLimit
from limits.storage import Storage

from consult.sqlite_writes import wal

SQLITE_SCHEME = "consult+sqlite"


#: How long a connection to the counters waits for another process's lock.
BUSY_SECONDS = 10


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite table, safe across processes and threads.

    Each increment is one atomic upsert, so two workers counting the same key never
    lose a hit; SQLite's own file locking orders them.
    """

    STORAGE_SCHEME = [SQLITE_SCHEME]
    #: Expired rows are swept about once every this many increments.
    SWEEP_EVERY = 500

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: object):
        prefix = f"{SQLITE_SCHEME}://"
        if not uri or not uri.startswith(prefix) or len(uri) <= len(prefix):
            raise ValueError(f"A {SQLITE_SCHEME} storage needs a file: {prefix}/path/to/file.db")
        self.path = uri[len(prefix) :]
        self._local = threading.local()
        self._increments = 0
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        with self._connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS counter "
                "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: a connection made before a fork
        # (gunicorn --preload) must not be shared by the children.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
            wal(conn, BUSY_SECONDS)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._connection()
        row = conn.execute(
            "INSERT INTO counter (key, count, expires) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN expires <= ? THEN excluded.count ELSE count + excluded.count END, "
            "expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END "
            "RETURNING count",
            (key, amount, now + expiry, now, now),
        ).fetchone()
        self._increments += 1
        if self._increments % self.SWEEP_EVERY == 0:
            conn.execute("DELETE FROM counter WHERE expires <= ?", (now,))
        return int(row[0])

    def get(self, key: str) -> int:
        row = (
            self._connection()
            .execute("SELECT count FROM counter WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = (
            self._connection()
            .execute("SELECT expires FROM counter WHERE key = ? AND expires > ?", (key, now))
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counter WHERE key = ?", (key,))


# --------------------------------------------------------------------- per account

#: Writes through the API, per account and per endpoint, whatever address they come
#: from: the same allowance as the per-address limit of the API (api.routes.POST_LIMIT).
API_ACCOUNT_LIMIT = "30 per minute"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _api_account() -> str | None:
    """The account of a bearer-token API request, or None."""
    if not request.path.startswith("/api/"):
        return None
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    from flask_login import current_user

    return f"account:{current_user.id}" if current_user.is_authenticated else None


def _not_an_api_account() -> bool:
    return _api_account() is None


def application_limits() -> list[ApplicationLimit]:
    """Limits checked on every request besides each route's own (per-address) limits."""
    return [
        ApplicationLimit(
            API_ACCOUNT_LIMIT,
            key_function=lambda: _api_account() or "anonymous",
            scope=lambda endpoint: f"api-account:{endpoint}",
            methods=list(WRITE_METHODS),
            exempt_when=_not_an_api_account,
            error_message="Too many requests from this account; wait a minute and try again.",
        )
    ]
