"""The consultation report on a version: the compilation of comments and responses that
parliamentary and UN secretariats circulate. One row per comment, grouped by paragraph,
with summary tables (by decision, by kind of organisation, by country) at the top;
as Word, PDF, CSV and Excel.

`report_rows(version)` is the one place that decides what a row holds; every format is
made from its rows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts.models import ORG_KINDS
from consult.consultation.models import DECISIONS, KINDS, Comment, Response
from consult.documents.models import Version
from consult.exports.common import (
    add_footer,
    dated_zip,
    declared_time,
    new_docx,
    render_pdf,
    save_docx,
)
from consult.exports.text import checked_markdown
from consult.extensions import db
from consult.i18n import country_name
from consult.textpolicy import printable, spreadsheet_cell
from consult.tracing.models import StoredUptake
from consult.tracing.stored import UPTAKE_LABELS, gather_inputs, measure
from consult.tracing.views import COMMENT_LOADS

HIDDEN = "[Hidden by the moderators: {reason}]"
#: Where a comment by an individual (a member of the public) has a kind of organisation.
INDIVIDUAL = "Individual (member of the public)"
#: In place of the text of a comment held for the secretariat's review of personal data.
HELD = "(Held for the secretariat's review of personal data; published once reviewed.)"
COLUMNS = (
    ("paragraph", "Paragraph"),
    ("tracking", "Comment"),
    ("organisation", "Organisation"),
    ("country", "Country"),
    ("kind", "Kind"),
    ("comment", "Comment text"),
    ("suggested", "Suggested wording"),
    ("decision", "Decision"),
    ("reason", "Reason"),
    ("uptake", "Uptake"),
)
#: In the spreadsheets (CSV, Excel), after COLUMNS: whether the comment was made for an
#: organisation or by an individual, so that a reader counts them apart.
FROM = ("from_label", "From")
ORGANISATION = "Organisation"


@dataclass
class ReportRow:
    paragraph: str  # the paragraph's number, "" for the version as a whole
    position: int  # for grouping: -1 for the version as a whole
    tracking: str
    organisation: str
    organisation_kind: str
    country: str  # ISO codes, comma-separated
    kind: str
    comment: str
    suggested: str
    decision: str  # label, "" when not answered
    reason: str
    uptake: str  # "Taken up (0.92)", "" when not measured
    uptake_score: float | None = None
    joint: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        return [getattr(self, key) for key, _ in COLUMNS]

    @property
    def from_label(self) -> str:
        return INDIVIDUAL if self.organisation_kind == INDIVIDUAL else ORGANISATION


def _uptake_cell(score: float, label: str) -> str:
    return f"{UPTAKE_LABELS.get(label, label)} ({score:.2f})"


def _uptakes(version: Version, comments: list[Comment]) -> dict[int, tuple[str, float]]:
    """The measured uptake of each suggestion: the measure stored when the next version
    was published, else (data from before the measure was stored, or imported) the same
    measure taken here, from the same inputs, when the next version is public."""
    suggestions = {c.id for c in comments if c.kind == "suggestion" and c.paragraph_id is not None}
    # The version's stored measures joined in SQL (a list of every suggestion's id would
    # pass the databases' limits on parameters); the nearest later version wins.
    out = {}
    for cid, score, label in db.session.execute(
        select(StoredUptake.comment_id, StoredUptake.score, StoredUptake.label)
        .join(Comment, Comment.id == StoredUptake.comment_id)
        .join(Version, Version.id == StoredUptake.version_id)
        .where(Comment.version_id == version.id)
        .order_by(Version.number.desc())
    ):
        if cid in suggestions:
            out[cid] = (_uptake_cell(score, label), score)
    missing = suggestions - set(out)
    if not missing:
        return out
    next_version = version.neighbour(1)
    if next_version is None or next_version.state == "draft":
        return out
    for c, inputs, diff in gather_inputs(next_version):
        if c.id in missing:
            up = measure(inputs, diff=diff)
            if up is not None:
                out[c.id] = (_uptake_cell(up.score, up.label), up.score)
    return out


def report_rows(version: Version) -> list[ReportRow]:
    """One row per comment on the version (withdrawn comments left out, hidden ones
    without their text), ordered by paragraph, then by date."""
    comments = [
        c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.version_id == version.id)
            .options(*COMMENT_LOADS, selectinload(Comment.paragraph))
            .order_by(Comment.created_at, Comment.id)
        )
        if not c.withdrawn
    ]
    uptakes = _uptakes(version, comments)
    rows = []
    for c in comments:
        # The public text: personal data masked, none while held for review (redaction).
        text = c.shown
        r: Response | None = c.response
        hidden = c.hidden_by
        held = text is None
        up, score = uptakes.get(c.id, ("", None))
        # printable: every format is XML or may be read as such, and what is stored
        # may predate the text policy (a control character would fail Word and Excel).
        p = printable
        rows.append(
            ReportRow(
                paragraph=p(c.paragraph.number) if c.paragraph else "",
                position=c.paragraph.position if c.paragraph else -1,
                tracking=p(c.tracking),
                # An individual's comment: named as the public pages name them, under no
                # kind of organisation and no country (counted apart).
                organisation=p(c.public_author),
                organisation_kind=p(
                    ORG_KINDS.get(c.organisation.kind, c.organisation.kind)
                    if c.organisation
                    else INDIVIDUAL
                ),
                country=p(", ".join(c.organisation.countries or [])) if c.organisation else "",
                kind=KINDS[c.kind],
                comment=p(
                    HIDDEN.format(reason=hidden.reason) if hidden else (HELD if held else text.body)
                ),
                suggested="" if hidden or held else p(text.suggested_text),
                decision=r.decision_label if r else "",
                reason=p(r.reason) if r else "",
                uptake=up,
                uptake_score=score,
                joint=[p(o.display_name) for o in c.joint_organisations],
            )
        )
    rows.sort(key=lambda row: row.position)  # stable: dates kept within a paragraph
    return rows


@dataclass
class Summary:
    total: int
    by_decision: list[tuple[str, int]]
    by_kind: list[tuple[str, int]]  # organisations' comments only
    by_country: list[tuple[str, int]]
    #: Comments made for organisations, and by individuals (members of the public),
    #: counted apart: from the kept counts (an aggregate), not from the rows.
    organisation_comments: int = 0
    individual_comments: int = 0

    @property
    def apart(self) -> str:
        """The organisations' and the individuals' comments, in one sentence."""
        return _(
            "From organisations: %(orgs)s; from individuals (members of the public, "
            "counted apart): %(ind)s.",
            orgs=self.organisation_comments,
            ind=self.individual_comments,
        )


def authors(version: Version) -> tuple[int, int]:
    """(comments made for organisations, comments by individuals) on the version,
    withdrawn ones left out: from the counts kept as comments arrive (tracing.counters),
    a few rows whatever the number of comments."""
    from consult.tracing import counters

    orgs = individuals = 0
    for _v, oid, n in counters.per_organisation([version.id]):
        if oid is None:
            individuals += n
        else:
            orgs += n
    return orgs, individuals


def summary(rows: list[ReportRow], version: Version | None = None) -> Summary:
    decisions = Counter(r.decision or "Not answered yet" for r in rows)
    # Individuals are no kind of organisation: counted apart (Summary.apart).
    kinds = Counter(r.organisation_kind for r in rows if r.organisation_kind != INDIVIDUAL)
    countries = Counter(cc.strip() for r in rows for cc in r.country.split(",") if cc.strip())
    orgs, individuals = authors(version) if version is not None else (len(rows), 0)
    return Summary(
        total=len(rows),
        by_decision=[(_(label), decisions.get(label, 0)) for label in DECISIONS.values()]
        + [(_("Not answered yet"), decisions.get("Not answered yet", 0))],
        by_kind=sorted(((_(k), n) for k, n in kinds.items()), key=lambda x: (-x[1], x[0])),
        by_country=sorted(
            ((country_name(c), n) for c, n in countries.items()), key=lambda x: (-x[1], x[0])
        ),
        organisation_comments=orgs,
        individual_comments=individuals,
    )


def grouped(rows: list[ReportRow]) -> list[tuple[str, list[ReportRow]]]:
    groups: list[tuple[str, list[ReportRow]]] = []
    for r in rows:
        if groups and groups[-1][0] == r.paragraph:
            groups[-1][1].append(r)
        else:
            groups.append((r.paragraph, [r]))
    return groups


def _paragraph_texts(version: Version) -> dict[str, str]:
    return {printable(p.number): printable(p.text) for p in version.paragraphs if p.number}


def _group_title(number: str) -> str:
    return _("Paragraph %(number)s", number=number) if number else _("The version as a whole")


def report_csv(version: Version) -> bytes:
    checked_markdown(version)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([label for _, label in COLUMNS] + [FROM[1]])
    for r in report_rows(version):
        w.writerow([spreadsheet_cell(c) for c in r.cells()] + [r.from_label])
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the accents


def report_xlsx(version: Version) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.writer.excel import ExcelWriter

    checked_markdown(version)
    rows = report_rows(version)
    s = summary(rows, version)

    def append(sheet, values) -> None:
        # openpyxl stores text starting with "=" as a formula: every cell is neutralised.
        # Excel files are XML: titles and labels go through printable as the rows did.
        sheet.append([spreadsheet_cell(printable(v) if isinstance(v, str) else v) for v in values])

    wb = Workbook()
    wb.properties.created = wb.properties.modified = declared_time(version).replace(tzinfo=None)
    wb.properties.title = printable(
        _(
            "Consultation report — %(title)s — %(title2)s",
            title=version.document.title,
            title2=version.title,
        )
    )
    ws = wb.active
    ws.title = "Summary"
    bold = Font(bold=True)
    append(ws, [version.document.title])
    ws["A1"].font = Font(bold=True, size=14)
    append(ws, [f"Consultation report on {version.title}: {s.total} comments"])
    if s.individual_comments:
        append(ws, [s.apart])
    for title, counts, first in (
        ("By decision", s.by_decision, "Decision"),
        ("By kind of organisation", s.by_kind, "Kind of organisation"),
        ("By country", s.by_country, "Country"),
    ):
        append(ws, [])
        append(ws, [title])
        ws.cell(ws.max_row, 1).font = bold
        append(ws, [first, "Comments"])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for label, n in counts:
            append(ws, [label, n])
    ws.column_dimensions["A"].width = 34
    data = wb.create_sheet("Comments")
    append(data, [label for _, label in COLUMNS] + ["Uptake score", FROM[1]])
    for cell in data[1]:
        cell.font = bold
    for r in rows:
        append(data, r.cells() + [r.uptake_score, r.from_label])
    widths = (10, 16, 30, 10, 12, 60, 50, 16, 50, 20, 12, 16)
    for i, width in enumerate(widths):
        data.column_dimensions[chr(ord("A") + i)].width = width
    for row in data.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    data.freeze_panes = "A2"
    data.auto_filter.ref = data.dimensions
    # Workbook.save would set "modified" to the clock; the writer keeps the declared time.
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    return dated_zip(buf.getvalue(), declared_time(version))


def consultation_before(version: Version):
    """For a version that took no comments of its own (a final text): the consultation
    that led to it, in all and round by round (aggregate queries), else None."""
    from consult.tracing.views import report

    whole = report(version)
    return whole if whole.scope == "consultation" and whole.comments else None


def report_pdf(version: Version) -> bytes:
    rows = report_rows(version)
    whole = consultation_before(version)
    return render_pdf(
        "exports/print_report.html",
        version=version,
        title=_(
            "Consultation report — %(title)s — %(title2)s",
            title=version.document.title,
            title2=version.title,
        ),
        summary=summary(rows, version),
        groups=grouped(rows),
        texts=_paragraph_texts(version),
        group_title=_group_title,
        whole=whole,
        rounds=whole.rounds if whole else [],
    )


def report_docx(version: Version) -> bytes:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    rows = report_rows(version)
    s = summary(rows, version)
    doc = version.document
    d = new_docx(
        version,
        _("Consultation report — %(title)s — %(title2)s", title=doc.title, title2=version.title),
    )
    sec = d.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21)
    sec.left_margin = sec.right_margin = Cm(1.5)
    d.add_paragraph(printable(doc.title), style="Title")
    d.add_paragraph(
        printable(_("Consultation report on %(title)s", title=version.title)), style="Subtitle"
    )
    d.add_paragraph(
        _(
            "%(total)s comment%(x)s, one row each, grouped by paragraph, "
            "with the committee's decision and reason and the measured "
            "uptake of suggestions (how much of the asked-for change "
            "appears in the next version).",
            total=s.total,
            x="s" if s.total != 1 else "",
        )
    )
    if s.individual_comments:
        d.add_paragraph(s.apart)
    whole = consultation_before(version)
    if whole is not None:
        d.add_heading(_("The consultation that led to this text"), level=1)
        d.add_paragraph(
            printable(
                _(
                    "%(title)s took no comments of its own. It was drafted from "
                    "these rounds of comments; each round has its own report, "
                    "with one row per comment.",
                    title=version.title,
                )
            )
        )
        apart = bool(whole.individual_comments)  # individuals' comments counted apart
        heads = ("Round", "Comments", "Organisations")
        heads += ("From organisations", "From individuals") if apart else ()
        heads += ("Answered", "Suggestions", "Taken up", "Partly", "Not taken up", "Flagged")
        t = d.add_table(rows=1, cols=len(heads), style="Table Grid")
        for cell, label in zip(t.rows[0].cells, heads, strict=True):
            cell.text = label
        for one in [*(r for r in whole.rounds if r.comments), whole]:
            values = [
                printable(one.version.title) if one is not whole else "In all",
                one.comments,
                one.organisations,
                *((one.organisation_comments, one.individual_comments) if apart else ()),
                one.answered,
                one.suggestions,
                one.taken_up,
                one.partly,
                one.not_taken_up,
                one.flags,
            ]
            for cell, value in zip(t.add_row().cells, values, strict=True):
                cell.text = str(value)
    d.add_heading(_("Summary"), level=1)
    for title, counts, first in (
        ("By decision", s.by_decision, "Decision"),
        ("By kind of organisation", s.by_kind, "Kind of organisation"),
        ("By country", s.by_country, "Country"),
    ):
        d.add_heading(title, level=2)
        t = d.add_table(rows=1, cols=2, style="Table Grid")
        t.rows[0].cells[0].text, t.rows[0].cells[1].text = first, "Comments"
        for label, n in counts:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = label, str(n)
    d.add_heading(_("Comments by paragraph"), level=1)
    texts = _paragraph_texts(version)
    columns = COLUMNS[1:]
    for number, group in grouped(rows):
        d.add_heading(_group_title(number), level=2)
        if number in texts:
            d.add_paragraph(texts[number], style="Quote")
        t = d.add_table(rows=1, cols=len(columns), style="Table Grid")
        for cell, (_key, label) in zip(t.rows[0].cells, columns, strict=True):
            cell.text = label
            cell.paragraphs[0].runs[0].bold = True
        for r in group:
            cells = t.add_row().cells
            for cell, (key, _label) in zip(cells, columns, strict=True):
                cell.text = getattr(r, key)
        for row in t.rows:
            for cell in row.cells:
                for para in cell.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(8)
    add_footer(d, version)
    return save_docx(d)
