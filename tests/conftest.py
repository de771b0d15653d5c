"""Test fixtures: one app per session, a schema made by the migrations, tables
emptied between tests, factories that return what they make.

The database is SQLite in a temporary folder, or PostgreSQL when
CONSULT_TEST_DATABASE_URL is set (CI runs the suite on both).
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, func, make_url, select, text

from consult import create_app, fragments
from consult.accounts.services import issue_token
from consult.consultation import services
from consult.extensions import db
from consult.timeutil import utcnow

pytest_plugins = ["tests.search_world"]

CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("CONSULT_TEST_DATABASE_URL")


def _pg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """SQLite in a temporary folder, or a fresh PostgreSQL database made for this run
    on the server of CONSULT_TEST_DATABASE_URL (so parallel runs never collide)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    server = create_engine(_pg_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"consult_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield str(make_url(_pg_url(PG_URL)).set(database=name).render_as_string(hide_password=False))
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory, database_url):
    base = tmp_path_factory.mktemp("consult")
    os.environ["CONSULT_INSTANCE_PATH"] = str(base / "instance")
    # Each app of the suite counts rate limits afresh; tests of the shared storages
    # (tests/test_abuse.py) name theirs.
    os.environ.setdefault("CONSULT_RATELIMIT_STORAGE", "memory://")
    os.environ.setdefault("CONSULT_PAGE_CACHE_SECONDS", "0")  # see the app fixture
    url = database_url
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "INDEX_DIR": str(base / "index"),
            "RATELIMIT_ENABLED": False,
            # Pages made for every request: tests read what they just wrote
            # (tests/test_pagecache.py turns the keeping of public pages on).
            "PAGE_CACHE_SECONDS": 0,
            # Queued jobs run as soon as a test runs them, however close together
            # (tests/test_intake_speed.py spaces them out as a worker does).
            "JOBS_GATHER_MS": 0,
            # A cheap hash: the suite makes thousands of accounts, and scrypt costs
            # 0.1 s each (test_auth checks that the default is scrypt).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            "SERVER_NAME": "localhost",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")  # test_migrations checks there is one
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            # DELETE, not TRUNCATE: on tables this small it is ~30 times faster
            # (TRUNCATE makes new files for every table). Foreign keys from outside
            # the ORM's metadata (search.entry) cascade.
            for t in tables:
                conn.execute(t.delete())
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text(
                        "SELECT setval(c.oid, 1, false) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'S' AND n.nspname IN ('public', 'search')"
                    )
                )
    shutil.rmtree(app.config["INDEX_DIR"], ignore_errors=True)
    shutil.rmtree(app.config["EXPORT_DIR"], ignore_errors=True)  # stored exports


@pytest.fixture(autouse=True)
def _clean(app):
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.remove()
    ctx.pop()
    _empty_tables(app)
    # Parts of pages kept in this process name a database that is emptied here.
    fragments.forget()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


PASSWORD = "correct horse battery"


@pytest.fixture
def make_org():
    from consult.accounts.services import create_organisation

    counter = iter(range(1, 10_000))

    def make(slug=None, name=None, *, kind="ngo", countries=("TH",), verified=True, **kw):
        n = next(counter)
        org = create_organisation(
            slug or f"org-{n}",
            name or f"Organisation {n}",
            kind=kind,
            countries=list(countries),
            verified=verified,
            **kw,
        )
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_user(make_org):
    from consult.accounts.services import create_user

    counter = iter(range(1, 10_000))

    def make(role="cso", *, org=None, email=None, password=PASSWORD, name=""):
        n = next(counter)
        if role == "cso" and org is None:
            org = make_org()
        user = create_user(
            email or f"{role}{n}@example.org",
            password,
            role=role,
            name=name or f"{role.title()} {n}",
            organisation=org,
        )
        db.session.commit()
        return user

    return make


SAMPLE = """# Sample Framework

## Principles

Parliaments engage civil society openly and in good faith.

Every submission receives a written answer.

## Mechanisms

- Public hearings on every bill.
- Written submissions by e-mail or on paper.
"""


