"""Markdown → paragraphs, and back.

A *block* is the unit people comment on: a heading, a paragraph, one top-level
list item (Markdown or HTML `<li>`), a block quote, a table, one term of a
definition list with its definitions, a code block or a rule. Each block keeps
its exact source lines and the number of blank lines before it, so joining the
blocks gives back the text (after line endings are normalised).

Invisible content (HTML comments, kramdown attribute lines, lone wrapper tags,
link definitions) makes no block of its own: its lines belong to a neighbouring
block's source and stay out of the plain text.

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin

# Raw HTML stays off: tags in source texts are shown as text or stripped, never passed through.
_md = MarkdownIt("commonmark", {"html": False}).enable("table").use(deflist_plugin)
# The same grammar, with entities and escapes left as tokens of their own, so that an
# escaped "&lt;br&gt;" stays text instead of being taken for a tag.
_md_plain = (
    MarkdownIt("commonmark", {"html": False})
    .enable("table")
    .use(deflist_plugin)
    .disable("text_join")
)

_CONTAINERS = {
    "bullet_list_open": "list_item",
    "ordered_list_open": "list_item",
    "dl_open": "definition",
}
_SINGLE = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "blockquote_open": "blockquote",
    "table_open": "table",
    "fence": "code",
    "code_block": "code",
    "hr": "rule",
}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_IAL = re.compile(r"\{:[^{}]*\}")
_SPACE = re.compile(r"[ \t]+")
# Tags that end a line or a cell in HTML: their words must not run into the next ones.
_BREAKING = frozenset(
    re.findall(
        r"\w+",
        """address article aside blockquote br caption center dd details dialog dir div dl
        dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr legend li main
        menu nav ol optgroup option p pre section summary table tbody td tfoot th thead tr ul""",
    )
)
_VOID = frozenset(
    re.findall(r"\w+", "area base br col embed hr img input link meta source track wbr")
)
# Leading white space before an HTML list tag at the very start of a text: a list item
# indented inside its <ul> is still that item when it stands alone, not a code block.
_LEAD_LIST = re.compile(r"\A[ \t]+(?=</?(?:li|ol|ul)\b)", re.I)
_LIST_TAG = re.compile(r"<(/?)(ol|ul|li)\b[^<>]*>", re.I)
_PREFIX = re.compile(r"(?:\s|<[^<>]*>|\{:[^{}]*\})*")
_BLOCK_COMMENT = re.compile(r"^ {0,3}<!--", re.M)
_KEEP = "\ue000"  # stands for a "<" that is text (escaped, an entity, or code), not a tag


@dataclass(frozen=True)
class Block:
    kind: str
    source: str
    text: str
    level: int = 0
    blank_before: int = 1
    number: str = ""


def normalise(text: str) -> str:
    """Line endings to \\n, no trailing white space at the end, one final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip("\n") + "\n" if text.strip() else ""


def _tag(m: re.Match) -> str:
    # A tag that breaks a line becomes a space; an inline one (a, em, span …) vanishes.
    return " " if m.group(2).lower() in _BREAKING else ""


def strip_tags(text: str) -> str:
    """Remove HTML tags, HTML comments and kramdown attribute lists, keeping the words.

    Tags that break a line in HTML (br, p, li, td …) leave a space, so the words on
    either side stay apart; inline ones (a, em, span …) simply vanish. A comment
    keeps its line breaks, so the lines around it stay where they were.
    """
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    text = _LEAD_LIST.sub("", text)
    return _IAL.sub("", _TAG.sub(_tag, text))


def _plain(tokens: list[Token]) -> str:
    """Plain text of the inline tokens inside one block."""
    lines: list[str] = []
    for tok in tokens:
        if tok.type in ("fence", "code_block"):
            # Code carries its text in content (an indented passage inside a definition,
            # a fence inside a list item): its words are part of the block.
            lines.append(tok.content.strip())
            continue
        if tok.type != "inline":
            continue
        parts: list[str] = []
        for child in tok.children or []:
            if child.type == "text":
                parts.append(child.content)
            elif child.type in ("text_special", "code_inline"):
                # Written as text on purpose: "&lt;br&gt;", "\<br>" or `<br>` are words.
                parts.append(child.content.replace("<", _KEEP))
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        line = strip_tags("".join(parts)).replace(_KEEP, "<")
        line = _SPACE.sub(" ", line).strip()
        if line:
            lines.append(line)
    return "\n".join(x for x in lines if x)


