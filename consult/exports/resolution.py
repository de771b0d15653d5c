"""A version (the final one is "the resolution") as PDF and as Word.

The PDF comes from the print templates (templates/exports/) with static/print-export.css;
the Word file uses real heading styles and a "Numbered Paragraph" style, so the
secretariat can keep editing it in Word.
"""

from __future__ import annotations

from consult.documents.models import Version
from consult.exports.common import add_footer, mark_version, new_docx, render_pdf, save_docx
from consult.textpolicy import printable


def version_pdf(version: Version) -> bytes:
    return render_pdf(
        "exports/print_version.html",
        version=version,
        title=f"{version.document.title} — {version.title}",
        paragraphs=version.paragraphs,
    )


def version_docx(version: Version) -> bytes:
    doc = version.document
    d = new_docx(version, f"{doc.title} — {version.title}")
    first = version.paragraphs[0] if version.paragraphs else None
    if first is not None and first.is_heading and not first.number:
        # The version's own title paragraph is the title line (and bears its bookmark).
        bookmark(d, d.add_paragraph(printable(first.text), style="Title"), first)
    else:
        d.add_paragraph(printable(doc.title), style="Title")
    facts = [
        doc.final_heading if version.state == "final" else doc.kind_label,
        version.title,
        version.state_label,
    ]
    if version.published_at:
        facts.append(f"published {version.published_at:%d %B %Y}")
    d.add_paragraph(printable(" · ".join(facts)), style="Subtitle")
    write_paragraphs(d, version.paragraphs)
    add_footer(d, version)
    mark_version(d, version)
    return save_docx(d)


def write_paragraphs(d, paragraphs) -> None:
    """Every numbered block of the text (the title is already on the first lines)."""
    for p in paragraphs:
        if p.number:
            add_block(d, p, p.text)


def add_block(d, p, text: str):
    """One block as "number, tab, text": a heading as a Word heading ("1 Principles"),
    other blocks in the numbered paragraph styles. Returns the Word paragraph."""
    text = printable(f"{p.number}\t{text}")  # stored text may predate the text policy
    if p.is_heading:
        para = d.add_heading(text, level=min(max(p.level - 1, 1), 9))
    else:
        style = "Numbered List Item" if p.kind == "list_item" else "Numbered Paragraph"
        para = d.add_paragraph(text, style=style)
    bookmark(d, para, p)
    return para


def bookmark(d, para, p) -> None:
    """A bookmark around the Word paragraph named by the paragraph's lineage ("cp_" and 32
    hex digits; Word allows 40 characters): its identity across versions, which Word and
    LibreOffice keep while the words around it are edited, so that a returned file's
    paragraphs are found again (consultation.returned_word)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from consult.documents.word import BOOKMARK_PREFIX

    n = getattr(d, "_consult_bookmarks", 0) + 1
    d._consult_bookmarks = n
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(n))
    start.set(qn("w:name"), f"{BOOKMARK_PREFIX}{p.lineage}"[:40])
    end.set(qn("w:id"), str(n))
    ppr = para._p.pPr
    if ppr is not None:
        ppr.addnext(start)
    else:
        para._p.insert(0, start)
    para._p.append(end)
