"""Pages bounded by what they show (issue 18): the same number of queries with few and
many comments, lists of comments page by page, counts that never carry a list of
comment ids, suggestion diffs stored when written, comparisons kept once computed."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import event, insert, select, update

from consult.consultation import services as cs
from consult.consultation.models import (
    Comment,
    CommentRevision,
    CommentWithdrawal,
    CoSignature,
    Response,
)
from consult.documents import services as docs
from consult.extensions import db
from consult.timeutil import utcnow
from consult.tracing import counters
from consult.tracing.models import StoredUptake
from consult.tracing.suggested import fill_missing

DECISIONS = ("accepted", "noted", "not_accepted")


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _world(make_document, make_user, make_org, slug: str, **kw):
    """A closed version 1 and a published version 2 made from it (so version 1's
    comments have a successor), with three organisations."""
    sec = make_user("secretariat")
    doc = make_document("closed", slug=slug, by=sec, **kw)
    v1 = doc.versions[0]
    v2 = docs.copy_version(doc, by=sec, label="Second draft")
    docs.publish(v2, by=sec, closes_at=utcnow() + timedelta(days=7))
    db.session.commit()
    orgs = [
        make_org(f"{slug}-org-{i}", countries=(("TH",), ("MY", "ID"), ("VN",))[i]) for i in range(3)
    ]
    return SimpleNamespace(doc=doc, v1=v1, v2=v2, sec=sec, orgs=orgs)


def bulk_comments(
    w, n: int, *, paragraphs=None, start: int = 0, suggestions: int = 3, measured: int = 3
) -> list[int]:
    """`n` comments on version 1 written in bulk (as an import would), each kind of thing
    a page shows among every five or thirty: suggestions, answers, measured uptake,
    co-signatures, withdrawals. Returns their ids."""
    paras = paragraphs or [p for p in w.v1.paragraphs if p.kind != "heading"][:2]
    t0 = utcnow() - timedelta(days=30)
    rows = []
    for i in range(start, start + n):
        p = paras[i % len(paras)]
        suggestion = i % suggestions == 0
        rows.append(
            {
                "tracking": f"C-{w.doc.slug}-{i:07d}",
                "version_id": w.v1.id,
                "paragraph_id": p.id,
                "organisation_id": w.orgs[i % 3].id,
                "author_id": None,
                "channel": "web",
                "kind": "suggestion" if suggestion else "comment",
                "body": f"Remark {i}.",
                "suggested_text": f"{p.text} Also number {i}." if suggestion else None,
                "content_hash": "0" * 64,
                "created_at": t0 + timedelta(seconds=i),
            }
        )
    first = db.session.scalar(select(db.func.coalesce(db.func.max(Comment.id), 0)))
    for k in range(0, len(rows), 5000):
        db.session.execute(insert(Comment), rows[k : k + 5000])
    ids = list(
        db.session.scalars(
            select(Comment.id)
            .where(Comment.id > first, Comment.version_id == w.v1.id)
            .order_by(Comment.id)
        )
    )
    now = utcnow()
    responses = [
        {
            "comment_id": cid,
            "decision": DECISIONS[k % 3],
            "reason": "Because.",
            "responder_id": w.sec.id,
            "created_at": now,
        }
        for k, cid in enumerate(ids)
        if k % 2 == 0
    ]
    uptake = [
        {
            "comment_id": cid,
            "version_id": w.v2.id,
            "score": 0.9 if k % 2 else 0.1,
            "label": "taken_up" if k % 2 else "not_taken_up",
            "verbatim": False,
            "inputs_hash": "0" * 64,
            "relation": "unchanged",
        }
        for k, cid in enumerate(ids)
        if k % measured == 0
    ]
    for table, data in ((Response, responses), (StoredUptake, uptake)):
        for k in range(0, len(data), 5000):
            db.session.execute(insert(table), data[k : k + 5000])
    db.session.execute(
        insert(CoSignature),
        [
            {"comment_id": cid, "organisation_id": w.orgs[2].id, "joint": False}
            for k, cid in enumerate(ids)
            if k % 5 == 1
        ],
    )
    db.session.execute(
        insert(CommentWithdrawal),
        [{"comment_id": cid, "reason": "Done."} for k, cid in enumerate(ids) if k % 30 == 3],
    )
    # Bulk inserts bypass the session's flush: the counts are made again, as after an import.
    counters.recount(db.session.connection(), [w.v1.id])
    db.session.commit()
    return ids


HEAVY_PAGES = {
    "document": "/documents/{slug}",
    "version 1": "/documents/{slug}/versions/1",
    "version 2": "/documents/{slug}/versions/2",
    "paragraph": "/paragraphs/{paragraph}",
    "paragraph history": "/documents/{slug}/lineages/{lineage}",
    "comment list": "/documents/{slug}/versions/1/comments",
    "comment list, waiting": "/documents/{slug}/versions/1/comments?unanswered=1",
    "comment list, page 2": "/documents/{slug}/versions/1/comments?page=2",
    "annotated compare": "/documents/{slug}/compare/1/2/annotated",
    "report": "/documents/{slug}/versions/1/report",
}


@pytest.mark.parametrize("page", list(HEAVY_PAGES))
def test_heavy_pages_run_as_many_queries_with_few_and_many_comments(
    client, make_document, make_user, make_org, count_queries, page
):
    counts = []
    for slug, n in (("few", 120), ("many", 1200)):
        w = _world(make_document, make_user, make_org, slug)
        bulk_comments(w, n)
        p = [q for q in w.v1.paragraphs if q.kind != "heading"][0]
        url = HEAVY_PAGES[page].format(slug=slug, paragraph=p.id, lineage=p.lineage)
        client.get(url)  # first views fill what is kept (the comparison)
        # A request starts from an empty session, as in production: what the first view
        # left in the test's shared session must not spare the second one any query
        # (whether it does depends on when the garbage collector last ran).
        db.session.expunge_all()
        with count_queries() as statements:
            resp = client.get(url)
        assert resp.status_code == 200, url
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_paragraph_page_lists_its_comments_page_by_page(client, make_document, make_user, make_org):
    w = _world(make_document, make_user, make_org, "paged")
    p = [q for q in w.v1.paragraphs if q.kind != "heading"][0]
    bulk_comments(w, 45, paragraphs=[p])
    html = client.get(f"/paragraphs/{p.id}").get_data(as_text=True)
    text = text_of(html)
    assert "45 comments" in text and "Comments 1–10 of 45, earliest first." in text
    assert "Remark 0." in text and "Remark 9." in text and "Remark 10." not in text
    assert f'<a rel="next" href="/paragraphs/{p.id}?page=2">' in html
    assert 'rel="prev"' not in html and "Page 1 of 5" in text
    html = client.get(f"/paragraphs/{p.id}?page=3").get_data(as_text=True)
    text = text_of(html)
    assert "Comments 21–30 of 45" in text and "Remark 29." in text and "Remark 30." not in text
    # From any page, the first and the last are one link away.
    assert f'<a href="/paragraphs/{p.id}?page=1">1</a>' in html
    assert f'<a href="/paragraphs/{p.id}?page=5">5</a>' in html
    assert '<nav class="pages no-print" aria-label="Pages of comments">' in html
    html = client.get(f"/paragraphs/{p.id}?page=5").get_data(as_text=True)
    text = text_of(html)
    assert "Comments 41–45 of 45" in text and "Remark 44." in text and "Remark 39." not in text
    assert f'<a rel="prev" href="/paragraphs/{p.id}?page=4">' in html and 'rel="next"' not in html
    # A page past the end shows the last one; a page that is not a number, the first.
    assert "Remark 44." in client.get(f"/paragraphs/{p.id}?page=99").get_data(as_text=True)
    assert "Remark 0." in client.get(f"/paragraphs/{p.id}?page=x").get_data(as_text=True)


def test_version_comment_list_is_paged_in_the_order_of_the_text(
    client, make_document, make_user, make_org
):
    w = _world(make_document, make_user, make_org, "listed")
    first, second = [q for q in w.v1.paragraphs if q.kind != "heading"][:2]
    # Comments on the second paragraph are written first: the list still follows the text.
    bulk_comments(w, 30, paragraphs=[second])
    bulk_comments(w, 40, paragraphs=[first], start=30)
    url = f"/documents/{w.doc.slug}/versions/1/comments"
    html = client.get(url).get_data(as_text=True)
    text = text_of(html)
    assert "Comments 1–50 of 70 comments, in the order of the text." in text
    order = [int(n) for n in re.findall(r"Remark (\d+)\.", text)]
    assert order == [*range(30, 70), *range(0, 10)]
    assert f'<a rel="next" href="{url}?page=2">' in html
    text = text_of(client.get(f"{url}?page=2").get_data(as_text=True))
    assert [int(n) for n in re.findall(r"Remark (\d+)\.", text)] == list(range(10, 30))
    # Waiting for an answer: unanswered, not withdrawn (bulk_comments answers every
    # other comment of a batch and withdraws the 4th, 34th, ... of it).
    html = client.get(f"{url}?unanswered=1").get_data(as_text=True)
    text = text_of(html)
    waiting = [int(n) for n in re.findall(r"Remark (\d+)\.", text)]
    assert waiting == [n for n in [*range(30, 70), *range(0, 30)] if n % 2 and n not in (3, 33, 63)]
    assert f"{len(waiting)} waiting for an answer." in text


def test_report_page_with_more_comments_than_the_databases_take_parameters(
    client, make_document, make_user, make_org
):
    """66,000 comments: more than PostgreSQL's 65,535 parameters in one statement, and
    SQLite is held to its usual limit of 32,766 variables for the test."""
    n = 66_000

    def usual_limit(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)

    event.listen(db.engine, "connect", usual_limit)
    db.session.remove()
    db.engine.dispose()
    try:
        w = _world(make_document, make_user, make_org, "huge")
        ids = bulk_comments(w, n, suggestions=1, measured=1)
        resp = client.get(f"/documents/{w.doc.slug}/versions/1/report")
        assert resp.status_code == 200
        text = text_of(resp.get_data(as_text=True))
        assert (
            f"Comments {n - n // 30} from 3 organisations, of which {n - n // 30} suggestions"
            in text
        )
        assert f"Answered {n // 2} of {n - n // 30}" in text
        # The export's uptake column reads the stored measures the same way.
        from consult.exports.report import _uptakes

        comments = [SimpleNamespace(id=cid, kind="suggestion", paragraph_id=1) for cid in ids]
        uptakes = _uptakes(w.v1, comments)
        assert len(uptakes) == n and uptakes[ids[1]][0] == "Taken up (0.90)"
    finally:
        event.remove(db.engine, "connect", usual_limit)
        db.session.remove()
        db.engine.dispose()


def test_a_suggestion_diff_is_stored_when_written_and_read_from_there(
    client, make_document, make_user
):
    doc = make_document()
    v = doc.versions[0]
    p = [q for q in v.paragraphs if q.kind != "heading"][0]
    member = make_user("cso")
    c = cs.post_comment(
        version=v,
        paragraph=p,
        organisation=member.organisation,
        kind="suggestion",
        body="Say how.",
        suggested_text=p.text.replace("openly", "openly and early"),
        by=member,
    )
    db.session.commit()
    stored = json.loads(c.suggested_diff)
    assert [op for op, words in stored if "early" in words] == ["insert"]
    rev = cs.edit_comment(
        c, body="Say when.", suggested_text=p.text + " Every year.", quote=None, by=member
    )
    db.session.commit()
    assert ["insert", " Every year."] in json.loads(rev.suggested_diff)
    # The pages read what is stored (here replaced, to see where the page takes it from).
    db.session.execute(
        update(CommentRevision)
        .where(CommentRevision.id == rev.id)
        .values(suggested_diff=json.dumps([["insert", "STORED WORDING"]]))
    )
    db.session.commit()
    for url in (
        f"/paragraphs/{p.id}",
        f"/comments/{c.id}",
        f"/documents/{doc.slug}/versions/1/comments",
    ):
        assert "STORED WORDING" in client.get(url).get_data(as_text=True), url


def test_diffs_missing_from_older_rows_are_filled(make_document, make_user, make_org):
    w = _world(make_document, make_user, make_org, "older")
    ids = bulk_comments(w, 6)
    assert db.session.scalar(select(Comment.suggested_diff).where(Comment.id == ids[0])) is None
    with db.engine.begin() as conn:
        assert fill_missing(conn) == 2  # comments 0 and 3 are suggestions
    db.session.expire_all()
    stored = json.loads(
        db.session.scalar(select(Comment.suggested_diff).where(Comment.id == ids[3]))
    )
    assert ["insert", " Also number 3."] in stored


def test_comparison_of_published_versions_is_kept_and_read_back(
    client, app, make_document, make_user, make_org
):
    from consult import fragments

    from .conftest import SAMPLE

    text = SAMPLE.replace("Public hearings", "Public hearings kept apart")
    w = _world(make_document, make_user, make_org, "kept", text=text)
    folder = Path(app.instance_path) / "cache" / "compare"
    before = set(folder.glob("*.json")) if folder.exists() else set()
    url = f"/documents/{w.doc.slug}/compare/1/2"
    assert client.get(url).status_code == 200
    [made] = set(folder.glob("*.json")) - before
    rows = json.loads(made.read_text())
    rows[0]["diff"] = [["equal", "KEPT COMPARISON"]]
    made.write_text(json.dumps(rows))
    # This process keeps the rendered rows too (consult.fragments): the same page again.
    assert "KEPT COMPARISON" not in client.get(url).get_data(as_text=True)
    fragments.forget()  # as another worker would: the rows read back from the kept file
    assert "KEPT COMPARISON" in client.get(url).get_data(as_text=True)
    # A comparison with a draft is made each time and never kept.
    sec = w.sec
    docs.close(w.v2, by=sec)
    docs.copy_version(w.doc, by=sec, label="Third draft")
    db.session.commit()
    client.post("/sign-in", data={})  # stays signed out: drafts are the committee's
    count = len(list(folder.glob("*.json")))
    from consult.tracing.compare_cache import compare_versions

    compare_versions(w.v2, w.doc.versions[-1])
    assert len(list(folder.glob("*.json"))) == count
