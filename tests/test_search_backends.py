"""Search behaviour, the same tests for every backend.

Every test here takes `search_backend`, parametrised over the backends this
database can run: Whoosh always; PostgreSQL full-text search when the suite runs
on PostgreSQL (CONSULT_TEST_DATABASE_URL). The PostgreSQL cases are not skipped
on SQLite: they are not generated there, since that backend cannot exist there.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sa_text

from consult.consultation import services as cs
from consult.consultation.models import Comment
from consult.documents import services as docs
from consult.extensions import db
from consult.search import entries, outbox, service
from consult.search.models import OutboxEntry
from consult.search.service import SearchParams
from consult.timeutil import clock
from tests.search_world import (  # noqa: F401 (world and search_backend are fixtures)
    BACKENDS,
    DRAFT,
    ON_POSTGRES,
    V1,
    V2,
    at,
    use_backend,
)


def run(q: str = "", user=None, **kw):
    filters = {
        k: ([v] if isinstance(v, str) else list(v)) for k, v in kw.pop("filters", {}).items()
    }
    return service.search(SearchParams(q=q, filters=filters, **kw), user)


def keys(results) -> set[tuple[str, int]]:
    return {(h.doc_type, h.object_id) for h in results.hits}


def counts(results, facet: str) -> dict[str, int]:
    return {v.value: v.count for v in results.facets.get(facet, [])}


# --- kinds of result and what a hit says -------------------------------------------------


def test_every_kind_of_result_is_found_with_where_it_is(world):
    res = run("outreach")  # the document title, the paragraph heading, a response
    assert ("document", world.doc.id) in keys(res)
    assert ("comment", world.c2.id) in keys(res)  # the committee's reason says "outreach"
    hit = next(h for h in res.hits if h.doc_type == "comment")
    assert hit.matched_in == "response" and "<mark>outreach</mark>" in hit.snippet.lower()
    assert (hit.organisation, hit.decision, hit.decision_label) == (
        "Women's Voice Philippines",
        "noted",
        "Noted",
    )
    assert (hit.document_slug, hit.version_number, hit.paragraph_number) == ("framework", 1, "1.2")

    org = run("mekong").hits
    assert [(h.doc_type, h.object_id, h.title) for h in org] == [
        ("organisation", world.mcvn.id, "Mekong Civic Voices Network (MCVN)")
    ]

    para = run("hearings", filters={"type": "paragraph"}).hits
    assert {(h.version_number, h.paragraph_number) for h in para} == {(1, "2.1"), (2, "2.1")}
    assert all(h.document_title == "Outreach Framework" for h in para)


def test_comment_parts_suggested_wording_and_quote_are_searched(world):
    hit = run("thirty", filters={"version": "1", "type": "comment"}).hits[0]
    assert hit.object_id == world.c1.id and hit.comment_kind == "suggestion"
    assert hit.matched_in in ("suggested", "response")
    assert keys(run('"fixed period"')) == {("comment", world.c1.id)}


def test_snippets_are_escaped_html_with_marks(world):
    [hit] = run("indigenous").hits
    assert "&lt;script&gt;" in hit.snippet and "<script>" not in hit.snippet
    assert "<mark>indigenous</mark>" in hit.snippet


# --- the query language ------------------------------------------------------------------


def test_words_must_all_match_and_stemming_applies(world):
    assert keys(run("youth councils")) == {("comment", world.c3.id)}
    assert keys(run("youth dashboard")) == set()
    # "submission" finds "submissions"; "hearing" finds "hearings".
    assert len(run("submission", filters={"type": "paragraph"}).hits) == 4
    assert {h.object_id for h in run("hearing", filters={"type": "comment"}).hits} == {world.c3.id}


def test_exact_phrases(world):
    assert keys(run('"public dashboard"')) == {("comment", world.c4.id)}
    assert keys(run('"dashboard public"')) == set()


def test_or_binds_the_words_beside_it(world):
    res = run("dashboard OR indigenous")
    assert keys(res) == {("comment", world.c4.id), ("comment", world.c2.id)}
    # budget AND (dashboard OR indigenous), not (budget AND dashboard) OR indigenous
    assert keys(run("budget dashboard OR indigenous")) == {("comment", world.c4.id)}


def test_exclusion_of_words_phrases_and_filters(world):
    assert ("comment", world.c3.id) not in keys(run("hearings -youth"))
    assert keys(run("hearings -youth", filters={"type": "comment"})) == set()
    with_quote = run('hearings -"youth councils"', filters={"type": "paragraph"})
    assert len(with_quote.hits) == 2
    assert keys(run("thirty -decision:accepted", filters={"type": "comment"})) == set()
    assert keys(run("type:comment -org:mcvn")) == {
        ("comment", world.c2.id),
        ("comment", world.c3.id),
    }


def test_a_malformed_query_searches_its_words_and_says_so(world):
    for q in ('youth "councils', "youth (councils", "youth OR", "OR youth", "NOT"):
        res = run(q)
        assert res.note.startswith("Your search could not be read as written"), q
    assert keys(run('youth "councils')) == {("comment", world.c3.id)}
    assert keys(run("youth AND (councils OR")) == {("comment", world.c3.id)}


def test_bad_filter_values_are_left_out_with_a_note(world):
    res = run("dashboard decision:maybe")
    assert "decision:maybe was left out" in res.note
    assert keys(res) == {("comment", world.c4.id)}
    res = run("org:nobody")
    assert res.total == 0 and "No organisation is called 'nobody'" in res.note
    assert "There is no document 'nothing'" in run("doc:nothing budget").note


def test_only_common_words_say_so(world):
    res = run("the of and")
    assert res.total == 0 and "only very common words" in res.note


def test_did_you_mean(world):
    res = run("dashbord transparancy")
    assert res.total == 0
    assert res.suggestion == "dashboard transparency"
    assert keys(run(res.suggestion)) == {("comment", world.c4.id)}
    assert run("dashboard").suggestion is None
    # A word only found in a draft is never suggested to anyone.
    assert run("zebro").suggestion is None


# --- filters and facets ------------------------------------------------------------------


def test_each_filter_in_the_query_and_as_parameters(world):
    c = world
    comments = {"type": "comment"}
    assert keys(run("decision:accepted")) == {("comment", c.c1.id)}
    assert keys(run("decision:unanswered")) == {("comment", c.c3.id), ("comment", c.c4.id)}
    assert keys(run("", filters={"decision": "noted"})) == {("comment", c.c2.id)}
    assert keys(run("org:mcvn type:comment")) == {("comment", c.c1.id), ("comment", c.c4.id)}
    assert keys(run("org:womens-voice")) == {("comment", c.c2.id), ("organisation", c.women.id)}
    assert keys(run("country:TH", filters=comments)) == {
        ("comment", c.c1.id),
        ("comment", c.c3.id),
        ("comment", c.c4.id),
    }
    assert keys(run("country:ph")) == {("comment", c.c2.id), ("organisation", c.women.id)}
    assert keys(run("orgkind:community")) == {("comment", c.c3.id), ("organisation", c.youth.id)}
    assert keys(run("kind:question")) == {("comment", c.c2.id)}
    assert keys(run("kind:suggestion OR kind:question")) == {
        ("comment", c.c1.id),
        ("comment", c.c2.id),
    }
    assert {h.doc_type for h in run("doc:framework").hits} == {"document", "paragraph", "comment"}
    assert {h.version_number for h in run("version:2 submission").hits} == {2}
    assert keys(run("date:2026-02", filters=comments)) == {
        ("comment", c.c2.id),
        ("comment", c.c3.id),
    }
    assert keys(run("", filters=comments, date_from="2026-02-01", date_to="2026-02-03")) == {
        ("comment", c.c2.id),
        ("comment", c.c3.id),
    }
    assert keys(run("from:2026-04-01 type:comment")) == {("comment", c.c4.id)}
    # Filters in the query and as parameters add up.
    assert keys(run("org:mcvn", filters={"kind": "comment"})) == {("comment", c.c4.id)}


def test_facets_count_what_each_filter_would_give(world):
    res = run("", filters={"document": "framework"})
    assert counts(res, "type") == {"document": 1, "paragraph": 14, "comment": 4}
    assert counts(res, "version") == {"1": 10, "2": 8}
    assert counts(res, "kind") == {"suggestion": 1, "question": 1, "comment": 2}
    assert counts(res, "decision") == {"accepted": 1, "noted": 1, "unanswered": 2}
    assert counts(res, "organisation") == {"mcvn-network": 2, "womens-voice": 1, "youth-forum": 1}
    assert counts(res, "orgkind") == {"network": 2, "ngo": 1, "community": 1}
    assert counts(res, "country") == {"TH": 3, "VN": 2, "PH": 1}
    # The document and version 1 on 5 January, comments on 10 January and 3 February,
    # version 2 on 1 April and a comment on 10 April.
    assert counts(res, "date") == {"2026-01": 9, "2026-02": 2, "2026-04": 8}
    labels = {v.value: v.label for v in res.facets["country"]}
    assert labels["VN"] == "Viet Nam"
    assert [v.value for v in res.facets["document"]] == ["framework"]
    assert res.facets["document"][0].selected
    assert res.total == 19


def test_only_the_latest_version(world):
    res = run("submission", latest=True)
    assert {h.version_number for h in res.hits} == {2}
    assert keys(run("dashboard OR indigenous", latest=True)) == {("comment", world.c4.id)}
    assert keys(run("latest:yes mekong")) == {("organisation", world.mcvn.id)}


def test_sort_by_date_and_pages(world):
    newest = run("type:comment", sort="date")
    assert [newest.hits[0].object_id, newest.hits[-1].object_id] == [world.c4.id, world.c1.id]
    oldest = run("type:comment sort:oldest")
    assert [oldest.hits[0].object_id, oldest.hits[-1].object_id] == [world.c1.id, world.c4.id]
    page1 = run("type:comment", sort="date", per_page=3)
    page2 = run("type:comment", sort="date", per_page=3, page=2)
    assert page1.total == page2.total == 4 and page1.pages == 2
    assert len(page1.hits) == 3 and len(page2.hits) == 1
    assert keys(page1) | keys(page2) == {
        ("comment", c.id) for c in (world.c1, world.c2, world.c3, world.c4)
    }
    assert run("type:comment", page=3, per_page=3).hits == []


def test_relevance_ranks_the_stronger_match_first(world):
    res = run("dashboard OR budget OR transparency")
    assert res.hits[0].object_id == world.c4.id and res.sort == "relevance"


# --- who finds what ----------------------------------------------------------------------


def test_drafts_are_found_only_by_those_who_may_see_them(world, make_user):
    assert run("zebra").total == 0
    assert run("zebra", user=world.cso).total == 0
    assert run("zebra", user=make_user("committee")).total == 0  # another committee
    for user in (world.sec, world.drafter):
        res = run("zebra", user=user)
        assert {h.doc_type for h in res.hits} == {"paragraph", "document"}
        assert all(h.version_state == "draft" for h in res.hits)
    assert counts(run("", filters={"document": "zebra"}), "type") == {}


def test_a_published_draft_becomes_public(world):
    with clock(at(4, 25)):
        docs.publish(world.draft, by=world.sec, closes_at=at(6, 1))
        db.session.commit()
    assert {h.doc_type for h in run("zebra").hits} == {"paragraph", "document"}


def test_hidden_comments_are_not_found(app, world, monkeypatch):
    # There is no moderation yet: make the comment hidden the way the index reads it.
    hidden = world.c4.id
    monkeypatch.setattr(entries, "comment_visible_to_public", lambda row: row["id"] != hidden)
    db.session.add(OutboxEntry(doc_type="comment", object_id=hidden))
    db.session.commit()
    assert outbox.drain(app) == 1
    assert run("dashboard").total == 0
    assert run("dashboard", user=world.sec).total == 0
    assert run("budget", filters={"type": "comment"}).total == 0
    assert keys(run("indigenous")) == {("comment", world.c2.id)}


# --- indexing ----------------------------------------------------------------------------


QUERIES = [
    ("", {"document": "framework"}),
    ("submission", {}),
    ("hearings -youth", {}),
    ("type:comment", {}),
    ("decision:accepted OR decision:noted", {}),
    ("country:TH", {}),
    ('"written answer"', {}),
    ("outreach", {"type": "comment"}),
    ("mekong OR youth", {}),
]


def snapshot(user=None) -> list:
    out = []
    for q, filters in QUERIES:
        res = run(q, user, filters=filters, per_page=100)
        out.append(
            (q, res.total, sorted(keys(res)), {n: counts(res, n) for n in sorted(res.facets)})
        )
    return out


def test_rebuild_gives_the_same_results_as_incremental_updates(app, world):
    incremental = snapshot(world.sec)
    assert all(total for _, total, _, _ in incremental)
    counts_by_kind = outbox.rebuild(app)
    assert counts_by_kind == {"paragraph": 16, "comment": 4, "organisation": 3, "document": 2}
    assert snapshot(world.sec) == incremental
    assert sorted(world.be.keys()) == sorted(
        f"{kind}:{i}"
        for kind, i in entries.expand(
            db.session,
            [
                *(("version", v) for v in (world.v1.id, world.v2.id, world.draft.id)),
                *(("organisation", o.id) for o in (world.mcvn, world.women, world.youth)),
            ],
        )
    )


def test_renaming_an_organisation_reindexes_it(world):
    world.youth.name = "Young Citizens Assembly"
    db.session.commit()
    assert keys(run("citizens")) == {("organisation", world.youth.id)}
    assert run("youth forum", filters={"type": "organisation"}).total == 0


def test_index_failure_keeps_the_outbox_and_drain_catches_up(app, world, monkeypatch):
    def broken(self, session, targets):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(world.be), "apply", broken)
    with clock(at(4, 12)):
        c = cs.post_comment(
            version=world.v2,
            paragraph=None,
            organisation=world.mcvn,
            kind="comment",
            body="Quarterly reports please.",
            by=world.cso,
        )
        db.session.commit()  # the request still succeeds
    assert db.session.scalar(select(func.count(OutboxEntry.id))) > 0
    assert run("quarterly").total == 0
    monkeypatch.undo()
    assert outbox.drain(app) > 0
    assert db.session.scalar(select(func.count(OutboxEntry.id))) == 0
    assert keys(run("quarterly")) == {("comment", c.id)}


def test_a_busy_writer_leaves_the_rows_for_later(app, world):
    from consult.search.base import IndexBusy

    with db.engine.connect() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as holder, world.be.exclusive(holder, 1):
            with clock(at(4, 12)):
                c = cs.post_comment(
                    version=world.v2,
                    paragraph=None,
                    organisation=world.mcvn,
                    kind="comment",
                    body="Quarterly reports please.",
                    by=world.cso,
                )
                db.session.commit()  # waits briefly, then leaves the row
            assert db.session.scalar(select(func.count(OutboxEntry.id))) == 1
            with pytest.raises(IndexBusy):
                outbox.drain(app, wait=0.2)
            holder.rollback()
    assert outbox.drain(app) == 1
    assert keys(run("quarterly")) == {("comment", c.id)}


# --- two writer processes ----------------------------------------------------------------


def _writer_process(config: dict, ids: dict, worker: int, rounds: int) -> None:
    """In a fresh process: post comments on the open version and answer the comments of
    the closed one, each in its own transaction, draining after each commit."""
    from consult import create_app
    from consult.accounts.models import Organisation, User
    from consult.consultation import services as cs
    from consult.consultation.models import Comment
    from consult.documents.models import Version
    from consult.extensions import db
    from consult.timeutil import clock

    app = create_app(config)
    with app.app_context(), clock(datetime(2026, 4, 15, tzinfo=UTC)):
        member = db.session.get(User, ids["member"])
        sec = db.session.get(User, ids["sec"])
        org = db.session.get(Organisation, ids["org"])
        open_v = db.session.get(Version, ids["open"])
        for i in range(rounds):
            cs.post_comment(
                version=open_v,
                paragraph=None,
                organisation=org,
                kind="comment",
                body=f"Worker{worker} round{i} marker{worker}x{i}",
                by=member,
            )
            db.session.commit()
            for cid in ids["answer"]:
                c = db.session.get(Comment, cid)
                decision = "accepted" if (i + worker) % 2 else "noted"
                cs.respond(c, decision=decision, reason=f"Answer w{worker} r{i}", by=sec)
                db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_two_writer_processes_never_corrupt_or_lose_updates(app, world, search_backend):
    ids = {
        "member": world.cso.id,
        "sec": world.sec.id,
        "org": world.mcvn.id,
        "open": world.v2.id,
        "answer": [world.c1.id, world.c2.id, world.c3.id],
    }
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "INDEX_DIR": app.config["INDEX_DIR"],
        "SEARCH_BACKEND": search_backend.name,
        "RATELIMIT_ENABLED": False,
    }
    db.session.remove()
    ctx = multiprocessing.get_context("spawn")
    rounds = 6
    procs = [ctx.Process(target=_writer_process, args=(config, ids, w, rounds)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
        assert p.exitcode == 0
    # Whatever a busy writer left behind is applied by the next drain.
    outbox.drain(app)
    assert db.session.scalar(select(func.count(OutboxEntry.id))) == 0
    for w in (1, 2):
        for i in range(rounds):
            res = run(f"marker{w}x{i}")
            assert res.total == 1, (w, i)
    # The latest answer of each comment is what the index says.
    for cid in ids["answer"]:
        c = db.session.get(Comment, cid)
        res = run(f"decision:{c.response.decision} type:comment", filters={"document": "framework"})
        assert ("comment", cid) in keys(res)
    # The index agrees with a rebuild from scratch.
    before = snapshot(world.sec)
    outbox.rebuild(app)
    assert snapshot(world.sec) == before


# --- both backends, side by side (PostgreSQL only: where both exist) ---------------------

PARITY_QUERIES = [
    *QUERIES,
    ("dashbord", {}),
    ("budget dashboard OR indigenous", {}),
    ("zebra", {}),
    ('"public dashboard" -youth', {}),
    ("thirty", {"version": "1"}),
    ("type:organisation", {}),
    ("date:2026-02", {}),
    ("org:mcvn -kind:suggestion", {}),
    ("the of", {}),
]

if ON_POSTGRES:

    @pytest.mark.parametrize("search_backend", ["whoosh"], indirect=True)
    def test_both_backends_find_the_same(app, world):
        def answers(user):
            out = []
            for q, filters in PARITY_QUERIES:
                res = run(q, user, filters=filters, per_page=100)
                out.append(
                    (
                        q,
                        res.total,
                        sorted(keys(res)),
                        res.suggestion,
                        res.note,
                        {n: counts(res, n) for n in sorted(res.facets)},
                    )
                )
            return out

        whoosh = {u: answers(u) for u in (None, world.sec)}
        use_backend(app, "postgres")
        outbox.rebuild(app)
        postgres = {u: answers(u) for u in (None, world.sec)}
        assert postgres == whoosh


def test_very_broad_searches_count_and_rank_a_bounded_part(app, world):
    """Both backends facet and rank only the newest SEARCH_EXACT_LIMIT matches, and say so."""
    app.config["SEARCH_EXACT_LIMIT"] = 2
    try:
        res = run("type:comment")
        broad = run("submission", per_page=1, page=2)
    finally:
        del app.config["SEARCH_EXACT_LIMIT"]
    # Counted and ranked among the two newest comments (PostgreSQL estimates the total).
    assert not res.total_exact and res.total >= 3
    assert "counts and ranking cover the newest" in res.note
    assert keys(res) == {("comment", world.c4.id), ("comment", world.c3.id)} or keys(res) == {
        ("comment", world.c4.id),
        ("comment", world.c2.id),
    }
    assert sum(counts(res, "type").values()) == 2
    assert not broad.total_exact and len(broad.hits) == 1
    assert run("type:comment").total_exact and run("type:comment").total == 4


def test_filters_first_or_words_first_give_the_same_results(world, monkeypatch):
    """PostgreSQL reads the filtered entries and tests their words when the filters are
    much narrower than the words (FILTERS_FIRST); either way the answers are the same.
    On Whoosh the setting does nothing and the answers are the same too."""
    from consult.search import postgres_backend

    queries = [
        ("submission org:mcvn", {}),
        ("submission OR translation", {"kind": "comment"}),
        ("committee -youth", {"type": "comment"}),
        ("submission", {"document": "framework", "version": "2"}),
        ("submission date:2026-02", {}),
    ]

    def answers():
        out = []
        for q, filters in queries:
            res = run(q, filters=filters)
            out.append((q, res.total, [(h.doc_type, h.object_id) for h in res.hits]))
        return out

    monkeypatch.setattr(postgres_backend, "FILTERS_FIRST", 10**9)  # never filters first
    words_first = answers()
    monkeypatch.setattr(postgres_backend, "FILTERS_FIRST", 0)  # always
    assert answers() == words_first
    assert any(total for _, total, _ in words_first)


if ON_POSTGRES:

    @pytest.mark.parametrize("search_backend", ["postgres"], indirect=True)
    def test_date_windows_give_the_same_results(app, world, monkeypatch):
        """PostgreSQL looks for a broad search's newest matches in date windows over the
        newest (or oldest) entries first; the answers are those of the search without them,
        whether the first window holds enough matches or has to grow."""
        from consult.search import postgres_backend

        db.session.execute(sa_text("ANALYZE search.entry"))  # the histogram of dates
        db.session.commit()
        queries = [
            ("submission", {}),
            ("submission", {"sort": "date"}),
            ("submission", {"sort": "oldest"}),
            ("type:comment", {"sort": "oldest"}),
            ("committee OR translation", {}),
            ("submission -youth", {"sort": "date"}),
        ]

        def answers():
            out = []
            for q, kw in queries:
                for page in (1, 2):
                    res = run(q, per_page=1, page=page, **kw)
                    out.append(
                        (
                            q,
                            kw,
                            page,
                            res.total_exact,
                            [(h.doc_type, h.object_id) for h in res.hits],
                        )
                        + tuple(tuple(sorted(counts(res, n).items())) for n in sorted(res.facets))
                    )
            return out

        windows, read = [], set()
        matches = postgres_backend.PostgresBackend._matches

        def spy(self, conn, spec, source, where, params, ranked):
            found = matches(self, conn, spec, source, where, params, ranked)
            if ":edge" in where:
                windows.append(found[0] > self.limit)
                read.add(postgres_backend.WORDS_TESTED in where)
            return found

        monkeypatch.setattr(postgres_backend.PostgresBackend, "_matches", spy)
        app.config["SEARCH_EXACT_LIMIT"] = 2
        try:
            monkeypatch.setattr(postgres_backend, "WINDOW_LARGEST", 0)  # never a window
            without = answers()
            assert not windows
            monkeypatch.setattr(postgres_backend, "WINDOW_LARGEST", 1.01)
            monkeypatch.setattr(postgres_backend, "WINDOW_MARGIN", 0.01)  # the smallest first
            # Windows read with the word index, then in date order with the words tested.
            monkeypatch.setattr(postgres_backend, "WINDOW_SCAN", 0)
            assert answers() == without
            assert read == {False}
            monkeypatch.setattr(postgres_backend, "WINDOW_SCAN", 10**9)
            assert answers() == without
            assert read == {False, True}
        finally:
            del app.config["SEARCH_EXACT_LIMIT"]
        # Windows that held too few and grew, and windows that held enough.
        assert False in windows and True in windows
        assert any(not exact for _, _, _, exact, *_ in without)


if ON_POSTGRES:

    @pytest.mark.parametrize("search_backend", ["postgres"], indirect=True)
    def test_phrases_found_by_their_word_pairs_are_the_same(world, monkeypatch):
        """On PostgreSQL an entry also has its pairs of neighbouring words, and the entries
        of a phrase are looked for by its pairs before the phrase is checked on them; the
        answers are those of the phrase checked on every entry with its words."""
        from consult.search import postgres_backend

        pair = db.session.scalar(
            sa_text(
                "SELECT pairs @@ $$'public dashboard'$$::tsquery FROM search.entry_pairs "
                "WHERE key = :k"
            ),
            {"k": f"comment:{world.c4.id}"},
        )
        assert pair is True
        queries = [
            '"public dashboard"',
            '"dashboard public"',
            '"Budget transparency needs"',
            '"written answer within thirty days"',
            '"receives a written answer"',  # a stop word between two of its words
            '"youth councils" OR indigenous',
            'hearings -"youth councils"',
            '"public hearings" type:paragraph',
            '"hearings"',
            '"e-mail or on paper"',
        ]

        def answers():
            out = []
            for q in queries:
                res = run(q)
                out.append((q, res.total, [(h.doc_type, h.object_id, h.score) for h in res.hits]))
            return out

        with_pairs = answers()
        monkeypatch.setattr(postgres_backend, "PHRASE_PAIRS", False)
        assert answers() == with_pairs
        assert sum(1 for _, total, _ in with_pairs if total) >= 6

    @pytest.mark.parametrize("search_backend", ["postgres"], indirect=True)
    def test_word_pairs_follow_an_edited_entry(world):
        """The pairs are kept by the database itself: an entry written again (a comment
        edited) gets its new pairs, and an entry removed takes its pairs with it."""
        with clock(at(4, 15)):
            cs.edit_comment(
                world.c4,
                body="Budget transparency needs an open ledger.",
                suggested_text=None,
                quote=None,
                by=world.cso,
            )
            db.session.commit()
        assert keys(run('"open ledger"')) == {("comment", world.c4.id)}
        assert run('"public dashboard"').total == 0
        key = f"comment:{world.c4.id}"
        db.session.execute(sa_text("DELETE FROM search.entry WHERE key = :k"), {"k": key})
        left = db.session.scalar(
            sa_text("SELECT count(*) FROM search.entry_pairs WHERE key = :k"), {"k": key}
        )
        db.session.rollback()
        assert left == 0

    @pytest.mark.parametrize("search_backend", ["postgres"], indirect=True)
    def test_a_rebuild_leaves_fresh_statistics_for_entries_and_pairs(app, world):
        """After `reindex` the planner knows how many entries and pairs there are (ANALYZE
        of both tables), so that a phrase is looked up by its pairs from the first search."""
        db.session.execute(sa_text("TRUNCATE search.entry CASCADE"))
        db.session.execute(sa_text("ANALYZE search.entry, search.entry_pairs"))
        db.session.commit()
        outbox.rebuild(app)
        entries_now = db.session.scalar(sa_text("SELECT count(*) FROM search.entry"))
        estimated = dict(
            db.session.execute(
                sa_text(
                    "SELECT relname, reltuples FROM pg_class WHERE relnamespace = "
                    "'search'::regnamespace AND relname IN ('entry', 'entry_pairs')"
                )
            ).all()
        )
        assert entries_now == 25
        assert estimated == {"entry": entries_now, "entry_pairs": entries_now}


def test_organisation_facets_are_the_same_read_by_id_or_all(world, monkeypatch):
    """The facets' organisations are read by id when few, all at once when many."""

    def facets():
        res = run("submission")
        return {n: counts(res, n) for n in ("organisation", "orgkind", "country")}

    by_id = facets()
    monkeypatch.setattr(service, "_ORGS_BY_ID", 0)
    assert facets() == by_id
    assert by_id["organisation"] and by_id["country"]


def test_an_index_whose_commit_holds_no_segment_answers_nothing(tmp_path):
    """A commit with no segment (a new index, or one a writer elsewhere has just emptied)
    is read through an empty reader; a search finds nothing instead of failing."""
    from whoosh import index

    from consult.search import whoosh_backend as wb
    from consult.search.results import Spec

    index.create_in(str(tmp_path), wb.SCHEMA, wb.INDEX_NAME)
    found = wb.WhooshBackend(str(tmp_path)).run(Spec(sort="date", offset=0, limit=10))
    assert (found.total, found.hits) == (0, [])
