"""Search: the query language, spelling, settings, commands and the API, and the
embedded backend's basics (tests/test_search_backends.py runs the behaviour on
every backend)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from consult import config, create_app
from consult.config import ConfigError
from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from consult.search import backend, spelling
from consult.search import query as Q
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


def test_a_search_while_a_writer_commits_finds_the_newer_commit(app, make_document, monkeypatch):
    """A writer's commit removes the table of contents a reader has just listed (or a file
    it names): the reader opens the newer one instead of answering 500."""
    from whoosh import index

    from consult.search import whoosh_backend

    make_document("consultation")
    be = backend.get(app)
    be._forget_searcher()
    real_open = index.open_dir
    gone = ["_consult5_1.toc", "_consult5_2.toc"]

    def open_dir(*args, **kwargs):
        if gone:
            raise FileNotFoundError(2, "No such file or directory", gone.pop(0))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(whoosh_backend.index, "open_dir", open_dir)
    assert len(_search(app, "submission").hits) == 2 and not gone
    # A file the open searcher had not read yet is gone: once more on a new searcher.
    real_run = whoosh_backend.WhooshBackend._run
    missing = [True]

    def run(self, *args):
        if missing:
            missing.pop()
            raise FileNotFoundError(2, "No such file or directory", "_consult5_7.col")
        return real_run(self, *args)

    monkeypatch.setattr(whoosh_backend.WhooshBackend, "_run", run)
    assert len(_search(app, "submission").hits) == 2 and not missing


def test_a_searcher_reads_its_segments_after_a_merge_removed_their_files(app, make_document):
    """A writer's merge removes the files of the segments it merged while a searcher
    opened before still uses them: what it reads is open from the start."""
    import glob
    import os

    make_document("consultation")
    be = backend.get(app)
    be._forget_searcher()
    assert be._searcher() is not None  # opened and kept for this thread's searches
    stored = glob.glob(os.path.join(app.config["INDEX_DIR"], "*_stored.col"))
    assert stored
    for path in stored:
        os.remove(path)  # as a merge does, before this searcher's next search
    hits = _search(app, "submissions").hits
    assert sorted(h.snippet.count("<mark>") for h in hits) == [1, 1]


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
    c = cs.post_comment(
        version=v,
        paragraph=v.paragraphs[1],
        organisation=member.organisation,
        kind="question",
        body="What about indigenous languages?",
        by=member,
    )
    db.session.commit()
    assert [h.object_id for h in _search(app, "indigenous").hits] == [c.id]
    docs.close(v, by=None)
    cs.respond(
        c,
        decision="noted",
        reason="Translation is covered by the outreach plan.",
        by=make_user("secretariat"),
    )
    db.session.commit()
    hits = _search(app, "translation").hits
    assert [(h.doc_type, h.object_id) for h in hits] == [("comment", c.id)]


def test_a_malformed_query_falls_back_to_words(app, make_document):
    make_document("consultation")
    res = _search(app, "written AND (answer OR")
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
        cs.post_comment(
            version=v,
            paragraph=p,
            organisation=member.organisation,
            kind="comment",
            body=f"Comment {i} on public answers and hearings.",
            by=member,
        )
        db.session.commit()
    queries = ["answer", "hearings", "civil society", "comment"]
    incremental = {
        q: sorted((h.doc_type, h.object_id) for h in _search(app, q).hits) for q in queries
    }
    backend.get(app).rebuild(db.session)
    rebuilt = {q: sorted((h.doc_type, h.object_id) for h in _search(app, q).hits) for q in queries}
    assert incremental == rebuilt
    assert all(incremental.values())


# --- the query language, read without a database ----------------------------------------


def test_query_language_reads_words_phrases_or_exclusions_and_filters():
    p = Q.parse(
        'budget "civil society" youth OR women -rural -"paper forms" decision:accepted '
        "org:MCVN country:th kind:suggestions type:comment -doc:old version:2"
    )
    assert p.groups == [
        (Q.Term("budget"),),
        (Q.Phrase(("civil", "society")),),
        (Q.Term("youth"), Q.Term("women")),
    ]
    assert p.excluded == [Q.Term("rural"), Q.Phrase(("paper", "forms"))]
    assert p.filters == {
        "decision": ["accepted"],
        "org": ["MCVN"],
        "country": ["TH"],
        "kind": ["suggestion"],
        "type": ["comment"],
        "version": ["2"],
    }
    assert p.excluded_filters == {"document": ["old"]}
    assert p.notes == [] and not p.fallback
    assert p.websearch() == 'budget "civil society" youth or women -rural -"paper forms"'


def test_query_language_dates_sort_latest_and_aliases():
    p = Q.parse(
        "date:2026-03 before:2026-03-10 sort:newest latest:yes decision:partly "
        "is:organisations NOT hearings"
    )
    assert (p.date_from, p.date_to) == (
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 11, tzinfo=UTC),
    )
    assert (p.sort, p.latest) == ("date", True)
    assert p.filters == {"decision": ["partly_accepted"], "type": ["organisation"]}
    assert p.excluded == [Q.Term("hearings")]
    # Punctuated tokens are phrases of their words; lowercase or/and are words.
    assert Q.parse("e-mail this or that").groups == [
        (Q.Phrase(("e", "mail")),),
        (Q.Term("this"),),
        (Q.Term("or"),),
        (Q.Term("that"),),
    ]
    assert Q.parse("this or that").websearch() == "this that"


@pytest.mark.parametrize(
    ("q", "reason"),
    [
        ('"open', "a quotation mark is not closed"),
        ("(a OR b)", "brackets"),
        ("a OR", "OR needs a word"),
        ("OR a", "OR needs a word"),
        ("a OR -b", "OR needs a word"),
        ("-a OR b", "excluded word"),
        ("a NOT", "NOT has nothing after it"),
        ("org:", "'org:' has no value"),
        ('doc:"x', "a quotation mark is not closed"),
        ("org:a OR budget", "OR joins"),
    ],
)
def test_a_query_that_cannot_be_read_falls_back_to_its_words(q, reason):
    p = Q.parse(q)
    assert p.fallback and reason in p.notes[0]
    assert p.notes[0].startswith("Your search could not be read as written")
    assert not p.filters and not p.excluded
    assert all(len(g) == 1 and isinstance(g[0], Q.Term) for g in p.groups)


def test_bad_filter_values_are_notes_not_errors():
    p = Q.parse("kind:rant version:two country:Thailand date:soon -sort:date words")
    assert p.groups == [(Q.Term("words"),)] and p.filters == {}
    assert [n.split(":")[0] for n in p.notes] == [
        "The filter kind",
        "The filter version",
        "The filter country",
        "The filter date",
        "The filter -sort",
    ]
    assert Q.parse("x " * 40).notes == [f"Only the first {Q.MAX_ITEMS} words were searched."]


def test_spelling_suggests_the_nearest_frequent_word():
    vocab = {
        "submission": 9,
        "submissions": 3,
        "hearing": 4,
        "hearings": 7,
        "budget": 5,
        "budgets": 1,
        "women": 2,
    }

    def known(words):
        return {w: vocab[w] for w in words if w in vocab}

    def prefixed(prefix, shortest, longest):
        return {
            w: n for w, n in vocab.items() if w.startswith(prefix) and shortest <= len(w) <= longest
        }

    assert spelling.distance("hearnig", "hearing") == 1  # a swap is one edit
    assert spelling.suggest_word("submision", known, prefixed) == "submission"
    assert spelling.suggest_word("hearigns", known, prefixed) == "hearings"
    assert spelling.suggest_word("budgte", known, prefixed) == "budget"
    assert spelling.suggest_word("budget", known, prefixed) is None
    assert spelling.suggest_word("zzzzzz", known, prefixed) is None
    assert spelling.suggest_word("wmn", known, prefixed) is None  # short words: one edit only
    assert (
        spelling.suggest_query('Submision "budgte" -x', ["Submision", "budgte"], known, prefixed)
        == 'submission "budget" -x'
    )


# --- settings and the command line -------------------------------------------------------


def test_the_search_backend_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("CONSULT_DATABASE_URL", raising=False)
    monkeypatch.setenv("CONSULT_SEARCH_BACKEND", "elastic")
    with pytest.raises(ConfigError, match="'elastic' is not known"):
        config.load(str(tmp_path))
    monkeypatch.setenv("CONSULT_SEARCH_BACKEND", "postgres")
    with pytest.raises(ConfigError, match="needs|searches inside a PostgreSQL database"):
        config.load(str(tmp_path))
    monkeypatch.setenv("CONSULT_DATABASE_URL", "postgresql://u@db/consult")
    assert config.load(str(tmp_path))["SEARCH_BACKEND"] == "postgres"


def test_the_exact_limit_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("CONSULT_SEARCH_BACKEND", raising=False)
    monkeypatch.delenv("CONSULT_SEARCH_EXACT_LIMIT", raising=False)
    assert config.load(str(tmp_path))["SEARCH_EXACT_LIMIT"] == 2000
    monkeypatch.setenv("CONSULT_SEARCH_EXACT_LIMIT", "500")
    assert config.load(str(tmp_path))["SEARCH_EXACT_LIMIT"] == 500
    for bad in ("0", "many", "-3"):
        monkeypatch.setenv("CONSULT_SEARCH_EXACT_LIMIT", bad)
        with pytest.raises(ConfigError, match="a whole number of matches from 1"):
            config.load(str(tmp_path))


def test_the_postgres_backend_refuses_another_database(tmp_path):
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SEARCH_BACKEND": "postgres",
            "INDEX_DIR": str(tmp_path),
        }
    )
    with other.app_context(), pytest.raises(ConfigError, match="needs a PostgreSQL database"):
        backend.get(other)


def test_index_drain_applies_what_is_pending(app, runner, make_document):
    app.config["SEARCH_SYNC"] = False  # as with a separate worker
    try:
        make_document("consultation")
    finally:
        app.config["SEARCH_SYNC"] = True
    assert _search(app, "submission").total == 0
    r = runner.invoke(args=["index-drain"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Applied ") and r.output.endswith("rows; 0 pending.\n")
    assert _search(app, "submission").total == 2
    r = runner.invoke(args=["index-drain"])
    assert r.output == "Applied 0 outbox rows; 0 pending.\n"


def test_index_drain_says_when_the_index_is_busy(app, runner, make_document):
    app.config["SEARCH_SYNC"] = False
    try:
        make_document("consultation")
    finally:
        app.config["SEARCH_SYNC"] = True
    with backend.get(app).exclusive(None, 1):
        r = runner.invoke(args=["index-drain", "--wait", "0.1"])
    assert r.exit_code == 0
    assert "being written by another process" in r.output and "rows left for the next" in r.output
    assert _search(app, "submission").total == 0


def test_reindex_shows_progress_and_counts(app, runner, make_document):
    make_document("consultation")
    r = runner.invoke(args=["reindex"])
    assert r.exit_code == 0, r.output
    assert "Rebuilding the search index" in r.output
    assert "Indexed 7 paragraphs and comments, 1 document and 0 organisations (whoosh)." in r.output
    assert _search(app, "submission").total == 2


# --- the API -----------------------------------------------------------------------------


def test_api_search_with_filters_facets_and_suggestions(client, make_document, make_user):
    doc = make_document("consultation", slug="framework")
    member = make_user("cso")
    v = doc.latest
    c = cs.post_comment(
        version=v,
        paragraph=v.paragraphs[3],
        organisation=member.organisation,
        kind="question",
        body="Within how many days?",
        by=member,
    )
    db.session.commit()
    body = client.get("/api/v1/search", query_string={"q": "days", "type": "comment"}).get_json()
    assert body["total"] == 1 and body["suggestion"] is None
    [hit] = body["hits"]
    assert (hit["type"], hit["id"], hit["kind"], hit["decision"], hit["organisation"]) == (
        "comment",
        c.id,
        "question",
        "unanswered",
        member.organisation.slug,
    )
    assert hit["matched_in"] == "body" and hit["links"] == {"self": f"/api/v1/comments/{c.id}"}
    assert body["facets"]["type"] == [
        {"value": "comment", "label": "Comment", "count": 1, "selected": True}
    ]
    assert body["facets"]["decision"][0]["label"] == "Not answered yet"

    browse = client.get("/api/v1/search?decision=unanswered").get_json()
    assert [h["id"] for h in browse["hits"]] == [c.id] and browse["sort"] == "date"
    typo = client.get("/api/v1/search?q=submision").get_json()
    assert typo["total"] == 0 and typo["suggestion"] == "submission"
    docs_hit = client.get("/api/v1/search?q=sample+type:document").get_json()["hits"]
    assert docs_hit[0]["links"] == {"self": "/api/v1/documents/framework"}
