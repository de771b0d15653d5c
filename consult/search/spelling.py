"""'Did you mean': the nearest known word for a word the index has never seen.

One algorithm for both backends; each backend only answers two questions about
its vocabulary (the words of public entries, with how many entries hold them):
which of these words do you know, and which words start with this prefix.
Candidates are the known words one edit away (any position) and the words that
share the first two letters and are at most two edits away; the nearest wins,
then the most frequent.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable

from rapidfuzz.distance import OSA

Known = Callable[[Iterable[str]], dict[str, int]]
Prefixed = Callable[[str, int, int], dict[str, int]]

_LETTERS = string.ascii_lowercase
_CHECKABLE = re.compile(r"[a-z]{3,30}")


def edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | transposes | replaces | inserts) - {word}


def distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps),
    limit + 1 when greater than `limit`."""
    return min(OSA.distance(a, b, score_cutoff=limit), limit + 1)


def suggest_word(word: str, known: Known, prefixed: Prefixed) -> str | None:
    """A correction for `word`, or None when it is known or nothing is near enough."""
    word = word.lower()
    if not _CHECKABLE.fullmatch(word) or known([word]):
        return None
    limit = 1 if len(word) <= 4 else 2
    candidates = dict(known(edits1(word)))
    if limit > 1:
        for w, n in prefixed(word[:2], len(word) - limit, len(word) + limit).items():
            if w not in candidates and distance(word, w, limit) <= limit:
                candidates[w] = n
    if not candidates:
        return None
    return min(candidates, key=lambda w: (distance(word, w, limit), -candidates[w], w))


def suggest_query(raw: str, words: Iterable[str], known: Known, prefixed: Prefixed) -> str | None:
    """The query with its unknown words replaced by their nearest known word, or None."""
    out = raw
    changed = False
    for w in dict.fromkeys(words):
        fix = suggest_word(w, known, prefixed)
        if fix and fix != w.lower():
            out = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", fix, out, count=1)
            changed = True
    return out if changed else None
