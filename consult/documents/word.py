"""Word (.docx) and OpenDocument (.odt) files → Markdown, for importing a version.

A drafter's Word file becomes Markdown here, and that Markdown goes through the one
import path every text takes (splitter.split, then services.import_version): nothing
else reads the paragraphs of a Word file.

Why Pandoc (through ``pypandoc-binary``, whose wheel ships the pandoc binary, so
nothing is installed beside pip), not mammoth. Both were run on Word files made from the
real texts of the shared corpus (22 versions of five texts), importing each back and
comparing its paragraphs with the Markdown original's (issue 20):

- Pandoc gave back every paragraph of 17 of the 22 files with the same text (the other
  five hold kramdown tables and definition lists that Word itself cannot hold), mammoth
  60–85 % of them: mammoth writes Markdown meant for reading, not for re-parsing. It
  escapes punctuation ("\\(", "\\."), drops tables (its Markdown writer has none) and
  has no list attributes (a list numbered "a)" or "(1)" comes out as "1.").
- Pandoc reads .odt as well as .docx (mammoth reads only .docx), accepts tracked
  changes on reading (``--track-changes=accept``), gives footnotes, and gives its result
  as a syntax tree (JSON) with each list's numbering style, start and delimiter, so the
  numbering the author sees can be kept as text where Markdown has no such list.
- Pandoc runs as a separate process: with ``--sandbox`` it reads no other file and
  fetches nothing, and a time limit stops a pathological file.

What is done to Pandoc's tree before it is written as CommonMark (the grammar the
splitter reads):

- the Title style becomes the level-1 heading at the top, Word's headings one level
  below it (Heading 1 → ``##``), as in Consult's own Word export;
- a numbered list whose numbers Markdown can show (1. 2. or 1) 2)) stays a list, one
  paragraph per item; any other numbering ("a)", "(1)", "iv.") is written as text
  before each item, so readers and comments see what the author saw;
- tables become pipe tables: merged cells are cut into the cells they cover (the text
  stays in the first one), several paragraphs in a cell are joined by spaces;
- footnotes become "[n]" in the text and paragraphs "[n] …" under a "Notes" heading at
  the end; images, charts and embedded objects cannot be imported and are reported
  (each one, with the words of the paragraph it was in), never dropped silently;
- underlining, small capitals, colours and other formatting that Markdown cannot hold
  keep their words; bold, italics, links and code are kept.

Files that Consult itself exported carry the version they came from (a custom
document property with its content hash, see consult/exports/common.py) and paragraph
bookmarks; importing one back drops the subtitle and the paragraph numbers Consult
printed, so the paragraphs come back as they were.
"""

from __future__ import annotations

import io
import json
import re
import subprocess  # noqa: S404 - pandoc is run with a fixed argument list, no shell
import zipfile
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from consult.errors import ConsultError

#: Largest Word or OpenDocument file read, and the most its zip may expand to.
MAX_BYTES = 20 * 1024 * 1024
MAX_EXPANDED = 200 * 1024 * 1024
#: Seconds pandoc may take for one file.
TIMEOUT = 60

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE = "application/vnd.oasis.opendocument.text"
#: Names under which Consult's Word exports carry the version they hold.
PROP_HASH = "ConsultVersionHash"
PROP_DOCUMENT = "ConsultDocument"
PROP_VERSION = "ConsultVersion"
#: The paragraph style of a list item in Consult's Word exports (exports/common.py).
LIST_ITEM_STYLE = "Numbered List Item"
#: Prefix of the bookmark around each paragraph in Consult's Word exports (+ lineage).
BOOKMARK_PREFIX = "cp_"

_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"


class WordError(ConsultError):
    """A file that cannot be read as a Word or OpenDocument text; the message says why."""

    code = "unreadable_file"