def _starts(tokens: list[Token]) -> list[tuple[int, str, int]]:
    """(first line, kind, heading level) of each block, in order."""
    starts: list[tuple[int, str, int]] = []
    for tok in tokens:
        if tok.map is None:
            continue
        if tok.level == 0 and tok.type in _SINGLE:
            level = int(tok.tag[1]) if tok.type == "heading_open" else 0
            starts.append((tok.map[0], _SINGLE[tok.type], level))
        elif tok.level == 1 and tok.type in ("list_item_open", "dt_open"):
            starts.append(
                (tok.map[0], "list_item" if tok.type == "list_item_open" else "definition", 0)
            )
    return starts


_TAGGED_HEADING = re.compile(r"^( {0,3}#{1,6})(?=<[A-Za-z/!])")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def tagged_headings(text: str) -> str:
    """A heading whose marks touch an HTML tag ("##<a id="intro"></a>Introduction", as
    converters write an anchor before a heading) read as the heading it is meant to be:
    a space goes after the marks (outside code fences). Nothing else changes."""
    if "#<" not in text:
        return text
    out, fenced = [], None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if m:
            fenced = None if fenced == m.group(1) else (fenced or m.group(1))
        elif fenced is None:
            line = _TAGGED_HEADING.sub(r"\1 ", line)
        out.append(line)
    return "\n".join(out)


_ANCHOR = re.compile(r"""<a\b[^<>]*?\b(?:id|name)\s*=\s*["']([^"'<>\s]+)["']""", re.I)
_ATTR_ID = re.compile(r"\{:?\s*#([A-Za-z][\w.-]*)\s*\}")
_LINK_TARGET = re.compile(r"\]\(#([^)\s]+)\)")


def heading_slug(text: str) -> str:
    """The id a heading gets where Markdown is rendered with automatic ids (GitHub's
    way: lower case, punctuation out, spaces to hyphens), which a table of contents
    written for such a site links to."""
    slug = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return slug.replace(" ", "-")


def anchors(source: str, text: str, kind: str) -> list[str]:
    """The in-page link targets a block carries: ids of HTML anchors in its source
    (<a id="x">, <a name="x">), kramdown ids ({#x}), and a heading's automatic id."""
    found = _ANCHOR.findall(source) + _ATTR_ID.findall(source)
    if kind == "heading" and text.strip():
        found.append(heading_slug(text))
    return list(dict.fromkeys(a for a in found if a))


def link_targets(source: str) -> list[str]:
    """The in-page targets ("#x") the block's links point to."""
    return _LINK_TARGET.findall(source)


def _shown(text: str) -> str:
    """The text as a reader sees its structure: HTML comments that start a line (outside
    code) are taken out, their line breaks kept, so line numbers do not move; an HTML
    list tag at the very start loses its indentation (see _LEAD_LIST); a heading whose
    marks touch a tag is read as a heading (tagged_headings)."""
    text = tagged_headings(_LEAD_LIST.sub("", text))
    if "<!--" not in text:
        return text
    code: set[int] = set()
    for tok in _md_plain.parse(text):
        if tok.type == "fence" and tok.map:
            code.update(range(tok.map[0], tok.map[1]))
    out: list[str] = []
    pos = 0
    for m in _BLOCK_COMMENT.finditer(text):
        start = m.end() - 4
        if start < pos or text.count("\n", 0, start) in code:
            continue
        end = text.find("-->", start + 2)
        if end < 0:
            break  # never closed: left as text rather than hiding the rest
        end += 3
        out.append(text[pos:start])
        out.append("\n" * text.count("\n", start, end))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _item_cuts(shown: list[str], start: int, end: int) -> list[int]:
    """Lines where a top-level HTML list item starts, in a paragraph's lines.

    An item starts a line when only tags come before its <li> on that line; opening
    tags on the lines just above (<ol>, <ul>, <div>) go with the first item that
    follows them. Several items on one line stay together: the line cannot be cut
    without changing the text."""
    cuts: list[int] = []
    depth, top = 0, None
    for i in range(start, end):
        line = shown[i]
        for m in _LIST_TAG.finditer(line):
            closing, name = m.group(1), m.group(2).lower()
            if name != "li":
                depth += -1 if closing else 1
                continue
            if closing:
                continue
            top = depth if top is None else min(top, depth)
            if depth > top or (cuts and cuts[-1] == i):
                continue
            if _visible(line[: m.start()]):
                continue  # words before it on the same line
            cut = i
            while cut - 1 >= start and _opening_only(shown[cut - 1]):
                cut -= 1
            if cut > (cuts[-1] if cuts else start - 1):
                cuts.append(cut)
    return cuts


