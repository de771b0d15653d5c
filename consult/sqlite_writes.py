"""Writers to a SQLite database wait their turn on a lock file instead of polling it.

SQLite lets one connection write at a time. Another that wants to write polls the
database's lock with growing sleeps (its busy handler: 1, 2, 5, 10 … then 100 ms at a
time), and under a steady stream of comments from several processes a waiter keeps
missing its turn: in benchmarks/load.py (4 gunicorn workers and the job worker on one
SQLite file) an INSERT waited up to 3 s while no transaction held the lock more than a
few milliseconds.

Here a connection that is about to start a write transaction first takes its turn:
a mutex among the threads of its process, then an exclusive lock on the file
``<database>-writer.lock`` among processes (tried every millisecond). It gives the turn
back when the transaction ends (commit, rollback or close). So writers follow each other
within a millisecond of the lock coming free; reads never wait (WAL). After
SQLITE_BUSY_MS without a turn the write goes ahead and SQLite's own wait applies, as
before: a process that stays in a write transaction (a long import) delays others, it
never blocks them forever.

Used for every SQLite file database of the app (consult.create_app), unless
CONSULT_SQLITE_WRITE_QUEUE=0.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from functools import cache

#: How long a writer waits for its turn before letting SQLite decide (its busy_timeout).
SQLITE_BUSY_MS = 10_000
#: Statements that open a write transaction (those before which Python's sqlite3 opens
#: one itself) and SAVEPOINT, which opens one in SQLite.
_OPENERS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


class Turn:
    """The right to write to one database file, for one process: a mutex for its threads
    and an exclusive lock on the lock file for processes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pid = os.getpid()
        self._mutex = threading.Lock()
        self._fd: int | None = None

    def _own(self) -> None:
        # A forked process (a gunicorn worker) starts with a lock file and mutex of its own.
        if self._pid != os.getpid():
            self._pid, self._mutex, self._fd = os.getpid(), threading.Lock(), None

    def take(self, timeout: float) -> bool:
        """True once this thread holds the turn; False after `timeout` seconds without."""
        self._own()
        deadline = time.monotonic() + timeout
        if not self._mutex.acquire(timeout=timeout):
            return False
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(0.001)
        except BaseException:
            self._mutex.release()
            raise
        self._mutex.release()
        return False

    def give(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._mutex.release()


def wal(conn: sqlite3.Connection, seconds: float = SQLITE_BUSY_MS / 1000) -> None:
    """Put the connection's file in WAL mode (kept in the file: a no-op once done).

    The switch needs the file to itself. When processes open a new file together
    (gunicorn's workers at their first requests), two of them can each hold its shared
    lock and want the exclusive one: SQLite then refuses one at once, "database is
    locked", without waiting, as waiting could never end (seen in CI: three processes
    on a new rate-limit file). So the switch is tried again, for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _opens_write(sql: str) -> bool:
    return sql.lstrip()[:9].upper().startswith(_OPENERS)


class QueuedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        with self.connection._writing(sql):
            return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        with self.connection._writing(sql):
            return super().executemany(sql, seq_of_parameters)


class _Writing:
    """Around one statement: takes the turn before a statement that opens a write
    transaction, and gives it back at once if the transaction did not open (an error)."""

    __slots__ = ("conn", "sql")

    def __init__(self, conn: QueuedConnection, sql: str) -> None:
        self.conn, self.sql = conn, sql

    def __enter__(self) -> None:
        conn = self.conn
        if not conn._holding and not conn.in_transaction and _opens_write(self.sql):
            conn._holding = conn.turn.take(SQLITE_BUSY_MS / 1000)

    def __exit__(self, *exc) -> None:
        if self.conn._holding and not self.conn.in_transaction:
            self.conn._end()


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions take their turn first (`turn` is
    set on a subclass made per database file: connection_class)."""

    turn: Turn
    _holding = False

    def cursor(self, factory=QueuedCursor):
        return super().cursor(factory)

    # sqlite3's shortcuts make a plain cursor of their own: through ours instead.
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def _writing(self, sql: str) -> _Writing:
        return _Writing(self, sql)

    def _end(self) -> None:
        if self._holding:
            self._holding = False
            self.turn.give()

    def commit(self):
        try:
            return super().commit()
        finally:
            self._end()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._end()

    def close(self):
        try:
            return super().close()
        finally:
            self._end()


@cache
def connection_class(database: str) -> type[QueuedConnection]:
    """The connection class for the SQLite file `database` (one Turn per file and
    process)."""
    path = os.path.abspath(database) + "-writer.lock"
    return type("QueuedConnection", (QueuedConnection,), {"turn": Turn(path)})


def configure(config: dict) -> None:
    """For a SQLite file database: connections made by QueuedConnection (in the engine
    options' connect_args), unless CONSULT_SQLITE_WRITE_QUEUE=0."""
    from sqlalchemy.engine import make_url

    if os.environ.get("CONSULT_SQLITE_WRITE_QUEUE", "1").strip() == "0":
        return
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if url.database.startswith("file:"):
        return  # a URI filename: left as it is
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("factory", connection_class(url.database))
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
