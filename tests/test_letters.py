"""Form letters grouped as they arrive, a variant taken out of its group, a group
answered once; themes, their filters and counts; the groups and themes API.

The letter is built on a real comment of the corpus (the HTTPS-only standard's c006),
with variants written the way campaign copies differ: another greeting and name, a
sentence added, a sentence left out, typos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.analysis import grouping, nearcopies, themes
from consult.analysis.models import CommentSignature, CommentTheme, GroupRemoval, LetterGroup, Theme
from consult.consultation.models import Response
from consult.documents import services as docs
from consult.extensions import db
from consult.record.models import Event
from consult.search.outbox import rebuild
from consult.search.service import SearchParams, search

from .conftest import bearer, count, post_comment
from .search_world import BACKENDS

CORPUS = Path("/work/shared/corpus/us-https-only-standard-m-15-13/comments.jsonl")


def _real(n: int) -> str:
    for line in CORPUS.read_text().splitlines():
        d = json.loads(line)
        if d["id"].endswith(f"#c{n:03d}"):
            return d["text"]
    raise AssertionError(f"no comment c{n:03d} in the corpus")


REAL = _real(6)  # "Supports mandatory HTTPS because federal sites carry sensitive ..."
ADDED = "My own bank moved every page to HTTPS years ago and nobody noticed any slowdown."
MASTER = (
    "Dear members of the committee,\n"
    f"{REAL} "
    "Citizens should not have to wonder whether the page they read was altered on the way. "
    "Please adopt the standard without delay and publish a timetable for every agency.\n"
    "Yours sincerely, Anna Keller"
)
VARIANTS = [
    # another greeting and name
    MASTER.replace("Dear members of the committee,", "To whom it may concern,").replace(
        "Anna Keller", "Somchai Wong"
    ),
    # a sentence added: the unique part
    MASTER.replace("Please adopt", ADDED + " Please adopt").replace("Anna Keller", "Maria Santos"),
    # a sentence left out
    MASTER.replace(
        "Citizens should not have to wonder whether the page they read was altered on the way. ", ""
    ),
    # typos
    MASTER.replace("sensitive", "sensitve")
    .replace("timetable", "timetabel")
    .replace("Anna", "Ana"),
]
OTHER = _real(3)  # a different real comment: stays alone


@pytest.fixture
def letters(make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    p = v.paragraphs[2]
    authors = [make_user("cso") for _ in range(6)]
    master = post_comment(v, p, authors[0], body=MASTER)
    variants = [post_comment(v, p, a, body=t) for a, t in zip(authors[1:5], VARIANTS, strict=True)]
    other = post_comment(v, p, authors[5], body=OTHER)
    return doc, v, master, variants, other


def test_near_copies_of_a_real_comment_are_grouped_as_they_arrive(client, letters):
    doc, v, master, variants, other = letters
    # The POST left an outbox row; the job (inline here) placed every comment.
    assert grouping.pending() == 0
    g = db.session.scalar(select(LetterGroup))
    assert g.master_comment_id == master.id and g.size == 5
    assert grouping.group_of(other.id) is None

    got = client.get(f"/api/v1/documents/{doc.slug}/versions/1/groups").get_json()
    assert got["total"] == 1 and got["comments_grouped"] == 5
    [entry] = got["groups"]
    assert entry["size"] == 5
    assert entry["master_text"] == MASTER
    assert entry["members"] == [master.id] + [c.id for c in variants]
    parts = {p["comment"]: p["text"] for p in entry["unique_parts"]}
    assert ADDED in parts[variants[1].id]
    assert variants[2].id not in parts  # a sentence left out adds nothing
    assert client.get(f"/api/v1/comments/{variants[0].id}").get_json()["group"] == entry["id"]
    assert client.get(f"/api/v1/comments/{other.id}").get_json()["group"] is None

    page = client.get(f"/documents/{doc.slug}/versions/1/groups").get_data(as_text=True)
    assert "Form letter · 5 comments" in page
    assert page.count("Please adopt the standard without delay") == 1  # the letter once
    assert ADDED in page
    assert "TAG endorses" not in page  # the comment alone is not a letter
    group_page = client.get(f"/letter-groups/{g.id}").get_data(as_text=True)
    assert ADDED in group_page and variants[3].tracking in group_page


def test_the_answer_to_a_post_names_the_group_it_joined(client, letters, make_user):
    """Without a worker the grouping job runs in the request, after the commit: the
    answer to the POST says which group the new near-copy joined, as a later GET does."""
    doc, v, master, variants, other = letters
    resp = client.post(
        f"/api/v1/paragraphs/{master.paragraph_id}/comments",
        json={"kind": "comment", "body": VARIANTS[0].replace("Anna", "Anne")},
        headers=bearer(make_user("cso")),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    answer = resp.get_json()
    g = db.session.scalar(select(LetterGroup))
    assert answer["group"] == g.id and g.size == 6
    assert client.get(f"/api/v1/comments/{answer['id']}").get_json()["group"] == g.id
    assert answer["uptake"] is None and answer["feedback"] is None


def test_the_comment_list_shows_each_form_letter_on_one_row(client, letters, monkeypatch):
    doc, v, master, variants, other = letters
    g = db.session.scalar(select(LetterGroup))
    url = f"/documents/{doc.slug}/versions/1/comments"
    every = client.get(url).get_data(as_text=True)
    assert f"{url}?letters=1" in every  # offered on the usual list
    assert every.count("Please adopt the standard without delay") == 5  # every copy

    page = client.get(f"{url}?letters=1").get_data(as_text=True)
    assert "Form letter · 5 comments" in page
    assert f'href="/letter-groups/{g.id}"' in page
    assert page.count("Please adopt the standard without delay") == 1  # the master, once
    assert master.tracking in page
    assert not any(c.tracking in page for c in variants)
    assert other.tracking in page and "TAG endorses" in page  # the comment in no letter
    assert "1 form letters holding 5 comments; 1 comments in no letter." in page

    # Page by page: the letter on the first, the comment in no letter on the second.
    monkeypatch.setattr(grouping, "LETTERS_PAGE", 1)
    first = client.get(f"{url}?letters=1").get_data(as_text=True)
    assert "Form letter · 5 comments" in first and other.tracking not in first
    assert "Page 1 of 2" in first
    second = client.get(f"{url}?letters=1&page=2").get_data(as_text=True)
    assert other.tracking in second and "Form letter · 5 comments" not in second

    # A variant taken out of the letter is listed on its own row.
    monkeypatch.setattr(grouping, "LETTERS_PAGE", 50)
    grouping.take_out(variants[1], reason="It raises something new.", by=master.author)
    db.session.commit()
    page = client.get(f"{url}?letters=1").get_data(as_text=True)
    assert "Form letter · 4 comments" in page and variants[1].tracking in page
    assert "1 form letters holding 4 comments; 2 comments in no letter." in page


def test_a_regrouping_gives_the_groups_found_as_comments_arrived(letters):
    doc, v, master, variants, other = letters
    before = {
        s.comment_id: s.group_id is not None for s in db.session.scalars(select(CommentSignature))
    }
    counts = grouping.regroup(v)
    assert counts == {"comments": 6, "groups": 1, "grouped": 5}
    g = db.session.scalar(select(LetterGroup))
    assert (g.master_comment_id, g.size) == (master.id, 5)
    after = {
        s.comment_id: s.group_id is not None for s in db.session.scalars(select(CommentSignature))
    }
    assert after == before
    # What each variant adds is found again too.
    assert grouping.unique_parts(g) == [(variants[1].id, ADDED)]


def test_a_regrouping_in_chunks_with_worker_processes_gives_the_same_groups(letters):
    """The workers compute the next chunk's signatures while the current one is matched:
    small chunks and two processes give what one pass in this process gives."""
    doc, v, master, variants, other = letters

    def state():
        return sorted(
            (s.comment_id, s.group_id is not None, s.unique_json)
            for s in db.session.scalars(select(CommentSignature))
        )

    grouping.regroup(v)
    alone = state()
    counts = grouping.regroup(v, chunk=2, workers=2)
    assert counts == {"comments": 6, "groups": 1, "grouped": 5}
    assert state() == alone
    g = db.session.scalar(select(LetterGroup))
    assert (g.master_comment_id, g.size) == (master.id, 5)
    assert grouping.unique_parts(g) == [(variants[1].id, ADDED)]


def test_a_variant_that_raises_something_new_is_taken_out_and_answered_alone(
    client, letters, make_user, as_user
):
    doc, v, master, variants, other = letters
    g = db.session.scalar(select(LetterGroup))
    sec = make_user("secretariat")
    cso = make_user("cso")
    adding = variants[1]

    as_user(cso)
    assert client.post(f"/comments/{adding.id}/take-out", data={"reason": "new"}).status_code == 403
    as_user(sec)
    r = client.post(f"/comments/{adding.id}/take-out", data={"reason": ""})
    assert r.status_code == 400
    r = client.post(f"/comments/{master.id}/take-out", data={"reason": "It is the letter."})
    assert r.status_code == 409 and "master text" in r.get_data(as_text=True)
    events = count(Event)
    r = client.post(f"/comments/{adding.id}/take-out", data={"reason": "Raises banks' experience."})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(LetterGroup, g.id).size == 4
    assert grouping.group_of(adding.id) is None
    removal = db.session.scalar(select(GroupRemoval))
    assert (removal.comment_id, removal.master_comment_id, removal.user_id) == (
        adding.id,
        master.id,
        sec.id,
    )
    assert count(Event) == events + 1
    ev = db.session.scalar(select(Event).order_by(Event.id.desc()))
    assert ev.kind == "letter_group.member_removed"
    assert client.get(f"/api/v1/comments/{adding.id}").get_json()["group"] is None
    page = client.get(f"/letter-groups/{g.id}").get_data(as_text=True)
    assert "Form letter · 4 comments" in page and ADDED not in page
    # A new copy of the same text joins the letter, not a group of the one taken out.
    copy = post_comment(v, v.paragraphs[2], make_user("cso"), body=VARIANTS[1])
    assert grouping.group_of(copy.id) == g.id
    # It stays out through a full regrouping.
    grouping.regroup(v)
    assert grouping.group_of(adding.id) is None
    assert db.session.scalar(select(LetterGroup)).size == 5
    # Taken out twice: refused, readable.
    assert (
        client.post(f"/comments/{adding.id}/take-out", data={"reason": "again"}).status_code == 409
    )


def test_the_committee_answers_a_group_once(client, letters, make_user, as_user):
    doc, v, master, variants, other = letters
    sec = make_user("secretariat")
    g = db.session.scalar(select(LetterGroup))
    as_user(sec)
    # Not while the consultation is open.
    r = client.post(f"/letter-groups/{g.id}/answer", data={"decision": "noted", "reason": "Seen."})
    assert r.status_code == 409
    docs.close(v, by=sec)
    db.session.commit()
    page = client.get(f"/letter-groups/{g.id}").get_data(as_text=True)
    assert "Answer the letter once" in page
    r = client.post(
        f"/letter-groups/{g.id}/answer",
        data={"decision": "accepted", "reason": "The standard applies to every agency."},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    answered = {r.comment_id: r.decision for r in db.session.scalars(select(Response))}
    assert answered == {c.id: "accepted" for c in [master, *variants]}
    assert other.id not in answered
    assert "5 comments of the form letter answered together" in client.get(
        r.headers["Location"]
    ).get_data(as_text=True)
    # Answered already: answering again finds nobody waiting, and says so.
    r = client.post(f"/letter-groups/{g.id}/answer", data={"decision": "noted", "reason": "Again."})
    assert r.status_code == 400 and "at least two" in r.get_data(as_text=True)


def test_themes_tags_filters_and_counts(client, letters, make_user, as_user):
    doc, v, master, variants, other = letters
    sec = make_user("secretariat")
    cso = make_user("cso")
    as_user(cso)
    assert client.post(f"/documents/{doc.slug}/themes", data={"name": "Cost"}).status_code == 403
    as_user(sec)
    assert (
        client.post(f"/documents/{doc.slug}/themes", data={"name": "Cost of HTTPS"}).status_code
        == 303
    )
    assert client.post(f"/documents/{doc.slug}/themes", data={"name": "Privacy"}).status_code == 303
    r = client.post(f"/documents/{doc.slug}/themes", data={"name": "cost-of-https"})
    assert r.status_code == 409 and "already has the theme" in r.get_data(as_text=True)
    assert client.post(f"/documents/{doc.slug}/themes", data={"name": " "}).status_code == 400
    privacy = db.session.scalar(select(Theme).where(Theme.name == "Privacy"))
    cost = db.session.scalar(select(Theme).where(Theme.name == "Cost of HTTPS"))

    for c in (master, variants[0]):
        r = client.post(f"/comments/{c.id}/themes", data={"theme": privacy.id})
        assert r.status_code == 303
    client.post(f"/comments/{other.id}/themes", data={"theme": cost.id}, follow_redirects=True)
    assert count(CommentTheme) == 3
    # Filter: the theme's comments only.
    page = client.get(f"/documents/{doc.slug}/versions/1/themes/{privacy.id}").get_data(
        as_text=True
    )
    assert master.tracking in page and variants[0].tracking in page and other.tracking not in page
    assert "2 comments" in page
    # Counts on the themes page, in the report and the API.
    listing = client.get(f"/documents/{doc.slug}/themes").get_data(as_text=True)
    assert "Privacy" in listing and "Cost of HTTPS" in listing
    report = client.get(f"/documents/{doc.slug}/versions/1/report").get_data(as_text=True)
    assert "Comments per theme" in report and "Form letters and themes" in report
    got = client.get(f"/api/v1/documents/{doc.slug}/themes").get_json()
    assert {t["name"]: t["comments"] for t in got["themes"]} == {"Privacy": 2, "Cost of HTTPS": 1}
    # Untag; a retired theme is no longer offered.
    client.post(f"/comments/{variants[0].id}/themes", data={"theme": privacy.id, "action": "untag"})
    assert count(CommentTheme) == 2
    r = client.post(
        f"/documents/{doc.slug}/themes/{cost.id}/edit",
        data={"name": "Cost", "description": "What it costs", "retired": "y"},
    )
    assert r.status_code == 303
    r = client.post(f"/comments/{master.id}/themes", data={"theme": cost.id})
    assert r.status_code == 409 and "retired" in r.get_data(as_text=True)
    # A theme of another document is not found.
    assert client.post(f"/comments/{master.id}/themes", data={"theme": 999}).status_code == 404
    # The comment page shows its themes and its form letter.
    page = client.get(f"/comments/{master.id}").get_data(as_text=True)
    assert "Part of a form letter · 5 comments" in page and "Privacy" in page


def test_suggested_themes_are_for_staff_only(client, make_document, make_user, as_user):
    doc = make_document("consultation")
    v = doc.latest
    p = v.paragraphs[2]
    author = make_user("cso")
    import random

    topics = {
        "funding": ["budget", "funding", "grants", "money", "cuts", "finance", "donors"],
        "language": ["language", "interpretation", "translation", "minority", "dialect"],
    }
    rnd = random.Random(7)
    for _i in range(8):
        for vocab in topics.values():
            post_comment(v, p, author, body=" ".join(rnd.choices(vocab, k=12)))
    sec, cso = make_user("secretariat"), make_user("cso")
    as_user(cso)
    assert client.get(f"/documents/{doc.slug}/versions/1/themes/suggested").status_code == 403
    as_user(sec)
    page = client.get(f"/documents/{doc.slug}/versions/1/themes/suggested").get_data(as_text=True)
    assert "never published" in page and "Top terms:" in page
    assert "funding" in page and "language" in page
    # Naming a cluster makes a theme and tags its comments.
    import re

    cluster = re.search(r'name="cluster"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="cluster"', page
    )
    fp = re.search(r'name="fingerprint"[^>]*value="(\w+)"', page) or re.search(
        r'value="(\w+)"[^>]*name="fingerprint"', page
    )
    r = client.post(
        f"/documents/{doc.slug}/versions/1/themes/suggested",
        data={"cluster": cluster.group(1), "fingerprint": fp.group(1), "name": "Named cluster"},
    )
    assert r.status_code == 303, r.get_data(as_text=True)
    assert count(CommentTheme) >= 2
    r = client.post(
        f"/documents/{doc.slug}/versions/1/themes/suggested",
        data={"cluster": cluster.group(1), "fingerprint": "stale", "name": "X"},
    )
    assert r.status_code == 409
    # Never on public pages: the document's themes page shows only named themes.
    as_user(make_user("cso"))
    assert "Top terms" not in client.get(f"/documents/{doc.slug}/themes").get_data(as_text=True)


def test_groups_api_pages_members_and_groups(client, letters, monkeypatch):
    from consult.api import analysis

    doc, v, master, variants, other = letters
    monkeypatch.setattr(analysis, "MEMBERS_SHOWN", 2)
    got = client.get(f"/api/v1/documents/{doc.slug}/versions/1/groups").get_json()
    entry = got["groups"][0]
    assert entry["members"] == [master.id, variants[0].id]
    assert "members_next" in entry["links"]
    nxt = client.get(entry["links"]["members_next"]).get_json()["groups"][0]
    assert nxt["members"] == [variants[1].id, variants[2].id]
    assert client.get(f"/api/v1/documents/{doc.slug}/versions/1/groups?page=0").status_code == 400
    assert client.get(f"/api/v1/documents/{doc.slug}/versions/9/groups").status_code == 404
    assert client.get("/api/v1/documents/nope/themes").status_code == 404


def test_near_copies_unit():
    a = nearcopies.signature(MASTER)
    assert nearcopies.similarity(a, nearcopies.signature(VARIANTS[3])) >= nearcopies.THRESHOLD
    assert nearcopies.similarity(a, nearcopies.signature(OTHER)) < 0.1
    # Greetings and signatures are not unique parts: every copy changes them.
    assert nearcopies.unique_part(MASTER, VARIANTS[1]) == [ADDED]
    assert nearcopies.unique_part(MASTER, VARIANTS[0]) == []
    assert nearcopies.unique_part(MASTER, VARIANTS[3]) == []  # typos are not new sentences
    assert nearcopies.unique_part(MASTER, MASTER.upper()) == []
    assert len(nearcopies.band_keys(a)) == nearcopies.BANDS
    assert nearcopies.BANDS * nearcopies.ROWS == nearcopies.NUM_PERM


def test_form_letter_pages_read_the_same_whatever_the_size_of_a_group(
    client, letters, make_user, count_queries
):
    doc, v, master, variants, other = letters
    paths = [
        f"/documents/{doc.slug}/versions/1/groups",
        f"/letter-groups/{db.session.scalar(select(LetterGroup.id))}",
        f"/api/v1/documents/{doc.slug}/versions/1/groups",
        f"/documents/{doc.slug}/versions/1/comments?letters=1",
    ]

    def statements() -> list[int]:
        out = []
        for path in paths:
            client.get(path)
            # As a new request finds it: nothing read by an earlier one (the fixture's
            # comments would otherwise keep their screenings, read once, in the session).
            db.session.expire_all()
            with count_queries() as seen:
                assert client.get(path).status_code == 200
            out.append(len(seen))
        return out

    before = statements()
    p = v.paragraphs[2]
    for i in range(6):  # six more copies, each with a sentence of its own
        extra = f"In district {i} we counted {i + 3} sites without HTTPS last month alone."
        post_comment(
            v, p, make_user("cso"), body=MASTER.replace("Please adopt", extra + " Please adopt")
        )
    assert db.session.scalar(select(LetterGroup.size)) == 11
    assert statements() == before


@pytest.mark.parametrize(
    "search_backend_name",
    [b if b == "whoosh" else pytest.param(b, marks=pytest.mark.postgres) for b in BACKENDS],
)
def test_theme_in_the_search_language(app, client, letters, make_user, search_backend_name):
    previous = app.config["SEARCH_BACKEND"]
    app.config["SEARCH_BACKEND"] = search_backend_name
    try:
        doc, v, master, variants, other = letters
        rebuild(app)  # the letters were indexed by the backend in use before
        sec = make_user("secretariat")
        privacy = themes.create(doc, "Privacy of citizens", by=sec)
        themes.tag(master, privacy, by=sec)
        themes.tag(variants[0], privacy, by=sec)
        db.session.commit()  # tagging feeds the search index through its outbox
        found = search(SearchParams(q="theme:privacy-of-citizens"))
        assert {h.object_id for h in found.hits} == {master.id, variants[0].id}
        assert search(SearchParams(q="HTTPS theme:Privacy_of_Citizens")).total == 2
        assert search(SearchParams(q="-theme:privacy-of-citizens type:comment")).total == 4
        assert "No theme is called 'nothing'" in search(SearchParams(q="theme:nothing")).note
        themes.untag(variants[0], privacy)
        db.session.commit()
        assert search(SearchParams(q="theme:privacy-of-citizens")).total == 1
    finally:
        app.config["SEARCH_BACKEND"] = previous


def test_answer_together_lists_each_form_letter_once(client, letters, make_user, as_user):
    doc, v, master, variants, other = letters
    sec = make_user("secretariat")
    alone = post_comment(v, v.paragraphs[1], make_user("cso"), body="Publish the costs too.")
    as_user(sec)
    docs.close(v, by=sec)
    db.session.commit()
    g = db.session.scalar(select(LetterGroup))
    url = f"/documents/{doc.slug}/versions/1/answer-together"
    page = client.get(f"{url}?letters=1").get_data(as_text=True)
    assert f'href="/letter-groups/{g.id}"' in page and "Form letter · 5 comments" in page
    # The comments in no letter can be ticked; the letter's copies are not listed.
    assert f'value="{other.id}"' in page and f'value="{alone.id}"' in page
    assert not any(f'value="{c.id}"' in page for c in [master, *variants])
    r = client.post(
        f"{url}?letters=1",
        data={"comment": [str(other.id), str(alone.id)], "decision": "noted", "reason": "Seen."},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    answered = {x.comment_id for x in db.session.scalars(select(Response))}
    assert answered == {other.id, alone.id}


def test_a_band_key_shared_by_many_does_not_crowd_out_the_others(
    app, make_document, make_user, monkeypatch
):
    """The lookup of a new comment's band keys reads each key's share, oldest first: a key
    that many near-copies share fills only its share, and the rows of the other keys are
    still read."""
    from consult.analysis.models import LetterBand

    doc = make_document("consultation")
    version, author = doc.versions[0], make_user()
    comments = [
        post_comment(version, version.paragraphs[1], author, body=f"Note {n}.") for n in range(12)
    ]
    db.session.flush()
    hot, b, c = 5, 700, 900  # band keys; the hot one sorts first
    rows = [(hot, x.id) for x in comments[:10]] + [(b, comments[10].id), (c, comments[11].id)]
    for key, cid in rows:
        db.session.add(LetterBand(version_id=version.id, key=key, comment_id=cid))
    db.session.flush()
    monkeypatch.setattr(nearcopies, "MAX_BAND_ROWS", 6)  # a share of 2 for each of 3 keys
    rows, params = grouping._band_rows(version.id, [hot, b, c])
    ids = sorted(db.session.scalars(select(rows.c.comment_id), params))
    assert ids == sorted([comments[0].id, comments[1].id, comments[10].id, comments[11].id])
