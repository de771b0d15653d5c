"""A version as a Markdown file or as one standalone HTML file.

Plain functions returning str, shared by the pages, the API and the command
line. The text is checked against the hash taken at publication before it
leaves, so an export is the published text or nothing.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from flask_babel import gettext as _

from consult.documents.models import Version
from consult.documents.services import to_markdown
from consult.errors import Conflict
from consult.hashing import sha256
from consult.timeutil import utcnow
from consult.web import format_dt

HTML_STYLE = """
body { font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
header { border-bottom: 1px solid #ccc; margin-bottom: 1.5rem; }
.meta { color: #555; }
code { font-size: .85em; word-break: break-all; }
.para { display: grid; grid-template-columns: 3.5rem minmax(0, 1fr); gap: .5rem;
  align-items: baseline; }
.num { color: #666; text-align: right; font-variant-numeric: tabular-nums; }
.kind-heading { margin-top: 1.2rem; }
.para h2, .para h3, .para h4, .para h5, .para h6 { margin: 0 0 .4rem; }
.para p, .para ul, .para ol { margin: 0 0 .8rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #bbb; padding: .2rem .4rem; }
footer { border-top: 1px solid #ccc; margin-top: 2rem; color: #555; font-size: .9rem; }
@media print { body { margin: 0; max-width: none; } }
"""


def filename(version: Version, extension: str) -> str:
    """e.g. 'aipa-cso-framework-v2.md'."""
    return f"{version.document.slug}-v{version.number}.{extension}"


def checked_markdown(version: Version) -> str:
    """The version's Markdown text, refused if it no longer matches its publication hash."""
    text = to_markdown(version)
    if version.content_hash and sha256(text) != version.content_hash:
        raise Conflict(
            _(
                "Version %(number)s's text does not match the hash taken at "
                "publication; it is not exported. Run `flask verify` and "
                "tell the administrator.",
                number=version.number,
            )
        )
    return text


def markdown_export(version: Version) -> str:
    return checked_markdown(version)


def html_export(version: Version, *, exported_at: datetime | None = None) -> str:
    """One HTML file with its CSS inside: readable offline, printable, no links needed."""
    from consult.documents.render import render_markdown

    checked_markdown(version)
    doc = version.document
    tz = doc.timezone
    facts = [f"{escape(version.title)}", escape(version.state_label)]
    if version.published_at:
        facts.append(f"published {escape(format_dt(version.published_at, tz))}")
    if version.state == "consultation" and version.closes_at:
        facts.append(f"comments close {escape(format_dt(version.closes_at, tz))}")
    if version.finalized_at:
        facts.append(f"final since {escape(format_dt(version.finalized_at, tz))}")
    hash_line = (
        f'<p class="meta">Content hash (sha256 of the Markdown text): '
        f"<code>{escape(version.content_hash)}</code></p>"
        if version.content_hash
        else '<p class="meta">Draft: not published, so it has no content hash yet.</p>'
    )
    paragraphs = []
    for p in version.paragraphs:
        anchor = f"para-{p.number}" if p.number else f"pos-{p.position}"
        paragraphs.append(
            f'<div class="para kind-{escape(p.kind)}" id="{escape(anchor)}">'
            f'<span class="num">{escape(p.number)}</span>'
            f"<div>{render_markdown(p.source, shift_headings=1)}</div></div>"
        )
    committee = f'<p class="meta">{escape(doc.committee)}</p>' if doc.committee else ""
    when = format_dt(exported_at or utcnow(), tz)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(doc.title)} — {escape(version.title)}</title>\n"
        f"<style>{HTML_STYLE}</style>\n</head>\n<body>\n"
        f"<header>{committee}<h1>{escape(doc.title)}</h1>"
        f'<p class="meta">{" · ".join(facts)}</p>{hash_line}</header>\n'
        "<main>\n" + "\n".join(paragraphs) + "\n</main>\n"
        f"<footer><p>Exported from Consult on {escape(when)}. "
        "The content hash can be recomputed from the Markdown export of this version.</p>"
        "</footer>\n</body>\n</html>\n"
    )
