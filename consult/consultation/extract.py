"""The text of an attached file (PDF, DOCX, ODT), for search. Pure functions on bytes.

PDF text comes from pypdf; Word and OpenDocument files are zip packages of XML, read
with the standard library (zipfile and ElementTree, with entity expansion refused), so a
position paper's words are searchable without a converter installed. A PDF with pages
but no text is most likely a scan: it is flagged, not guessed at.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree as ET  # noqa: S405 - entities refused in _xml below

log = logging.getLogger(__name__)

#: The types taken, by content type: (label, file name extension).
TYPES: dict[str, tuple[str, str]] = {
    "application/pdf": ("PDF", ".pdf"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "Word document",
        ".docx",
    ),
    "application/vnd.oasis.opendocument.text": ("OpenDocument text", ".odt"),
}
BY_EXTENSION = {ext: ctype for ctype, (_label, ext) in TYPES.items()}
#: Text kept per file: more is never needed to find a phrase, and it bounds the index.
MAX_TEXT = 200_000
#: The uncompressed XML read from a zip package (a zip bomb stops here).
MAX_XML = 50 * 1024 * 1024

#: What extraction found.
TEXT = "text"
NO_TEXT = "no_text"  # a PDF with pages but no text layer: scanned?
UNREADABLE = "unreadable"
STATUS_LABELS = {
    TEXT: "text extracted",
    NO_TEXT: "no text found (scanned?)",
    UNREADABLE: "could not be read",
}


@dataclass
class Extracted:
    text: str
    status: str
    pages: int | None = None


class NotAcceptedType(ValueError):
    """The bytes are not a PDF, DOCX or ODT file (whatever the name says)."""


def sniff(data: bytes, filename: str = "") -> str:
    """The content type of `data`, read from its bytes (a PDF's header, a zip package's
    parts), never from the name or the type the sender claims. Raises NotAcceptedType."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
                if "mimetype" in names:
                    declared = z.read("mimetype")[:100].decode("ascii", "replace").strip()
                    if declared == "application/vnd.oasis.opendocument.text":
                        return declared
                if "word/document.xml" in names:
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        except (zipfile.BadZipFile, OSError, KeyError):
            pass
    ext = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    what = f"'{filename}'" if filename else "The file"
    if ext in BY_EXTENSION:
        raise NotAcceptedType(f"{what} is named {ext} but is not a readable {ext[1:]} file.")
    raise NotAcceptedType(f"{what} is not a PDF, Word (.docx) or OpenDocument (.odt) file.")


def extract(data: bytes, content_type: str) -> Extracted:
    """The text of a file of one of TYPES; never raises for a damaged file."""
    try:
        if content_type == "application/pdf":
            return _pdf(data)
        if content_type == "application/vnd.oasis.opendocument.text":
            return _zipped_xml(data, "content.xml", _ODT_BREAKS)
        return _zipped_xml(data, "word/document.xml", _DOCX_BREAKS)
    except Exception as e:  # a damaged file is kept, only its text is missing
        log.info("no text from an attachment (%s): %s", content_type, e)
        return Extracted("", UNREADABLE)


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts, size = [], 0
    for page in reader.pages:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size > MAX_TEXT:
            break
    text = _tidy("\n\n".join(parts))
    pages = len(reader.pages)
    return Extracted(text, TEXT if text else NO_TEXT, pages)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
#: Elements after which a paragraph ends, and those that stand for a space or a tab.
_DOCX_BREAKS = ({f"{_W}p"}, {f"{_W}tab", f"{_W}br"})
_ODT_BREAKS = ({f"{_TEXT_NS}p", f"{_TEXT_NS}h"}, {f"{_TEXT_NS}s", f"{_TEXT_NS}tab"})
_DOCX_TEXT = {f"{_W}t"}


def _xml(data: bytes) -> ET.Element:
    if b"<!ENTITY" in data[:4096] or b"<!DOCTYPE" in data[:4096]:
        raise ValueError("XML with a document type declaration is not read")
    return ET.fromstring(data)  # noqa: S314 - no DTD, so no entity expansion


def _zipped_xml(data: bytes, part: str, breaks: tuple[set[str], set[str]]) -> Extracted:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(part)
        if info.file_size > MAX_XML:
            raise ValueError(f"{part} is {info.file_size:,} bytes uncompressed")
        root = _xml(z.read(part))
    ends, spaces = breaks
    out: list[str] = []

    def walk(el: ET.Element) -> None:
        # A Word run's text is in w:t only (w:instrText and friends are field codes);
        # ODT keeps text directly in its elements, tails included.
        docx = el.tag.startswith(_W)
        if el.tag in spaces:
            out.append(" ")
        elif el.text and (not docx or el.tag in _DOCX_TEXT):
            out.append(el.text)
        for child in el:
            walk(child)
            if child.tail and not docx:
                out.append(child.tail)
        if el.tag in ends:
            out.append("\n")

    walk(root)
    text = _tidy("".join(out))
    return Extracted(text, TEXT if text else NO_TEXT)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t\u00a0]+", " ", text.replace("\x00", ""))
    text = re.sub(r" *\n[ \n]*", "\n", text).strip()
    return text[:MAX_TEXT]
