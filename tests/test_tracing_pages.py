"""The public tracing pages on a hand-made consultation with known answers: what a
reader sees, and what the committee's and the organisations' forms change."""

from __future__ import annotations

import json
import re

import pytest
from flask import g
from sqlalchemy import func, select

from consult.documents import services as docs
from consult.extensions import db
from consult.tracing.models import FinalizeOverride, ResponseFeedback, ResponseGroup
from tests.tracing_case import build


@pytest.fixture
def case(make_document, make_user, make_org):
    return build(make_document, make_user, make_org)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def no_inline(html: str) -> None:
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_paragraph_history_shows_each_step_with_its_comments(client, case):
    v2 = case.publish_v2()
    p2 = v2.paragraphs[3]
    html = client.get(f"/documents/{case.doc.slug}/lineages/{p2.lineage}").get_data(as_text=True)
    no_inline(html)
    text = text_of(html)
    assert "History of paragraph" in text
    # The step to version 2 shows the inserted words and the suggestion that asked for them.
    assert "<ins>" in html and "within 30 days" in text
    assert case.a.tracking in text and "Accepted" in text
    assert "Taken up · 100%" in text
    # The paragraph page links to it.
    page = client.get(f"/paragraphs/{p2.id}").get_data(as_text=True)
    assert f"/documents/{case.doc.slug}/lineages/{p2.lineage}" in page
    assert client.get(f"/documents/{case.doc.slug}/lineages/nope").status_code == 404


def test_flags_are_shown_publicly(client, case):
    case.publish_v2()
    text = text_of(client.get(f"/comments/{case.b.id}").get_data(as_text=True))
    assert "Not taken up · 0%" in text
    assert "Accepted, but the asked-for change is not in the text" in text
    text = text_of(client.get(f"/comments/{case.c.id}").get_data(as_text=True))
    assert "Not accepted, yet the wording appears in the text" in text


def test_version_and_comment_lists_show_measured_uptake(client, case):
    v2 = case.publish_v2()
    # A and C are in the text of version 2, B is not; none went through the drafting tools.
    text = text_of(
        client.get(f"/documents/{case.doc.slug}/versions/{v2.number}").get_data(as_text=True)
    )
    assert "2 of 3 suggestions taken up" in text
    listing = client.get(f"/documents/{case.doc.slug}/versions/1/comments").get_data(as_text=True)
    no_inline(listing)
    lines = [text_of(m) for m in re.findall(r'<p class="uptake-line">(.*?)</p>', listing, re.S)]
    assert sorted(lines) == sorted(
        [
            "In the text: Taken up · 100% measured uptake in version 2",
            "In the text: Not taken up · 0% measured uptake in version 2 ⚑ "
            "Accepted, but the asked-for change is not in the text",
            "In the text: Taken up · 100% measured uptake in version 2 ⚑ "
            "Not accepted, yet the wording appears in the text",
        ]
    )


def test_annotated_compare_lists_the_comments_behind_each_change(client, case):
    case.publish_v2()
    html = client.get(f"/documents/{case.doc.slug}/compare/1/2/annotated").get_data(as_text=True)
    no_inline(html)
    text = text_of(html)
    # Two paragraphs changed; the unchanged ones are left out.
    assert text.count("Edited") == 2
    assert "unchanged paragraphs not shown" in text
    assert case.a.tracking in text and case.c.tracking in text
    assert case.b.tracking not in text  # its paragraph did not change
    plain = client.get(f"/documents/{case.doc.slug}/compare/1/2").get_data(as_text=True)
    assert f"/documents/{case.doc.slug}/compare/1/2/annotated" in plain


def test_annotated_compare_counts_the_comments_it_does_not_list(client, case, monkeypatch):
    from consult.tracing import views

    case.publish_v2()
    monkeypatch.setattr(views, "ROW_COMMENTS", 0)
    text = text_of(
        client.get(f"/documents/{case.doc.slug}/compare/1/2/annotated").get_data(as_text=True)
    )
    assert text.count("1 more comment on the paragraph's history") == 2
    assert case.a.tracking not in text and case.c.tracking not in text


