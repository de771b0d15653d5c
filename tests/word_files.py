"""Word files written for the tests: OOXML by hand where a tool would not make the awkward
parts (multi-level numbering, merged cells, footnotes, tracked changes, comments, an
image), and Word files marked up as an organisation would return them.

Everything is built from the real texts in ../shared/corpus/ at test time.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f'xmlns:w="{W_NS}"'
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DATE = "2026-03-01T10:00:00Z"


def corpus_text(folder: str, version: int) -> str:
    return (CORPUS / folder / f"v{version}.md").read_text(encoding="utf-8")


def _replace_parts(blob: bytes, parts: dict[str, bytes], types: str = "", rels: str = "") -> bytes:
    """The zip with `parts` added or replaced, content-type overrides and document
    relationships added."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            if item.filename in parts:
                continue
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml" and types:
                data = data.replace(b"</Types>", types.encode() + b"</Types>")
            if item.filename == "word/_rels/document.xml.rels" and rels:
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            z.writestr(item, data)
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


# --------------------------------------------------------------- the awkward parts


def _run(text: str, props: str = "") -> str:
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _p(body: str, style: str = "", num: tuple[int, int] | None = None) -> str:
    ppr = ""
    if style or num:
        ppr = "<w:pPr>"
        if style:
            ppr += f'<w:pStyle w:val="{style}"/>'
        if num:
            ppr += f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>'
        ppr += "</w:pPr>"
    return f"<w:p>{ppr}{body}</w:p>"


NUMBERING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering {W}>
<w:abstractNum w:abstractNumId="0">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>
  <w:lvlText w:val="%1."/></w:lvl>
 <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>
  <w:lvlText w:val="%2)"/></w:lvl>
 <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerRoman"/>
  <w:lvlText w:val="(%3)"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="1">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="(%1)"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="2">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
