"""SQLite writers take turns on a lock file (consult.sqlite_writes) instead of polling the
database's lock: who holds the turn, when it is given back, and that reads never wait."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading

import pytest

from consult import create_app, sqlite_writes
from consult.extensions import db


def _connect(path):
    conn = sqlite3.connect(
        path, factory=sqlite_writes.connection_class(str(path)), check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _turn_taken(path) -> bool:
    """Whether some process holds the turn of the database at `path` (from a file
    descriptor of our own: flock conflicts with every other open of the file)."""
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "w.db"
    conn = _connect(path)
    conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, who TEXT)")
    conn.commit()
    conn.close()
    return path


def test_a_write_transaction_holds_the_turn_until_it_ends(database):
    conn = _connect(database)
    conn.execute("SELECT count(*) FROM t").fetchone()
    assert not _turn_taken(database)  # reading takes nothing
    conn.execute("INSERT INTO t (who) VALUES ('a')")
    conn.execute("INSERT INTO t (who) VALUES ('b')")
    assert _turn_taken(database)
    conn.commit()
    assert not _turn_taken(database)
    conn.execute("UPDATE t SET who = 'c'")
    assert _turn_taken(database)
    conn.rollback()
    assert not _turn_taken(database)
    conn.executemany("INSERT INTO t (who) VALUES (?)", [("d",), ("e",)])
    assert _turn_taken(database)
    conn.close()  # an open transaction is dropped: the turn with it
    assert not _turn_taken(database)
    assert [r[0] for r in _connect(database).execute("SELECT who FROM t")] == ["a", "b"]


def test_a_statement_that_fails_before_its_transaction_gives_the_turn_back(database):
    conn = _connect(database)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        conn.execute("INSERT INTO missing (n) VALUES (1)")
    assert not conn.in_transaction and not _turn_taken(database)
    # A failure inside an open transaction keeps it (and the turn) until the rollback.
    conn.execute("INSERT INTO t (n, who) VALUES (1, 'a')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO t (n, who) VALUES (1, 'again')")
    assert conn.in_transaction and _turn_taken(database)
    conn.rollback()
    assert not _turn_taken(database)


def _write_in_a_thread(conn, who: str) -> tuple[threading.Thread, threading.Event]:
    """A row written and committed by `conn` in a new thread; the event is set once done."""
    done = threading.Event()

    def write():
        conn.execute("INSERT INTO t (who) VALUES (?)", (who,))
        conn.commit()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, done


def _hold_the_turn(path, ready, release):
    conn = _connect(path)
    conn.execute("INSERT INTO t (who) VALUES ('other process')")
    ready.set()
    release.wait(30)
    conn.commit()
    conn.close()


def test_another_process_writes_after_the_holder_reads_meanwhile(database):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_the_turn, args=(str(database), ready, release))
    other.start()
    try:
        assert ready.wait(30) and _turn_taken(database)
        conn = _connect(database)
        # Reads go on while the other process writes.
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
        writer, done = _write_in_a_thread(conn, "this process")
        assert not done.wait(0.3)  # waiting for its turn
        release.set()
        writer.join(30)
        assert done.is_set()
    finally:
        release.set()
        other.join(30)
    rows = [r[0] for r in _connect(database).execute("SELECT who FROM t ORDER BY n")]
    assert rows == ["other process", "this process"]


def test_threads_of_a_process_take_turns(database):
    """Two connections of one process: the second waits on the process's mutex (the
    lock file would let both through, being the same process's)."""
    first, second = _connect(database), _connect(database)
    first.execute("INSERT INTO t (who) VALUES ('first')")
    t, done = _write_in_a_thread(second, "second")
    assert not done.wait(0.3)
    first.commit()
    t.join(30)
    assert done.is_set()
    assert [r[0] for r in first.execute("SELECT who FROM t ORDER BY n")] == ["first", "second"]


def test_without_a_turn_the_write_goes_ahead_after_the_wait(database, monkeypatch):
    monkeypatch.setattr(sqlite_writes, "SQLITE_BUSY_MS", 50)
    fd = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held by "someone" who never writes
    try:
        conn = _connect(database)
        conn.execute("INSERT INTO t (who) VALUES ('anyway')")
        conn.commit()
        assert conn.execute("SELECT who FROM t").fetchall() == [("anyway",)]
    finally:
        os.close(fd)


def test_the_app_s_sqlite_connections_take_turns(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        raw = db.engine.raw_connection()
        assert isinstance(raw.driver_connection, sqlite_writes.QueuedConnection)
        # …with the app's settings of every SQLite connection.
        pragmas = {
            p: raw.driver_connection.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("journal_mode", "foreign_keys", "busy_timeout")
        }
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000}
        raw.close()
        db.engine.dispose()
    monkeypatch.setenv("CONSULT_SQLITE_WRITE_QUEUE", "0")
    plain = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with plain.app_context():
        raw = db.engine.raw_connection()
        assert type(raw.driver_connection) is sqlite3.Connection
        raw.close()
        db.engine.dispose()