@pytest.fixture
def make_document(make_user):
    """make_document(state="consultation") → a document whose version 1 is in that state."""
    from consult.documents import services as docs

    counter = iter(range(1, 10_000))

    def make(state="consultation", *, text=SAMPLE, slug=None, by=None, days=7):
        by = by or make_user("secretariat")
        doc = docs.create_document(slug or f"doc-{next(counter)}", "Sample Framework", by=by)
        v = docs.import_version(doc, text, by=by, label="First draft")
        if state != "draft":
            docs.publish(v, by=by, closes_at=utcnow() + timedelta(days=days))
        if state in ("closed", "final"):
            docs.close(v, by=by)
        if state == "final":
            docs.finalize(v, by=by)
        db.session.commit()
        return doc

    return make


@pytest.fixture
def as_user(login):
    """as_user(user) signs in as that user, also when the test already made a request
    as someone else: requests in a test share its app context, where Flask-Login keeps
    the user it loaded."""

    def do(user):
        from flask import g

        g.pop("_login_user", None)
        return login(user)

    return do


@pytest.fixture
def login(client):
    """login(user) signs the test client in as that user."""

    def do(user):
        with client.session_transaction() as s:
            s["_user_id"] = user.get_id()
            s["_fresh"] = True
        return user

    return do


def pytest_collection_modifyitems(config, items):
    # Tests of what only PostgreSQL does run in the PostgreSQL pass (CI runs both);
    # on SQLite they are left out, not skipped.
    if not PG_URL:
        only_pg = [i for i in items if i.get_closest_marker("postgres")]
        if only_pg:
            config.hook.pytest_deselected(items=only_pg)
            items[:] = [i for i in items if not i.get_closest_marker("postgres")]
    # Tests whose outcome the database does not change (the accessibility walk) run once,
    # in the SQLite pass: left out of the PostgreSQL one, not skipped.
    if PG_URL:
        once = [i for i in items if i.get_closest_marker("once")]
        if once:
            config.hook.pytest_deselected(items=once)
            items[:] = [i for i in items if not i.get_closest_marker("once")]
    # In CI nothing may be skipped for want of a browser or a database.
    if CI and shutil.which("chromium") is None and any("browser" in i.keywords for i in items):
        raise pytest.UsageError(
            "CI needs Debian's chromium for the browser tests (.ci/run installs it)."
        )


# --- plain helpers for the API tests: `from .conftest import bearer, count, ...` -----------


def bearer(user) -> dict[str, str]:
    """Headers that call the API as `user` with a new token."""
    token = issue_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


# Each run of the suite its own Redis databases (CI runs the SQLite and PostgreSQL passes
# side by side): CONSULT_TEST_REDIS_DB for the limits, that number + 8 for the job queue.
REDIS_DB = int(os.environ.get("CONSULT_TEST_REDIS_DB", "0"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
REDIS_QUEUE_URL = f"redis://127.0.0.1:6379/{REDIS_DB + 8}"


def need_redis() -> str:
    """The Redis server's address, which the queue and limit tests use; a test fails (never
    skips) without it: `.ci/run` starts it, and so must a developer (redis-server)."""
    import redis

    try:
        if redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping():
            return REDIS_URL
    except redis.RedisError as e:
        pytest.fail(f"These tests need the Redis server on 127.0.0.1:6379 ({e}).")
    pytest.fail("These tests need the Redis server on 127.0.0.1:6379 (.ci/run starts it).")


def count(model) -> int:
    """How many rows `model`'s table holds."""
    return db.session.scalar(select(func.count()).select_from(model))


def assert_error(resp, status: int, code: str | None = None) -> dict:
    """The JSON error of an API answer with this status (and code, when given)."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    error = resp.get_json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def post_comment(version, paragraph, user, **kw):
    """A comment by `user` for their organisation, stored through the service as the web
    form would; kind "comment" and a short body unless given."""
    c = services.post_comment(
        version=version,
        paragraph=paragraph,
        organisation=user.organisation,
        kind=kw.pop("kind", "comment"),
        body=kw.pop("body", "Please say how often."),
        by=user,
        **kw,
    )
    db.session.commit()
    return c


@pytest.fixture
def count_queries():
    """count_queries() → a context manager gathering the SQL statements run inside it, to
    show that what a page or endpoint reads does not grow with what it lists."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting
