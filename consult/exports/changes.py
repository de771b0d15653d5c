"""Tracked changes between a version and the one before it, for committees that
review on paper: a PDF with insertions and deletions marked, and a Word file with
real revision marks (w:ins / w:del), which Word shows as tracked changes and can
accept or reject one by one.

The comparison is tracing.services.compare_versions (by lineage, word diffs).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from consult.documents.models import Version
from consult.errors import ConsultError
from consult.exports.common import add_footer, declared_time, new_docx, render_pdf, save_docx
from consult.exports.resolution import add_block
from consult.exports.text import checked_markdown
from consult.textpolicy import printable
from consult.tracing.diff import diff_html, diff_stats
from consult.tracing.services import ComparedParagraph, compare_versions
from consult.tracing.summary import count_changes

RELATION_NOTES = {
    "added": "New paragraph",
    "removed": "Paragraph removed",
    "moved": "Moved",
    "edited": "",
    "unchanged": "",
    "formatting": "Formatting only",
    "split": "Split",
    "merged": "Merged",
    "split_merged": "Split and merged",
}


@dataclass
class Changes:
    old: Version
    new: Version
    rows: list[ComparedParagraph]

    @property
    def counts(self) -> dict[str, int]:
        out = count_changes(self.old, self.new, self.rows)
        words = {"inserted": 0, "deleted": 0}
        for r in self.rows:
            s = diff_stats(r.diff)
            words["inserted"] += s["inserted"]
            words["deleted"] += s["deleted"]
        return out | words


def previous_version(version: Version) -> Version:
    prev = version.neighbour(-1)
    if prev is None:
        raise ConsultError(
            _(
                "Version %(number)s is the first version: there is no "
                "earlier version to compare it with.",
                number=version.number,
            )
        )
    return prev


def changes(version: Version, against: Version | None = None) -> Changes:
    old = against or previous_version(version)
    checked_markdown(old)
    checked_markdown(version)
    return Changes(old, version, compare_versions(old, version))


def _label(row: ComparedParagraph) -> str:
    p = row.new or row.old
    return p.number if p else ""


def _note(row: ComparedParagraph) -> str:
    """ "Moved, was 3.2", "Was 1.1", "New paragraph", "Paragraph removed" or ""."""
    note = RELATION_NOTES[row.relation]
    if row.new is not None and row.old is not None and row.new.number != row.old.number:
        was = f"was {row.old.number}" if row.old.number else "was the title"
        note = f"{note}, {was}" if note else was[0].upper() + was[1:]
    return note


def changes_pdf(version: Version, against: Version | None = None) -> bytes:
    ch = changes(version, against)
    rows = [
        {
            "label": _label(r),
            "relation": r.relation,
            "note": _note(r),
            "heading": (r.new or r.old).is_heading,
            "html": diff_html(r.diff),
        }
        for r in ch.rows
        if (r.new or r.old).number
    ]
    return render_pdf(
        "exports/print_changes.html",
        version=version,
        title=_(
            "%(title)s — changes from version %(number)s to %(number2)s",
            title=version.document.title,
            number=ch.old.number,
            number2=version.number,
        ),
        changes=ch,
        rows=rows,
    )


# ------------------------------------------------------------------- Word


def _revision(kind: str, text: str, rid: int, when: str, author: str):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mark = OxmlElement(f"w:{kind}")
    mark.set(qn("w:id"), str(rid))
    mark.set(qn("w:author"), author)
    mark.set(qn("w:date"), when)
    run = OxmlElement("w:r")
    t = OxmlElement("w:delText" if kind == "del" else "w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = printable(text)
    run.append(t)
    mark.append(run)
    return mark


def changes_docx(version: Version, against: Version | None = None) -> bytes:
    ch = changes(version, against)
    doc = version.document
    d = new_docx(
        version,
        _(
            "%(title)s — changes from version %(number)s to %(number2)s",
            title=doc.title,
            number=ch.old.number,
            number2=version.number,
        ),
    )
    d.add_paragraph(printable(doc.title), style="Title")
    d.add_paragraph(
        printable(
            _(
                "Changes from %(title)s to %(title2)s, as tracked changes",
                title=ch.old.title,
                title2=version.title,
            )
        ),
        style="Subtitle",
    )
    c = ch.counts
    d.add_paragraph(
        _(
            "%(x)s paragraphs edited, %(x2)s changed in formatting only, "
            "%(x3)s added, %(x4)s removed, %(x5)s moved, %(x6)s split, "
            "%(x7)s merged; %(x8)s words inserted and %(x9)s deleted. "
            "Word shows the changes as revisions (Review → Track "
            "Changes), which can be accepted or rejected one by one.",
            x=c["edited"],
            x2=c["formatting"],
            x3=c["added"],
            x4=c["removed"],
            x5=c["moved"],
            x6=c["split"],
            x7=c["merged"],
            x8=c["inserted"],
            x9=c["deleted"],
        )
    )
    when = declared_time(version).strftime("%Y-%m-%dT%H:%M:%SZ")
    author = printable(doc.committee) or "Drafting committee"
    rid = 1
    for r in ch.rows:
        p = r.new or r.old
        if not p.number:
            continue
        para = add_block(d, p, "")  # the words follow as runs and revision marks
        for op, text in r.diff:
            if op == "equal":
                para.add_run(printable(text))
            else:
                para._p.append(
                    _revision("ins" if op == "insert" else "del", text, rid, when, author)
                )
                rid += 1
        note = _note(r)
        if note:
            para.add_run(printable(f"  [{note}]")).italic = True
    add_footer(d, version)
    return save_docx(d)
