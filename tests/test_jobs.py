"""Background jobs (consult.jobs): a real worker process on the SQLite and the Redis
queue feeds the search index, sends mail and makes heavy exports; the export page
shows the job's status until the stored file is served; the periodic sweep closes
consultations at their deadline."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

import pytest

from consult import create_app, jobs
from consult.config import ConfigError
from consult.documents.models import Version
from consult.extensions import db
from consult.jobs import tasks
from consult.mail.models import MailOutbox
from consult.search.models import OutboxEntry
from consult.timeutil import utcnow

from .conftest import REDIS_QUEUE_URL, bearer, count, need_redis

ROOT = Path(__file__).resolve().parents[1]


def _use_queue(app, monkeypatch, url: str):
    huey = jobs.make_huey(url)
    huey.flush()
    tasks.register(app, huey)
    monkeypatch.setitem(app.extensions, "consult_jobs", huey)
    return huey


def _run_queued(huey) -> None:
    while (task := huey.dequeue()) is not None:
        huey.execute(task)


def close_searchers() -> None:
    """Close this thread's Whoosh searchers (kept open between searches) before the
    index folder goes: their files would otherwise be closed by the garbage collector,
    which pytest reports as an error of whichever test runs then."""
    from consult.search import whoosh_backend

    cache = getattr(whoosh_backend._searchers, "by_path", {})
    for _, searcher in cache.values():
        searcher.close()
    cache.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _until(check, seconds: float = 30.0, what: str = ""):
    """Poll `check` until it returns something true, at most `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


@pytest.fixture(params=["sqlite", "redis"])
def worker(request, app, tmp_path, monkeypatch):
    """A real `flask --app consult worker` process on the queue of the parameter, with
    the test app asking that queue for its jobs."""
    if request.param == "redis":
        need_redis()
        url = REDIS_QUEUE_URL  # a database of its own on that server
    else:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    huey = _use_queue(app, monkeypatch, url)
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "CONSULT_JOBS": url,
        "CONSULT_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CONSULT_INDEX_DIR": app.config["INDEX_DIR"],
        "CONSULT_EXPORT_DIR": app.config["EXPORT_DIR"],
        "CONSULT_MAIL_BACKEND": "file",
        "CONSULT_MAIL_DIR": str(mail_dir),
        "CONSULT_RATELIMIT_STORAGE": "memory://",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "consult", "worker", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield {"proc": proc, "huey": huey, "mail_dir": mail_dir}
    finally:
        proc.send_signal(signal.SIGINT)  # graceful: the jobs under way end first
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()
        db.session.remove()
        close_searchers()


def test_a_worker_indexes_mails_and_exports(app, client, make_document, make_user, worker):
    doc = make_document()
    paragraph = doc.versions[0].paragraphs[1]
    user = make_user()
    resp = client.post(
        f"/api/v1/paragraphs/{paragraph.id}/comments",
        json={"kind": "comment", "body": "Fund the interpreters from the core budget."},
        headers=bearer(user),
    )
    assert resp.status_code == 201
    tracking = resp.get_json()["tracking"]

    # The index: fed by the worker, not by the request.
    def drained():
        db.session.rollback()
        return count(OutboxEntry) == 0

    _until(drained, what="the worker to drain the search outbox")
    assert tracking in client.get("/search?q=interpreters").get_data(as_text=True)
    # It works at a lower CPU priority than the processes serving requests (--nice 10),
    # in every thread, those libraries started before the worker lowered it included.
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    pid = worker["proc"].pid
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(mine + 10, 19)
    threads = Path(f"/proc/{pid}/task")
    if threads.is_dir():
        niceness = {
            int((t / "stat").read_text().rsplit(")", 1)[1].split()[16]) for t in threads.iterdir()
        }
        assert niceness == {min(mine + 10, 19)}

    # The receipt: sent by the worker into the mail folder, then marked sent (the file
    # is written a moment before the worker commits sent_at, so wait for both).
    def sent():
        db.session.rollback()
        unsent = db.session.query(MailOutbox).filter(MailOutbox.sent_at.is_(None)).count()
        return list(worker["mail_dir"].glob("*.eml")) if unsent == 0 else None

    mails = _until(sent, what="the worker to send the receipt and mark it sent")
    assert any(tracking in m.read_text() for m in mails)
    assert db.session.query(MailOutbox).filter(MailOutbox.sent_at.isnot(None)).count() >= 1

    # A heavy export: a status page that reloads itself, then the stored file.
    url = f"/documents/{doc.slug}/versions/1/export/report-csv"
    first = client.get(url)
    assert first.status_code == 202
    page = first.get_data(as_text=True)
    refresh = re.search(r'<meta http-equiv="refresh" content="\d+; url=([^"]+)">', page)
    assert refresh, page
    assert "being made" in page or "waiting to be made" in page
    again = refresh.group(1).replace("&amp;", "&")

    def ready():
        r = client.get(again)
        return r if r.status_code == 200 else None

    done = _until(ready, what="the worker to make the report")
    body = done.get_data()
    assert tracking.encode() in body
    digest = hashlib.sha256(body).hexdigest()
    assert done.headers["X-Content-SHA256"] == digest
    assert done.headers["ETag"].strip('"') == digest
    assert done.headers["Content-Disposition"].startswith("attachment")
    # The next reader gets the same stored file at once.
    later = client.get(url)
    assert later.status_code == 200 and later.get_data() == body


def test_the_export_page_asks_once_and_serves_the_file_when_made(
    app, client, make_document, tmp_path, monkeypatch
):
    huey = _use_queue(app, monkeypatch, f"sqlite:///{tmp_path / 'jobs.db'}")
    doc = make_document()
    url = f"/documents/{doc.slug}/versions/1/export/report-csv"
    for _ in range(3):
        resp = client.get(url)
        assert resp.status_code == 202
        assert resp.headers["Retry-After"]
        assert "waiting to be made" in resp.get_data(as_text=True)
    assert [t.name for t in huey.pending()].count("make_export") == 1  # asked once
    _run_queued(huey)
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.headers["X-Content-SHA256"] == hashlib.sha256(resp.get_data()).hexdigest()
    assert huey.pending_count() == 0


def test_a_failed_export_says_so_and_can_be_asked_again(
    app, client, make_document, tmp_path, monkeypatch
):
    from consult.exports import formats

    huey = _use_queue(app, monkeypatch, f"sqlite:///{tmp_path / 'jobs.db'}")
    doc = make_document()
    broken = formats.FORMATS["report-csv"]

    def fail(version):
        raise RuntimeError("the typesetter ran out of paper")

    monkeypatch.setitem(formats.FORMATS, "report-csv", dataclasses.replace(broken, make=fail))
    url = f"/documents/{doc.slug}/versions/1/export/report-csv"
    assert client.get(url).status_code == 202
    _run_queued(huey)
    resp = client.get(url)
    assert resp.status_code == 500
    page = resp.get_data(as_text=True)
    assert "could not be made" in page and "ran out of paper" in page
    assert 'http-equiv="refresh"' not in page
    retry = re.search(r'href="([^"]*retry=1[^"]*)"', page).group(1).replace("&amp;", "&")
    monkeypatch.setitem(formats.FORMATS, "report-csv", broken)
    assert client.get(retry).status_code == 202
    _run_queued(huey)
    assert client.get(url).status_code == 200


def test_the_sweep_closes_consultations_at_their_deadline(app, make_document):
    doc = make_document()
    v = doc.versions[0]
    v.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    done = jobs.task("sweep", app).call_local()  # the body of the worker's periodic job
    assert done["closed"] == 1
    db.session.expire_all()
    assert db.session.get(Version, v.id).state == "closed"


def test_jobs_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CONSULT_JOBS", "rabbit://somewhere")
    with pytest.raises(ConfigError, match="CONSULT_JOBS='rabbit://somewhere' is not known"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("CONSULT_JOBS", "sqlite")
    made = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert made.config["JOBS_URL"] == f"sqlite:///{tmp_path / 'jobs.db'}"
    assert jobs.queued(made)


def test_the_gathering_window_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["JOBS_GATHER_MS"] == 1000
    monkeypatch.setenv("CONSULT_JOBS_GATHER_MS", "250")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["JOBS_GATHER_MS"] == 250
    for bad in ("-1", "1.5", "a second", "60001"):
        monkeypatch.setenv("CONSULT_JOBS_GATHER_MS", bad)
        with pytest.raises(ConfigError, match=r"a whole number from 0 to 60000"):
            create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_worker_refuses_to_run_without_a_queue(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 2
    assert "CONSULT_JOBS is 'inline'" in result.output


def test_one_mail_job_sends_a_whole_burst(app, tmp_path, monkeypatch):
    """A burst of comments leaves thousands of receipts: the send_mail job sends batch
    after batch until the outbox is empty, not one batch per request for it."""
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    now = utcnow()
    db.session.add_all(
        MailOutbox(
            to_email=f"p{n}@example.org",
            kind="receipt",
            subject=f"Receipt {n}",
            body="Thank you.\n",
            created_at=now,
        )
        for n in range(1200)
    )
    db.session.commit()
    assert jobs.task("send_mail", app).call_local() == 1200
    assert db.session.query(MailOutbox).filter(MailOutbox.sent_at.is_(None)).count() == 0
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1200


def test_an_export_whose_queue_is_down_says_try_again(app, client, make_document, monkeypatch):
    huey = jobs.make_huey("redis://127.0.0.1:1/0")  # nothing listens there
    tasks.register(app, huey)
    monkeypatch.setitem(app.extensions, "consult_jobs", huey)
    doc = make_document()
    resp = client.get(f"/documents/{doc.slug}/versions/1/export/report-csv")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "60"
    assert "try again in a minute" in resp.get_data(as_text=True)
