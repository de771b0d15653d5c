"""Every key page of the demo, as each role sees it, in every language of the interface:
no word of the interface is left in English. Only the content (the document's text,
the comments, names: what people wrote) may be in English.

How a leftover is found: the words of the English interface are the words of the
catalog's English messages; a page in Thai (or Malay…) that still shows one of them,
where neither the content of the database nor that language's own translations use
it, shows an English string. Content marked with its own language (lang="…") is set
aside first. The failure lists every page, language and word at once.
"""

from __future__ import annotations

import os
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import JSON, String, Text, select

from consult.accounts.models import User
from consult.demo import load_demo
from consult.extensions import db
from consult.i18n import LOCALES
from tests.demo_pages import ROLES, pages_for

pytestmark = [
    # What a page says does not depend on the database: the SQLite pass only.
    pytest.mark.once,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
#: Elements whose text is not the interface's: scripts, styles, code, and what the
#: server marks as written in a language of its own.
SKIPPED = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "svg"}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
#: Columns that hold no one's words: hashes, machine-readable JSON, the record's entries.
NOT_CONTENT = re.compile(r"(hash|_json|payload|token|sha256|key|signature|password)")
NOT_CONTENT_TABLES = re.compile(r"^(event|record_|kept_|uptake|search_|alembic|mail_)")


class _Text(HTMLParser):
    """The text a reader sees, plus title/alt/aria-label/placeholder/value of buttons,
    without the elements set aside (SKIPPED, or with a lang of their own)."""

    def __init__(self, locale: str) -> None:
        super().__init__(convert_charrefs=True)
        self.locale = locale
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        lang = a.get("lang")
        skip = tag in SKIPPED or (lang is not None and lang.split("-")[0] != self.locale)
        if not skip and not self._skipping():
            for name in ("title", "alt", "aria-label", "placeholder"):
                if a.get(name):
                    self.parts.append(a[name])
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.parts.append(a["value"])
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self._skipping():
            self.parts.append(data)


def seen_words(html: str, locale: str) -> list[tuple[str, str]]:
    """(word, the words around it) for every Latin word a reader sees."""
    parser = _Text(locale)
    parser.feed(html)
    out = []
    for part in parser.parts:
        for m in WORD.finditer(part):
            around = " ".join(part[max(0, m.start() - 40) : m.end() + 40].split())
            out.append((m.group(0), around))
    return out


def _words(text: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(text)}


@cache
def catalog_words(locale: str | None) -> frozenset[str]:
    """locale None: every word of the English interface (the catalog's messages);
    else the words that language's own translations use (names, loanwords,
    abbreviations). Placeholders' names are not shown, so not counted."""
    path = TRANSLATIONS / "messages.pot"
    if locale:
        path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    words: set[str] = set()
    for m in catalog:
        texts = m.string if locale else m.id
        for text in texts if isinstance(texts, tuple) else (texts,):
            if text:
                words |= _words(re.sub(r"%\(\w+\)[sd]", " ", text))
    return frozenset(words)


def content_words() -> set[str]:
    """Every word people wrote into the database: texts, comments, names, titles."""
    words: set[str] = set()
    for table in db.metadata.sorted_tables:
        if NOT_CONTENT_TABLES.match(table.name):
            continue
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, (String, Text, JSON)) and not NOT_CONTENT.search(c.name)
        ]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for value in row:
                if value:
                    words |= _words(str(value))
    return words


def test_every_page_of_the_demo_in_every_language_is_free_of_english(app, client, as_user):
    load_demo()
    db.session.commit()
    content = content_words()
    english = catalog_words(None)
    found: dict[tuple[str, str], set[str]] = {}
    for role, email in ROLES.items():
        # The visitor walks first, signed out; then each role signs in.
        if email:
            as_user(db.session.scalar(select(User).where(User.email == email)))
        for path in pages_for(role):
            for locale in (os.environ.get("WALK_LOCALES") or " ".join(LOCALES)).split():
                if locale == "en":
                    continue
                resp = client.get(path, headers={"Accept-Language": locale})
                # A page a role may not open says so, in the reader's language too.
                assert resp.status_code in (200, 403), f"{role} {path} [{locale}]: {resp.status}"
                html = resp.get_data(as_text=True)
                assert f'<html lang="{locale}"' in html, f"{path} not served in {locale}"
                allowed = catalog_words(locale)
                for word, around in seen_words(html, locale):
                    w = word.casefold()
                    if w in english and w not in content and w not in allowed:
                        found.setdefault((path, locale), set()).add(f"{word} «{around}»")
    lines = [
        f"{path} [{locale}]: " + "; ".join(sorted(words))
        for (path, locale), words in sorted(found.items())
    ]
    assert not found, f"English left on {len(found)} pages:\n" + "\n".join(lines)
