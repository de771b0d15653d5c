"""Intake at the web stack's speed: with a job queue, the POST of a comment writes the
comment, its record entry and its outbox rows and returns; the search index and the
mail are fed by jobs (consult.jobs)."""

from __future__ import annotations

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
