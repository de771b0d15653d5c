"""What a suggestion's wording says, as a reader sees it.

People write proposed wording as they like: plain words, or Markdown copied from the
paragraph's source (a list marker, a heading's hashes, a table's pipes, a link). The
measure compares words, so the wording is taken as the words a reader would see, the
same way a paragraph's plain text is made from its source. Only when those words are
the paragraph's own does the markup itself become what the suggestion asks (a link's
address changed, say); and when even the markup is the same, it asks for nothing.

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

from consult.documents.splitter import split

_NON_SPACE = re.compile(r"\w+|[^\w\s]", re.UNICODE)  # words and marks, never white space


@lru_cache(maxsize=8192)
def tokens_without_space(text: str) -> tuple[str, ...]:
    """Words and punctuation marks; white space never counts as a change."""
    return tuple(_NON_SPACE.findall(text))


_render = MarkdownIt("commonmark", {"html": False}).enable("table").render
_SPACE = re.compile(r"\s+")

# A block marker at the start of a line: a heading, a bullet, a numbered item, a quote.
_MARKER = re.compile(r"^( {0,3})(#{1,6}(?=\s|$)|[-*+](?=\s)|\d{1,9}[.)](?=\s)|>)")


def _marker_kind(line: str) -> str | None:
    m = _MARKER.match(line)
    if m is None:
        return None
    mark = m.group(2)
    if mark.startswith("#"):
        return "heading"
    if mark[0] in "-*+":
        return "bullet"
    if mark == ">":
        return "quote"
    return "number"


def _escape_marker(line: str) -> str:
    """The line with its block marker kept as text ("2014. The law" stays a sentence)."""
    m = _MARKER.match(line)
    if m is None:
        return line
    indent, mark = m.group(1), m.group(2)
    escaped = mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark
    return indent + escaped + line[m.end() :]


def plain_wording(wording: str, paragraph_source: str | None = None) -> str:
    """The words a reader sees of `wording` (blocks joined by a blank line).

    A block marker that opens the wording counts as markup only when the paragraph's own
    source opens with the same kind of marker: someone who writes "2014. The law" under
    an ordinary paragraph means the year.
    """
    text = wording.replace("\r\n", "\n").strip("\n")
    if not text.strip():
        return ""
    first = text.split("\n", 1)[0]
    kind = _marker_kind(first)
    if kind is not None:
        own = (
            _marker_kind(paragraph_source.lstrip("\n").split("\n", 1)[0])
            if paragraph_source
            else None
        )
        if own != kind:
            text = _escape_marker(first) + text[len(first) :]
    return "\n\n".join(b.text for b in split(text) if b.text)


def basis(
    paragraph_text: str, paragraph_source: str, suggested: str, *, quoted: bool = False
) -> str | None:
    """What the suggestion is measured on: "text" (the words a reader sees), "source"
    (it changes only markup, such as a link's address) or None (it asks for nothing).

    A quoted span is always text: quotes are taken from the paragraph's plain text.
    """
    if quoted:
        return "text"
    words = tokens_without_space(plain_wording(suggested, paragraph_source))
    if words != tokens_without_space(paragraph_text):
        return "text"
    if tokens_without_space(suggested) == words:
        return None  # plain words, the paragraph's own: the markup was simply left out
    if _looks(suggested) == _looks(paragraph_source):
        return None  # other markup for the same thing ("*" or "-" for a bullet)
    return "source"


def _looks(markdown: str) -> str:
    """What a reader gets of Markdown: its HTML, white space folded."""
    return _SPACE.sub(" ", _render(markdown)).strip()


def asks_change(
    paragraph_text: str, paragraph_source: str, suggested: str, quote: str | None = None
) -> bool:
    """Whether a suggestion's wording changes anything a reader would see: for a quoted
    span, its words against the quote's; else against the whole paragraph."""
    if quote is not None:
        return tokens_without_space(plain_wording(suggested)) != tokens_without_space(quote)
    return basis(paragraph_text, paragraph_source, suggested) is not None
