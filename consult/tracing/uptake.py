"""Uptake: how much of a suggestion's proposed change appears in the successor text.

DESIGN.md, idea 3. For a suggestion on paragraph P of version n, with successor
P' in version n+1, compare the change the suggestion asked for (word diff
P → suggested wording) with the change that happened (word diff P → P'). Uptake
is the share of the asked-for insertions and deletions that happened, counted in
words, a number in [0, 1] with a label.

- An asked-for deletion happened when that word of P is gone from P' at its place.
  A deleted run that reappears elsewhere in P' as a new insertion was moved, not
  deleted, unless the suggestion itself asked for those words there.
- An asked-for insertion happened when the same words were inserted in P' at the
  same place (where P' inserted or rewrote text), or exactly those words a few
  words away; a common word such as "the" added elsewhere does not count. A
  phrase of at least ``ANYWHERE_WORDS`` words counts anywhere in P' (a clause
  moved to the front of the sentence is still the clause asked for), as long as
  the phrase is new to the paragraph: a phrase already in P proves nothing.
  Longer matches are taken first; case does not matter.

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from consult.tracing.diff import word_diff

#: At or above this score a suggestion is "taken up".
TAKEN_UP = 0.8
#: At or above this score (and below TAKEN_UP) it is "partly" taken up; below, "not taken up".
PARTLY = 0.3
#: An inserted phrase of at least this many words counts wherever it lands in the successor.
ANYWHERE_WORDS = 3
#: Shorter insertions count at their place (the same gap, or inside the span the
#: successor rewrote), or, when exactly the same words were inserted, this close to it:
#: at most this many tokens of the original, kept in the successor, lie between.
NEAR = 3
#: A deleted run found again elsewhere counts as moved from this many words (or when it
#: is a one-word run re-inserted on its own).
MOVED_WORDS = 2

LABELS = ("taken_up", "partly", "not_taken_up")
ACCEPTING = frozenset({"accepted", "partly_accepted"})
DECLINING = frozenset({"noted", "not_accepted", "out_of_scope"})
PARAGRAPH_BREAK = "\n\n"

_WORD = re.compile(r"\w")

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Uptake:
    """The measure for one suggestion against its successor.

    The counts are in words; for a suggestion that changes only punctuation they
    count punctuation marks instead (otherwise it would ask for nothing).
    """

    score: float  # in [0, 1], rounded to 4 places; the label follows the rounded score
    label: str  # taken_up | partly | not_taken_up
    asked_insert_words: int
    asked_delete_words: int
    matched_insert_words: int
    matched_delete_words: int
    #: Every asked-for change happened and the suggested wording (the replacement for
    #: the quoted span, or the whole suggested paragraph) appears word for word.
    verbatim: bool


def label_for(score: float) -> str:
    if score >= TAKEN_UP:
        return "taken_up"
    if score >= PARTLY:
        return "partly"
    return "not_taken_up"


def is_word(tok: str) -> bool:
    """A word token (letters or digits), not a punctuation mark."""
    return bool(_WORD.match(tok))


_NON_SPACE = re.compile(r"\w+|[^\w\s]", re.UNICODE)  # the tokens of diff.tokens, less spaces


@lru_cache(maxsize=8192)
def tokens_without_space(text: str) -> tuple[str, ...]:
    """Words and punctuation marks; white space never counts as a change."""
    return tuple(_NON_SPACE.findall(text))


def _join(text: str | Sequence[str]) -> str:
    return text if isinstance(text, str) else PARAGRAPH_BREAK.join(text)


def locate(text: str, quote: str, start: int | None = None) -> tuple[int, int] | None:
    """Offsets of `quote` in `text` (at `start` when it is there), found again if white
    space differs; None when it is not there."""
    quote = quote.strip()
    if not quote:
        return None
    if start is not None and text[start : start + len(quote)] == quote:
        return start, start + len(quote)
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    m = re.search(r"\s+".join(re.escape(w) for w in quote.split()), text)
    return (m.start(), m.end()) if m else None


def _refine(a: Sequence[str], b: Sequence[str], i1: int, i2: int, j1: int, j2: int) -> list[Opcode]:
    """Split a replaced block on the words both sides share.

    The semantic cleanup of the word diff merges small equalities into the edits
    around them ("hold [-hearings-][+public hearings within 30 days+]"), which
    would make a kept word look deleted and inserted again. Only matches holding a
    word are kept: a shared comma says nothing.
    """
    sm = SequenceMatcher(None, a[i1:i2], b[j1:j2], autojunk=False)
    out: list[Opcode] = []
    i, j = i1, j1
    for bi, bj, size in sm.get_matching_blocks():
        if size and not any(is_word(t) for t in a[i1 + bi : i1 + bi + size]):
            continue
        ai, aj = i1 + bi, j1 + bj
        if ai > i and aj > j:
            out.append(("replace", i, ai, j, aj))
        elif ai > i:
            out.append(("delete", i, ai, j, j))
        elif aj > j:
            out.append(("insert", i, i, j, aj))
        if size:
            out.append(("equal", ai, ai + size, aj, aj + size))
        i, j = ai + size, aj + size
    return out


@lru_cache(maxsize=4096)
def opcodes(a: str, b: str, refine: bool = True) -> tuple[Opcode, ...]:
    """The word diff of `a` → `b` as difflib-style opcodes over `tokens_without_space` positions.

    Cached: every suggestion on one paragraph shares the same paragraph → successor diff.
    """
    ops: list[list] = []
    i = j = 0
    for op, chunk in word_diff(a, b):
        n = len(_NON_SPACE.findall(chunk))
        if not n:
            continue
        if op == "equal":
            tag, di, dj = "equal", n, n
        elif op == "delete":
            tag, di, dj = "delete", n, 0
        else:
            tag, di, dj = "insert", 0, n
        last = ops[-1] if ops else None
        if last and last[0] == tag:
            last[2] += di
            last[4] += dj
        elif last and {last[0], tag} <= {"delete", "insert", "replace"}:
            last[0] = "replace"
            last[2] += di
            last[4] += dj
        else:
            ops.append([tag, i, i + di, j, j + dj])
        i += di
        j += dj
    ta, tb = tokens_without_space(a), tokens_without_space(b)
    out: list[Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "replace" and refine:
            out.extend(_refine(ta, tb, i1, i2, j1, j2))
        else:
            out.append((tag, i1, i2, j1, j2))
    return tuple(out)


def positions(seq: Sequence[str]) -> dict[str, list[int]]:
    """Where each item occurs in `seq`, for longest_match."""
    at: dict[str, list[int]] = {}
    for j, w in enumerate(seq):
        at.setdefault(w, []).append(j)
    return at


def longest_match(
    a: Sequence[str],
    b_at: dict[str, list[int]],
    a_skip: set[int] | frozenset[int] = frozenset(),
    b_skip: set[int] | frozenset[int] = frozenset(),
) -> tuple[int, int, int]:
    """(start in a, start in b, size) of the longest run of items common to `a` and the
    sequence b indexed by `b_at`, avoiding the positions in a_skip and b_skip.

    difflib's SequenceMatcher does the same, but would index b again at every call;
    matching claims words one run at a time, so b's index is built once.
    """
    best_i = best_j = best = 0
    prev: dict[int, int] = {}
    for i, w in enumerate(a):
        cur: dict[int, int] = {}
        if i not in a_skip:
            for j in b_at.get(w, ()):
                if j not in b_skip:
                    k = cur[j] = prev.get(j - 1, 0) + 1
                    if k > best:
                        best_i, best_j, best = i - k + 1, j - k + 1, k
        prev = cur
    return best_i, best_j, best


def _count(seq: Sequence[str], gram: Sequence[str]) -> int:
    n = len(gram)
    return sum(1 for k in range(len(seq) - n + 1) if seq[k : k + n] == gram)


class _Run:
    """Counted tokens inserted for the span lo:hi of the original (lo == hi: a pure insertion)."""

    __slots__ = ("at", "hi", "idx", "keys", "lo")

    def __init__(self, lo: int, hi: int, idx: list[int], keys: Sequence[str]) -> None:
        self.lo, self.hi = lo, hi
        self.idx = idx  # positions, in the inserting text, of the counted tokens
        self.keys = [keys[j] for j in idx]
        self.at = positions(self.keys)

    def skip(self, used: set[int]) -> set[int]:
        """Local positions already claimed, from global ones."""
        return {k for k, j in enumerate(self.idx) if j in used}


def _runs(
    ops: Sequence[Opcode], side: Sequence[str], keys: Sequence[str], counted: Callable[[str], bool]
) -> list[_Run]:
    return [
        _Run(i1, i2, [j for j in range(j1, j2) if counted(side[j])], keys)
        for tag, i1, i2, j1, j2 in ops
        if tag in ("insert", "replace")
    ]


def _measure(o: str, s: str, r: str) -> tuple[int, int, int, int, bool]:
    """(asked inserted, asked deleted, matched inserted, matched deleted, asked anything)."""
    ot, st, rt = tokens_without_space(o), tokens_without_space(s), tokens_without_space(r)
    asked = opcodes(o, s)
    asked_del = [
        i for tag, i1, i2, _, _ in asked if tag in ("delete", "replace") for i in range(i1, i2)
    ]
    asked_new = [
        st[j] for tag, _, _, j1, j2 in asked if tag in ("insert", "replace") for j in range(j1, j2)
    ]
    changed = [ot[i] for i in asked_del] + asked_new
    if not changed:
        return 0, 0, 0, 0, False
    # Count words; a suggestion that changes only punctuation is measured on its marks.
    counted: Callable[[str], bool] = (
        is_word if any(is_word(t) for t in changed) else (lambda t: True)
    )

    happened = opcodes(o, r)
    kept = [False] * len(ot)
    for tag, i1, i2, _, _ in happened:
        if tag == "equal":
            for i in range(i1, i2):
                kept[i] = True
    before = [0]  # before[g]: tokens of the original kept in the successor before gap g
    for k in kept:
        before.append(before[-1] + k)

    def gap(a: _Run, h: _Run) -> int:
        if a.hi <= h.lo:
            return before[h.lo] - before[a.hi]
        if h.hi <= a.lo:
            return before[a.lo] - before[h.hi]
        return 0

    skey = [t.casefold() for t in st]
    rkey = [t.casefold() for t in rt]
    asked_runs = _runs(asked, st, skey, counted)
    new_runs = _runs(happened, rt, rkey, counted)
    used_s: set[int] = set()
    used_r: set[int] = set()

    # 1. Asked insertions found among the successor's insertions, longest first. The best
    # match of each pair of runs is kept until one of the two runs loses words.
    pairs: dict[tuple[int, int], tuple[int, int, int]] = {}
    for ai, a in enumerate(asked_runs):
        for hi, h in enumerate(new_runs):
            if not a.at.keys().isdisjoint(h.at):
                pairs[ai, hi] = (-1, 0, 0)
    while pairs:
        best = None
        for (ai, hi), (size, x, y) in pairs.items():
            a, h = asked_runs[ai], new_runs[hi]
            if size < 0:
                x, y, size = longest_match(a.keys, h.at, a.skip(used_s), h.skip(used_r))
                if size and size < ANYWHERE_WORDS:
                    g = gap(a, h)
                    displaced = g <= NEAR and size == len(a.idx) == len(h.idx)
                    if g and not displaced:
                        size = 0
                pairs[ai, hi] = (size, x, y)
            if size and (best is None or size > best[0]):
                best = (size, ai, hi, x, y)
        if best is None:
            break
        size, ai, hi, x, y = best
        used_s.update(asked_runs[ai].idx[x : x + size])
        used_r.update(new_runs[hi].idx[y : y + size])
        for key in pairs:
            if key[0] == ai or key[1] == hi:
                pairs[key] = (-1, 0, 0)

    # 2. Longer phrases anywhere in the successor, if new to the paragraph (the diff may
    # have aligned some of their words with words of the original).
    whole = _Run(0, len(ot), [j for j, t in enumerate(rt) if counted(t)], rkey)
    okey = [t.casefold() for t in ot if counted(t)]
    for a in asked_runs:
        while True:
            x, y, size = longest_match(a.keys, whole.at, a.skip(used_s), whole.skip(used_r))
            if size < ANYWHERE_WORDS:
                break
            gram = whole.keys[y : y + size]
            if _count(whole.keys, gram) <= _count(okey, gram):
                break
            used_s.update(a.idx[x : x + size])
            used_r.update(whole.idx[y : y + size])

    # 3. Asked deletions: gone at their place, and not moved elsewhere.
    gone_all = {i for i in asked_del if not kept[i]}
    gone = [i for i in sorted(gone_all) if counted(ot[i])]
    # Runs of gone words, contiguous in the original (gone punctuation does not break them).
    del_runs: list[list[int]] = []
    current: list[int] = []
    for i in range(len(ot) + 1):
        if i < len(ot) and i in gone_all:
            if counted(ot[i]):
                current.append(i)
        elif current:
            del_runs.append(current)
            current = []
    moved: set[int] = set()
    for run in del_runs:
        keys = [ot[i].casefold() for i in run]
        while True:
            skip = {k for k, i in enumerate(run) if i in moved}
            best = None
            for h in new_runs:
                x, y, size = longest_match(keys, h.at, skip, h.skip(used_r))
                lone = size == 1 == len(run) == len(h.idx)
                if (size >= MOVED_WORDS or lone) and (best is None or size > best[0]):
                    best = (size, h, x, y)
            if best is None:
                break
            size, h, x, y = best
            moved.update(run[x : x + size])
            used_r.update(h.idx[y : y + size])

    asked_ins = sum(len(a.idx) for a in asked_runs)
    asked_dels = sum(1 for i in asked_del if counted(ot[i]))
    return asked_ins, asked_dels, len(used_s), len(gone) - len(moved), True


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    if not needle:
        return True
    n = len(needle)
    return any(haystack[k : k + n] == needle for k in range(len(haystack) - n + 1))


def uptake(
    original: str | Sequence[str],
    suggested: str,
    successor: str | Sequence[str],
    *,
    quote: str | None = None,
    quote_start: int | None = None,
    part: int | None = None,
) -> Uptake:
    """Measure how much of a suggestion's change happened in the successor.

    original: the paragraph the suggestion is on, or, when several paragraphs were
        merged into the successor, the list of them (with `part` the index of the
        one the suggestion is on; without `part` the suggestion replaces them all).
    suggested: the proposed wording, for the whole paragraph or, with `quote`, for
        that span of it (`quote_start` picks the occurrence when it repeats).
        An empty wording asks to delete the paragraph or the span.
    successor: the successor paragraph, or the list of paragraphs it was split
        into; "" (or []) when the paragraph was removed.

    Edge cases: a suggestion that asks for no change (its wording is the original
    one, white space aside) scores the share of the original's words kept in the
    successor (1.0 when unchanged). A removed successor counts every asked
    deletion as done and no insertion. Raises ValueError when the quote is not in
    the paragraph or `part` is out of range.
    """
    parts = [original] if isinstance(original, str) else list(original)
    if part is not None and not 0 <= part < len(parts):
        raise ValueError(f"There is no paragraph {part} among the {len(parts)} given.")
    target = PARAGRAPH_BREAK.join(parts) if part is None else parts[part]
    if quote is not None:
        at = locate(target, quote, quote_start)
        if at is None:
            raise ValueError("The quoted span is not in the paragraph.")
        target_suggested = target[: at[0]] + suggested + target[at[1] :]
    else:
        target_suggested = suggested
    o = PARAGRAPH_BREAK.join(parts)
    if part is None:
        s = target_suggested
    else:
        s = PARAGRAPH_BREAK.join(parts[:part] + [target_suggested] + parts[part + 1 :])
    r = _join(successor)

    ins, dels, m_ins, m_dels, asked = _measure(o, s, r)
    if not asked:
        # Nothing asked: the suggestion is to keep the wording; measure how much was kept.
        words_o = [t for t in tokens_without_space(o) if is_word(t)]
        if not words_o:
            score = 1.0 if tokens_without_space(o) == tokens_without_space(r) else 0.0
        else:
            kept = _kept_words(o, r)
            score = kept / len(words_o)
    else:
        score = (m_ins + m_dels) / (ins + dels)
    score = round(score, 4)
    wording = tokens_without_space(suggested if quote is not None else target_suggested)
    verbatim = score == 1.0 and _contains(tokens_without_space(r), wording)
    return Uptake(score, label_for(score), ins, dels, m_ins, m_dels, verbatim)


def _kept_words(o: str, r: str) -> int:
    ot = tokens_without_space(o)
    return sum(
        1 for tag, i1, i2, _, _ in opcodes(o, r) if tag == "equal" for t in ot[i1:i2] if is_word(t)
    )


def disagreement(decision: str, up: Uptake) -> str | None:
    """A public flag when the committee's decision and the measured uptake disagree."""
    return label_disagreement(decision, up.label)


def label_disagreement(decision: str, label: str) -> str | None:
    """The flag of `disagreement` from the uptake label alone (what is stored).

    "accepted_not_in_text": accepted or partly accepted, yet not taken up.
    "taken_up_without_credit": noted, not accepted or out of scope, yet taken up.
    A declined suggestion that is only "partly" taken up is not flagged: a partial
    score often comes from words the committee removed or added for its own reasons,
    and a public flag must be one the text clearly supports.
    """
    if decision in ACCEPTING:
        return "accepted_not_in_text" if label == "not_taken_up" else None
    if decision in DECLINING:
        return "taken_up_without_credit" if label == "taken_up" else None
    raise ValueError(f"Unknown decision '{decision}'.")
