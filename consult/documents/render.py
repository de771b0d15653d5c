"""Markdown → safe HTML for paragraphs and comment bodies."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markupsafe import Markup

from consult.documents.splitter import _md, strip_tags, tagged_headings

_ALLOWED = {
    "p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "hr", "sup", "sub",
}  # fmt: skip
_ATTRS = {"a": {"href", "title"}, "ol": {"start"}}


def render_markdown(source: str, *, shift_headings: int = 0, quoted: bool = False) -> Markup:
    """Render Markdown with raw HTML off, then sanitise the result.

    Inline tags found in imported texts are dropped (their words kept) rather
    than shown as literal markup. ``quoted``: a paragraph quoted on another page (the
    paragraph page, a comment): its heading is shown as a heading but is not one of the
    page's, so the page's own headings stay in order.
    """
    if len(source) <= _CACHED_CHARS:
        return _rendered(source, shift_headings, quoted)
    return _render(source, shift_headings, quoted)


#: Paragraphs and comments up to this length are kept rendered (RENDERED of them, in each
#: process): a page of a long text renders the same paragraphs for every reader.
_CACHED_CHARS = 8000
RENDERED = 4096


def _render(source: str, shift_headings: int, quoted: bool) -> Markup:
    html = _md.render(strip_tags(tagged_headings(source)))
    if shift_headings:
        for level in range(6, 0, -1):
            new = min(level + shift_headings, 6)
            html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    clean = nh3.clean(
        html,
        tags=_ALLOWED,
        attributes=_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
    if quoted:
        for level in range(1, 7):
            clean = clean.replace(f"<h{level}>", f'<p class="quoted-heading h{level}">')
            clean = clean.replace(f"</h{level}>", "</p>")
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


# Rendering is a pure function of its arguments, so its results can be shared by readers.
_rendered = lru_cache(maxsize=RENDERED)(_render)
