"""Markdown → safe HTML for paragraphs and comment bodies."""

from __future__ import annotations

import nh3
from markupsafe import Markup

from consult.documents.splitter import _md, strip_tags, tagged_headings

_ALLOWED = {
    "p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "hr", "sup", "sub",
}  # fmt: skip
_ATTRS = {"a": {"href", "title"}, "ol": {"start"}}


def render_markdown(source: str, *, shift_headings: int = 0) -> Markup:
    """Render Markdown with raw HTML off, then sanitise the result.

    Inline tags found in imported texts are dropped (their words kept) rather
    than shown as literal markup.
    """
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
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
