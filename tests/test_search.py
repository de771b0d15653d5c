"""Search over paragraphs and comments, fed from the outbox after commit."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from consult.search import backend
from consult.search.models import OutboxEntry
from consult.search.outbox import drain


def _search(app, q):
    return backend.get(app).search(q)


def test_published_paragraphs_are_found_with_highlights(app, make_document):
    make_document("consultation")
    res = _search(app, "submission")
    # Stemming: "submissions" is found too.
    snippets = sorted(re.sub(r' class="[^"]*"', "", h.snippet) for h in res.hits)
    assert snippets[0].startswith("Every <mark>submission</mark> receives")
    assert snippets[1].startswith("Written <mark>submissions</mark> by e-mail")
    assert {h.doc_type for h in res.hits} == {"paragraph"}
    assert db.session.scalar(select(func.count(OutboxEntry.id))) == 0


def test_stemming_finds_other_forms(app, make_document):
    make_document("consultation")
    assert _search(app, "hearing").total == 1  # the text says "hearings"


def test_drafts_are_not_found(app, make_document):
    make_document("draft")
    assert _search(app, "submission").total == 0


def test_comments_and_their_answers_are_found(app, make_document, make_user):
    doc = make_document("consultation")
    member = make_user("cso")
    v = doc.latest
    c = cs.post_comment(version=v, paragraph=v.paragraphs[1], organisation=member.organisation,
                        kind="question", body="What about indigenous languages?", by=member)
    db.session.commit()
    assert [h.object_id for h in _search(app, "indigenous").hits] == [c.id]
    docs.close(v, by=None)
    cs.respond(c, decision="noted", reason="Translation is covered by the outreach plan.",
               by=make_user("secretariat"))
    db.session.commit()
    hits = _search(app, "translation").hits
    assert [(h.doc_type, h.object_id) for h in hits] == [("comment", c.id)]


def test_a_malformed_query_falls_back_to_words(app, make_document):
    make_document("consultation")
    res = _search(app, 'written AND (answer OR')
    assert res.total >= 1


def test_index_failure_keeps_the_outbox_and_drain_catches_up(app, make_document, monkeypatch):
    def broken(self, session, targets):
        raise RuntimeError("disk full")

    monkeypatch.setattr(backend.WhooshBackend, "apply", broken)
    make_document("consultation")  # the request still succeeds
    pending = db.session.scalar(select(func.count(OutboxEntry.id)))
    assert pending > 0
    monkeypatch.undo()
    assert drain(app) == pending
    assert db.session.scalar(select(func.count(OutboxEntry.id))) == 0
    assert _search(app, "submission").total == 2


def test_rebuild_gives_the_same_results_as_incremental_updates(app, make_document, make_user):
    doc = make_document("consultation")
    member = make_user("cso")
    v = doc.latest
    for i, p in enumerate(v.paragraphs[1:4]):
        cs.post_comment(version=v, paragraph=p, organisation=member.organisation, kind="comment",
                        body=f"Comment {i} on public answers and hearings.", by=member)
        db.session.commit()
    queries = ["answer", "hearings", "civil society", "comment"]
    incremental = {q: sorted((h.doc_type, h.object_id) for h in _search(app, q).hits) for q in queries}
    backend.get(app).rebuild(db.session)
    rebuilt = {q: sorted((h.doc_type, h.object_id) for h in _search(app, q).hits) for q in queries}
    assert incremental == rebuilt
    assert all(incremental.values())
