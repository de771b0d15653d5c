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
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts.models import ORG_KINDS
from consult.consultation.models import DECISIONS, KINDS, Comment, Response
from consult.documents.models import Version
from consult.documents.services import successors
from consult.exports.common import add_footer, new_docx, render_pdf, save_docx, stamp
from consult.exports.text import checked_markdown
from consult.extensions import db
from consult.tracing.uptake import uptake as measure_uptake

UPTAKE_LABELS = {
    "taken_up": "Taken up",
    "partly": "Partly taken up",
    "not_taken_up": "Not taken up",
}
HIDDEN = "[Hidden by the moderators: {reason}]"
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


def is_public(c: Comment) -> bool:
    """Whether the comment's text may leave the application: not hidden by moderators."""
    return not getattr(c, "is_hidden", False)


def _uptake_of(c: Comment, stored, next_version: Version | None) -> tuple[str, float | None]:
    """The measured uptake: the stored measure when there is one, else measured here
    against the successor paragraphs (found by lineage) in the next published version."""
    if c.kind != "suggestion" or c.paragraph is None:
        return "", None
    if stored is not None:
        score, label = stored.score, stored.label
    else:
        if next_version is None or next_version.state == "draft":
            return "", None
        text = c.current
        succ = [p.text for p in successors(c.paragraph) if p.version_id == next_version.id]
        try:
            up = measure_uptake(
                c.paragraph.text,
                text.suggested_text or "",
                succ,
                quote=text.quote,
                quote_start=text.quote_start,
            )
        except ValueError:
            up = measure_uptake(c.paragraph.text, text.suggested_text or "", succ)
        score, label = up.score, up.label
    return f"{UPTAKE_LABELS.get(label, label)} ({score:.2f})", score


def report_rows(version: Version) -> list[ReportRow]:
    """One row per comment on the version (withdrawn comments left out, hidden ones
    without their text), ordered by paragraph, then by date."""
    from consult.tracing.stored import latest_uptake

    comments = [
        c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.version_id == version.id)
            .options(
                selectinload(Comment.organisation),
                selectinload(Comment.paragraph),
                selectinload(Comment.responses),
                selectinload(Comment.revisions),
            )
            .order_by(Comment.created_at, Comment.id)
        )
        if not c.withdrawn
    ]
    stored = latest_uptake(c.id for c in comments)
    next_version = db.session.scalar(
        select(Version).where(
            Version.document_id == version.document_id, Version.number == version.number + 1
        )
    )
    rows = []
    for c in comments:
        text = c.current
        r: Response | None = c.response
        public = is_public(c)
        up, score = _uptake_of(c, stored.get(c.id), next_version)
        reason = c.hidden_by.reason if not public else ""
        rows.append(
            ReportRow(
                paragraph=c.paragraph.number if c.paragraph else "",
                position=c.paragraph.position if c.paragraph else -1,
                tracking=c.tracking,
                organisation=c.organisation.display_name,
                organisation_kind=ORG_KINDS.get(c.organisation.kind, c.organisation.kind),
                country=", ".join(c.organisation.countries or []),
                kind=KINDS[c.kind],
                comment=text.body if public else HIDDEN.format(reason=reason),
                suggested=(text.suggested_text or "") if public else "",
                decision=r.decision_label if r else "",
                reason=r.reason if r else "",
                uptake=up,
                uptake_score=score,
                joint=[o.display_name for o in c.joint_organisations],
            )
        )
    rows.sort(key=lambda row: row.position)  # stable: dates kept within a paragraph
    return rows


@dataclass
class Summary:
    total: int
    by_decision: list[tuple[str, int]]
    by_kind: list[tuple[str, int]]
    by_country: list[tuple[str, int]]


