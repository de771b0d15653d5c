"""A version's text in one of its translations as PDF, Word and Akoma Ntoso (the same
exports as the authoritative text, with the language marked: html/xml lang, Word's
run language, AKN's FRBRlanguage and xml:lang), and a side-by-side bilingual PDF.

Made on request (not stored like the authoritative exports): a translation published
later changes what a language's export holds, while the authoritative text never does.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response
from flask_babel import gettext as _
from lxml import etree

from consult.documents.models import Paragraph, Version
from consult.errors import ConsultError, NotFound
from consult.exports.common import add_footer, mark_version, new_docx, render_pdf, save_docx
from consult.textpolicy import printable
from consult.translations import services as tr

#: ISO 639-2 codes, as Akoma Ntoso's FRBRlanguage wants them.
ISO639_2 = {
    "en": "eng",
    "id": "ind",
    "ms": "msa",
    "fil": "fil",
    "th": "tha",
    "vi": "vie",
    "km": "khm",
    "lo": "lao",
    "my": "mya",
}
#: Languages whose script Word treats as complex (its run language goes in w:bidi).
COMPLEX_SCRIPTS = {"th", "km", "lo", "my"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class TranslatedBlock:
    """A paragraph as the exports read it (Paragraph's fields), in another language."""

    id: int
    position: int
    number: str
    kind: str
    level: int
    lineage: str
    source: str
    text: str
    out_of_date: bool
    translated: bool
    original: Paragraph

    @property
    def is_heading(self) -> bool:
        return self.kind == "heading"


def blocks(version: Version, language: str) -> list[TranslatedBlock]:
    """Each paragraph in `language` (the authoritative text where none is translated);
    NotFound when the version has no published translation into it."""
    rows = tr.read_in(version, language)
    if not any(r.text is not None for r in rows):
        raise NotFound(
            _(
                "Version %(number)s has no published translation into '%(language)s'.",
                number=version.number,
                language=language,
            )
        )
    return [
        TranslatedBlock(
            id=r.paragraph.id,
            position=r.paragraph.position,
            number=r.paragraph.number,
            kind=r.paragraph.kind,
            level=r.paragraph.level,
            lineage=r.paragraph.lineage,
            source=r.source if r.source is not None else r.paragraph.source,
            text=r.text if r.text is not None else r.paragraph.text,
            out_of_date=r.out_of_date,
            translated=r.text is not None,
            original=r.paragraph,
        )
        for r in rows
    ]


def _title(version: Version, paragraphs: list[TranslatedBlock]) -> str:
    first = paragraphs[0] if paragraphs else None
    if first is not None and first.is_heading and not first.number:
        return first.text
    return version.document.title


def pdf(version: Version, language: str) -> bytes:
    paragraphs = blocks(version, language)
    return render_pdf(
        "translations/print_translation.html",
        version=version,
        title=f"{_title(version, paragraphs)} — {version.title}",
        paragraphs=paragraphs,
        language=language,
        own=tr.authoritative_language(version.document),
    )


def bilingual_pdf(version: Version, language: str) -> bytes:
    paragraphs = blocks(version, language)
    return render_pdf(
        "translations/print_bilingual.html",
        version=version,
        title=f"{version.document.title} — {version.title}",
        paragraphs=paragraphs,
        language=language,
        own=tr.authoritative_language(version.document),
    )


def _set_language(d, language: str) -> None:
    """Mark the Word file's text as written in `language` (spelling, fonts, hyphenation)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d.core_properties.language = language
    for style in ("Normal", "Title", "Subtitle"):
        rpr = d.styles[style].element.get_or_add_rPr()
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), language)
        if language in COMPLEX_SCRIPTS:
            lang.set(qn("w:bidi"), language)


def docx(version: Version, language: str) -> bytes:
    from consult.exports.resolution import bookmark, write_paragraphs

    paragraphs = blocks(version, language)
    d = new_docx(version, f"{_title(version, paragraphs)} — {version.title}")
    _set_language(d, language)
    first = paragraphs[0] if paragraphs else None
    if first is not None and first.is_heading and not first.number:
        bookmark(d, d.add_paragraph(printable(first.text), style="Title"), first)
    else:
        d.add_paragraph(printable(version.document.title), style="Title")
    d.add_paragraph(
        printable(
            _(
                "%(version)s · translation into %(language)s; the %(own)s text is authoritative",
                version=version.title,
                language=language,
                own=tr.authoritative_language(version.document),
            )
        ),
        style="Subtitle",
    )
    write_paragraphs(d, paragraphs)
    add_footer(d, version)
    mark_version(d, version)
    return save_docx(d)


def akn(version: Version, language: str) -> bytes:
    """The authoritative Akoma Ntoso export with each paragraph's text in `language`, the
    expression's language and URI in it, and xml:lang on the document."""
    from consult.exports.akn import E, akn_xml

    paragraphs = blocks(version, language)
    by_number = {p.number: p for p in paragraphs if p.number}
    code = ISO639_2.get(language, language)
    own = ISO639_2.get(tr.authoritative_language(version.document), "eng")
    root = etree.fromstring(akn_xml(version))
    d = root.find(E + "doc")
    d.set(XML_LANG, language)
    for el in root.iter(E + "FRBRlanguage"):
        el.set("language", code)
    for el in root.iter():
        for attr in ("value",):
            v = el.get(attr)
            if v and f"/{own}@" in v and el.tag in (E + "FRBRthis", E + "FRBRuri"):
                el.set(attr, v.replace(f"/{own}@", f"/{code}@"))
    title = root.find(f".//{E}docTitle")
    if title is not None and paragraphs and paragraphs[0].is_heading and not paragraphs[0].number:
        title.text = paragraphs[0].text
    for el in root.iter(E + "section", E + "paragraph"):
        num = el.find(E + "num")
        p = by_number.get(num.text if num is not None else None)
        if p is None or not p.translated:
            continue
        if el.tag == E + "section":
            heading = el.find(E + "heading")
            if heading is not None:
                heading.text = p.text
                heading.set(XML_LANG, language)
        else:
            content = el.find(E + "content")
            for child in list(content):
                content.remove(child)
            for line in p.text.split("\n") or [""]:
                etree.SubElement(content, E + "p").text = line
            content.set(XML_LANG, language)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def markdown(version: Version, language: str) -> bytes:
    return ("\n\n".join(p.source for p in blocks(version, language)) + "\n").encode()


FORMATS = {
    "md": (markdown, "text/markdown", "md"),
    "pdf": (pdf, "application/pdf", "pdf"),
    "docx": (
        docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "akn": (akn, "application/akn+xml", "akn.xml"),
    "bilingual": (bilingual_pdf, "application/pdf", "pdf"),
}


def serve(version: Version, fmt: str, language: str) -> Response:
    """The download of `fmt` in `language` (a 400 for another format or language)."""
    if fmt not in FORMATS:
        raise ConsultError(
            _(
                "The text can be downloaded in another language as %(formats)s.",
                formats=", ".join(FORMATS),
            )
        )
    language = tr.check_language(language)
    if language == tr.authoritative_language(version.document) and fmt != "bilingual":
        from consult.exports import stored
        from consult.exports.formats import get_format

        return stored.serve(version, get_format(fmt))
    make, mimetype, extension = FORMATS[fmt]
    body = make(version, language)
    suffix = f"-{language}-bilingual" if fmt == "bilingual" else f"-{language}"
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="{version.document.slug}-v{version.number}{suffix}.{extension}"'
    )
    return resp