@dataclass
class Converted:
    """A Word or OpenDocument file as Markdown, and what could not come along."""

    markdown: str
    kind: str  # "docx" or "odt"
    #: Plain-English notes on what was not imported (images, objects) or was changed.
    warnings: list[str] = field(default_factory=list)
    #: Consult's custom properties when the file is one of its own exports.
    properties: dict[str, str] = field(default_factory=dict)


def is_word_name(filename: str) -> bool:
    """A name for `convert` (which explains why an old .doc cannot be read)."""
    return (filename or "").lower().endswith((".docx", ".odt", ".doc"))


def file_kind(filename: str, blob: bytes) -> str:
    """ "docx" or "odt", checked against the file's content; WordError otherwise."""
    name = (filename or "").lower()
    if name.endswith(".doc"):
        raise WordError(
            _(
                "Old Word files (.doc) cannot be read: open the file in Word "
                "or LibreOffice and save it as .docx (Word document) or "
                ".odt, then upload that."
            )
        )
    if not name.endswith((".docx", ".odt")):
        raise WordError(_("Upload a Word (.docx) or OpenDocument (.odt) file."))
    if len(blob) > MAX_BYTES:
        raise WordError(
            _(
                "The file is %(len)s MB; a text file is at most %(x)s MB. "
                "Remove large images and try again.",
                len=format(len(blob) / 1e6, ".1f"),
                x=MAX_BYTES // (1024 * 1024),
            )
        )
    try:
        z = zipfile.ZipFile(io.BytesIO(blob))
        names = set(z.namelist())
        expanded = sum(i.file_size for i in z.infolist())
        mimetype = z.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, ValueError, OSError):
        raise WordError(
            _(
                "This file is not a Word (.docx) or OpenDocument (.odt) "
                "file: it could not be opened. Save it again from your word "
                "processor and upload that."
            )
        ) from None
    if expanded > MAX_EXPANDED:
        raise WordError(_("The file expands to more than 200 MB; it cannot be read."))
    if "word/document.xml" in names:
        return "docx"
    if "content.xml" in names and mimetype.strip() == ODT_TYPE:
        return "odt"
    raise WordError(
        _(
            "This file is not a Word (.docx) or OpenDocument text "
            "(.odt): it holds no text document (a spreadsheet or "
            "presentation, perhaps?)."
        )
    )


def custom_properties(blob: bytes) -> dict[str, str]:
    """The custom document properties of a .docx file (name → text)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            if "docProps/custom.xml" not in z.namelist():
                return {}
            root = etree.fromstring(
                z.read("docProps/custom.xml"), etree.XMLParser(resolve_entities=False)
            )
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, OSError):
        return {}
    out = {}
    for prop in root.iter(f"{{{_CUSTOM_NS}}}property"):
        name = prop.get("name")
        if name:
            out[name] = "".join(prop.itertext()).strip()
    return out


def convert(filename: str, blob: bytes) -> Converted:
    """The Markdown of a .docx or .odt file, with what could not be imported."""
    kind = file_kind(filename, blob)
    props = custom_properties(blob) if kind == "docx" else {}
    consult_export = PROP_HASH in props or PROP_DOCUMENT in props
    # Consult's export marks list items with a paragraph style: read styles to find them.
    tree = _pandoc_json(blob, kind + ("+styles" if consult_export else ""))
    objects = _embedded_objects(blob, kind)
    out = _Transform(
        consult_export=consult_export,
        keep_title=not consult_export or _title_is_a_paragraph(blob),
    )
    blocks = out.document(tree)
    markdown = _write_markdown({**tree, "blocks": blocks, "meta": {}})
    warnings = out.warnings + objects
    if out.notes:
        warnings.append(
            f"{len(out.notes)} footnote{'s' if len(out.notes) != 1 else ''} moved to the "
            "“Notes” section at the end, marked [1], [2] … in the text."
        )
    return Converted(markdown=markdown, kind=kind, warnings=warnings, properties=props)


def _title_is_a_paragraph(blob: bytes) -> bool:
    """In Consult's export the Title line is the document's title; it stands for a
    paragraph of the version (its title) only when it carries that paragraph's bookmark."""
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        xml = z.read("word/document.xml").decode("utf-8", "replace")
    m = re.search(
        r'<w:p\b(?:(?!</w:p>).)*?<w:pStyle w:val="Title"/>(?:(?!</w:p>).)*</w:p>', xml, re.S
    )
    return bool(m and f'w:name="{BOOKMARK_PREFIX}' in m.group(0))


