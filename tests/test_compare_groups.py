"""Splits and merges on the compare page and API and in a paragraph's history, and one
count of a version pair's changes (with markup-only changes counted as "formatting")
on the lineage review, the comparison and the change summary."""

from __future__ import annotations

import re
import shutil
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from consult.consultation import services as cs
from consult.documents import drafting
from consult.documents import services as docs
from consult.documents.models import LineageLink, Version
from consult.extensions import db
from consult.timeutil import utcnow
from consult.tracing.compare import tally
from consult.tracing.services import compare_versions
from consult.tracing.summary import change_summary, count_changes

from .conftest import bearer

V1 = """# Engagement Charter

## Principles

Parliaments engage civil society organisations openly and in good faith at every stage of law making.

Committees publish a calendar of consultations at the start of each session. Every consultation stays open for at least six weeks. Organisations may ask for an extension when a bill is long or complex.

Hearings are public and recorded, unless security requires otherwise.

## Answers

The secretariat keeps a public register of every written submission received.

Each entry of the register records the answer the committee gave to the submission.

Guidance for organisations is published on the [engagement portal](https://old.example.org/guide) of parliament.

Annual reports describe how public input was used by the committees.
"""  # noqa: E501 - one paragraph per line, as drafters write them
CALENDAR = "Committees publish a calendar of consultations at the start of each session."
WEEKS = "Every consultation stays open for at least six weeks."
EXTENSION = "Organisations may ask for an extension when a bill is long or complex."
REGISTER = "The secretariat keeps a public register of every written submission received"
ENTRY = "each entry of the register records the answer the committee gave to the submission."
# Version 2: the calendar paragraph split in three, the two register paragraphs merged
# into one, and only the address of the guidance link changed (formatting).
V2 = (
    V1.replace(f"{CALENDAR} {WEEKS} {EXTENSION}", f"{CALENDAR}\n\n{WEEKS}\n\n{EXTENSION}")
    .replace(f"{REGISTER}.\n\nE{ENTRY[1:]}", f"{REGISTER}, and {ENTRY}")
    .replace("https://old.example.org/guide", "https://new.example.org/guidance")
)
# Version 3: one edit elsewhere.
V3 = V2.replace("used by the committees.", "used by the committees and what it changed.")


def paragraph_of(version: Version, start: str):
    return next(p for p in version.paragraphs if p.text.startswith(start))


def build(
    make_user,
    *,
    slug: str = "charter",
    publish_v2: bool = True,
    v3: bool = False,
    comments: int = 0,
):
    sec = make_user("secretariat")
    doc = docs.create_document(slug, "Engagement Charter", by=sec)
    v1 = docs.import_version(doc, V1, by=sec, label="First draft")
    if comments:
        docs.publish(v1, by=sec, closes_at=utcnow() + timedelta(days=7))
        member = make_user("cso")
        for n in range(comments):
            cs.post_comment(
                version=v1,
                paragraph=paragraph_of(v1, CALENDAR),
                organisation=member.organisation,
                kind="comment",
                body=f"Remark {n} on the calendar.",
                by=member,
            )
        docs.close(v1, by=sec)
    else:
        docs.publish(v1, by=sec)
    v2 = docs.import_version(doc, V2, by=sec, label="Second draft")
    if publish_v2:
        docs.publish(v2, by=sec)
    if v3:
        docs.publish(docs.import_version(doc, V3, by=sec, label="Third draft"), by=sec)
    db.session.commit()
    return doc, sec


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def rebuild(diff, side: str) -> str:
    keep = {"old": ("equal", "delete"), "new": ("equal", "insert")}[side]
    return "".join(t for op, t in diff if op in keep)


# ---------------------------------------------------------------- the compare API and page


