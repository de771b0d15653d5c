"""SQLite writers queue on a file lock (consult.sqlite_gate) instead of SQLite's sleeping
busy handler; the server's entry point loads the language model before serving."""

import sqlite3
import threading
import time

from consult.sqlite_gate import GatedConnection, engine_options


def _connect(path):
    return sqlite3.connect(str(path), factory=GatedConnection, timeout=10)


def test_a_second_writer_waits_for_the_first_commit_and_nothing_is_lost(tmp_path):
    db = tmp_path / "x.db"
    first = _connect(db)
    first.execute("CREATE TABLE t (n INTEGER)")
    first.commit()
    first.execute("INSERT INTO t VALUES (1)")  # opens the write transaction: holds the gate
    assert (tmp_path / "x.db-writer.lock").exists()
    done = []

    def second_writer():
        conn = _connect(db)
        conn.execute("INSERT INTO t VALUES (2)")
        conn.commit()
        done.append(time.monotonic())
        conn.close()

    t = threading.Thread(target=second_writer)
    t.start()
    time.sleep(0.3)
    assert not done  # queued behind the first writer, not failing with "database is locked"
    committed = time.monotonic()
    first.commit()
    t.join(5)
    assert done and done[0] >= committed
    assert sorted(r[0] for r in first.execute("SELECT n FROM t")) == [1, 2]
    # Reads take no gate; a rollback gives it back.
    first.execute("INSERT INTO t VALUES (3)")
    first.rollback()
    other = _connect(db)
    other.execute("INSERT INTO t VALUES (4)")
    other.commit()
    assert sorted(r[0] for r in other.execute("SELECT n FROM t")) == [1, 2, 4]


def test_only_sqlite_files_are_gated():
    assert engine_options("postgresql+psycopg://x/y", {"a": 1}) == {"a": 1}
    assert engine_options("sqlite:///:memory:", {}) == {}
    assert engine_options("sqlite:////tmp/c.db", {})["connect_args"]["factory"] is GatedConnection


def test_the_app_on_sqlite_posts_through_the_gate(app):
    from consult.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            raw = db.engine.raw_connection()
            try:
                assert isinstance(raw.driver_connection, GatedConnection)
            finally:
                raw.close()


def test_warm_up_loads_the_language_model(app):
    from consult import warm_up
    from consult.consultation import languages

    warm_up(app)
    assert languages._model is not None
    assert languages.detect("Please publish the budget of the hearings openly.") == "en"