def test_annotated_compare_comes_in_pages_of_rows(client, case, monkeypatch):
    from consult.tracing import views

    case.publish_v2()
    monkeypatch.setattr(views, "ROWS_PAGE", 1)
    url = f"/documents/{case.doc.slug}/compare/1/2/annotated"
    first = client.get(url).get_data(as_text=True)
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    for html in (first, second):
        text = text_of(html)
        assert text.count("Edited") == 1  # one of the two changed paragraphs a page
        assert "2 rows in all" in text
    assert "rows 1 to 1 are shown" in text_of(first) and "Page 1 of 2" in text_of(first)
    assert f'href="{url}?page=2"' in first and f'href="{url}?page=1"' in second
    # Each page lists the comments behind its own row: A's and C's paragraphs changed.
    pages = (text_of(first), text_of(second))
    assert sum(case.a.tracking in t for t in pages) == 1
    assert sum(case.c.tracking in t for t in pages) == 1
    # Past the last page: the last page; "show all" pages the unchanged ones too.
    assert text_of(client.get(f"{url}?page=9").get_data(as_text=True)) == pages[1]
    everything = client.get(f"{url}?all=1&page=2").get_data(as_text=True)
    assert "rows in all" in text_of(everything) and "all=1" in everything


def test_provenance_credits_the_organisation(client, case):
    case.publish_v2()
    html = client.get(f"/documents/{case.doc.slug}/versions/2/provenance").get_data(as_text=True)
    no_inline(html)
    # "within 30 days" first appeared in version 2, brought by ILT's suggestion A.
    m = re.search(
        r'<mark class="prov prov-v2">(.*?)</mark><sup class="prov-ref"><a href="#src-(\d)"', html
    )
    assert m and "within 30 days" in m.group(1)
    sources = html[html.index("<h2>Sources</h2>") :]
    n = int(m.group(2))
    item = re.search(rf'<li id="src-{n}">(.*?)</li>', sources, re.S).group(1)
    assert case.a.tracking in item and "Institute for Legislative Transparency" in item
    # "and budget" came from MCVN's suggestion C, not accepted: credited and flagged.
    assert case.c.tracking in sources and "yet the wording appears" in text_of(sources)
    assert case.b.tracking not in sources  # nothing of B is in the text


def test_report_counts_and_charts(client, case, as_user):
    from consult.tracing import grouping

    grouping.give_feedback(case.a, satisfied=True, note="", by=case.ilt_member)
    grouping.give_feedback(case.b, satisfied=False, note="Early matters.", by=case.mcvn_member)
    db.session.commit()
    before = text_of(client.get(f"/documents/{case.doc.slug}/versions/1/report").get_data(True))
    assert "Not measured yet" in before
    case.publish_v2()
    html = client.get(f"/documents/{case.doc.slug}/versions/1/report").get_data(as_text=True)
    no_inline(html)
    text = text_of(html)
    assert "4 from 2 organisations, of which 3 suggestions" in text
    assert "4 of 4" in text
    # 2 of the 3 measured suggestions taken up: 67 %; one flag for B, one for C.
    assert "67% of the 3 measured suggestions taken up" in text
    assert "2 answers where the decision and the measured uptake disagree" in text
    # Each chart is an accessible SVG with the same numbers in a table beside it.
    charts = re.findall(
        r'<svg class="chart" id="([\w-]+)" role="img" aria-labelledby="([\w-]+)', html
    )
    assert {c for c, _ in charts} >= {"by-decision", "by-uptake", "by-kind", "by-country"}
    decision_table = re.search(
        r'id="by-decision".*?<table class="numbers">(.*?)</table>', html, re.S
    )
    rows = dict(
        re.findall(
            r"<th scope=\"row\">(.*?)</th><td class=\"num\">(\d+)</td>", decision_table.group(1)
        )
    )
    assert rows == {
        "Accepted": "2",
        "Partly accepted": "0",
        "Noted": "1",
        "Not accepted": "1",
        "Out of scope": "0",
        "Not answered yet": "0",
    }
    country = re.search(r'id="by-country".*?<table class="numbers">(.*?)</table>', html, re.S)
    rows = dict(
        re.findall(r"<th scope=\"row\">(.*?)</th><td class=\"num\">(\d+)</td>", country.group(1))
    )
    assert rows == {"Indonesia": "2", "Cambodia": "2", "Thailand": "2"}
    sat = re.search(r'id="by-satisfaction".*?<table class="numbers">(.*?)</table>', html, re.S)
    rows = dict(
        re.findall(r"<th scope=\"row\">(.*?)</th><td class=\"num\">(\d+)</td>", sat.group(1))
    )
    assert rows == {"Satisfied": "1", "Not satisfied": "1", "No reply yet": "2"}
    # The co-signed comment heads the list.
    assert case.c.tracking in text[text.index("Most co-signed") :]