def test_api_shows_a_split_and_a_merge_as_groups_with_one_diff_each(client, make_user):
    doc, _ = build(make_user)
    v1, v2 = doc.versions
    body = client.get("/api/v1/documents/charter/compare/1/2").get_json()
    rows = body["paragraphs"]
    assert len(rows) == len(v2.paragraphs) - 2  # three pieces in one row, one merged row
    assert not [r for r in rows if r["relation"] in ("added", "removed")]

    (split,) = [r for r in rows if r["relation"] == "split"]
    old = paragraph_of(v1, CALENDAR)
    pieces = [paragraph_of(v2, t) for t in (CALENDAR, WEEKS, EXTENSION)]
    assert [p["id"] for p in split["olds"]] == [old.id]
    assert [p["id"] for p in split["news"]] == [p.id for p in pieces]
    assert split["old"]["id"] == old.id and split["new"]["id"] == pieces[0].id
    assert split["label"] == "split"
    # One diff for the group, and no word changed: the paragraph was only cut in three
    # (the spaces that became paragraph breaks are not marked).
    assert split["diff"] == [["equal", "\n\n".join(p.text for p in pieces)]]

    (merged,) = [r for r in rows if r["relation"] == "merged"]
    parts = [paragraph_of(v1, REGISTER), paragraph_of(v1, "Each entry")]
    assert [p["id"] for p in merged["olds"]] == [p.id for p in parts]
    assert [p["id"] for p in merged["news"]] == [paragraph_of(v2, REGISTER).id]
    assert rebuild(merged["diff"], "old").split() == "\n\n".join(p.text for p in parts).split()
    assert rebuild(merged["diff"], "new") == paragraph_of(v2, REGISTER).text
    assert ["insert", "and"] in merged["diff"] or any(
        op == "insert" and "and" in t for op, t in merged["diff"]
    )

    (fmt,) = [r for r in rows if r["relation"] == "formatting"]
    assert fmt["label"] == "formatting only"
    assert fmt["old"]["id"] == paragraph_of(v1, "Guidance").id
    assert body["summary"] == {
        "unchanged": 6,
        "formatting": 1,
        "edited": 0,
        "moved": 0,
        "split": 1,
        "merged": 1,
        "added": 0,
        "removed": 0,
    }


def test_compare_page_shows_the_groups(client, make_user):
    doc, _ = build(make_user)
    v2 = doc.versions[1]
    html = client.get("/documents/charter/compare/1/2").get_data(as_text=True)
    groups = re.findall(r'<div class="para rel-(\w+) group[^"]*">(.*?)</div>\s*</div>', html, re.S)
    assert sorted(rel for rel, _ in groups) == ["merged", "split"]
    split = text_of(dict(groups)["split"])
    assert all(t in split for t in (CALENDAR, WEEKS, EXTENSION))
    numbers = ", ".join(paragraph_of(v2, t).number for t in (CALENDAR, WEEKS, EXTENSION))
    assert f"became 3 paragraphs of version 2: {numbers}." in split
    assert "became paragraph" in text_of(dict(groups)["merged"])
    assert '<span class="badge rel rel-formatting">formatting only</span>' in html
    summary = text_of(html.split('aria-label="Summary"')[1].split("</ul>")[0])
    assert "1 split" in summary and "1 merged" in summary and "1 formatting only" in summary
    assert "0 added" in summary and "0 removed" in summary


def test_versions_further_apart_are_grouped_through_the_links_between(client, make_user):
    doc, _ = build(make_user, v3=True)
    v1, v2, v3 = doc.versions
    body = client.get("/api/v1/documents/charter/compare/1/3").get_json()
    by_relation = {r["relation"]: r for r in body["paragraphs"]}
    assert [p["id"] for p in by_relation["split"]["news"]] == [
        paragraph_of(v3, t).id for t in (CALENDAR, WEEKS, EXTENSION)
    ]
    assert len(by_relation["merged"]["olds"]) == 2
    assert by_relation["edited"]["new"]["id"] == paragraph_of(v3, "Annual").id
    assert body["summary"]["split"] == body["summary"]["merged"] == 1
    assert body["summary"]["formatting"] == body["summary"]["edited"] == 1
    assert body["summary"]["added"] == body["summary"]["removed"] == 0
    # Backwards, the pieces are merged again and the merged paragraph split.
    back = client.get("/api/v1/documents/charter/compare/3/1").get_json()
    assert sorted(r["relation"] for r in back["paragraphs"] if r["olds"] and r["news"]) == sorted(
        ["merged", "split", "edited", "formatting"] + ["unchanged"] * 5
    )
    html = client.get("/documents/charter/compare/1/3").get_data(as_text=True)
    assert 'class="para rel-split group' in html and 'class="para rel-merged group' in html
    annotated = client.get("/documents/charter/compare/1/3/annotated").get_data(as_text=True)
    assert annotated.count('<section class="change relation-split">') == 1
    assert annotated.count('<section class="change relation-merged">') == 1
    assert "Split</span>" in annotated and "Formatting only</span>" in annotated
    assert count_changes(v1, v3) == body["summary"]
    assert count_changes(v2, v3) == tally(compare_versions(v2, v3))