<w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num>
</w:numbering>"""

# A 1×1 transparent PNG, for the image that must be reported.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def _image() -> str:
    return (
        '<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/'
        'drawingml/2006/wordprocessingDrawing"><wp:extent cx="95250" cy="95250"/>'
        '<wp:docPr id="1" name="Picture 1" descr="Map of the consultation regions"/>'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:nvPicPr><pic:cNvPr id="1" name="map.png" descr="Map of the consultation '
        'regions"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
        f'<a:blip xmlns:r="{R_NS}" r:embed="rIdImg1"/><a:stretch><a:fillRect/></a:stretch>'
        '</pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="95250" cy="95250"/>'
        '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>'
        "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
    )


def awkward_docx() -> tuple[bytes, dict]:
    """A Word file from the German Consumer Information Act (VIG, v4) with the parts a
    converter finds hard, and what a reader of it should see."""
    from docx import Document

    md = corpus_text("de-vig-verbraucherinformationsgesetz", 4)
    # § 2 (1) 1. with its items a) b) c), as the Act prints them.
    m = re.search(
        r"von den nach Bundes- oder Landesrecht.*?Abweichungen von Anforderungen", md, re.S
    )
    item1 = " ".join(m.group(0).split())
    letters = [
        "des Lebensmittel- und Futtermittelgesetzbuches und des Produktsicherheitsgesetzes,",
        "der auf Grund dieser Gesetze erlassenen Rechtsverordnungen,",
        "unmittelbar geltender Rechtsakte der Europäischen Gemeinschaft oder der "
        "Europäischen Union im Anwendungsbereich der genannten Gesetze",
    ]
    for words in letters:
        assert words.split()[0] in md
    d = Document()
    d.core_properties.title = (
        "Gesetz zur Verbesserung der gesundheitsbezogenen Verbraucherinformation"
    )
    buf = io.BytesIO()
    d.save(buf)
    body = [
        _p(
            _run("Gesetz zur Verbesserung der gesundheitsbezogenen Verbraucherinformation"), "Title"
        ),
        _p(_run("§ 1 Anwendungsbereich"), "Heading1"),
        _p(
            _run("Durch dieses Gesetz erhalten Verbraucherinnen und Verbraucher ")
            + _run("freien", "<w:b/>")
            + _run(" Zugang zu den bei informationspflichtigen Stellen vorliegenden Informationen")
            + '<w:r><w:footnoteReference w:id="1"/></w:r>'
            + _run(".")
        ),
        _p(_run("§ 2 Anspruch auf Zugang zu Informationen"), "Heading1"),
        # "(1)" numbering, Word's own list.
        _p(_run("Jeder hat nach Maßgabe dieses Gesetzes Anspruch auf freien Zugang."), num=(2, 0)),
        # Multi-level: 1. then a) b) c) then (i).
        _p(_run(item1), num=(1, 0)),
        *(_p(_run(w), num=(1, 1)) for w in letters),
        _p(_run("soweit nichts anderes bestimmt ist,"), num=(1, 2)),
        _p(_run("Verbraucherprodukte, die dem Produktsicherheitsgesetz unterfallen."), num=(1, 0)),
        # Tracked changes: one insertion and one deletion, both accepted on import.
        _p(
            _run("Die Vorschriften dieses Gesetzes gelten ")
            + f'<w:del w:id="11" w:author="Referat" w:date="{DATE}"><w:r><w:delText>immer '
            "</w:delText></w:r></w:del>"
            + f'<w:ins w:id="12" w:author="Referat" w:date="{DATE}">'
            + _run("nicht, soweit in anderen Rechtsvorschriften entsprechende Vorschriften ")
            + "</w:ins>"
            + _run("vorgesehen sind.")
        ),
        # A link and italics.
        _p(
            _run("Siehe ")
            + f'<w:hyperlink xmlns:r="{R_NS}" r:id="rIdLink1">'
            + _run("das Bundesgesetzblatt", "<w:i/>")
            + "</w:hyperlink>"
            + _run(" für die Fundstelle.")
        ),
        _p(_run("Die Stellen im Überblick:") + _image()),
        # A bulleted list.
        _p(_run("Behörden des Bundes"), num=(3, 0)),
        _p(_run("Behörden der Länder"), num=(3, 0)),
        # A table with a cell merged across two columns and one down two rows.
        '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>'
        '<w:gridCol w:w="3000"/><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/></w:tblGrid>'
        "<w:tr>"
        + f"<w:tc>{_p(_run('Stelle'))}</w:tc><w:tc>{_p(_run('Frist'))}</w:tc>"
        + f"<w:tc>{_p(_run('Kosten'))}</w:tc></w:tr>"
        "<w:tr>"
        + f'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>{_p(_run("Behörde"))}</w:tc>'
        + f'<w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>{_p(_run("ein Monat, kostenfrei"))}'
        "</w:tc></w:tr>"
        "<w:tr>"
        + f"<w:tc><w:tcPr><w:vMerge/></w:tcPr>{_p('')}</w:tc>"
        + f"<w:tc>{_p(_run('zwei Monate'))}</w:tc><w:tc>{_p(_run('bis 250 Euro'))}</w:tc>"
        "</w:tr></w:tbl>",
        _p(_run("Dieses Gesetz tritt am Tag nach der Verkündung in Kraft.")),
    ]
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W} '
        f'xmlns:r="{R_NS}"><w:body>{"".join(body)}<w:sectPr/></w:body></w:document>'
    )
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {W}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        '</w:footnote><w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        "<w:continuationSeparator/></w:r></w:p></w:footnote>"
        f'<w:footnote w:id="1">{_p(_run("Neugefasst durch Bek. v. 17.10.2012 I 2166, 2725."))}'
        "</w:footnote></w:footnotes>"
    )
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    blob = _replace_parts(
        buf.getvalue(),
        {
            "word/document.xml": document.encode(),
            "word/numbering.xml": NUMBERING.encode(),
            "word/footnotes.xml": footnotes.encode(),
            "word/media/map.png": PNG,
        },
        types=(
            '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>'
            '<Default Extension="png" ContentType="image/png"/>'
        ),
        rels=(
            f'<Relationship Id="rIdFoot1" Type="{rel}/footnotes" Target="footnotes.xml"/>'
            f'<Relationship Id="rIdImg1" Type="{rel}/image" Target="media/map.png"/>'
            f'<Relationship Id="rIdLink1" Type="{rel}/hyperlink" '
            'Target="https://www.bgbl.de/" TargetMode="External"/>'
        ),
    )
    if b"numbering.xml" not in zipfile.ZipFile(io.BytesIO(buf.getvalue())).read(
        "word/_rels/document.xml.rels"
    ):
        blob = _add_numbering_rel(blob)
    return blob, {"item1": item1, "letters": letters}


def _add_numbering_rel(blob: bytes) -> bytes:
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdNum1" Type="{rel}/numbering" '
                    'Target="numbering.xml"/></Relationships>'.encode(),
                )
            if item.filename == "[Content_Types].xml" and b"/word/numbering.xml" not in data:
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/word/numbering.xml" ContentType="application/vnd.'
                    b'openxmlformats-officedocument.wordprocessingml.numbering+xml"/></Types>',
                )
            z.writestr(item, data)
    return out.getvalue()


# --------------------------------------------------------------- returned, marked up


def mark_up(blob: bytes, edits: list[dict]) -> bytes:
    """`blob` (a .docx) as an organisation returns it, with tracked changes and comments
    written as Word and LibreOffice write them. Each edit finds the first paragraph whose
    text contains edit["in"] and either replaces edit["delete"] by edit["insert"] as
    tracked changes, or puts a comment (edit["comment"]) on the words edit["on"]."""
    from lxml import etree

    z = zipfile.ZipFile(io.BytesIO(blob))
    root = etree.fromstring(z.read("word/document.xml"))
    q = f"{{{W_NS}}}"
    comments = []
    next_id = 900

    def runs(p) -> list:
        # Runs directly in the paragraph or in a link (the link itself is not kept).
        return [r for r in p.iter(f"{q}r") if r.getparent().tag in (f"{q}p", f"{q}hyperlink")]

    def text_of(p) -> str:
        return "".join(
            (t.text or "") if t.tag == f"{q}t" else "\t"
            for r in runs(p)
            for t in r
            if t.tag in (f"{q}t", f"{q}tab")
        )

    # Edits grouped by paragraph, applied together from the paragraph's plain runs.
    groups: dict = {}
    for edit in edits:
        para = next(p for p in root.iter(f"{q}p") if edit["in"] in text_of(p))
        groups.setdefault(para, []).append(edit)
    for para, group in groups.items():
        text = text_of(para)
        for r in [r for r in para if r.tag in (f"{q}r", f"{q}hyperlink")]:
            para.remove(r)
        spans = sorted((text.index(e.get("delete", e.get("on"))), e) for e in group)
        pieces, pos = [], 0
        for at, edit in spans:
            target = edit.get("delete", edit.get("on"))
            pieces.append(_xml_run(text[pos:at]))
            middle = text[at : at + len(target)]
            pos = at + len(target)
            next_id += 1
            if "comment" in edit:
                pieces += [
                    f'<w:commentRangeStart {W} w:id="{next_id}"/>',
                    _xml_run(middle),
                    f'<w:commentRangeEnd {W} w:id="{next_id}"/>',
                    f'<w:r {W}><w:commentReference w:id="{next_id}"/></w:r>',
                ]
                comments.append((next_id, edit.get("author", "CSO reviewer"), edit["comment"]))
                continue
            if middle:
                pieces.append(
                    f'<w:del {W} w:id="{next_id}" w:author="CSO reviewer" w:date="{DATE}">'
                    f'<w:r><w:delText xml:space="preserve">{escape(middle)}</w:delText></w:r>'
                    "</w:del>"
                )
            if edit.get("insert"):
                next_id += 1
                pieces.append(
                    f'<w:ins {W} w:id="{next_id}" w:author="CSO reviewer" w:date="{DATE}">'
                    f'<w:r><w:t xml:space="preserve">{escape(edit["insert"])}</w:t></w:r></w:ins>'
                )
        pieces.append(_xml_run(text[pos:]))
        end = para.find(f"{q}bookmarkEnd")
        for piece in pieces:
            if not piece:
                continue
            el = etree.fromstring(piece)
            if end is not None:
                end.addprevious(el)
            else:
                para.append(el)
    parts = {"word/document.xml": etree.tostring(root, xml_declaration=True, encoding="UTF-8")}
    types = rels = ""
    if comments:
        parts["word/comments.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments {W}>'
            + "".join(
                f'<w:comment w:id="{i}" w:author="{escape(a)}" w:date="{DATE}">'
                + "".join(f"<w:p>{_run(line)}</w:p>" for line in text.split("\n"))
                + "</w:comment>"
                for i, a, text in comments
            )
            + "</w:comments>"
        ).encode()
        types = (
            '<Override PartName="/word/comments.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.comments+xml"/>'
        )
        rels = (
            '<Relationship Id="rIdCmt1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/comments" Target="comments.xml"/>'
        )
    return _replace_parts(blob, parts, types, rels)


def _xml_run(text: str) -> str:
    if not text:
        return ""
    out = []
    for i, part in enumerate(text.split("\t")):
        if i:
            out.append("<w:tab/>")
        if part:
            out.append(f'<w:t xml:space="preserve">{escape(part)}</w:t>')
    return f"<w:r {W}>{''.join(out)}</w:r>"