def summary(rows: list[ReportRow]) -> Summary:
    decisions = Counter(r.decision or "Not answered yet" for r in rows)
    kinds = Counter(r.organisation_kind for r in rows)
    countries = Counter(cc.strip() for r in rows for cc in r.country.split(",") if cc.strip())
    return Summary(
        total=len(rows),
        by_decision=[(label, decisions.get(label, 0)) for label in DECISIONS.values()]
        + [("Not answered yet", decisions.get("Not answered yet", 0))],
        by_kind=sorted(kinds.items(), key=lambda x: (-x[1], x[0])),
        by_country=sorted(countries.items(), key=lambda x: (-x[1], x[0])),
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
    return {p.number: p.text for p in version.paragraphs if p.number}


def _group_title(number: str) -> str:
    return f"Paragraph {number}" if number else "The version as a whole"


def report_csv(version: Version) -> bytes:
    checked_markdown(version)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([label for _, label in COLUMNS])
    for r in report_rows(version):
        w.writerow(r.cells())
    return buf.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the accents


def report_xlsx(version: Version) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from consult.exports.common import declared_time

    checked_markdown(version)
    rows = report_rows(version)
    s = summary(rows)
    wb = Workbook()
    wb.properties.created = wb.properties.modified = declared_time(version).replace(tzinfo=None)
    wb.properties.title = f"Consultation report — {version.document.title} — {version.title}"
    ws = wb.active
    ws.title = "Summary"
    bold = Font(bold=True)
    ws.append([version.document.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"Consultation report on {version.title}: {s.total} comments"])
    for title, counts, first in (
        ("By decision", s.by_decision, "Decision"),
        ("By kind of organisation", s.by_kind, "Kind of organisation"),
        ("By country", s.by_country, "Country"),
    ):
        ws.append([])
        ws.append([title])
        ws.cell(ws.max_row, 1).font = bold
        ws.append([first, "Comments"])
        for cell in ws[ws.max_row]:
            cell.font = bold
        for label, n in counts:
            ws.append([label, n])
    ws.column_dimensions["A"].width = 34
    data = wb.create_sheet("Comments")
    data.append([label for _, label in COLUMNS] + ["Uptake score"])
    for cell in data[1]:
        cell.font = bold
    for r in rows:
        data.append(r.cells() + [r.uptake_score])
    widths = (10, 16, 30, 10, 12, 60, 50, 16, 50, 20, 12)
    for i, width in enumerate(widths):
        data.column_dimensions[chr(ord("A") + i)].width = width
    for row in data.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    data.freeze_panes = "A2"
    data.auto_filter.ref = data.dimensions
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def report_pdf(version: Version) -> bytes:
    rows = report_rows(version)
    return render_pdf(
        "exports/print_report.html",
        version=version,
        title=f"Consultation report — {version.document.title} — {version.title}",
        summary=summary(rows),
        groups=grouped(rows),
        texts=_paragraph_texts(version),
        group_title=_group_title,
    )


def report_docx(version: Version) -> bytes:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    rows = report_rows(version)
    s = summary(rows)
    doc = version.document
    st = stamp(version)
    d = new_docx(version, f"Consultation report — {doc.title} — {version.title}")
    sec = d.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21)
    sec.left_margin = sec.right_margin = Cm(1.5)
    d.add_paragraph(doc.title, style="Title")
    d.add_paragraph(f"Consultation report on {version.title}", style="Subtitle")
    d.add_paragraph(
        f"{s.total} comment{'s' if s.total != 1 else ''}, one row each, grouped by paragraph, "
        "with the committee's decision and reason and the measured uptake of suggestions "
        "(how much of the asked-for change appears in the next version)."
    )
    d.add_heading("Summary", level=1)
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
    d.add_heading("Comments by paragraph", level=1)
    texts = _paragraph_texts(version)
    columns = COLUMNS[1:]
    for number, group in grouped(rows):
        d.add_heading(_group_title(number), level=2)
        if number in texts:
            d.add_paragraph(texts[number], style="Quote")
        t = d.add_table(rows=1, cols=len(columns), style="Table Grid")
        for cell, (_, label) in zip(t.rows[0].cells, columns, strict=True):
            cell.text = label
            cell.paragraphs[0].runs[0].bold = True
        for r in group:
            cells = t.add_row().cells
            for cell, (key, _) in zip(cells, columns, strict=True):
                cell.text = getattr(r, key)
        for row in t.rows:
            for cell in row.cells:
                for para in cell.paragraphs:
                    for run in para.runs:
                        run.font.size = Pt(8)
    add_footer(d, version, st)
    return save_docx(d)
