"""The offline consultation pack, the import of returned forms, and the version page's
download list with its routes."""

from __future__ import annotations

import io

from docx import Document as WordDocument
from flask import g
from pypdf import PdfReader
from sqlalchemy import func, select

from consult.consultation.models import Comment
from consult.exports import pack
from consult.extensions import db

from .exports_data import build


def filled_form(blob: bytes, rows: list[tuple[str, str, str, str]]) -> bytes:
    """The pack's Word file with its response form filled in, as an organisation would."""
    d = WordDocument(io.BytesIO(blob))
    table = d.tables[-1]
    for row, values in zip(table.rows[1:], rows, strict=False):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def comment_count() -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def test_pack_pdf_and_docx_have_text_how_to_respond_deadline_and_form(
    make_document, make_user, make_org
):
    data = build(make_document, make_user, make_org)
    pdf = PdfReader(io.BytesIO(pack.pack_pdf(data.v2)))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "How to respond" in text and "Response form" in text
    assert "Comments close on" in text
    assert "1.1 Parliaments engage civil society openly, early and in good faith." in text
    assert "Organisation Paragraph number Comment Suggested wording" in text
    assert "Response form" in pdf.pages[-1].extract_text()  # the form on its own page

    d = WordDocument(io.BytesIO(pack.pack_docx(data.v2)))
    paras = [(p.style.name, p.text) for p in d.paragraphs]
    assert ("Heading 1", "How to respond") in paras and ("Heading 1", "Response form") in paras
    assert any(t.startswith("Comments close on") for s, t in paras if s == "List Number")
    assert ("Numbered Paragraph", "1.2\tEvery submission receives a written, public answer.") in (
        paras
    )
    form = d.tables[-1]
    assert [c.text for c in form.rows[0].cells] == list(pack.FORM_COLUMNS)
    assert len(form.rows) == 1 + pack.FORM_ROWS