def test_organisation_page_shows_its_comments_and_the_passages_it_shaped(client, case):
    v2 = case.publish_v2()
    docs.finalize(v2, by=case.secretariat)
    db.session.commit()
    html = client.get("/organisations/ilt/accountability").get_data(as_text=True)
    no_inline(html)
    text = text_of(html)
    assert "1 of 1 measured suggestions taken up (100%)" in text
    assert case.a.tracking in text and case.q.tracking in text
    start = text.index("Passages of final texts it shaped")
    shaped = text[start : text.index("Its comments", start)]
    assert "within 30 days" in shaped
    assert client.get("/organisations/nobody/accountability").status_code == 404


def test_grouped_answer_page_and_form(client, make_document, make_user, make_org, as_user):
    case = build(make_document, make_user, make_org, answer=False)
    url = f"/documents/{case.doc.slug}/versions/1/answer-together"
    assert client.get(url).status_code == 302  # sign in first
    as_user(case.ilt_member)
    assert client.get(url).status_code == 403
    as_user(case.secretariat)
    page = client.get(url).get_data(as_text=True)
    no_inline(page)
    assert f'name="comment" value="{case.a.id}"' in page
    short = client.post(url, data={"comment": [case.a.id], "decision": "noted", "reason": "Seen."})
    assert short.status_code == 400 and "at least two" in short.get_data(as_text=True)
    r = client.post(
        url,
        data={"comment": [case.a.id, case.b.id], "decision": "noted", "reason": "Both seen."},
    )
    assert r.status_code == 302
    group = db.session.scalar(select(ResponseGroup))
    assert r.headers["Location"].endswith(f"/groups/{group.id}")
    text = text_of(client.get(f"/groups/{group.id}").get_data(as_text=True))
    assert (
        "One answer to 2 comments" in text and case.a.tracking in text and case.b.tracking in text
    )
    comment = text_of(client.get(f"/comments/{case.a.id}").get_data(as_text=True))
    assert "Answered together with 1 other comment" in comment
    listing = client.get(f"/documents/{case.doc.slug}/versions/1/comments").get_data(as_text=True)
    assert url in listing


def test_feedback_form_on_the_comment_page(client, case, as_user):
    url = f"/comments/{case.a.id}"
    assert "Publish the reply" not in client.get(url).get_data(as_text=True)
    as_user(case.mcvn_member)  # another organisation
    assert "Publish the reply" not in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/feedback", data={"satisfied": "yes"}).status_code == 403
    as_user(case.ilt_member)
    assert "Publish the reply" in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/feedback", data={"note": "?"}).status_code == 400
    r = client.post(f"{url}/feedback", data={"satisfied": "no", "note": "Thirty days is long."})
    assert r.status_code == 302
    text = text_of(client.get(url).get_data(as_text=True))
    reply = "Institute for Legislative Transparency: not satisfied with this answer"
    assert f"{reply}: “Thirty days is long.”" in text
    # While the consultation goes on the reply may change (issue 22): the form stays,
    # folded, and a repeat of the same reply is refused.
    assert "Change your organisation" in text
    same = {"satisfied": "no", "note": "Thirty days is long."}
    assert client.post(f"{url}/feedback", data=same).status_code == 409
    assert db.session.scalar(select(func.count(ResponseFeedback.id))) == 1


