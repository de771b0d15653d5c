"""The search language, read the same way for every backend.

    words                      every word must be found (stemmed: "hearings" finds "hearing")
    "exact phrase"             the words next to each other, in this order
    budget OR finance          either word (OR in capitals; binds the words on each side)
    -youth   -"civil society"  leave out what has the word or the phrase
    field:value                a filter, e.g. decision:accepted org:mcvn country:TH type:comment
                               kind:suggestion doc:aipa-framework version:2 date:2026-03
                               from:2026-01-01 to:2026-02 latest:yes sort:date lang:th
                               theme:funding (a document's theme, consult.analysis)
    -field:value               leave out what the filter matches

A query that cannot be read (an unclosed quotation mark, brackets, a dangling OR)
never fails: it is searched for its words alone and the note says so. A filter
with a value that makes no sense is left out, and the note says that too.

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from consult.consultation.languages import LANGUAGES
from consult.i18n import N_
from consult.search import segment

MAX_LENGTH = 500  # characters of a query that are read
MAX_ITEMS = 32  # words and phrases that are searched

TYPES = {
    "paragraph": N_("Paragraph"),
    "comment": N_("Comment"),
    "organisation": N_("Organisation"),
    "document": N_("Document"),
}
COMMENT_KINDS = ("comment", "suggestion", "question")
DECISIONS = ("accepted", "partly_accepted", "noted", "not_accepted", "out_of_scope", "unanswered")
SORTS = ("relevance", "date", "oldest")

# Field names as written in queries, and the filter each one sets.
FIELDS = {
    "type": "type",
    "is": "type",
    "kind": "kind",
    "decision": "decision",
    "org": "org",
    "organisation": "org",
    "organization": "org",
    "orgkind": "orgkind",
    "org-kind": "orgkind",
    "org_kind": "orgkind",
    "country": "country",
    "doc": "document",
    "document": "document",
    "version": "version",
    "v": "version",
    "date": "date",
    "from": "from",
    "after": "from",
    "since": "from",
    "to": "to",
    "before": "to",
    "until": "to",
    "latest": "latest",
    "sort": "sort",
    "lang": "lang",
    "language": "lang",
    "theme": "theme",
}
_ALIASES = {
    "type": {
        "paragraphs": "paragraph",
        "comments": "comment",
        "organisations": "organisation",
        "organization": "organisation",
        "organizations": "organisation",
        "org": "organisation",
        "documents": "document",
        "doc": "document",
    },
    "kind": {"comments": "comment", "suggestions": "suggestion", "questions": "question"},
    "decision": {
        "partly": "partly_accepted",
        "partial": "partly_accepted",
        "rejected": "not_accepted",
        "none": "unanswered",
        "pending": "unanswered",
        "open": "unanswered",
        "scope": "out_of_scope",
    },
}
_YES = {"yes", "true", "1", "on", "only"}
_NO = {"no", "false", "0", "off", "all"}
# Lowercase "or"/"and" are ordinary (and very common) words; only capitals are operators.
# A word keeps its combining marks (Thai vowel signs, Khmer subscripts…): segment.WORD.
_WORD = segment.WORD
_TOKEN = re.compile(r'[^\s"()]+')


@dataclass(frozen=True)
class Term:
    """One word, as typed (backends lowercase and stem it)."""

    word: str


@dataclass(frozen=True)
class Phrase:
    """Words that must be found next to each other, in this order."""

    words: tuple[str, ...]


Item = Term | Phrase


@dataclass
class Parsed:
    """A query as read: AND of OR-groups of words and phrases, exclusions, filters."""

    raw: str = ""
    #: Every group must match; a group matches when any of its items does.
    groups: list[tuple[Item, ...]] = field(default_factory=list)
    #: Nothing may match any of these.
    excluded: list[Item] = field(default_factory=list)
    #: Filter name → accepted values (several values of one filter: any of them).
    filters: dict[str, list[str]] = field(default_factory=dict)
    #: Filter name → values that must not match.
    excluded_filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: datetime | None = None
    date_to: datetime | None = None  # exclusive
    latest: bool | None = None
    sort: str | None = None
    notes: list[str] = field(default_factory=list)
    #: True when the query could not be read and only its words were searched.
    fallback: bool = False

    @property
    def has_text(self) -> bool:
        return bool(self.groups or self.excluded)

    @property
    def has_filters(self) -> bool:
        return bool(self.filters or self.excluded_filters or self.date_from or self.date_to)

    def positive_words(self) -> list[str]:
        """The words searched for (not the excluded ones): for highlights and spelling."""
        out: list[str] = []
        for group in self.groups:
            for item in group:
                out.extend([item.word] if isinstance(item, Term) else item.words)
        return out

    def websearch(self) -> str:
        """The text part in the syntax of PostgreSQL's websearch_to_tsquery."""
        return websearch(self.groups, self.excluded)


