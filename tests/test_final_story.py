"""Issue 22: the final text tells its own story (the report of a version that took no
comments reports the rounds before it; the document page answers "was the input
considered?"), a document has a kind named on its PDF covers, and the demo has
committee members who are not the secretariat."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.documents.models import CommitteeMember, Document
from consult.extensions import db
from consult.tracing import views

from .conftest import SAMPLE, bearer
from .exports_data import build


def text_of(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


@pytest.fixture
def final(make_document, make_user, make_org):
    """Version 1 with three comments (two answered, the suggestion taken up), version 2
    made final without comments of its own."""
    data = build(make_document, make_user, make_org)
    docs.close(data.v2, by=data.secretariat)
    docs.finalize(data.v2, by=data.secretariat, override_reason="The mandate ends.")
    db.session.commit()
    return data


# ---------------------------------------------------------------- the final text's story


def test_the_report_of_a_final_text_without_comments_covers_the_rounds_before(final, client):
    r = views.report(final.v2)
    assert r.scope == "consultation"
    assert (r.comments, r.answered, r.organisations, r.suggestions) == (3, 2, 2, 1)
    assert (r.taken_up, r.partly, r.not_taken_up, r.flags) == (1, 0, 0, 0)
    [v1, v2] = r.rounds
    assert (v1.version.number, v1.comments, v1.answered, v1.taken_up) == (1, 3, 2, 1)
    assert v2.comments == 0
    # Version 1's own report is about version 1 alone.
    assert views.report(final.v1).scope == "version"

    page = text_of(client.get(f"/documents/{final.doc.slug}/versions/2/report"))
    assert "took no comments of its own" in page
    assert "3 from 2 organisations" in page and "Round by round" in page
    assert "In all 3 2 2 1 1 0 0 0" in page
    # Asked for, an open version's report covers every round too.
    whole = text_of(client.get(f"/documents/{final.doc.slug}/versions/1/report?scope=consultation"))
    assert "Round by round" in whole


def test_the_report_counts_do_not_grow_with_the_comments(final, count_queries):
    def statements() -> int:
        db.session.expire_all()
        with count_queries() as seen:
            views.report(final.v2)
        return len(seen)

    before = statements()
    for i in range(6):
        cs.post_comment(
            version=final.v1,
            paragraph=final.v1.paragraphs[2],
            organisation=final.orgs[1],
            kind="comment",
            body=f"Another remark {i}.",
            by=final.secretariat,
            channel="email",
            on_behalf=True,
        )
    db.session.commit()
    assert statements() == before
    assert views.report(final.v2).comments == 9


def test_the_document_page_says_whether_the_input_was_considered(final, client):
    page = client.get(f"/documents/{final.doc.slug}").get_data(as_text=True)
    line = text_of_html(page, "considered")
    assert "Was the input considered?" in line
    assert "3 comments from 2 organisations on version 1:" in line
    assert "2 answered" in line and "(1 waiting)" in line
    assert "1 taken up" in line and "0 partly" in line and "0 not" in line
    assert "0 flagged" in line
    report = f"/documents/{final.doc.slug}/versions/2/report?scope=consultation"
    assert f'href="{report}#by-uptake-cap"' in page.replace("&amp;", "&")
    assert f'href="{report}#flags"' in page.replace("&amp;", "&")


def text_of_html(page: str, element_id: str) -> str:
    m = re.search(rf'<p class="considered" id="{element_id}">(.*?)</p>', page, re.S)
    assert m, "the line is on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1)))


def test_no_line_before_any_comment(make_document, client):
    doc = make_document("consultation")
    assert "Was the input considered?" not in client.get(f"/documents/{doc.slug}").get_data(
        as_text=True
    )


# ---------------------------------------------------------------- the document's kind


def test_the_new_document_form_takes_a_kind_and_makes_the_slug(client, as_user, make_user):
    as_user(make_user("secretariat"))
    form = client.get("/documents/new").get_data(as_text=True)
    assert 'name="kind"' in form and "Policy framework" in form
    resp = client.post(
        "/documents/new",
        data={
            "title": "Regional Guidance on Hearings",
            "kind": "guidance",
            "slug": "",
            "timezone": "Asia/Yangon",
        },
    )
    assert resp.status_code == 302
    doc = db.session.scalar(select(Document).where(Document.title.like("Regional Guidance%")))
    assert (doc.slug, doc.kind) == ("regional-guidance-on-hearings", "guidance")
    # The same title again gets a free address.
    client.post(
        "/documents/new",
        data={"title": "Regional Guidance on Hearings", "kind": "plan", "timezone": "UTC"},
    )
    assert (
        db.session.scalar(
            select(Document.kind).where(Document.slug == "regional-guidance-on-hearings-2")
        )
        == "plan"
    )
    page = client.get("/documents/regional-guidance-on-hearings").get_data(as_text=True)
    assert "Guidance" in page


def test_new_document_errors_stand_next_to_their_field(client, as_user, make_user):
    as_user(make_user("secretariat"))
    resp = client.post(
        "/documents/new", data={"title": "", "slug": "Bad Slug!", "timezone": "Mars/Olympus"}
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    for name in ("title", "timezone"):
        box = re.search(rf'<(?:input)[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in box
        assert f"{name}-error" in box  # aria-describedby names the error
        assert f'id="{name}-error"' in page
    assert "is not a time zone name" in page
    hint = re.search(r'<input[^>]*name="slug"[^>]*>', page).group(0)
    assert 'aria-describedby="slug-hint"' in hint

    taken = client.post(
        "/documents/new", data={"title": "Taken", "slug": "taken-one", "timezone": "UTC"}
    )
    assert taken.status_code == 302
    again = client.post(
        "/documents/new", data={"title": "Taken", "slug": "taken-one", "timezone": "UTC"}
    )
    assert again.status_code == 409
    box = re.search(r'<input[^>]*name="slug"[^>]*>', again.get_data(as_text=True)).group(0)
    assert 'aria-invalid="true"' in box and "slug-error" in box


def test_the_api_and_the_cli_set_the_kind(client, make_user, runner, tmp_path):
    sec = make_user("secretariat")
    resp = client.post(
        "/api/v1/documents",
        json={"title": "National Action Plan", "kind": "plan"},
        headers=bearer(sec),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["slug"], body["kind"]) == ("national-action-plan", "plan")
    read = client.get("/api/v1/documents/national-action-plan", headers=bearer(sec))
    assert read.get_json()["kind"] == "plan"
    bad = client.post(
        "/api/v1/documents", json={"title": "X y z", "kind": "poem"}, headers=bearer(sec)
    )
    assert bad.status_code == 400
    cso = make_user("cso")
    assert (
        client.post("/api/v1/documents", json={"title": "Nope"}, headers=bearer(cso)).status_code
        == 403
    )

    text = tmp_path / "law.md"
    text.write_text(SAMPLE, encoding="utf-8")
    r = runner.invoke(args=["import-version", "model-law", str(text), "--kind", "law"])
    assert r.exit_code == 0, r.output
    assert db.session.scalar(select(Document.kind).where(Document.slug == "model-law")) == "law"
    r = runner.invoke(args=["import-version", "model-law-2", str(text), "--kind", "poem"])
    assert r.exit_code != 0 and "poem" in r.output


def test_pdf_covers_name_the_document_kind(final):
    from consult.exports import resolution

    final.doc.kind = "framework"
    db.session.commit()
    cover = PdfReader(io.BytesIO(resolution.version_pdf(final.v2))).pages[0].extract_text()
    assert "THE POLICY FRAMEWORK" in cover.upper()
    assert "THE RESOLUTION" not in cover.upper()
    final.doc.kind = "guidance"
    db.session.commit()
    from docx import Document as WordDocument

    word = WordDocument(io.BytesIO(resolution.version_docx(final.v1)))
    assert word.paragraphs[1].text.startswith("Guidance · Version 1")


# ---------------------------------------------------------------- the demo


def test_the_demo_has_a_chair_and_a_drafter_who_are_not_the_secretariat(runner):
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0, r.output
    doc = docs.get_document("aipa-cso-framework")
    assert doc.kind == "framework"
    members = {
        m.user.email: (m.role, m.user.role)
        for m in db.session.scalars(
            select(CommitteeMember).where(CommitteeMember.document_id == doc.id)
        )
    }
    assert members["maria.lim@example.org"] == ("chair", "committee")
    assert members["somchai.rattanakul@example.org"] == ("drafter", "committee")
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "`maria.lim@example.org`" in readme and "`somchai.rattanakul@example.org`" in readme
    # The demo's numbers agree: the final text's report, round by round, is the change
    # summary of the version after each round.
    from consult.tracing.summary import change_summary

    v3 = doc.versions[-1]
    r3 = views.report(v3)
    assert r3.scope == "consultation" and r3.comments == 72
    for one in r3.rounds:
        if not one.comments:
            continue
        after = one.version.neighbour(1)
        s = change_summary(after)
        assert (s.comments, s.answered, s.suggestions, s.taken_up, s.partly) == (
            one.comments,
            one.answered,
            one.suggestions,
            one.taken_up,
            one.partly,
        )


def test_slug_from_title_folds_and_refuses_empty():
    assert docs.slug_from_title("Cadre d’action — Été 2027") == "cadre-d-action-ete-2027"
    from consult.errors import ConsultError

    with pytest.raises(ConsultError):
        docs.slug_from_title("—")


def test_the_exported_report_of_a_final_text_shows_the_rounds_before(final):
    from docx import Document as WordDocument

    from consult.exports import report

    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(report.report_pdf(final.v2))).pages
    )
    flat = re.sub(r"\s+", " ", text)
    assert "The consultation that led to this text" in flat
    assert "Version 1 — First draft 3 2 2 1 1 0 0 0" in flat
    word = WordDocument(io.BytesIO(report.report_docx(final.v2)))
    assert any(p.text == "The consultation that led to this text" for p in word.paragraphs)
    cells = [c.text for c in word.tables[0].rows[1].cells]
    assert cells == ["Version 1 — First draft", "3", "2", "2", "1", "1", "0", "0", "0"]
    # Version 1's own report lists its comments, without the rounds section.
    assert (
        "The consultation that led"
        not in PdfReader(io.BytesIO(report.report_pdf(final.v1))).pages[0].extract_text()
    )
