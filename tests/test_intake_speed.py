"""Intake at the web stack's speed: with a job queue, the POST of a comment writes the
comment, its record entry and its outbox rows and returns; the search index and the
mail are fed by jobs (consult.jobs)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult import jobs
from consult.extensions import db
from consult.jobs import tasks
from consult.mail.models import MailOutbox
from consult.search.models import OutboxEntry

from .conftest import REDIS_QUEUE_URL, bearer, count, need_redis
from .test_jobs import _run_queued, _use_queue, close_searchers

#: Statements of one POST of a comment through the API with a worker configured: the
#: account with its memberships and organisations (one query), the paragraph with its
#: version and document (one query), the comment, its search outbox row, the record's
#: entry, its grouping outbox row, the author's mail settings and the receipt in the mail
#: outbox (made later by the mail job), and its counts (one UPSERT, tracing.counters).
#: The answer is made from what the request wrote, with nothing read after the commit.
#: Before the jobs the same POST ran 31 here (37 under gunicorn), and 15 before the
#: lookups were joined.
MAX_STATEMENTS = 9


@pytest.fixture
def sqlite_queue(app, tmp_path, monkeypatch):
    """The app with a real queue in a SQLite file, as with `make run` (no consumer:
    the test runs the queued jobs itself)."""
    huey = jobs.make_huey(f"sqlite:///{tmp_path / 'jobs.db'}")
    tasks.register(app, huey)
    monkeypatch.setitem(app.extensions, "consult_jobs", huey)
    return huey


def _post(client, paragraph, headers, body):
    return client.post(
        f"/api/v1/paragraphs/{paragraph.id}/comments",
        json={"kind": "comment", "body": body},
        headers=headers,
    )


def test_a_post_with_a_worker_writes_and_returns(
    app, client, make_document, make_user, count_queries, sqlite_queue
):
    doc = make_document()
    paragraph = doc.versions[0].paragraphs[1]
    user = make_user()
    headers = bearer(user)
    assert _post(client, paragraph, headers, "A first comment to warm up.").status_code == 201
    while (task := sqlite_queue.dequeue()) is not None:
        sqlite_queue.execute(task)

    url, org_slug = f"/api/v1/paragraphs/{paragraph.id}/comments", user.organisation.slug
    db.session.remove()  # the request starts with nothing loaded, as under gunicorn
    with count_queries() as statements:
        resp = client.post(
            url,
            json={"kind": "comment", "body": "Please publish the interpreters' budget."},
            headers=headers,
        )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    answer = resp.get_json()
    assert answer["body"] == "Please publish the interpreters' budget."
    assert answer["organisation"]["slug"] == org_slug
    assert answer["responses"] == [] and answer["cosignatures"]["count"] == 0
    # Nothing has grouped or measured it yet: said, not looked up after the commit.
    assert answer["group"] is None and answer["uptake"] is None and answer["flag"] is None
    assert len(statements) <= MAX_STATEMENTS, "\n".join(s[:90] for s in statements)
    # Nothing of the index (nor its vocabulary) is touched inside the request.
    assert not [s for s in statements if "search_word" in s or "DELETE FROM search" in s]
    assert count(OutboxEntry) == 1 and count(MailOutbox) == 2

    # One job asked for the index, one for the form letters, one for the mail (which makes
    # the receipt), one to place the record's entry in its tree; running them does that.
    names = sorted(t.name for t in sqlite_queue.pending())
    assert names == ["drain_search", "group_comments", "send_mail", "sequence_record"]
    while (task := sqlite_queue.dequeue()) is not None:
        sqlite_queue.execute(task)
    assert count(OutboxEntry) == 0
    found = client.get("/search?q=interpreters").get_data(as_text=True)
    close_searchers()
    assert answer["tracking"] in found


def test_many_posts_ask_for_one_drain(app, client, make_document, make_user, sqlite_queue):
    """However many comments commit before the worker starts, one drain is queued; a
    comment committed after the drain took its mark asks for the next one."""
    doc = make_document()
    paragraph = doc.versions[0].paragraphs[1]
    headers = bearer(make_user())
    for n in range(5):
        assert _post(client, paragraph, headers, f"Comment number {n} on this.").status_code == 201
    assert [t.name for t in sqlite_queue.pending()].count("drain_search") == 1
    for task in iter(sqlite_queue.dequeue, None):  # up to the drain: it takes its mark first
        sqlite_queue.execute(task)
        if task.name == "drain_search":
            break
    assert count(OutboxEntry) == 0
    assert _post(client, paragraph, headers, "One more after the drain.").status_code == 201
    assert [t.name for t in sqlite_queue.pending()].count("drain_search") == 1


@pytest.fixture(params=["sqlite", "redis"])
def any_queue(request, app, tmp_path, monkeypatch):
    """The app on a real queue of each kind (no consumer: the test looks at the queue)."""
    if request.param == "redis":
        need_redis()
        url = REDIS_QUEUE_URL
    else:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    return _use_queue(app, monkeypatch, url)


def test_a_post_asks_for_its_jobs_at_once_when_it_ends(
    app, client, make_document, make_user, any_queue, monkeypatch
):
    """The four jobs a comment needs are asked for together at the end of the request
    (one round trip to Redis, one transaction of the SQLite queue), each once however
    many comments arrive before the worker takes them."""
    doc = make_document()
    paragraph = doc.versions[0].paragraphs[1]
    headers = bearer(make_user())
    _run_queued(any_queue)  # what making the document asked for
    storage = any_queue.storage
    one_by_one = []
    original = type(storage).put_if_empty
    monkeypatch.setattr(
        type(storage),
        "put_if_empty",
        lambda self, *a, **k: one_by_one.append(a[0]) or original(self, *a, **k),
    )
    assert _post(client, paragraph, headers, "The first of three comments.").status_code == 201
    assert _post(client, paragraph, headers, "The second of three comments.").status_code == 201
    names = sorted(t.name for t in any_queue.pending())
    assert names == ["drain_search", "group_comments", "send_mail", "sequence_record"]
    assert one_by_one == []  # never a mark at a time
    for name in names:
        assert any_queue.get(jobs.mark(name), peek=True) is not None

    # The worker takes the grouping job's mark: the next comment asks for it again, and
    # only for it.
    jobs.take_mark(any_queue, "group_comments")
    assert _post(client, paragraph, headers, "The third of three comments.").status_code == 201
    names = sorted(t.name for t in any_queue.pending())
    assert names.count("group_comments") == 2 and len(names) == 5
    # The jobs take their marks (as huey stores them) and do the work.
    _run_queued(any_queue)
    for name in names:
        assert any_queue.get(jobs.mark(name), peek=True) is None
    assert count(OutboxEntry) == 0


def test_a_post_is_kept_when_the_queue_cannot_be_reached(
    app, client, make_document, make_user, any_queue, monkeypatch, caplog
):
    doc = make_document()
    paragraph = doc.versions[0].paragraphs[1]
    headers = bearer(make_user())

    def down(*a, **k):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(jobs, "_set_marks", down)
    waiting = count(OutboxEntry)
    resp = _post(client, paragraph, headers, "Kept although the queue is down.")
    assert resp.status_code == 201
    assert count(OutboxEntry) == waiting + 1  # kept for the periodic sweep
    assert "could not queue" in caplog.text and "drain_search" in caplog.text


def test_a_worker_runs_a_job_of_a_stream_of_comments_once_a_window(
    app, client, make_document, make_user, any_queue, monkeypatch
):
    """In a worker, a job that every comment asks for runs at most once every
    JOBS_GATHER_MS: asked sooner, it asks for itself at the end of that time, keeps its
    mark (so the comments meanwhile do not ask again) and does nothing; that later run
    does the work of every comment that came meanwhile. A job that has not run for that
    long runs at once."""
    monkeypatch.setitem(app.config, "JOBS_GATHER_MS", 60_000)
    doc = make_document()
    paragraph = doc.versions[0].paragraphs[1]
    headers = bearer(make_user())
    _run_queued(any_queue)  # what making the document asked for
    started, _ = any_queue._consult_started
    started.clear()  # as in a worker that has just started

    # A lone comment: its jobs run at once.
    assert _post(client, paragraph, headers, "The first comment of a stream.").status_code == 201
    _run_queued(any_queue)
    receipts = db.session.query(MailOutbox).filter(MailOutbox.kind == "receipt")
    assert count(OutboxEntry) == 0 and receipts.filter(MailOutbox.sent_at.isnot(None)).count() == 1
    assert any_queue.scheduled() == []

    # The next one, within the minute: each job is put off to the window's end.
    assert _post(client, paragraph, headers, "The second comment of a stream.").status_code == 201
    _run_queued(any_queue)
    assert count(OutboxEntry) == 1 and receipts.filter(MailOutbox.sent_at.is_(None)).count() == 1
    later = sorted(t.name for t in any_queue.scheduled())
    assert later == ["drain_search", "group_comments", "send_mail", "sequence_record"]
    for name in later:
        assert any_queue.get(jobs.mark(name), peek=True) is not None
    # The comments meanwhile ask for nothing: the marks are set, the runs on their way.
    assert _post(client, paragraph, headers, "The third comment of a stream.").status_code == 201
    assert any_queue.pending() == [] and count(OutboxEntry) == 2

    # The window ends: the runs it put off do both comments' work at once.
    for name in started:
        started[name] -= 61
    at = any_queue._get_timestamp() + timedelta(seconds=61)
    due = any_queue.read_schedule(at)  # as the worker's scheduler takes them then
    assert sorted(t.name for t in due) == later and any_queue.scheduled() == []
    for task in due:
        any_queue.execute(task, at)
    assert count(OutboxEntry) == 0
    assert receipts.count() == 3 and receipts.filter(MailOutbox.sent_at.is_(None)).count() == 0
    for name in later:
        assert any_queue.get(jobs.mark(name), peek=True) is None
    close_searchers()