def websearch(groups: list[tuple[Item, ...]], excluded: Sequence[Item] = ()) -> str:
    """Words and phrases in the syntax of PostgreSQL's websearch_to_tsquery, which reads
    the same language without filters: words, "phrases", or, -exclusion."""
    parts = []
    for group in groups:
        rendered = [r for r in (_render(i) for i in group) if r]
        if rendered:
            parts.append(" or ".join(rendered))
    for item in excluded:
        r = _render(item)
        if r:
            parts.append("-" + r)
    return " ".join(parts)


def _render(item: Item) -> str:
    words = [item.word] if isinstance(item, Term) else list(item.words)
    # Only word characters reach PostgreSQL, and never a bare "or" that it would read
    # as an operator.
    words = [w for w in ("".join(_WORD.findall(w)) for w in words) if w and w.lower() != "or"]
    if not words:
        return ""
    return words[0] if isinstance(item, Term) and len(words) == 1 else '"' + " ".join(words) + '"'


class Malformed(ValueError):
    """The query cannot be read; the message says why, in words for the note."""


def _words(text: str) -> list[str]:
    """The words of `text`; a run of Thai, Lao, Khmer or Burmese gives its dictionary words
    (segment.py), as the backends' indexing does."""
    return segment.words(text)


def _item(text: str) -> Item | None:
    """A bare token: one word, or the words of a hyphenated or dotted token (or of a run
    of an unspaced script) as a phrase."""
    words = _words(text)
    if not words:
        return None
    return Term(words[0]) if len(words) == 1 else Phrase(tuple(words))


def _tokens(q: str) -> list[tuple]:
    """("item", negated, Item) | ("filter", negated, name, value) | ("or",) | ("not",)."""
    out: list[tuple] = []
    pos, n = 0, len(q)
    while pos < n:
        ch = q[pos]
        if ch.isspace():
            pos += 1
            continue
        negated = False
        if ch == "-" and pos + 1 < n and not q[pos + 1].isspace():
            negated, pos = True, pos + 1
            ch = q[pos]
        if ch in "()":
            raise Malformed("brackets are not part of the search language")
        if ch == '"':
            end = q.find('"', pos + 1)
            if end < 0:
                raise Malformed("a quotation mark is not closed")
            words = _words(q[pos + 1 : end])
            pos = end + 1
            if words:
                out.append(
                    ("item", negated, Phrase(tuple(words)) if len(words) > 1 else Term(words[0]))
                )
            continue
        m = _TOKEN.match(q, pos)
        assert m is not None  # the character is neither space, quote nor bracket
        chunk, pos = m.group(), m.end()
        name, colon, value = chunk.partition(":")
        if colon and name.lower() in FIELDS:
            if not value and pos < n and q[pos] == '"':
                end = q.find('"', pos + 1)
                if end < 0:
                    raise Malformed("a quotation mark is not closed")
                value, pos = q[pos + 1 : end], end + 1
            if not value.strip():
                raise Malformed(f"'{name}:' has no value")
            out.append(("filter", negated, FIELDS[name.lower()], value.strip()))
            continue
        if not negated and chunk in ("OR", "|"):
            out.append(("or",))
            continue
        if not negated and chunk == "AND":
            continue  # every word must match anyway
        if not negated and chunk == "NOT":
            out.append(("not",))
            continue
        item = _item(chunk)
        if item is not None:
            out.append(("item", negated, item))
    return out


def _structure(tokens: list[tuple], parsed: Parsed) -> None:
    # NOT x is -x.
    merged: list[tuple] = []
    negate_next = False
    for tok in tokens:
        if tok[0] == "not":
            if negate_next:
                raise Malformed("NOT is repeated")
            negate_next = True
            continue
        if negate_next:
            if tok[0] == "or":
                raise Malformed("NOT is followed by OR")
            tok = (tok[0], True, *tok[2:])
            negate_next = False
        merged.append(tok)
    if negate_next:
        raise Malformed("NOT has nothing after it")

    i = 0
    while i < len(merged):
        tok = merged[i]
        if tok[0] == "or":
            raise Malformed("OR needs a word or a phrase on each side")
        if tok[0] == "filter":
            _, negated, name, value = tok
            # "org:a OR org:b" says what several values of one filter already mean.
            while i + 2 < len(merged) and merged[i + 1][0] == "or":
                nxt = merged[i + 2]
                if nxt[0] != "filter" or nxt[1] or negated or nxt[2] != name:
                    raise Malformed("OR joins words, phrases or values of the same filter")
                add_filter(parsed, name, nxt[3], False)
                i += 2
            add_filter(parsed, name, value, negated)
            i += 1
            continue
        _, negated, item = tok
        if negated:
            if i + 1 < len(merged) and merged[i + 1][0] == "or":
                raise Malformed("an excluded word cannot be one side of OR")
            parsed.excluded.append(item)
            i += 1
            continue
        group = [item]
        while i + 1 < len(merged) and merged[i + 1][0] == "or":
            if i + 2 >= len(merged) or merged[i + 2][0] != "item" or merged[i + 2][1]:
                raise Malformed("OR needs a word or a phrase on each side")
            group.append(merged[i + 2][2])
            i += 2
        parsed.groups.append(tuple(group))
        i += 1