def test_annotated_comparison_costs_the_same_with_many_comments(client, make_user, count_queries):
    build(make_user, slug="few", comments=2)
    build(make_user, slug="many", comments=40)
    sizes = []
    for slug in ("few", "many"):
        with count_queries() as statements:
            html = client.get(f"/documents/{slug}/compare/1/2/annotated").get_data(as_text=True)
        assert "Remark 1 on the calendar." in html
        sizes.append(len(statements))
    assert sizes[0] == sizes[1]
    from consult.tracing.views import ROW_COMMENTS

    assert f"{40 - ROW_COMMENTS} more comments on" in text_of(html)


# ---------------------------------------------------------------- the paragraph history


def test_paragraph_history_says_where_a_paragraph_came_from_and_went(client, make_user):
    doc, _ = build(make_user)
    v1, v2 = doc.versions
    weeks = paragraph_of(v2, WEEKS)
    html = client.get(f"/documents/charter/lineages/{weeks.lineage}").get_data(as_text=True)
    page = text_of(html)
    old = paragraph_of(v1, CALENDAR)
    assert f"Split off from paragraph {old.number} of version 1." in page
    assert f'href="/documents/charter/lineages/{old.lineage}"' in html
    # The paragraph that kept the lineage: a split step, the other pieces listed.
    html = client.get(f"/documents/charter/lineages/{old.lineage}").get_data(as_text=True)
    page = text_of(html)
    assert 'class="relation relation-split">split<' in html
    note = re.search(r"the other pieces in version 2: (.*?)</p>", html).group(1)
    assert re.findall(r">([\d.]+)</a>", note) == [
        paragraph_of(v2, t).number for t in (WEEKS, EXTENSION)
    ]
    # The paragraph merged into another: where it went.
    entry = paragraph_of(v1, "Each entry")
    html = client.get(f"/documents/charter/lineages/{entry.lineage}").get_data(as_text=True)
    merged_into = paragraph_of(v2, REGISTER)
    assert f"was merged into paragraph {merged_into.number}" in text_of(html)
    html = client.get(f"/documents/charter/lineages/{merged_into.lineage}").get_data(as_text=True)
    assert "Merged from 2 paragraphs of version 1" in text_of(html)
    assert 'class="relation relation-merged">merged<' in html
    guide = paragraph_of(v2, "Guidance")
    html = client.get(f"/documents/charter/lineages/{guide.lineage}").get_data(as_text=True)
    assert 'class="relation relation-formatting">formatting only<' in html


# ---------------------------------------------------------------- one count


def _review_counts(client, doc, number: int) -> str:
    html = client.get(f"/documents/{doc.slug}/versions/{number}/lineage").get_data(as_text=True)
    return text_of(html.split('aria-label="Counts"')[1].split("</ul>")[0])


