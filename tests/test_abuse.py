"""Abuse: rate limits that hold across processes and per account, the lock-out after
failed sign-ins, sign-in time that does not tell which accounts exist, and heavy
exports made once and capped."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import select

from consult import create_app
from consult.accounts import services
from consult.exports import report
from consult.extensions import db, limiter
from consult.mail.models import MailOutbox
from consult.ratelimit import SQLiteStorage

from .conftest import PASSWORD, bearer, need_redis, post_comment

ROOT = Path(__file__).resolve().parents[1]


def storage_uri(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"consult+sqlite://{tmp_path / 'ratelimits.db'}"
    return need_redis()


# ------------------------------------------------------ limits shared by processes

WORKER = textwrap.dedent(
    """
    import json, sys
    from consult import create_app
    config, posts = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    app = create_app(config)
    statuses = []
    for address, email, password in posts:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        resp = client.post("/sign-in", data={"email": email, "password": password})
        statuses.append(resp.status_code)
    print(json.dumps(statuses))
    """
)


def run_worker(app, storage: str, prefix: str, posts: list, tmp_path: Path) -> list[int]:
    """Another process (as a gunicorn worker is) with its own app and limiter, on the
    same database and rate-limit storage, posting sign-ins; returns the statuses."""
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        "INDEX_DIR": str(tmp_path / "index"),
        "SERVER_NAME": "localhost",
    }
    env = {**os.environ, "CONSULT_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run(  # noqa: S603 - this interpreter running our own code
        [sys.executable, "-c", WORKER, json.dumps(config), json.dumps(posts)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_processes_share_the_sign_in_limits(app, make_user, tmp_path, kind):
    """Per address (10 sign-ins a minute) and per account (locked after 10 failures),
    counted once for two processes; with memory:// each process counted its own."""
    user = make_user("cso")
    db.session.commit()
    storage, prefix = storage_uri(kind, tmp_path), f"test-{uuid.uuid4().hex}"

    # Per address: 6 + 6 tries at unknown addresses from one address, the 11th is
    # refused. Per account: 5 wrong guesses from each of two other addresses lock the
    # account, so the right password from a third address is refused for now.
    tries = [["10.0.0.1", f"nobody{i}@example.org", "guess guess"] for i in range(6)]
    guesses = lambda address: [[address, user.email, "guess guess"]] * 5  # noqa: E731
    first = run_worker(app, storage, prefix, tries + guesses("10.0.1.1"), tmp_path)
    second = run_worker(
        app,
        storage,
        prefix,
        tries + guesses("10.0.1.2") + [["10.0.1.3", user.email, PASSWORD]],
        tmp_path,
    )
    assert first == [400] * 11
    assert second == [400] * 4 + [429] * 2 + [400] * 5 + [429]