def test_finalize_override_on_the_version_page(client, make_document, make_user, make_org, as_user):
    case = build(make_document, make_user, make_org, answer=False)
    base = f"/documents/{case.doc.slug}/versions/1"
    as_user(case.secretariat)
    page = text_of(client.get(base).get_data(as_text=True))
    assert "4 comments are unanswered: make final anyway" in page
    refused = client.post(f"{base}/finalize")
    assert refused.status_code == 409 and "4 comments are still unanswered" in refused.get_data(
        True
    )
    assert docs.get_version(case.doc, 1).state == "closed"
    reason = "The Assembly votes tomorrow."
    r = client.post(f"{base}/finalize", data={"override_reason": reason, "confirmed": "1"})
    assert r.status_code == 302
    assert db.session.scalar(select(FinalizeOverride.unanswered)) == 4
    client.post("/sign-out")
    g.pop("_login_user", None)
    with client.session_transaction() as s:
        s.clear()
    public = text_of(client.get(base).get_data(as_text=True))
    assert "Made final with 4 comments unanswered." in public
    assert "The Assembly votes tomorrow." in public
    report = text_of(client.get(f"{base}/report").get_data(as_text=True))
    assert "Made final anyway with 4 comments unanswered" in report


def test_drafts_stay_hidden(client, make_document):
    doc = make_document("draft")
    p = doc.latest.paragraphs[2]
    for url in (
        f"/documents/{doc.slug}/lineages/{p.lineage}",
        f"/documents/{doc.slug}/versions/1/provenance",
        f"/documents/{doc.slug}/versions/1/report",
    ):
        assert client.get(url).status_code == 404, url


def test_heavy_pages_make_the_same_queries_for_more_comments(client, case):
    """No query per comment: the report, the history and the provenance pages cost the
    same number of queries with three times the comments."""
    from contextlib import contextmanager

    from sqlalchemy import event

    from consult.consultation import services as cs

    v2 = case.publish_v2()
    lineage = v2.paragraphs[3].lineage
    urls = [
        f"/documents/{case.doc.slug}/versions/1/report",
        f"/documents/{case.doc.slug}/lineages/{lineage}",
        f"/documents/{case.doc.slug}/versions/2/provenance",
        f"/documents/{case.doc.slug}/compare/1/2/annotated",
    ]

    @contextmanager
    def counting():
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", count)

    def queries() -> list[int]:
        out = []
        for url in urls:
            client.get(url)  # warm: templates, the identity map of the request
            db.session.expire_all()
            with counting() as seen:
                assert client.get(url).status_code == 200
            out.append(len(seen))
        return out

    before = queries()
    assert all(n > 3 for n in before), before
    org = case.a.organisation
    for n in range(8):
        c = cs.post_comment(
            version=case.v1,
            paragraph=case.v1.paragraphs[3],
            organisation=org,
            kind="suggestion",
            body=f"Another deadline {n}.",
            suggested_text=f"Every submission receives a written answer within {n + 10} days.",
            by=case.secretariat,
            channel="email",
            on_behalf=True,
        )
        cs.respond(c, decision="noted", reason="Seen.", by=case.secretariat)
    db.session.commit()
    assert queries() == before