def _visible(text: str) -> bool:
    return bool(strip_tags(text).strip())


def _opening_only(line: str) -> bool:
    """Only tags on the line, the last of them opening an element (<ol>, <div …>)."""
    if _visible(line) or not line.strip():
        return False
    tags = _TAG.findall(line)
    if not tags:
        return False
    closing, name = tags[-1]
    return not closing and name.lower() not in _VOID


def _kind(kind: str, shown: str) -> str:
    """A paragraph whose first words come after an <li> tag is a list item."""
    if kind != "paragraph":
        return kind
    prefix = _PREFIX.match(shown)
    return "list_item" if prefix and re.search(r"<li\b", prefix.group(0), re.I) else kind


def split(text: str) -> list[Block]:
    """Split a Markdown text into numbered blocks.

    A text with no visible words at all gives no blocks.
    """
    text = normalise(text)
    if not text:
        return []
    lines = text.split("\n")[:-1]  # the final newline gives an empty last element
    shown_text = _shown(text)
    shown = shown_text.split("\n")[:-1]
    starts = _starts(_md_plain.parse(shown_text))
    if not starts:
        return []
    # Each block runs to the next block's start; its trailing blank lines are the next one's gap.
    bounds = [s[0] for s in starts] + [len(lines)]
    bounds[0] = 0  # lines before the first block (e.g. link definitions) belong to it
    spans: list[list] = []  # [kind, level, first line, end line, blank_before]
    prev_end = 0
    for i, (_, kind, level) in enumerate(starts):
        start, end = bounds[i], bounds[i + 1]
        while start < end and not lines[start].strip():
            start += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        if start == end:
            continue
        blank = start - prev_end
        prev_end = end
        if kind != "paragraph":
            spans.append([kind, level, start, end, blank])
            continue
        # An HTML list read as one paragraph (raw HTML is off): one block per item.
        edges = [start, *(c for c in _item_cuts(shown, start, end) if c > start), end]
        for a, b in zip(edges, edges[1:], strict=False):
            spans.append([kind, level, a, b, blank if a == start else 0])
    for s in spans:
        # Each block is parsed alone, so a list item or a definition gives its own text.
        s.append(_plain(_md_plain.parse(_shown("\n".join(shown[s[2] : s[3]]) + "\n"))))
    spans = _absorb_invisible(spans, shown)
    blocks = [
        Block(
            _kind(kind, "\n".join(shown[a:b])),
            "\n".join(lines[a:b]),
            plain,
            level,
            blank,
        )
        for kind, level, a, b, blank, plain in spans
    ]
    return number(blocks)


def _absorb_invisible(spans: list[list], shown: list[str]) -> list[list]:
    """Give the lines of blocks without visible words to a neighbour.

    Lines that open an element (<ol>, <div>) go with the block after them; anything
    else (closing tags, kramdown attributes, stray anchors) with the block before.
    Code blocks and rules keep their place even when empty."""
    keep = [s for s in spans if s[5] or s[0] in ("code", "rule")]
    if not keep:
        return []
    out: list[list] = []
    pending: list | None = None  # invisible lines waiting for the next visible block
    for s in spans:
        visible = bool(s[5]) or s[0] in ("code", "rule")
        if visible:
            if pending is not None:
                s[2], s[4] = pending[2], pending[4]
                pending = None
            out.append(s)
            continue
        forward = _opening_only(shown[s[3] - 1]) or not out
        if pending is not None:
            pending[3] = s[3]  # joins the lines already waiting
        elif forward:
            pending = list(s)
        else:
            out[-1][3] = s[3]
    if pending is not None:
        out[-1][3] = pending[3]
    return out