def test_the_sqlite_storage_counts_every_hit_of_concurrent_processes(tmp_path):
    uri = f"consult+sqlite://{tmp_path / 'limits.db'}"
    code = textwrap.dedent(
        f"""
        from consult.ratelimit import SQLiteStorage
        s = SQLiteStorage({uri!r})
        for _ in range(200):
            s.incr("k", 60)
        """
    )
    procs = [
        subprocess.Popen(  # noqa: S603 - this interpreter running our own code
            [sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]  # every pipe read and closed
    for p, err in zip(procs, errors, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
    storage = SQLiteStorage(uri)
    assert storage.get("k") == 600
    assert storage.get("other") == 0
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.incr("gone", 0) == 1 and storage.get("gone") == 0  # expired at once


def test_the_switch_of_a_sqlite_file_to_wal_is_tried_again_when_refused_at_once():
    """Two processes switching a new file to WAL at once: SQLite refuses one of them at
    once ("database is locked"); that one tries again and goes on. Any other error, or
    a file still locked after the wait, is raised."""
    from consult import sqlite_writes

    class Refusing:
        def __init__(self, errors):
            self.errors, self.tried = list(errors), 0

        def execute(self, sql):
            self.tried += 1
            if self.errors:
                raise sqlite3.OperationalError(self.errors.pop(0))

    conn = Refusing(["database is locked", "database is locked"])
    sqlite_writes.wal(conn)
    assert conn.tried == 3
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        sqlite_writes.wal(Refusing(["disk I/O error"]))
    always = Refusing(["database is locked"] * 1000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite_writes.wal(always, 0.2)
    assert 2 <= always.tried < 1000


# ------------------------------------------------------ per account, in one process


@pytest.fixture
def limited(app):
    """An app with rate limits on (counted in memory), on the suite's database."""
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "INDEX_DIR", "SERVER_NAME", "WTF_CSRF_ENABLED")
    other = create_app(
        {
            **{k: app.config[k] for k in keys},
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": app.config["PASSWORD_HASH_METHOD"],
        }
    )
    yield other
    with other.app_context():
        db.engine.dispose()
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_an_account_is_locked_after_failed_sign_ins_from_several_addresses(limited, make_user):
    user = make_user("cso")
    db.session.commit()
    for i in range(10):
        client = from_address(limited, f"10.1.0.{i % 2 + 1}")
        resp = client.post("/sign-in", data={"email": user.email, "password": f"guess {i}!"})
        assert resp.status_code == 400
    g.pop("_login_user", None)
    resp = from_address(limited, "10.1.0.9").post(
        "/sign-in", data={"email": user.email.upper(), "password": PASSWORD}
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "Too many failed sign-ins for this address" in page and "15 minutes" in page
    assert "Sign out" not in page
    mails = db.session.scalars(select(MailOutbox).where(MailOutbox.to_email == user.email)).all()
    assert [m.subject for m in mails] == ["Sign-in to your Consult account is paused"]
    assert "10 times" in mails[0].body

    # An address without an account reads the same (nothing tells it apart), and no
    # mail goes anywhere.
    for i in range(10):
        from_address(limited, "10.1.1.1").post(
            "/sign-in", data={"email": "nobody@example.org", "password": f"guess {i}!"}
        )
    resp = from_address(limited, "10.1.1.2").post(
        "/sign-in", data={"email": "nobody@example.org", "password": "guess again"}
    )
    assert resp.status_code == 429 and "Too many failed sign-ins" in resp.get_data(as_text=True)
    assert (
        db.session.scalar(select(MailOutbox).where(MailOutbox.to_email == "nobody@example.org"))
        is None
    )


def test_a_successful_sign_in_forgets_earlier_failures(limited, make_user):
    user = make_user("cso")
    db.session.commit()
    for _ in range(2):
        for i in range(9):
            from_address(limited, f"10.2.0.{i}").post(
                "/sign-in", data={"email": user.email, "password": "wrong wrong"}
            )
        g.pop("_login_user", None)
        ok = from_address(limited, "10.2.1.1").post(
            "/sign-in", data={"email": user.email, "password": PASSWORD}
        )
        assert ok.status_code == 302


def test_api_writes_are_limited_per_account_as_well_as_per_address(limited, make_user):
    user = make_user("cso")
    headers = bearer(user)
    url = "/api/v1/comments/999999"
    statuses = [
        from_address(limited, "10.3.0.1")
        .patch(url, json={"body": "x"}, headers=headers)
        .status_code
        for _ in range(20)
    ]
    statuses += [
        from_address(limited, "10.3.0.2")
        .patch(url, json={"body": "x"}, headers=headers)
        .status_code
        for _ in range(10)
    ]
    assert statuses == [404] * 30
    resp = from_address(limited, "10.3.0.3").patch(url, json={"body": "x"}, headers=headers)
    assert resp.status_code == 429
    assert resp.get_json()["error"]["message"] == (
        "Too many requests from this account; wait a minute and try again."
    )
    # Another account from the same addresses still has its own allowance.
    other = bearer(make_user("cso"))
    resp = from_address(limited, "10.3.0.3").patch(url, json={"body": "x"}, headers=other)
    assert resp.status_code == 404


# ------------------------------------------------------ sign-in time


def test_signing_in_with_an_unknown_address_checks_a_password_hash(client, make_user, monkeypatch):
    """An unknown address costs a password check like a wrong password does, so the time
    taken does not tell which addresses have accounts (benchmarks/signin_timing.py
    measures it)."""
    checked = []
    real = services.check_password_hash

    def counting(pwhash, password):
        checked.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    user = make_user("cso")
    db.session.commit()
    method = client.application.config["PASSWORD_HASH_METHOD"]

    assert client.post("/sign-in", data={"email": user.email, "password": "wrong!"}).status_code
    assert checked == [method]
    resp = client.post("/sign-in", data={"email": "nobody@example.org", "password": "wrong!"})
    assert resp.status_code == 400
    assert "The e-mail or the password is wrong." in resp.get_data(as_text=True)
    assert checked == [method, method]
    assert services.authenticate("nobody@example.org", PASSWORD) is None
    assert len(checked) == 3


# ------------------------------------------------------ heavy exports, stored


@pytest.fixture
def counted_report(monkeypatch):
    """Counts the makings of the consultation report (CSV: quick, and as heavy a path as
    the PDF in how it is stored and served)."""
    made = []
    real = report.report_csv

    def counting(version):
        made.append(version.number)
        return real(version)

    monkeypatch.setattr(report, "report_csv", counting)
    return made


def test_a_heavy_export_is_made_once_and_then_served_stored(
    app, client, make_document, make_user, counted_report
):
    doc = make_document("consultation")
    member = make_user("cso")
    v = doc.latest
    post_comment(v, v.paragraphs[1], member, body="First comment.")
    db.session.commit()
    url = f"/documents/{doc.slug}/versions/1/export/report-csv"

    first = client.get(url)
    assert first.status_code == 200 and counted_report == [1]
    assert "First comment." in first.get_data(as_text=True)
    assert (
        first.headers["Content-Disposition"] == f'attachment; filename="{doc.slug}-v1-report.csv"'
    )
    etag = first.headers["ETag"].strip('"')
    stored = list(Path(app.config["EXPORT_DIR"]).glob(f"report-csv--{doc.slug}--v1--*.csv"))
    assert len(stored) == 1
    import hashlib

    assert (
        etag
        == hashlib.sha256(stored[0].read_bytes()).hexdigest()
        == (hashlib.sha256(first.data).hexdigest())
    )

    second = client.get(url)
    assert second.status_code == 200 and second.data == first.data
    assert counted_report == [1]  # served, not made again
    assert client.get(url, headers={"If-None-Match": f'"{etag}"'}).status_code == 304

    # A new comment moves the record's head: the next reader gets a new file.
    post_comment(v, v.paragraphs[2], member, body="Second comment.")
    db.session.commit()
    third = client.get(url)
    assert "Second comment." in third.get_data(as_text=True) and counted_report == [1, 1]
    assert len(list(Path(app.config["EXPORT_DIR"]).glob(f"report-csv--{doc.slug}--*.csv"))) == 1


def test_exports_over_the_cap_get_a_503_to_try_again(app, client, make_document, counted_report):
    doc = make_document("consultation")
    url = f"/documents/{doc.slug}/versions/1/export/report-csv"
    slots = Path(app.config["EXPORT_DIR"]) / ".slots"
    slots.mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        # Other requests are making as many heavy files as the machine allows.
        for n in range(app.config["EXPORT_SLOTS"]):
            f = held.enter_context(open(slots / f"{n}.lock", "a+"))  # noqa: SIM115
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        resp = client.get(url)
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "60"
        assert "try again in a minute" in resp.get_data(as_text=True)
        assert counted_report == []
        api = client.get(f"/api/v1/documents/{doc.slug}")
        assert api.status_code != 503  # only heavy exports wait
    assert client.get(url).status_code == 200 and counted_report == [1]


def test_a_file_being_made_by_another_process_gets_a_503(app, client, make_document):
    from consult.exports import stored
    from consult.exports.formats import get_format

    doc = make_document("consultation")
    path = stored.path_for(doc.latest, get_format("report-csv"))
    with open(path.with_name(path.name + ".lock"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        resp = client.get(f"/documents/{doc.slug}/versions/1/export/report-csv")
    assert resp.status_code == 503 and "being prepared" in resp.get_data(as_text=True)
    assert client.get(f"/documents/{doc.slug}/versions/1/export/report-csv").status_code == 200
    shutil.rmtree(app.config["EXPORT_DIR"], ignore_errors=True)