# ------------------------------------------------------------------------- pandoc


def _pandoc(args: list[str], data: bytes) -> bytes:
    import pypandoc

    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, the file on stdin
            [pypandoc.get_pandoc_path(), "--sandbox", *args],
            input=data,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise WordError(
            _(
                "Reading the file took longer than %(TIMEOUT)s seconds; it may be damaged.",
                TIMEOUT=TIMEOUT,
            )
        ) from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise WordError(
            "The file could not be read as a text document"
            + (f" ({why[-1][:200]})." if why else ".")
        )
    return done.stdout


def _pandoc_json(blob: bytes, kind: str) -> dict[str, Any]:
    raw = _pandoc(["-f", kind, "-t", "json", "--track-changes=accept"], blob)
    return json.loads(raw)


def _write_markdown(tree: dict[str, Any]) -> str:
    """CommonMark with pipe tables (the grammar the splitter reads), no raw HTML."""
    raw = _pandoc(
        ["-f", "json", "-t", "commonmark-raw_html+pipe_tables", "--wrap=none"],
        json.dumps(tree).encode("utf-8"),
    )
    return raw.decode("utf-8")


# ------------------------------------------------------ embedded objects (reported)

_DOCX_OBJECTS = {
    b"<c:chart ": "chart",
    b"<w:object": "embedded object (an OLE object such as a spreadsheet or equation)",
    b"<dgm:relIds": "SmartArt diagram",
    b"<wps:wsp>": "drawn shape",
    b"<w:txbxContent": "text box",
}
_ODT_OBJECTS = {
    b"<draw:object ": "embedded object (a chart, formula or spreadsheet)",
    b"<draw:object-ole": "embedded object (an OLE object)",
    b"<draw:custom-shape": "drawn shape",
    b"<draw:text-box": "text box",
}


def _embedded_objects(blob: bytes, kind: str) -> list[str]:
    """Warnings for what the converter drops without a trace: charts, OLE objects,
    SmartArt, shapes and text boxes (images are reported from the syntax tree)."""
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        xml = z.read("word/document.xml" if kind == "docx" else "content.xml")
    table = _DOCX_OBJECTS if kind == "docx" else _ODT_OBJECTS
    out = []
    for needle, what in table.items():
        n = xml.count(needle)
        if n:
            out.append(
                f"{n} {what}{'s' if n != 1 and not what.endswith(')') else ''} "
                f"{'were' if n != 1 else 'was'} not imported (only text is): check the text "
                "around it and add what it said in words if the text needs it."
            )
    return out


# ------------------------------------------------------------------- the syntax tree


def _str(text: str) -> dict[str, Any]:
    return {"t": "Str", "c": text}


_SPACE = {"t": "Space"}