def test_returned_word_form_preview_then_store(client, login, make_document, make_user, make_org):
    data = build(make_document, make_user, make_org)
    login(data.secretariat)
    blob = filled_form(
        pack.pack_docx(data.v2),
        [
            ("ILT", "1.1", "Say who is consulted.", ""),
            (
                "Southeast Asia Disability Rights Alliance",
                "2.3",
                "Add sign language.",
                "Online consultations on every draft, with sign language.",
            ),
            ("seadra", "", "A clear text overall.", ""),
        ],
    )
    url = f"/documents/{data.doc.slug}/versions/2/returned-forms"
    assert client.get(url).status_code == 200
    before = comment_count()
    resp = client.post(
        url,
        data={"channel": "paper", "received_on": "", "file": (io.BytesIO(blob), "form.docx")},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "3 rows in the file" in page and "Store these 3 comments" in page
    assert "Institute for Legislative Transparency (ILT)" in page and "OK (suggestion)" in page
    assert comment_count() == before  # a preview stores nothing

    import re

    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', page).group(1)
    from html import unescape

    resp = client.post(
        url, data={"channel": "paper", "received_on": "", "rows": unescape(rows), "store": "y"}
    )
    assert resp.status_code == 302
    assert comment_count() == before + 3
    stored = db.session.scalars(
        select(Comment).where(Comment.version_id == data.v2.id).order_by(Comment.id)
    ).all()
    assert [
        (c.organisation.slug, c.paragraph.number if c.paragraph else None, c.kind) for c in stored
    ] == [
        ("ilt", "1.1", "comment"),
        ("seadra", "2.3", "suggestion"),
        ("seadra", None, "comment"),
    ]
    assert all(c.channel == "paper" and c.entered_by_id == data.secretariat.id for c in stored)
    assert stored[1].suggested_text == "Online consultations on every draft, with sign language."


def test_returned_csv_with_a_bad_row_stores_nothing(
    client, login, make_document, make_user, make_org
):
    data = build(make_document, make_user, make_org)
    login(data.secretariat)
    csv_text = (
        "Organisation,Paragraph number,Comment,Suggested wording\r\n"
        "ILT,1.1,Fine.,\r\n"
        "Nobody Org,1.1,Who are we?,\r\n"
        "ILT,7.7,No such paragraph.,\r\n"
        "ILT,1.2,,\r\n"
    )
    before = comment_count()
    resp = client.post(
        f"/documents/{data.doc.slug}/versions/2/returned-forms",
        data={"channel": "email", "file": (io.BytesIO(csv_text.encode()), "forms.csv")},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Nothing was stored" in page and "Store these" not in page
    assert "No organisation is called “Nobody Org”" in page
    assert "Version 2 — Second draft has no paragraph “7.7”" in page
    assert "The comment is empty." in page
    assert comment_count() == before
    # The service refuses the same rows as a whole.
    rows = pack.parse_csv(csv_text.encode())
    try:
        pack.import_rows(data.v2, rows, by=data.secretariat, channel="email")
    except Exception as e:  # noqa: BLE001 - checked below
        assert "Row 2:" in str(e) and "Row 3:" in str(e) and "Row 4:" in str(e)
        assert "Row 1:" not in str(e)
    else:
        raise AssertionError("invalid rows were stored")
    db.session.rollback()
    assert comment_count() == before


def test_returned_forms_are_for_the_secretariat(client, login, make_document, make_user, make_org):
    data = build(make_document, make_user, make_org)
    url = f"/documents/{data.doc.slug}/versions/2/returned-forms"
    assert client.get(url).status_code in (302, 401, 403)
    login(data.member)
    assert client.get(url).status_code == 403
    resp = client.post(
        url,
        data={"channel": "paper", "file": (io.BytesIO(b"x"), "form.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 403


def test_version_page_lists_downloads_and_each_route_serves_its_file(
    client, make_document, make_user, make_org
):
    data = build(make_document, make_user, make_org)
    slug = data.doc.slug
    page = client.get(f"/documents/{slug}/versions/2").get_data(as_text=True)
    for fmt in (
        "pdf",
        "docx",
        "akn",
        "changes-pdf",
        "changes-docx",
        "report-pdf",
        "report-docx",
        "report-csv",
        "report-xlsx",
        "pack-pdf",
        "pack-docx",
        "opendata",
    ):
        assert f'href="/documents/{slug}/versions/2/export/{fmt}"' in page
    assert "returned-forms" not in page  # only the secretariat imports forms
    page1 = client.get(f"/documents/{slug}/versions/1").get_data(as_text=True)
    assert "export/changes-pdf" not in page1  # nothing before version 1

    resp = client.get(f"/documents/{slug}/versions/2/export/report-xlsx")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert resp.headers["Content-Disposition"] == (f'attachment; filename="{slug}-v2-report.xlsx"')
    resp = client.get(f"/documents/{slug}/versions/2/export/akn")
    assert resp.status_code == 200 and b"<akomaNtoso" in resp.data
    assert (
        client.get(f"/documents/{slug}/versions/2/export/opendata").headers["Content-Disposition"]
        == f'attachment; filename="{slug}-opendata.zip"'
    )
    resp = client.get(f"/documents/{slug}/versions/1/export/changes-docx")
    assert resp.status_code == 400 and "no earlier version" in resp.get_data(as_text=True)
    assert client.get(f"/documents/{slug}/versions/2/export/odt").status_code == 400
    assert client.get(f"/documents/{slug}/versions/9/export/pdf").status_code == 404


def test_a_draft_is_exported_only_for_the_secretariat(client, login, make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("draft", by=sec)
    assert client.get(f"/documents/{doc.slug}/versions/1/export/docx").status_code == 404
    g.pop("_login_user", None)  # the test's app context outlives the request
    login(sec)
    resp = client.get(f"/documents/{doc.slug}/versions/1/export/docx")
    assert resp.status_code == 200
    d = WordDocument(io.BytesIO(resp.data))
    assert "Draft: not published" in "\n".join(p.text for p in d.sections[0].footer.paragraphs)


def test_checking_rows_looks_each_organisation_up_once(
    make_document, make_user, make_org, count_queries
):
    data = build(make_document, make_user, make_org)
    counts = []
    for n in (1, 20):
        rows = [pack.FormRow(i, "ILT", "1.1", "Fine.", "") for i in range(1, n + 1)]
        db.session.expire_all()
        with count_queries() as statements:
            assert pack.check_rows(data.v2, rows)
        counts.append(len(statements))
        assert all(
            r.organisation_name == "Institute for Legislative Transparency (ILT)" for r in rows
        )
    assert counts[0] == counts[1]
