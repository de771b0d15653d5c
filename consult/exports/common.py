"""What every export shares: the checked text, the declared time of a version, the
record's head, PDF rendering from the print templates and small helpers for Word files.

An export is a pure function of the stored data: the time written into a file (and
into the entries of the Word, Excel and open-data zips) is the version's own (published,
else created), never the clock, so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, render_template

from consult.documents.models import Version
from consult.exports.text import checked_markdown
from consult.textpolicy import printable


@dataclass(frozen=True)
class Stamp:
    """The facts printed in every page's footer."""

    content_hash: str | None
    head_hash: str | None
    head_seq: int | None


def declared_time(version: Version) -> datetime:
    """The time an export of this version declares: its publication, else its creation."""
    when = version.published_at or version.created_at
    return when.astimezone(UTC).replace(microsecond=0)


def stamp(version: Version) -> Stamp:
    """The version's content hash (checked against its text) and the record's head."""
    from consult.record.service import head

    checked_markdown(version)
    ev = head()
    return Stamp(version.content_hash, ev.hash if ev else None, ev.seq if ev else None)


def print_css_path() -> str:
    return os.path.join(current_app.static_folder, "print-export.css")


def render_pdf(template: str, *, version: Version, title: str, **context) -> bytes:
    """Render a print template (templates/exports/) to PDF with WeasyPrint.

    The PDF's creation and modification dates are the version's declared time.
    """
    from weasyprint import CSS, HTML

    html = render_template(
        template,
        version=version,
        doc=version.document,
        title=title,
        declared=declared_time(version).strftime("%Y-%m-%dT%H:%M:%SZ"),
        stamp=stamp(version),
        **context,
    )
    return HTML(string=html, base_url=current_app.static_folder).write_pdf(
        stylesheets=[CSS(filename=print_css_path())]
    )


def zip_entry(name: str, when: datetime) -> zipfile.ZipInfo:
    """A compressed zip entry dated `when` (zip dates start in 1980), readable by all."""
    date_time = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def dated_zip(data: bytes, when: datetime) -> bytes:
    """The same zip with every entry dated `when`. python-docx and openpyxl date each
    entry with the moment of saving, so that two exports of one version would differ."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(zip_entry(item.filename, when), src.read(item))
    return out.getvalue()


def save_docx(document) -> bytes:
    """The Word file, dated with the time its properties declare (new_docx)."""
    buf = io.BytesIO()
    document.save(buf)
    return dated_zip(buf.getvalue(), document.core_properties.modified)


def new_docx(version: Version, title: str):
    """A Word document with the declared time and title in its properties, A4 pages,
    and the house styles for numbered paragraphs."""
    from docx import Document as WordDocument
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt

    d = WordDocument()
    props = d.core_properties
    # Stored text may predate the text policy; Word files are XML (see textpolicy.printable).
    props.title = printable(title)
    props.author = printable(version.document.committee) or "Consult"
    props.created = props.modified = declared_time(version).replace(tzinfo=None)
    props.last_modified_by = "Consult"
    props.revision = 1
    for section in d.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.left_margin = section.right_margin = Cm(2.2)
    normal = d.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    numbered = d.styles.add_style("Numbered Paragraph", WD_STYLE_TYPE.PARAGRAPH)
    numbered.base_style = normal
    fmt = numbered.paragraph_format
    fmt.left_indent = Cm(1.4)
    fmt.first_line_indent = Cm(-1.4)
    fmt.space_after = Pt(6)
    fmt.tab_stops.add_tab_stop(Cm(1.4))
    item = d.styles.add_style("Numbered List Item", WD_STYLE_TYPE.PARAGRAPH)
    item.base_style = numbered
    item.paragraph_format.left_indent = Cm(2.0)
    item.paragraph_format.first_line_indent = Cm(-2.0)
    small = d.styles.add_style("Record Facts", WD_STYLE_TYPE.PARAGRAPH)
    small.base_style = normal
    small.font.size = Pt(8)
    return d


def mark_version(d, version: Version) -> None:
    """Say in the Word file which version it holds, so that a file returned marked up
    (consultation.returned_word) or imported back (documents.word) is matched to it: custom
    document properties with the document's slug, the version's number and its content
    hash. Word and LibreOffice keep custom properties when the file is edited and saved."""
    from xml.sax.saxutils import escape

    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    from consult.documents import word

    values = {
        word.PROP_DOCUMENT: version.document.slug,
        word.PROP_VERSION: str(version.number),
        word.PROP_HASH: version.content_hash or "",
    }
    fmtid = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the one id custom properties use
    props = "".join(
        f'<property fmtid="{fmtid}" pid="{pid}" name="{name}"><vt:lpwstr>{escape(value)}'
        "</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(values.items(), start=2)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'docPropsVTypes">{props}</Properties>'
    )
    package = d.part.package
    part = Part(
        PackURI("/docProps/custom.xml"),
        CONTENT_TYPE.OFC_CUSTOM_PROPERTIES,
        xml.encode("utf-8"),
        package,
    )
    package.relate_to(part, RELATIONSHIP_TYPE.CUSTOM_PROPERTIES)


def footer_facts(st: Stamp) -> list[str]:
    lines = []
    if st.content_hash:
        lines.append(f"Text sha256: {st.content_hash}")
    else:
        lines.append("Draft: not published, no content hash yet")
    if st.head_hash:
        lines.append(f"Record head (event {st.head_seq}): {st.head_hash}")
    return lines


def add_footer(d, version: Version) -> None:
    """Every page's footer: the document and version, the hashes (see `stamp`)."""
    facts = footer_facts(stamp(version))
    for section in d.sections:
        footer = section.footer
        p = footer.paragraphs[0]
        p.text = printable(f"{version.document.title} — {version.title}")
        p.style = d.styles["Record Facts"]
        for line in facts:
            footer.add_paragraph(line, style="Record Facts")
