"""One writer at a time on a SQLite database, queued instead of polled.

SQLite lets one connection write at a time. A connection that finds the write lock
taken waits in SQLite's busy handler, which *sleeps* (1, 2, 5, 10 … 100 ms) and tries
again; under gunicorn's workers and the job worker writing together, waiters keep
missing the short moments the lock is free and a 15 ms POST took 0.2–4 s (issue 18:
intake ratio 0.014). Here every connection that is about to open a write transaction
first takes an exclusive ``flock`` on ``<database>-writer.lock`` (the kernel wakes the
next waiter the moment it is released) and gives it back right after its COMMIT or
ROLLBACK. What SQLite guarantees is unchanged: the gate only orders writers that would
have waited for each other anyway, and the busy timeout still applies behind it.

Python's ``sqlite3`` (legacy transaction control, as SQLAlchemy uses it) opens a
transaction only right before the first INSERT/UPDATE/DELETE/REPLACE; SELECTs before it
run outside a transaction, so taking the gate there never leaves a stale read snapshot.
Within a process a thread lock comes first (flock is per open file, shared by the
process's threads); if it cannot be had in ``timeout`` seconds (e.g. a second
connection in the same thread writes while the first holds the gate), the write goes on
without the gate and SQLite's own locking decides, as before.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN")


class _Gate:
    """The writer lock of one database file, per process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid = -1
        self.fd = -1
        self.lock = threading.Lock()
        self.guard = threading.Lock()

    def _ready(self) -> None:
        with self.guard:
            if self.pid != os.getpid():  # after a fork: a file (and thread lock) of our own
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self.lock = threading.Lock()
                self.pid = os.getpid()

    def acquire(self, timeout: float) -> bool:
        self._ready()
        lock = self.lock
        if not lock.acquire(timeout=timeout):
            return False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:
            lock.release()
            return False
        return True

    def release(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()


_gates: dict[str, _Gate] = {}
_gates_lock = threading.Lock()


def _gate_for(database: str) -> _Gate | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database) + "-writer.lock"
    with _gates_lock:
        gate = _gates.get(path)
        if gate is None:
            gate = _gates[path] = _Gate(path)
        return gate


def _is_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITES)


class GatedCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        conn = self.connection
        conn._gate_before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            conn._gate_after()

    def executemany(self, sql, seq_of_parameters, /):
        conn = self.connection
        conn._gate_before(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            conn._gate_after()


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that queues for the database's writer gate."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._gate = _gate_for(os.fspath(database))
        self._held = False
        self._gate_timeout = float(kwargs.get("timeout", 5.0))

    def _gate_before(self, sql: str) -> None:
        if self._gate is not None and not self._held and not self.in_transaction and _is_write(sql):
            self._held = self._gate.acquire(self._gate_timeout)

    def _gate_after(self) -> None:
        # Statement failed before a transaction opened, or ran in autocommit mode.
        if self._held and not self.in_transaction:
            self._let_go()

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            self._gate.release()

    def cursor(self, factory=GatedCursor):
        return super().cursor(factory)

    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def commit(self):
        try:
            return super().commit()
        finally:
            if not self.in_transaction:
                self._let_go()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            if not self.in_transaction:
                self._let_go()

    def close(self):
        try:
            return super().close()
        finally:
            self._let_go()


def engine_options(uri: str, options: dict) -> dict:
    """SQLAlchemy engine options with the gated connection for a pysqlite file URI."""
    if not uri.startswith(("sqlite:///", "sqlite+pysqlite:///")) or uri.endswith(":memory:"):
        return options
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("factory", GatedConnection)
    return {**options, "connect_args": connect_args}