def test_a_markup_only_change_is_formatting_everywhere_and_counted_once(client, make_user, login):
    doc, sec = build(make_user, publish_v2=False)
    v2 = doc.versions[1]
    guide = paragraph_of(v2, "Guidance")
    stored = db.session.scalars(
        select(LineageLink.relation).where(LineageLink.paragraph_id == guide.id)
    ).all()
    assert stored == ["formatting"]
    login(sec)
    expected = {
        "unchanged": 6,
        "formatting": 1,
        "edited": 0,
        "moved": 0,
        "split": 1,
        "merged": 1,
        "added": 0,
        "removed": 0,
    }
    review = _review_counts(client, doc, 2)
    api_review = client.get(f"/api/v1/documents/{doc.slug}/versions/2/lineage", headers=bearer(sec))
    assert api_review.get_json()["counts"] == expected
    assert "6 unchanged" in review and "1 formatting only" in review and "0 edited" in review
    row = client.get(f"/documents/{doc.slug}/versions/2/lineage").get_data(as_text=True)
    assert '<span class="badge rel rel-formatting">formatting only</span>' in row
    # The committee confirms the links: drafting derives the relations again, the same.
    drafting.confirm_links(v2, by=sec)
    db.session.commit()
    assert drafting.review_counts(v2) == expected
    docs.publish(v2, by=sec)
    db.session.commit()
    assert _review_counts(client, doc, 2) == review
    api = client.get(f"/api/v1/documents/{doc.slug}/compare/1/2").get_json()["summary"]
    assert api == expected
    page = client.get(f"/documents/{doc.slug}/compare/1/2").get_data(as_text=True)
    assert "1 formatting only" in text_of(page.split('aria-label="Summary"')[1])
    version_page = text_of(client.get(f"/documents/{doc.slug}/versions/2").get_data(as_text=True))
    assert "1 paragraph changed in formatting only" in version_page
    assert "1 paragraph split" in version_page and "1 paragraph merged" in version_page
    assert "edited" not in version_page.split("What changed")[1].split("</ul>")[0]
    changes = client.get(f"/api/v1/documents/{doc.slug}/versions/2/changes").get_json()
    s = change_summary(v2)
    assert {k: getattr(s, k) for k in expected} == expected
    assert {k: changes["summary"][k] for k in expected} == expected
    assert "1 paragraph changed in formatting only" in changes["phrases"]


def test_a_draft_edited_from_a_copy_stores_formatting(make_user):
    doc, sec = build(make_user)
    v3 = docs.copy_version(doc, by=sec)
    guide = paragraph_of(v3, "Guidance")
    drafting.edit_paragraph(
        guide,
        guide.source.replace("https://new.example.org/guidance", "https://example.org/g"),
        guide.revision,
        by=sec,
    )
    annual = paragraph_of(v3, "Annual")
    drafting.edit_paragraph(
        annual, annual.source.replace("committees", "committees each year"), annual.revision, by=sec
    )
    db.session.commit()
    relations = dict(
        db.session.execute(
            select(LineageLink.paragraph_id, LineageLink.relation).where(
                LineageLink.version_id == v3.id
            )
        ).all()
    )
    assert relations[guide.id] == "formatting" and relations[annual.id] == "edited"
    counts = drafting.review_counts(v3)
    assert (counts["formatting"], counts["edited"], counts["unchanged"]) == (1, 1, 9)
    assert counts == tally(compare_versions(doc.versions[1], v3))
    assert change_summary(v3).phrases()[:2] == [
        "1 paragraph edited",
        "1 paragraph changed in formatting only",
    ]


def test_the_demo_counts_agree(app, client):
    from consult.demo import load_demo

    load_demo()
    db.session.commit()
    for doc in db.session.scalars(select(docs.Document)):
        versions = [v for v in doc.versions if v.state != "draft"]
        for a, b in zip(versions, versions[1:], strict=False):
            rows = compare_versions(a, b)
            counts = count_changes(a, b)
            assert counts == tally(rows), (doc.slug, a.number, b.number)
            s = change_summary(b)
            assert {k: getattr(s, k) for k in counts} == counts
            api = client.get(f"/api/v1/documents/{doc.slug}/compare/{a.number}/{b.number}")
            assert api.get_json()["summary"] == counts
            assert drafting.review_counts(b) == counts


# ---------------------------------------------------------------- in a browser


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_compare_page_with_a_split_group_in_a_browser(app, make_user, width):
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARGS, CHROMIUM

    build(make_user)
    db.session.remove()  # the live server uses its own sessions
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"http://127.0.0.1:{server.server_port}/documents/charter/compare/1/2")
            group = page.locator(".para.rel-split.group")
            assert group.count() == 1 and group.is_visible()
            assert "became 3 paragraphs of version 2" in group.inner_text()
            badge = group.locator(".badge")
            assert badge.inner_text() == "split"
            # Nothing wider than the screen: no sideways scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            group.scroll_into_view_if_needed()
            page.screenshot(path=f"{app.instance_path}/compare-split-{width}.png", full_page=True)
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