def test_a_hidden_comment_shows_the_moderators_reason_not_its_text(client, case):
    from consult.consultation import services as cs

    v2 = case.publish_v2()
    cs.moderate(case.a, action="hide", reason="Personal data.", by=case.secretariat)
    db.session.commit()
    lineage = v2.paragraphs[3].lineage
    text = text_of(
        client.get(f"/documents/{case.doc.slug}/lineages/{lineage}").get_data(as_text=True)
    )
    assert "Hidden by the moderators: Personal data." in text
    assert "Say when the answer comes." not in text
    assert case.a.tracking in text  # the outcome stays traceable


def test_a_long_history_shows_the_first_comments_and_links_to_all(client, case, monkeypatch):
    from consult.tracing import views

    v2 = case.publish_v2()
    url = f"/documents/{case.doc.slug}/lineages/{v2.paragraphs[3].lineage}"
    monkeypatch.setattr(views, "STEP_COMMENTS", 0)
    text = text_of(client.get(url).get_data(as_text=True))
    assert "led to this step (1)" in text and "Showing the first 0 of 1 comments" in text
    assert case.a.tracking not in text
    text = text_of(client.get(url + "?all=1").get_data(as_text=True))
    assert case.a.tracking in text and "Showing the first" not in text


def test_a_long_history_lists_a_taken_up_comment_beyond_the_first(client, case, monkeypatch):
    """A comment past the first STEP_COMMENTS of its paragraph whose wording was taken up
    still shows, with its outcome, at the step that took it up."""
    from consult.consultation.takeup import take_up_suggestion
    from consult.tracing import views

    v2 = docs.copy_version(case.doc, by=case.secretariat, label="Second draft")
    [effect] = take_up_suggestion(case.a, v2, by=case.secretariat)
    docs.publish(v2, by=case.secretariat)
    db.session.commit()
    url = f"/documents/{case.doc.slug}/lineages/{effect.paragraph.lineage}"
    monkeypatch.setattr(views, "STEP_COMMENTS", 0)
    resp = client.get(url)
    assert resp.status_code == 200
    text = text_of(resp.get_data(as_text=True))
    assert "Showing the first 0 of 1 comments" in text
    assert case.a.tracking in text and "within 30 days" in text


def test_provenance_is_kept_and_recomputed_when_what_it_depends_on_changes(client, case):
    """The provenance of a published version is computed once and kept: comments that
    arrive later (the bulk of the traffic) leave it be, so the page reads what was kept;
    a kept provenance whose key no longer matches is computed again."""
    import json
    from datetime import timedelta

    from consult import fragments
    from consult.consultation import services as cs
    from consult.timeutil import utcnow
    from consult.tracing.models import KeptProvenance
    from consult.tracing.views import provenance_key
    from tests.tracing_case import V2

    v2 = docs.import_version(case.doc, V2, by=case.secretariat, label="Second draft")
    docs.publish(v2, by=case.secretariat, closes_at=utcnow() + timedelta(days=5))
    db.session.commit()
    url = f"/documents/{case.doc.slug}/versions/2/provenance"

    def sources() -> str:
        html = client.get(url).get_data(as_text=True)
        return text_of(html[html.index("<h2>Sources</h2>") :])

    before = sources()
    assert case.a.tracking in before
    kept = db.session.get(KeptProvenance, v2.id)
    assert kept is not None and kept.key == provenance_key(v2)
    first_key = kept.key

    cs.post_comment(
        version=v2,
        paragraph=v2.paragraphs[2],
        organisation=case.mcvn_member.organisation,
        kind="comment",
        body="One more view on this paragraph.",
        by=case.mcvn_member,
    )
    db.session.commit()
    assert provenance_key(v2) == first_key  # a new comment changes nothing kept

    # While the key holds, the page reads what was kept (here: made to credit nobody).
    spans = json.loads(kept.spans_json)
    kept.spans_json = json.dumps(
        {pid: [[a, b, s, None] for a, b, s, _ in v] for pid, v in spans.items()}
    )
    db.session.commit()
    # This process keeps the text rendered while the key holds: the page is not made again.
    assert case.a.tracking in sources()
    fragments.forget()  # as another worker, or after a restart: made from the kept spans
    assert case.a.tracking not in sources()

    # A kept provenance with another key is computed again.
    kept.key = "0" * 64
    db.session.commit()
    fragments.forget()
    assert sources() == before
    db.session.expire_all()
    assert db.session.get(KeptProvenance, v2.id).key == first_key