def _period(value: str) -> tuple[datetime, datetime]:
    """2026 → that year; 2026-03 → that month; 2026-03-15 → that day (UTC)."""
    parts = value.split("-")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3 or len(parts[0]) != 4:
        raise ValueError(value)
    y = int(parts[0])
    if len(parts) == 1:
        start, end = date(y, 1, 1), date(y + 1, 1, 1)
    elif len(parts) == 2:
        m = int(parts[1])
        start = date(y, m, 1)
        end = date(y + (m == 12), m % 12 + 1, 1)
    else:
        start = date(y, int(parts[1]), int(parts[2]))
        end = start + timedelta(days=1)
    return (
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(end.year, end.month, end.day, tzinfo=UTC),
    )


def normalise(name: str, value: str) -> str:
    """The canonical value of a filter, or ValueError with a readable message."""
    v = value.strip()
    key = v.lower().replace("-", "_").replace(" ", "_")
    if name == "type":
        key = _ALIASES["type"].get(key, key)
        if key not in TYPES:
            raise ValueError(f"'{value}' is not a kind of result ({', '.join(TYPES)})")
        return key
    if name == "kind":
        key = _ALIASES["kind"].get(key, key)
        if key not in COMMENT_KINDS:
            raise ValueError(f"'{value}' is not a kind of comment ({', '.join(COMMENT_KINDS)})")
        return key
    if name == "decision":
        key = _ALIASES["decision"].get(key, key)
        if key not in DECISIONS:
            raise ValueError(f"'{value}' is not a decision ({', '.join(DECISIONS)})")
        return key
    if name == "theme":  # a theme's name, folded as consult.analysis.themes.key does
        folded = re.sub(r"[\s_\-]+", "-", value.strip().casefold())
        if not folded.strip("-"):
            raise ValueError("a theme needs a name")
        return folded
    if name == "lang":
        if key not in LANGUAGES:
            raise ValueError(f"'{value}' is not a language code ({', '.join(LANGUAGES)})")
        return key
    if name == "version":
        if not v.isdigit() or int(v) < 1:
            raise ValueError(f"'{value}' is not a version number")
        return str(int(v))
    if name == "country":
        if not re.fullmatch(r"[A-Za-z]{2}", v):
            raise ValueError(f"'{value}' is not a two-letter country code such as TH")
        return v.upper()
    if name in ("org", "document", "orgkind"):
        if not v:
            raise ValueError("an empty value")
        return v.lower() if name != "org" else v
    if name in ("date", "from", "to"):
        try:
            _period(v)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a date such as 2026-03-15, 2026-03 or 2026"
            ) from None
        return v
    if name == "latest":
        if key not in _YES | _NO:
            raise ValueError(f"'{value}' is not yes or no")
        return "yes" if key in _YES else "no"
    if name == "sort":
        key = {"newest": "date", "score": "relevance"}.get(key, key)
        if key not in SORTS:
            raise ValueError(f"'{value}' is not a sort order ({', '.join(SORTS)})")
        return key
    raise ValueError(f"'{name}' is not a filter")


def add_filter(parsed: Parsed, name: str, value: str, negated: bool) -> None:
    try:
        value = normalise(name, value)
    except ValueError as e:
        parsed.notes.append(f"The filter {name}:{value} was left out: {e}.")
        return
    if name in ("date", "from", "to", "latest", "sort"):
        if negated:
            parsed.notes.append(f"The filter -{name}:{value} was left out: it cannot be excluded.")
            return
        if name == "latest":
            parsed.latest = value == "yes"
        elif name == "sort":
            parsed.sort = value
        else:
            start, end = _period(value)
            if name in ("date", "from"):
                parsed.date_from = max(parsed.date_from or start, start)
            if name in ("date", "to"):
                parsed.date_to = min(parsed.date_to or end, end)
        return
    target = parsed.excluded_filters if negated else parsed.filters
    values = target.setdefault(name, [])
    if value not in values:
        values.append(value)


def parse(q: str) -> Parsed:
    """Read a query; never raises."""
    q = (q or "")[:MAX_LENGTH]
    parsed = Parsed(raw=q.strip())
    try:
        _structure(_tokens(q), parsed)
    except Malformed as e:
        words = [w for w in _WORD.findall(q) if w not in ("OR", "AND", "NOT")]
        items = [_item(w) for w in words]
        parsed = Parsed(raw=q.strip(), groups=[(i,) for i in items if i], fallback=True)
        parsed.notes.append(
            f"Your search could not be read as written ({e}); it was run on its words alone."
        )
    if len(parsed.groups) + len(parsed.excluded) > MAX_ITEMS:
        parsed.groups = parsed.groups[:MAX_ITEMS]
        parsed.excluded = parsed.excluded[: max(0, MAX_ITEMS - len(parsed.groups))]
        parsed.notes.append(f"Only the first {MAX_ITEMS} words were searched.")
    return parsed


def period(value: str) -> tuple[datetime, datetime]:
    """The UTC interval [start, end) a date filter value stands for."""
    return _period(value)
