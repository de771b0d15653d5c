"""A version (the final one is "the resolution") as PDF and as Word.

The PDF comes from the print templates (templates/exports/) with static/print-export.css;
the Word file uses real heading styles and a "Numbered Paragraph" style, so the
secretariat can keep editing it in Word.
"""

from __future__ import annotations

from consult.documents.models import Version
from consult.exports.common import add_footer, new_docx, render_pdf, save_docx, stamp


def version_pdf(version: Version) -> bytes:
    return render_pdf(
        "exports/print_version.html",
        version=version,
        title=f"{version.document.title} — {version.title}",
        paragraphs=version.paragraphs,
    )


def version_docx(version: Version) -> bytes:
    doc = version.document
    st = stamp(version)
    d = new_docx(version, f"{doc.title} — {version.title}")
    d.add_paragraph(doc.title, style="Title")
    facts = [version.title, version.state_label]
    if version.published_at:
        facts.append(f"published {version.published_at:%d %B %Y}")
    d.add_paragraph(" · ".join(facts), style="Subtitle")
    write_paragraphs(d, version.paragraphs)
    add_footer(d, version, st)
    return save_docx(d)


def write_paragraphs(d, paragraphs) -> None:
    """Headings as Word headings ("1 Principles"), other blocks as numbered paragraphs."""
    for p in paragraphs:
        if not p.number:
            continue  # the title, already on the first lines
        if p.is_heading:
            d.add_heading(f"{p.number}\t{p.text}", level=min(max(p.level - 1, 1), 9))
        else:
            style = "Numbered List Item" if p.kind == "list_item" else "Numbered Paragraph"
            d.add_paragraph(f"{p.number}\t{p.text}", style=style)
