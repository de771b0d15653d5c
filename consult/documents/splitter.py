"""Markdown → paragraphs, and back.

A *block* is the unit people comment on: a heading, a paragraph, one top-level
list item, a block quote, a table, one term of a definition list with its
definitions, a code block or a rule. Each block keeps its exact source lines and
the number of blank lines before it, so joining the blocks gives back the text
(after line endings are normalised).

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
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_IAL = re.compile(r"\{:[^{}]*\}")
_SPACE = re.compile(r"[ \t]+")


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


def strip_tags(text: str) -> str:
    """Remove inline HTML tags and kramdown attribute lists, keeping the words."""
    return _IAL.sub("", _TAG.sub("", text))


def _plain(tokens: list[Token]) -> str:
    """Plain text of the inline tokens inside one block."""
    lines: list[str] = []
    for tok in tokens:
        if tok.type != "inline":
            continue
        parts: list[str] = []
        for child in tok.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        line = _SPACE.sub(" ", strip_tags("".join(parts))).strip()
        if line:
            lines.append(line)
    if not lines:
        # Code blocks and fences carry their text in content, not in inline tokens.
        lines = [t.content.strip() for t in tokens if t.type in ("fence", "code_block")]
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


def split(text: str) -> list[Block]:
    """Split a Markdown text into numbered blocks."""
    text = normalise(text)
    if not text:
        return []
    lines = text.split("\n")[:-1]  # the final newline gives an empty last element
    tokens = _md.parse(text)
    starts = _starts(tokens)
    if not starts:
        return []
    # Each block runs to the next block's start; its trailing blank lines are the next one's gap.
    bounds = [s[0] for s in starts] + [len(lines)]
    bounds[0] = 0  # lines before the first block (e.g. link definitions) belong to it
    raw: list[tuple[str, int, str, int]] = []  # kind, level, source, blank_before
    prev_end = 0
    for i, (_, kind, level) in enumerate(starts):
        start, end = bounds[i], bounds[i + 1]
        while start < end and not lines[start].strip():
            start += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        if start == end:
            continue
        raw.append((kind, level, "\n".join(lines[start:end]), start - prev_end))
        prev_end = end
    blocks = []
    for kind, level, source, blank in raw:
        # Each block is parsed alone, so a list item or a definition gives its own text.
        blocks.append(Block(kind, source, _plain(_md.parse(source)), level, blank))
    return number(blocks)


def number(blocks: list[Block]) -> list[Block]:
    """Give display numbers: sections from headings, paragraphs within them ("2.3").

    A lone level-1 heading at the top is the title and gets no number. Headings
    and paragraphs share their parent's child counter, so numbers never clash.
    """
    levels = sorted({b.level for b in blocks if b.kind == "heading"})
    has_title = bool(blocks) and blocks[0].kind == "heading" and blocks[0].level == 1
    if has_title and sum(1 for b in blocks if b.kind == "heading" and b.level == 1) == 1:
        levels = [lv for lv in levels if lv != 1]
    else:
        has_title = False
    depth_of = {lv: i + 1 for i, lv in enumerate(levels)}
    path: list[int] = []  # section numbers of the current heading
    children = [0]  # child counters, one per depth (index 0 = top-level sections)
    preamble = 0  # blocks before the first heading are numbered 0.1, 0.2 …
    out: list[Block] = []
    for i, b in enumerate(blocks):
        if i == 0 and has_title:
            out.append(_with_number(b, ""))
            continue
        if b.kind == "heading":
            depth = depth_of[b.level]
            path = path[: depth - 1]
            while len(path) < depth - 1:
                path.append(0)  # a skipped level counts as section 0
            del children[depth:]
            while len(children) < depth:
                children.append(0)
            children[depth - 1] += 1
            path.append(children[depth - 1])
            children.append(0)
            out.append(_with_number(b, ".".join(map(str, path))))
        elif not path:
            preamble += 1
            out.append(_with_number(b, f"0.{preamble}"))
        else:
            children[-1] += 1
            out.append(_with_number(b, ".".join(map(str, path)) + f".{children[-1]}"))
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
