"""Provenance ("blame") of a policy text: where each passage of the last version came from.

Given the texts of one lineage, oldest first, and for each step the suggestions
taken up in it, every word of the last text gets an origin: the version where
it first appeared and the suggestion that brought it, or None for the
committee's own drafting. Origins travel along the word diff of each step
(the same diff the paragraph history shows): equal words keep theirs, inserted
words take the step's. A word deleted and inserted again later is new at the
step that inserted it again: provenance describes the text, not every word's past.

An inserted word is credited to the suggestion whose wording holds it: shared
phrases of at least ``MIN_PHRASE_WORDS`` words first, longest first, then a
one-word insertion that the wording holds, then words next to a credited phrase
that the same wording also holds ("within 30 days of publication" against a
wording "within 30 days of their publication"). Punctuation follows the words
around it.

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from consult.tracing.diff import tokens
from consult.tracing.uptake import is_word, longest_match, opcodes, positions, tokens_without_space

_WORDS = re.compile(r"\w+", re.UNICODE)
#: A phrase shared with a suggestion's wording credits it from this many words.
MIN_PHRASE_WORDS = 2


#: Separates the phrases of a contribution's wording: no credited run crosses it.
PHRASES = "\n\n"
_APART = "\x00"  # a token no word equals


class Contribution(NamedTuple):
    """A suggestion taken up in a step: its id and its wording (the replacement for a
    quoted span, or the whole suggested paragraph, or the phrases it asked to insert,
    separated by PHRASES). Plain (id, wording) tuples work too."""

    id: int | str
    wording: str


@dataclass(frozen=True)
class Span:
    """A passage of the last text with one origin. `text` is text[start:end]; spans hold
    no white space at their edges, and only white space lies between them."""

    start: int
    end: int
    text: str
    version: int  # index, in the list given, of the text where the passage first appeared
    contribution: int | str | None  # the suggestion that brought it; None: the committee


Origin = tuple[int, "int | str | None"]


def _credit(
    words: list[str], wordings: list[list[str]], at: list[dict[str, list[int]]]
) -> list[int | None]:
    """For the words of one inserted run (case-folded), the index of the wording each
    comes from, or None."""
    credit: list[int | None] = [None] * len(words)
    used: list[set[int]] = [set() for _ in wordings]  # positions of each wording credited
    while True:
        best = None
        done = {k for k, c in enumerate(credit) if c is not None}
        for c in range(len(wordings)):
            x, y, size = longest_match(words, at[c], done, used[c])
            # A lone common word ("the") is credited only when it is the whole insertion.
            if (size >= MIN_PHRASE_WORDS or size == 1 == len(words)) and (
                best is None or size > best[0]
            ):
                best = (size, c, x, y)
        if best is None:
            break
        size, c, x, y = best
        for k in range(size):
            credit[x + k] = c
            used[c].add(y + k)
    # Grow credited phrases by neighbouring words the same wording holds.
    changed = True
    while changed:
        changed = False
        for k, w in enumerate(words):
            if credit[k] is not None:
                continue
            for n in (k - 1, k + 1):
                c = credit[n] if 0 <= n < len(words) else None
                if c is None:
                    continue
                free = next((p for p in at[c].get(w, ()) if p not in used[c]), None)
                if free is not None:
                    credit[k] = c
                    used[c].add(free)
                    changed = True
                    break
    return credit


def _step_origins(
    run: Sequence[str],
    step: int,
    ids: list[int | str],
    wordings: list[list[str]],
    at: list[dict[str, list[int]]],
) -> list[Origin]:
    """Origins of the tokens of one inserted run at `step` (index of the new text)."""
    words = [k for k, t in enumerate(run) if is_word(t)]
    by_token: list[int | str | None] = [None] * len(run)
    if wordings and words:
        credit = _credit([run[k].casefold() for k in words], wordings, at)
        for k, c in zip(words, credit, strict=True):
            by_token[k] = None if c is None else ids[c]
    # Punctuation takes the credit of the word before it in the run, else of the word after.
    for k, t in enumerate(run):
        if is_word(t):
            continue
        before = [by_token[p] for p in words if p < k]
        after = [by_token[p] for p in words if p > k]
        by_token[k] = before[-1] if before else (after[0] if after else None)
    return [(step, c) for c in by_token]


def provenance(
    versions: Sequence[str],
    contributions: Sequence[Sequence[Contribution | tuple[int | str, str]] | None] | None = None,
) -> list[Span]:
    """Spans of the last text of `versions` with the version and suggestion they come from.

    versions: the texts of one lineage, oldest first (at least one).
    contributions: for each step k → k+1 (so one fewer than the versions), the
        suggestions taken up in that step, or None; omitted: no suggestions at all.
    """
    if not versions:
        raise ValueError("Provenance needs at least one version of the text.")
    steps = len(versions) - 1
    if contributions is None:
        contributions = [None] * steps
    if len(contributions) != steps:
        raise ValueError(
            f"{len(versions)} versions make {steps} steps, but contributions "
            f"were given for {len(contributions)}."
        )
    prev = versions[0]
    origins: list[Origin] = [(0, None)] * len(tokens_without_space(prev))
    for k in range(steps):
        new = versions[k + 1]
        new_toks = tokens_without_space(new)
        given = list(contributions[k] or ())
        ids = [cid for cid, _ in given]
        wordings = [_wording_words(w) for _, w in given]
        at = [positions(w) for w in wordings]
        nxt: list[Origin] = []
        for tag, i1, i2, j1, j2 in opcodes(prev, new, refine=False):
            if tag == "equal":
                nxt.extend(origins[i1:i2])
            elif tag in ("insert", "replace"):
                nxt.extend(_step_origins(new_toks[j1:j2], k + 1, ids, wordings, at))
        origins, prev = nxt, new
    return _spans(prev, origins)


def _wording_words(wording: str) -> list[str]:
    """The words of a wording, case-folded, with a token between phrases that no word
    matches, so that a credited run never joins two phrases."""
    out: list[str] = []
    for phrase in wording.split(PHRASES):
        if out:
            out.append(_APART)
        out.extend(_WORDS.findall(phrase.casefold()))
    return out


def _spans(text: str, origins: list[Origin]) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    k = 0
    start = end = 0
    current: Origin | None = None
    for tok in tokens(text):
        if not tok.isspace():
            if origins[k] != current:
                if current is not None:
                    spans.append(Span(start, end, text[start:end], *current))
                current, start = origins[k], pos
            end = pos + len(tok)
            k += 1
        pos += len(tok)
    if current is not None:
        spans.append(Span(start, end, text[start:end], *current))
    return spans