def number(blocks: list[Block]) -> list[Block]:
    """Give display numbers: sections from headings, paragraphs within them ("2.3").

    A lone level-1 heading at the top is the title and gets no number. A heading's
    depth is the number of headings open above it (a stack), so a skipped level
    never leaves an empty section: a #### right under a ## numbers "1.2", not
    "1.0.2". Headings and paragraphs share their parent's child counter, so numbers
    never clash. Blocks before the first heading are numbered 0.1, 0.2 …
    """
    has_title = bool(blocks) and blocks[0].kind == "heading" and blocks[0].level == 1
    if not (has_title and sum(1 for b in blocks if b.kind == "heading" and b.level == 1) == 1):
        has_title = False
    # Open headings, outermost first: [heading level, section path, children so far].
    stack: list[tuple[int, list[int], list[int]]] = []
    sections = 0  # top-level sections so far
    preamble = 0
    out: list[Block] = []
    for i, b in enumerate(blocks):
        if i == 0 and has_title:
            out.append(_with_number(b, ""))
            continue
        if b.kind == "heading":
            while stack and stack[-1][0] >= b.level:
                stack.pop()
            if stack:
                _, parent, count = stack[-1]
                count[0] += 1
                path = [*parent, count[0]]
            else:
                sections += 1
                path = [sections]
            stack.append((b.level, path, [0]))
            out.append(_with_number(b, ".".join(map(str, path))))
        elif not stack:
            preamble += 1
            out.append(_with_number(b, f"0.{preamble}"))
        else:
            _, path, count = stack[-1]
            count[0] += 1
            out.append(_with_number(b, ".".join(map(str, [*path, count[0]]))))
    return out


def _with_number(b: Block, num: str) -> Block:
    return Block(b.kind, b.source, b.text, b.level, b.blank_before, num)


def join(blocks: list[tuple[str, int]] | list[Block]) -> str:
    """Blocks (or (source, blank_before) pairs) back to one Markdown text."""
    parts: list[str] = []
    for i, b in enumerate(blocks):
        source, blank = (b.source, b.blank_before) if isinstance(b, Block) else b
        if i:
            parts.append("\n" * (blank + 1))
        parts.append(source)
    return "".join(parts) + "\n" if parts else ""


@dataclass(frozen=True)
class Structure:
    """What an import will make of a text, shown before it is stored."""

    blocks: int  # paragraphs, headings and other blocks: the units people comment on
    headings: list[tuple[str, int, str]]  # (number, level, words) of each heading
    numbered: int  # blocks with a section number ("2.3"); the rest are "0.x" or the title
    unnumbered: int  # blocks before the first heading ("0.1", "0.2" …)
    kinds: dict[str, int]
    broken_links: list[str]  # in-page targets ("#x") that no block carries
    flat: bool  # looks flat: no headings at all, or almost everything before the first


def structure(text: str) -> Structure:
    """The structure of a text as split() will store it: its headings and numbering,
    how many blocks, and the in-page links that would point nowhere."""
    blocks = split(text)
    targets: set[str] = set()
    wanted: list[str] = []
    kinds: dict[str, int] = {}
    for b in blocks:
        targets.update(anchors(b.source, b.text, b.kind))
        wanted.extend(link_targets(b.source))
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    headings = [(b.number, b.level, b.text) for b in blocks if b.kind == "heading"]
    unnumbered = sum(1 for b in blocks if b.number.startswith("0."))
    numbered = sum(1 for b in blocks if b.number and not b.number.startswith("0."))
    broken = list(dict.fromkeys(t for t in wanted if t not in targets))
    sections = [h for h in headings if h[0]]  # the title (no number) is not a section
    flat = len(blocks) > 3 and (not sections or unnumbered > len(blocks) / 2)
    return Structure(len(blocks), headings, numbered, unnumbered, kinds, broken, flat)
