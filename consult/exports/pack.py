"""The offline consultation pack and the import of returned response forms.

The pack (PDF and Word) holds the version with its paragraph numbers, how to respond,
the deadline and a response form: one row per comment with the organisation, the
paragraph number, the comment and the suggested wording. Organisations fill in the
Word form (or a CSV file with the same columns) and send it back; the secretariat
imports it as comments entered on behalf of each organisation. Every row is checked
first; when any row is wrong nothing is stored and each error names its row.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from consult import textpolicy
from consult.accounts.models import Organisation, User
from consult.consultation.models import CHANNELS, Comment
from consult.consultation.services import checked_text, post_comment
from consult.documents.models import Paragraph, Version
from consult.errors import ConsultError
from consult.exports.common import add_footer, mark_version, new_docx, render_pdf, save_docx
from consult.exports.resolution import write_paragraphs
from consult.extensions import db
from consult.textpolicy import printable
from consult.web import format_dt

#: The response form's columns, in the Word table and in a CSV file.
FORM_COLUMNS = ("Organisation", "Paragraph number", "Comment", "Suggested wording")
#: Empty rows of the form: in Word (rows grow as people type) and in the PDF, whose rows
#: are tall enough to write in by hand and should all fit the form's one A4 page.
FORM_ROWS = 8
PRINTED_FORM_ROWS = 5
WHOLE = {"", "-", "—", "whole", "all", "general", "the version as a whole", "version"}
MAX_ROWS = 500


def deadline_text(version: Version) -> str:
    tz = version.document.timezone
    if version.state == "consultation" and version.closes_at:
        return f"Comments close on {format_dt(version.closes_at, tz)}."
    if version.closed_at:
        return (
            f"Comments closed on {format_dt(version.closed_at, tz)}; the secretariat may still "
            "accept a late paper response."
        )
    return "This version is not open for comments."


def how_to_respond(version: Version) -> list[str]:
    return [
        "Read the text: every paragraph has a number in the margin (e.g. 2.3).",
        "Use one row of the response form per comment: your organisation's name, the "
        "paragraph number (leave it empty for a comment on the whole text), your comment "
        "and, if you propose other wording, the full replacement wording for that "
        "paragraph.",
        "Add rows as needed, or send a CSV file with the columns "
        + ", ".join(f"“{c}”" for c in FORM_COLUMNS)
        + ".",
        "Return the form to the secretariat by e-mail, by post or at a workshop. It is "
        "entered on your organisation's behalf and published with the other comments; the "
        "committee answers every comment.",
        deadline_text(version),
    ]


def pack_pdf(version: Version) -> bytes:
    return render_pdf(
        "exports/print_pack.html",
        version=version,
        title=_(
            "Consultation pack — %(title)s — %(title2)s",
            title=version.document.title,
            title2=version.title,
        ),
        paragraphs=version.paragraphs,
        howto=how_to_respond(version),
        columns=FORM_COLUMNS,
        form_rows=PRINTED_FORM_ROWS,
    )


def pack_docx(version: Version) -> bytes:
    doc = version.document
    d = new_docx(
        version,
        _("Consultation pack — %(title)s — %(title2)s", title=doc.title, title2=version.title),
    )
    d.add_paragraph(printable(doc.title), style="Title")
    d.add_paragraph(
        printable(_("Consultation pack: %(title)s", title=version.title)), style="Subtitle"
    )
    d.add_heading(_("How to respond"), level=1)
    for line in how_to_respond(version):
        d.add_paragraph(printable(line), style="List Number")
    d.add_heading(_("The text"), level=1)
    write_paragraphs(d, version.paragraphs)
    d.add_page_break()
    d.add_heading(_("Response form"), level=1)
    d.add_paragraph(
        printable(
            _(
                "%(title)s, %(title2)s. %(deadline_text)s One row per "
                "comment; add rows as needed (Table → Insert row).",
                title=doc.title,
                title2=version.title,
                deadline_text=deadline_text(version),
            )
        )
    )
    t = d.add_table(rows=1 + FORM_ROWS, cols=len(FORM_COLUMNS), style="Table Grid")
    for cell, label in zip(t.rows[0].cells, FORM_COLUMNS, strict=True):
        cell.text = label
        cell.paragraphs[0].runs[0].bold = True
    add_footer(d, version)
    mark_version(d, version)
    return save_docx(d)


# ------------------------------------------------------------------- returned forms


@dataclass
class FormRow:
    line: int  # the row's number in the form (1 = the first row under the header)
    organisation: str
    paragraph: str
    comment: str
    suggested: str
    # Set by check_rows: what the row was found to mean, stored as is by import_rows.
    errors: list[str] = field(default_factory=list)
    kind: str = "comment"
    found_organisation: Organisation | None = None
    found_paragraph: Paragraph | None = None  # None: the version as a whole

    def __post_init__(self) -> None:
        # A returned form is people's writing, read from a file: the text policy holds
        # (TextRefused, a ConsultError, for a NUL or a lone surrogate).
        where = _("Row %(line)s", line=self.line)
        self.organisation = textpolicy.clean(self.organisation, what=where)
        self.paragraph = textpolicy.clean(self.paragraph, what=where)
        self.comment = textpolicy.clean(self.comment, what=where)
        self.suggested = textpolicy.clean(self.suggested, what=where)

    @property
    def organisation_name(self) -> str:
        return self.found_organisation.display_name if self.found_organisation else ""

    def as_dict(self) -> dict[str, str | int]:
        return {
            "line": self.line,
            "organisation": self.organisation,
            "paragraph": self.paragraph,
            "comment": self.comment,
            "suggested": self.suggested,
        }


def _norm(s: str) -> str:
    return " ".join((s or "").split()).strip().lower()


def _rows_from_table(cells: list[list[str]]) -> list[FormRow]:
    if not cells:
        raise ConsultError(_("The file has no rows."))
    header = [_norm(c) for c in cells[0]]
    wanted = [_norm(c) for c in FORM_COLUMNS]
    missing = [c for c, w in zip(FORM_COLUMNS, wanted, strict=True) if w not in header]
    if missing:
        raise ConsultError(
            _(
                "The form's first row must name the columns %(x)s; missing: %(x2)s.",
                x=", ".join(FORM_COLUMNS),
                x2=", ".join(missing),
            )
        )
    at = [header.index(w) for w in wanted]
    rows = []
    for n, raw in enumerate(cells[1:], start=1):
        values = [(raw[i] if i < len(raw) else "").strip() for i in at]
        if not any(values):
            continue  # an empty row of the printed form
        rows.append(FormRow(n, *values))
    if len(rows) > MAX_ROWS:
        raise ConsultError(
            _(
                "A form holds at most %(MAX_ROWS)s comments; this one has %(n)s.",
                MAX_ROWS=MAX_ROWS,
                n=len(rows),
            )
        )
    if not rows:
        raise ConsultError(_("The form has no filled rows: there is nothing to import."))
    return rows


def parse_docx(blob: bytes) -> list[FormRow]:
    from docx import Document as WordDocument

    try:
        d = WordDocument(io.BytesIO(blob))
    except Exception as e:  # python-docx raises several kinds for a file that is not Word
        raise ConsultError(
            _("This is not a Word (.docx) file (%(name__)s).", name__=type(e).__name__)
        ) from None
    wanted = {_norm(c) for c in FORM_COLUMNS}
    for t in d.tables:
        cells = [[c.text for c in row.cells] for row in t.rows]
        if cells and wanted <= {_norm(c) for c in cells[0]}:
            return _rows_from_table(cells)
    raise ConsultError(
        "No response form in this Word file: no table has the columns "
        + ", ".join(FORM_COLUMNS)
        + "."
    )


def parse_csv(blob: bytes) -> list[FormRow]:
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConsultError(_("The CSV file must be UTF-8 text.")) from None
    dialect: type[csv.Dialect] = csv.excel
    with contextlib.suppress(csv.Error):  # one column, or no clear delimiter: plain CSV
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    return _rows_from_table([row for row in csv.reader(io.StringIO(text), dialect)])


def parse_returned(filename: str, blob: bytes) -> list[FormRow]:
    name = (filename or "").lower()
    if name.endswith(".docx"):
        return parse_docx(blob)
    if name.endswith(".csv") or name.endswith(".txt"):
        return parse_csv(blob)
    raise ConsultError(_("Send the filled Word form (.docx) or a CSV file (.csv)."))


def find_organisation(name: str) -> Organisation | None:
    n = _norm(name)
    if not n:
        return None
    orgs = db.session.scalars(
        select(Organisation).where(
            or_(
                func.lower(Organisation.slug) == n,
                func.lower(Organisation.name) == n,
                func.lower(Organisation.acronym) == n,
            )
        )
    ).all()
    if len(orgs) == 1:
        return orgs[0]
    for o in db.session.scalars(select(Organisation)):
        if _norm(o.display_name) == n:
            return o
    return None


def check_rows(version: Version, rows: list[FormRow]) -> bool:
    """Fill each row's errors, and what it refers to; True when every row may be stored."""
    by_number = {p.number: p for p in version.paragraphs if p.number}
    # One look-up per name: a returned form usually names one organisation on every row.
    orgs: dict[str, Organisation | None] = {}
    for r in rows:
        r.errors = []
        key = _norm(r.organisation)
        if key not in orgs:
            orgs[key] = find_organisation(r.organisation)
        r.found_organisation = orgs[key]
        if not r.organisation:
            r.errors.append("The organisation is missing.")
        elif r.found_organisation is None:
            r.errors.append(
                f"No organisation is called “{r.organisation}”: use its name, acronym or "
                "short name as registered."
            )
        number = r.paragraph.strip().rstrip(".")
        r.found_paragraph = None
        if _norm(number) not in WHOLE:
            r.found_paragraph = by_number.get(number)
            if r.found_paragraph is None:
                r.errors.append(f"{version.title} has no paragraph “{r.paragraph}”.")
        r.kind = "suggestion" if r.suggested else "comment"
        try:
            checked_text(r.kind, r.found_paragraph, r.comment, r.suggested or None, None)
        except ConsultError as e:
            r.errors.append(e.message)
    return not any(r.errors for r in rows)


def import_rows(
    version: Version,
    rows: list[FormRow],
    *,
    by: User,
    channel: str = "paper",
    received_at: datetime | None = None,
) -> list[Comment]:
    """Store every row as a comment entered on behalf of its organisation, or none:
    raises ConsultError (the caller rolls back) when any row is wrong."""
    if channel not in CHANNELS or channel == "web":
        raise ConsultError(_("Returned forms came by e-mail, on paper or at a workshop."))
    if not check_rows(version, rows):
        bad = [r for r in rows if r.errors]
        raise ConsultError(
            f"Nothing was stored: {len(bad)} row{'s' if len(bad) != 1 else ''} "
            "need correcting. " + " ".join(f"Row {r.line}: {' '.join(r.errors)}" for r in bad)
        )
    return [
        post_comment(
            version=version,
            paragraph=r.found_paragraph,
            organisation=r.found_organisation,
            kind=r.kind,
            body=r.comment,
            suggested_text=r.suggested or None,
            by=by,
            channel=channel,
            on_behalf=True,
            received_at=received_at,
        )
        for r in rows
    ]