def test_publishing_keeps_the_provenance_before_anyone_reads_it(case):
    """After a publication commits, a job computes the provenance of the published
    versions and keeps it, so the first reader of a large version does not wait."""
    from datetime import timedelta

    from consult.timeutil import utcnow
    from consult.tracing.models import KeptProvenance
    from consult.tracing.views import provenance_key
    from tests.tracing_case import V2

    v2 = docs.import_version(case.doc, V2, by=case.secretariat, label="Second draft")
    assert db.session.get(KeptProvenance, v2.id) is None
    docs.publish(v2, by=case.secretariat, closes_at=utcnow() + timedelta(days=5))
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(KeptProvenance, v2.id)
    assert kept is not None and kept.key == provenance_key(v2)
    credited = {c for spans in json.loads(kept.spans_json).values() for *_x, c in spans if c}
    assert case.a.id in credited and case.b.id not in credited

    # A later version's publication measures the suggestions on version 2, not those
    # version 2 was made from: version 2's kept provenance still holds, and version 3's
    # is kept too.
    docs.close(v2, by=case.secretariat)
    db.session.commit()
    key2 = provenance_key(v2)
    v3 = docs.import_version(
        case.doc, V2 + "\n\nA paragraph added in the third draft.", by=case.secretariat
    )
    docs.publish(v3, by=case.secretariat, closes_at=utcnow() + timedelta(days=5))
    db.session.commit()
    db.session.expire_all()
    assert provenance_key(v2) == key2 == db.session.get(KeptProvenance, v2.id).key
    kept3 = db.session.get(KeptProvenance, v3.id)
    assert kept3 is not None and kept3.key == provenance_key(v3) != key2


def test_provenance_lists_its_sources_page_by_page(client, case, monkeypatch):
    """The text is shown whole with every reference; the list of sources under it is paged,
    and a reference to a source on another page links to that page."""
    from consult.tracing import views

    case.publish_v2()
    monkeypatch.setattr(views, "SOURCES_PAGE", 1)
    url = f"/documents/{case.doc.slug}/versions/2/provenance"
    first = client.get(url).get_data(as_text=True)
    refs = re.findall(r'<sup class="prov-ref"><a href="([^"]*)#src-(\d+)"', first)
    assert {n for _h, n in refs} == {"1", "2"}
    assert {(h, n) for h, n in refs} == {("", "1"), ("?page=2", "2")}
    listed = first[first.index("<h2>Sources</h2>") :]
    assert '<li id="src-1">' in listed and 'id="src-2"' not in listed
    assert "2 suggestions are credited in this text; sources 1 to 1 are listed here." in text_of(
        listed
    )
    assert 'href="?page=2#sources" rel="next"' in listed

    second = client.get(url + "?page=2").get_data(as_text=True)
    listed2 = second[second.index("<h2>Sources</h2>") :]
    assert '<ol class="sources" id="sources" start="2">' in listed2
    item = re.search(r'<li id="src-2">(.*?)</li>', listed2, re.S).group(1)
    on_first = re.search(r'<li id="src-1">(.*?)</li>', listed, re.S).group(1)
    # Between them the two pages list A (taken up) and C (credited, flagged).
    assert {case.a.tracking in on_first + item, case.c.tracking in on_first + item} == {True}
    assert case.b.tracking not in listed + listed2
    # Both pages show the same text with the same references; a page past the end shows
    # the last one.
    assert re.findall(r'#src-(\d+)"', second) == [n for _h, n in refs]
    last = client.get(url + "?page=9").get_data(as_text=True)
    assert '<li id="src-2">' in last
