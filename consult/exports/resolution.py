"""A version (the final one is "the resolution") as PDF and as Word.

The PDF comes from the print templates (templates/exports/) with static/print-export.css;
the Word file uses real heading styles and a "Numbered Paragraph" style, so the
secretariat can keep editing it in Word.
"""

from __future__ import annotations

from consult.documents.models import Version
from consult.exports.common import add_footer, new_docx, render_pdf, save_docx
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
    d.add_paragraph(printable(doc.title), style="Title")
    facts = [version.title, version.state_label]
    if version.published_at:
        facts.append(f"published {version.published_at:%d %B %Y}")
    d.add_paragraph(printable(" · ".join(facts)), style="Subtitle")
    write_paragraphs(d, version.paragraphs)
    add_footer(d, version)
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
        return d.add_heading(text, level=min(max(p.level - 1, 1), 9))
    style = "Numbered List Item" if p.kind == "list_item" else "Numbered Paragraph"
    return d.add_paragraph(text, style=style)