def _roman(n: int) -> str:
    out = ""
    for value, letters in (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while n >= value:
            out += letters
            n -= value
    return out


def _alpha(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def list_label(n: int, style: str, delim: str) -> str:
    """The number an author sees for item `n` of a list ("3.", "c)", "(iv)")."""
    number = {
        "LowerAlpha": _alpha(n),
        "UpperAlpha": _alpha(n).upper(),
        "LowerRoman": _roman(n),
        "UpperRoman": _roman(n).upper(),
    }.get(style, str(n))
    if delim == "TwoParens":
        return f"({number})"
    if delim == "OneParen":
        return f"{number})"
    return f"{number}."


_WRAPPERS = ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps")


def plain_text(inlines: list[dict[str, Any]]) -> str:
    """The words of a list of inlines (for warnings and table cells)."""
    out: list[str] = []
    for x in inlines:
        t = x.get("t")
        if t == "Str":
            out.append(x["c"])
        elif t in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif t in _WRAPPERS:
            out.append(plain_text(x["c"]))
        elif t in ("Span", "Link", "Quoted", "Cite"):
            out.append(plain_text(x["c"][1]))
        elif t in ("Code", "Math"):
            out.append(x["c"][1])
    return "".join(out)


class _Transform:
    """Pandoc's tree → a tree that CommonMark can hold, keeping what the author sees."""

    def __init__(self, *, consult_export: bool, keep_title: bool = True) -> None:
        self.consult_export = consult_export
        self.keep_title = keep_title
        self.warnings: list[str] = []
        self.notes: list[list[dict[str, Any]]] = []
        self._context = ""  # the words of the block being read, for warnings
        self._shift = 0  # heading levels added below a Title

    def document(self, tree: dict[str, Any]) -> list[dict[str, Any]]:
        meta = tree.get("meta", {})
        title = meta.get("title")
        head: list[dict[str, Any]] = []
        if title or self.consult_export:
            # Consult's export writes level-2 headings as Heading 1, under its Title line.
            self._shift = 1
        if title and self.keep_title:
            head.append({"t": "Header", "c": [1, ["", [], []], self._meta_inlines(title)]})
        subtitle = meta.get("subtitle")
        if subtitle and not self.consult_export:
            head.append({"t": "Para", "c": self._meta_inlines(subtitle)})
        body = head + self.blocks(tree.get("blocks", []), depth=0)
        if self.notes:
            levels = [b["c"][0] for b in body if b["t"] == "Header"]
            sections = [lv for lv in levels if lv > 1] if title else levels
            level = min(sections) if sections else 0
            if level:
                body.append({"t": "Header", "c": [level, ["", [], []], [_str("Notes")]]})
            for n, note in enumerate(self.notes, start=1):
                body.append({"t": "Para", "c": [_str(f"[{n}]"), _SPACE, *note]})
        return body

    def _meta_inlines(self, value: dict[str, Any]) -> list[dict[str, Any]]:
        if value.get("t") == "MetaInlines":
            return self.inlines(value["c"])
        if value.get("t") == "MetaBlocks":
            return self.inlines(
                [i for b in value["c"] if b["t"] in ("Para", "Plain") for i in b["c"]]
            )
        if value.get("t") == "MetaString":
            return [_str(value["c"])]
        return []

    # --- blocks

    def blocks(self, blocks: list[dict[str, Any]], depth: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for b in blocks:
            for made in self.block(b, depth):
                if made["t"] == "BulletList" and out and out[-1]["t"] == "BulletList":
                    out[-1] = {"t": "BulletList", "c": out[-1]["c"] + made["c"]}
                else:
                    out.append(made)
        return out

    def block(self, b: dict[str, Any], depth: int) -> list[dict[str, Any]]:
        t, c = b["t"], b.get("c")
        if t in ("Para", "Plain"):
            self._context = plain_text(c)
            inlines = self._strip_number(self.inlines(c))
            return [{"t": t, "c": inlines}] if _has_words(inlines) else []
        if t == "Header":
            self._context = plain_text(c[2])
            level = min(c[0] + self._shift, 6)
            inlines = self._strip_number(self.inlines(c[2]))
            return [{"t": "Header", "c": [level, ["", [], []], inlines]}] if inlines else []
        if t == "BulletList":
            items = [self.blocks(item, depth + 1) for item in c]
            return [{"t": "BulletList", "c": [i for i in items if i]}] if any(items) else []
        if t == "OrderedList":
            return self.ordered(c, depth)
        if t == "Table":
            return self.table(c)
        if t == "BlockQuote":
            inner = self.blocks(c, depth)
            return [{"t": "BlockQuote", "c": inner}] if inner else []
        if t in ("CodeBlock", "HorizontalRule"):
            return [b]
        if t == "Div":
            inner = self.blocks(c[1], depth)
            style = dict(c[0][2]).get("custom-style")
            if self.consult_export and style == LIST_ITEM_STYLE and depth == 0:
                return [{"t": "BulletList", "c": [[b] for b in inner]}] if inner else []
            return inner
        if t == "Figure":
            caption = c[1][1] if c[1] else []
            return self.blocks(c[2], depth) + self.blocks(caption, depth)
        if t == "LineBlock":
            lines: list[dict[str, Any]] = []
            for i, line in enumerate(c):
                lines.extend(([{"t": "LineBreak"}] if i else []) + line)
            return self.block({"t": "Para", "c": lines}, depth)
        if t == "DefinitionList":
            out: list[dict[str, Any]] = []
            for term, definitions in c:
                out += self.block({"t": "Para", "c": [{"t": "Strong", "c": term}]}, depth)
                for d in definitions:
                    out += self.blocks(d, depth)
            return out
        return []  # RawBlock and anything unknown: no words a reader sees

    def ordered(self, c: list[Any], depth: int) -> list[dict[str, Any]]:
        (start, style, delim), items = c[0], c[1]
        style, delim = style["t"], delim["t"]
        markdown_can = style in ("Decimal", "DefaultStyle", "Example") and delim != "TwoParens"
        if markdown_can:
            kept = [self.blocks(item, depth + 1) for item in items]
            if not any(kept):
                return []
            return [{"t": "OrderedList", "c": [[start, {"t": style}, {"t": delim}], kept]}]
        out: list[dict[str, Any]] = []
        for n, item in enumerate(items, start=start):
            inner = self.blocks(item, depth + 1)
            label = [_str(list_label(n, style, delim)), _SPACE]
            if inner and inner[0]["t"] in ("Para", "Plain"):
                inner[0] = {"t": inner[0]["t"], "c": label + inner[0]["c"]}
            else:
                inner.insert(0, {"t": "Para", "c": label[:1]})
            if depth == 0:
                out.extend({**b, "t": "Para"} if b["t"] == "Plain" else b for b in inner)
            else:
                out.extend(inner)
        return out

    def table(self, c: list[Any]) -> list[dict[str, Any]]:
        """A pipe table: one paragraph per cell, merged cells cut into the ones covered."""
        attr, caption, colspecs, head, bodies, foot = c
        rows = [r for r in head[1]]
        for body in bodies:
            rows += body[2] + body[3]
        rows += foot[1]
        width = len(colspecs)
        grid: list[list[list[dict[str, Any]] | None]] = []
        pending: dict[tuple[int, int], bool] = {}  # cells covered by a merged cell above
        for r, row in enumerate(rows):
            line: list[list[dict[str, Any]] | None] = []
            col = 0
            for cell in row[1]:
                while pending.pop((r, col), False):
                    line.append([])
                    col += 1
                _attr, _align, rowspan, colspan, blocks = cell
                line.append(self._cell(blocks))
                for extra_row in range(1, rowspan):
                    for k in range(colspan):
                        pending[(r + extra_row, col + k)] = True
                line.extend([] for _ in range(colspan - 1))
                col += colspan
            while len(line) < width:
                line.append([])
            grid.append(line[:width] if width else line)
        grid = [row for row in grid if row]
        if not grid or not any(cell for row in grid for cell in row):
            return []
        width = max(len(row) for row in grid)

        def cell(inl):
            return [["", [], []], {"t": "AlignDefault"}, 1, 1, [{"t": "Plain", "c": inl or []}]]

        def row(cells):
            return [["", [], []], [cell(x) for x in cells] + [cell([])] * (width - len(cells))]

        specs = [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}]] * width
        table = {
            "t": "Table",
            "c": [
                ["", [], []],
                [None, []],
                specs,
                [["", [], []], [row(grid[0])]],
                [[["", [], []], 0, [], [row(r) for r in grid[1:]]]],
                [["", [], []], []],
            ],
        }
        out = [table]
        if caption and caption[1]:
            out += self.blocks(caption[1], 0)
        return out

    def _cell(self, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parts: list[list[dict[str, Any]]] = []
        for b in self.blocks(blocks, 1):
            parts.append(self._flat(b))
        out: list[dict[str, Any]] = []
        for p in parts:
            if p:
                out += ([_SPACE] if out else []) + p
        return out

    def _flat(self, b: dict[str, Any]) -> list[dict[str, Any]]:
        """A block's inlines on one line (for a table cell)."""
        t = b["t"]
        if t in ("Para", "Plain"):
            return [_SPACE if x["t"] == "LineBreak" else x for x in b["c"]]
        if t == "Header":
            return b["c"][2]
        if t in ("BulletList", "OrderedList"):
            items = b["c"] if t == "BulletList" else b["c"][1]
            out: list[dict[str, Any]] = []
            for item in items:
                for inner in item:
                    words = self._flat(inner)
                    if words:
                        out += ([_SPACE] if out else []) + words
            return out
        if t == "BlockQuote":
            return [x for inner in b["c"] for x in self._flat(inner)]
        if t == "CodeBlock":
            return [{"t": "Code", "c": [["", [], []], " ".join(b["c"][1].split())]}]
        return []

    def _strip_number(self, inlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Consult's export prints each paragraph's number and a tab before its text."""
        if not self.consult_export or len(inlines) < 2:
            return inlines
        first = inlines[0]
        if (
            first["t"] == "Str"
            and re.fullmatch(r"\d+(?:\.\d+)*", first["c"])
            and inlines[1]["t"] == "Space"
        ):
            return inlines[2:]
        return inlines

    # --- inlines

    def inlines(self, inlines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for x in inlines:
            out.extend(self.inline(x))
        return out

    def inline(self, x: dict[str, Any]) -> list[dict[str, Any]]:
        t, c = x["t"], x.get("c")
        if t in ("Str", "Space", "SoftBreak", "LineBreak", "Code", "Math"):
            return [x]
        if t in ("Emph", "Strong"):
            inner = self.inlines(c)
            return [{"t": t, "c": inner}] if inner else []
        if t in ("Underline", "SmallCaps", "Superscript", "Subscript", "Strikeout"):
            return self.inlines(c)
        if t in ("Span", "Cite"):
            return self.inlines(c[1])
        if t == "Quoted":
            mark = '"' if c[0]["t"] == "DoubleQuote" else "'"
            return [_str(mark), *self.inlines(c[1]), _str(mark)]
        if t == "Link":
            inner = self.inlines(c[1])
            url = c[2][0]
            if url.startswith("#") or not url:
                return inner  # a link inside the Word file: no anchor to go to here
            return [{"t": "Link", "c": [["", [], []], inner, c[2]]}]
        if t == "Image":
            alt = plain_text(c[1]).strip() or c[2][0].rsplit("/", 1)[-1]
            where = " ".join(self._context.split()[:8])
            self.warnings.append(
                f"An image{f' (“{alt}”)' if alt else ''} was not imported"
                + (f", in the paragraph starting “{where}…”" if where else "")
                + ": only text is. Describe it in words if the text needs it."
            )
            return []
        if t == "Note":
            self.notes.append(
                [i for b in c for i in (self._flat(b) if b["t"] != "Para" else b["c"])]
            )
            self.notes[-1] = self.inlines(self.notes[-1])
            return [_str(f"[{len(self.notes)}]")]
        return []  # RawInline: no words a reader sees


def _has_words(inlines: list[dict[str, Any]]) -> bool:
    return bool(plain_text(inlines).strip())
