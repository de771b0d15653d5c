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
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from rapidfuzz.distance import OSA

from consult.consultation.wording import tokens_without_space
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
    #: Why: the asked-for phrases present (and where) or missing, the asked-for deletions
    #: made or not, and whether deletions could be judged (see _evidence).
    evidence: dict = field(default_factory=dict, compare=False)


def label_for(score: float) -> str:
    if score >= TAKEN_UP:
        return "taken_up"
    if score >= PARTLY:
        return "partly"
    return "not_taken_up"


def is_word(tok: str) -> bool:
    """A word token (letters or digits), not a punctuation mark."""
    return bool(_WORD.match(tok))


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
    return opcodes_of(a, b, word_diff(a, b), refine)


def fits(diff: Sequence[tuple[str, str]] | None, a: str, b: str) -> bool:
    """Whether `diff` ([(op, text)], as word_diff gives) turns `a` into `b`: its kept and
    deleted parts spell `a`, its kept and inserted parts spell `b`."""
    return (
        diff is not None
        and "".join(t for op, t in diff if op != "insert") == a
        and "".join(t for op, t in diff if op != "delete") == b
    )


def asked_opcodes(
    o: str, s: str, diff: Sequence[tuple[str, str]] | None = None
) -> tuple[Opcode, ...]:
    """The opcodes of a suggestion's change `o` → `s`. `diff` is the suggestion's diff
    as stored when its text was written (consult.tracing.suggested), used when it is a
    diff of exactly these texts: the same diff its readers are shown, and the word diff
    is most of the cost of measuring a suggestion. Otherwise it is computed."""
    if fits(diff, o, s):
        return opcodes_of(o, s, diff)
    return opcodes(o, s)


def opcodes_of(
    a: str, b: str, diff: Sequence[tuple[str, str]], refine: bool = True
) -> tuple[Opcode, ...]:
    """opcodes() for the word diff `diff` of `a` → `b`, already made."""
    ops: list[list] = []
    i = j = 0
    for op, chunk in diff:
        n = len(tokens_without_space(chunk))
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

    __slots__ = ("at", "claimed", "hi", "idx", "keys", "lo")

    def __init__(self, lo: int, hi: int, idx: list[int], keys: Sequence[str]) -> None:
        self.lo, self.hi = lo, hi
        self.idx = idx  # positions, in the inserting text, of the counted tokens
        self.keys = [keys[j] for j in idx]
        self.at = positions(self.keys)
        self.claimed: set[int] = set()  # local positions matched to an asked insertion

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


class NoChange(ValueError):
    """The suggested wording is the paragraph's own (white space or invisible markup aside)."""


#: Asked-for deletions weigh this much against one asked-for inserted word: the words a
#: suggestion adds are what it is about; words dropped for other reasons prove little.
DELETION_WEIGHT = 0.25
#: The successor is "recognisably" the commented paragraph when at least this share of the
#: words the suggestion keeps is found in it; only then do asked-for deletions count.
RECOGNISABLE = 0.5
#: A word is rare in a version when at most this many paragraphs (or this share of them)
#: hold it.
RARE_PARAGRAPHS = 3
RARE_SHARE = 0.02
#: Asked changes this many words apart (or closer) make one region: the label says
#: "partly" when some regions happened and others did not.
REGION_GAP = 3
#: An asked-for run of this many words, wholly absent, is a part of the suggestion not
#: made even inside a region that was otherwise made.
MISSING_CLAUSE = 5
#: A short asked insertion this many words (or fewer) from a phrase found in another
#: paragraph is looked for beside it there.
NEAR_PHRASE = 12
#: A wording carries a neighbouring paragraph along when it holds at least this share of
#: that paragraph's words, in order (in runs of two words or more), and the paragraph has
#: at least CARRIED_WORDS words.
CARRIED = 0.8
CARRIED_WORDS = 4


class VersionWords:
    """The words of a new version's paragraphs, indexed by their three-word phrases, to find
    an asked-for phrase that landed outside the successor (a new paragraph after it, or
    another paragraph altogether).

    paragraphs: (label, text) of the new version's paragraphs to look in (a label is what
        the evidence names: a display number, or an index).
    before: the texts of the version commented on; a phrase found as often there proves
        nothing (it was not inserted).
    """

    def __init__(self, paragraphs: Sequence[tuple[object, str]], before: Sequence[str] = ()):
        self.labels = [label for label, _ in paragraphs]
        self.keys = [_word_keys(text) for _, text in paragraphs]
        df: dict[str, int] = {}
        for keys in self.keys:
            for w in set(keys):
                df[w] = df.get(w, 0) + 1
        # A phrase found outside the successor needs a word that few paragraphs use:
        # "how does your" starts many questions and proves nothing.
        limit = max(RARE_PARAGRAPHS, RARE_SHARE * len(self.keys))
        self.rare = {w for w, n in df.items() if n <= limit}
        self.index: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        self.new_count: dict[tuple[str, ...], int] = {}
        for p, keys in enumerate(self.keys):
            for k in range(len(keys) - ANYWHERE_WORDS + 1):
                gram = tuple(keys[k : k + ANYWHERE_WORDS])
                self.index.setdefault(gram, []).append((p, k))
                self.new_count[gram] = self.new_count.get(gram, 0) + 1
        self.old_count: dict[tuple[str, ...], int] = {}
        for text in before:
            keys = _word_keys(text)
            for k in range(len(keys) - ANYWHERE_WORDS + 1):
                gram = tuple(keys[k : k + ANYWHERE_WORDS])
                if gram in self.new_count:
                    self.old_count[gram] = self.old_count.get(gram, 0) + 1

    def novel(self, gram: tuple[str, ...]) -> bool:
        return self.new_count.get(gram, 0) > self.old_count.get(gram, 0)

    def find(
        self, words: Sequence[str], skip: set[int], not_in: Collection[object] = ()
    ) -> tuple[int, int, int] | None:
        """(start in words, paragraph, size) of the longest run of `words` (avoiding the
        positions in skip, and the paragraphs labelled in not_in) found in one paragraph
        and new to the version, with a rare word, or None."""
        best = None
        for k in range(len(words) - ANYWHERE_WORDS + 1):
            if any(k + d in skip for d in range(ANYWHERE_WORDS)):
                continue
            gram = tuple(words[k : k + ANYWHERE_WORDS])
            if not self.novel(gram):
                continue
            for p, at in self.index.get(gram, ())[:50]:
                if self.labels[p] in not_in:
                    continue
                keys = self.keys[p]
                size = ANYWHERE_WORDS
                while (
                    k + size < len(words)
                    and at + size < len(keys)
                    and k + size not in skip
                    and words[k + size] == keys[at + size]
                ):
                    size += 1
                if (best is None or size > best[2]) and any(
                    w in self.rare for w in words[k : k + size]
                ):
                    best = (k, p, size)
        return best


def _word_keys(text: str) -> list[str]:
    return [t.casefold() for t in tokens_without_space(text) if is_word(t)]


@dataclass
class _Asked:
    """What one suggestion asks, and what became of it, token by token."""

    ot: tuple[str, ...]
    st: tuple[str, ...]
    asked: tuple[Opcode, ...]
    counted: Callable[[str], bool]
    ins_at: list[int]  # positions in st of the counted inserted tokens
    del_at: list[int]  # positions in ot of the counted deleted tokens
    found: dict[int, object]  # position in st -> where it was found ("successor" or a label)
    done: set[int]  # positions in ot of asked deletions that happened
    judged: str  # judged | paragraph_removed | not_recognisable | none_asked
    #: Positions in st of asked words found in the successor only in pieces that other
    #: words separate there ("each sprint" as "each iteration/sprint").
    split: set[int] = field(default_factory=set)


def _asked(o: str, s: str, diff: Sequence[tuple[str, str]] | None = None) -> _Asked | None:
    """The suggestion's asked-for change (None when it asks for none); `diff` as for
    asked_opcodes."""
    ot, st = tokens_without_space(o), tokens_without_space(s)
    asked = asked_opcodes(o, s, diff)
    del_all = [
        i for tag, i1, i2, _, _ in asked if tag in ("delete", "replace") for i in range(i1, i2)
    ]
    ins_all = [
        j for tag, _, _, j1, j2 in asked if tag in ("insert", "replace") for j in range(j1, j2)
    ]
    if not del_all and not ins_all:
        return None
    changed = [ot[i] for i in del_all] + [st[j] for j in ins_all]
    counted: Callable[[str], bool] = (
        is_word if any(is_word(t) for t in changed) else (lambda t: True)
    )
    return _Asked(
        ot,
        st,
        asked,
        counted,
        [j for j in ins_all if counted(st[j])],
        [i for i in del_all if counted(ot[i])],
        {},
        set(),
        "none_asked",
    )


def _match_successor(a: _Asked, o: str, s: str, r: str) -> tuple[list[bool], list[_Run]]:
    """Mark the asked insertions found in the successor (in a.found); return which words of
    the original the successor kept, and the successor's inserted runs."""
    ot, st, rt = a.ot, a.st, tokens_without_space(r)
    counted = a.counted
    happened = opcodes(o, r)
    kept = [False] * len(ot)
    for tag, i1, i2, _, _ in happened:
        if tag == "equal":
            for i in range(i1, i2):
                kept[i] = True
    if not rt:
        return kept, []
    before = [0]  # before[g]: tokens of the original kept in the successor before gap g
    for k in kept:
        before.append(before[-1] + k)

    def gap(x: _Run, h: _Run) -> int:
        if x.hi <= h.lo:
            return before[h.lo] - before[x.hi]
        if h.hi <= x.lo:
            return before[x.lo] - before[h.hi]
        return 0

    skey = [t.casefold() for t in st]
    rkey = [t.casefold() for t in rt]
    _corrected_spelling(a, skey, rkey, happened)
    asked_runs = _runs(a.asked, st, skey, counted)
    new_runs = _runs(happened, rt, rkey, counted)
    used_s: set[int] = set()
    used_r: set[int] = set()
    pieces: list[tuple[int, int, int, int, int]] = []  # (asked run, i, size, new run, j)

    # 1. Asked insertions found among the successor's insertions, longest first. The best
    # match of each pair of runs is kept until one of the two runs loses words.
    pairs: dict[tuple[int, int], tuple[int, int, int]] = {}
    for ai, x in enumerate(asked_runs):
        for hi, h in enumerate(new_runs):
            if not x.at.keys().isdisjoint(h.at):
                pairs[ai, hi] = (-1, 0, 0)
    while pairs:
        best = None
        for (ai, hi), (size, i, j) in pairs.items():
            x, h = asked_runs[ai], new_runs[hi]
            if size < 0:
                i, j, size = longest_match(x.keys, h.at, x.skip(used_s), h.skip(used_r))
                if size and size < ANYWHERE_WORDS:
                    g = gap(x, h)
                    displaced = g <= NEAR and size == len(x.idx) == len(h.idx)
                    if g and not displaced:
                        size = 0
                pairs[ai, hi] = (size, i, j)
            if size and (best is None or size > best[0]):
                best = (size, ai, hi, i, j)
        if best is None:
            break
        size, ai, hi, i, j = best
        used_s.update(asked_runs[ai].idx[i : i + size])
        used_r.update(new_runs[hi].idx[j : j + size])
        pieces.append((ai, i, size, hi, j))
        for key in pairs:
            if key[0] == ai or key[1] == hi:
                pairs[key] = (-1, 0, 0)
    # Asked words next to each other found apart: the phrase did not come as asked.
    pieces.sort()
    for p, q in zip(pieces, pieces[1:], strict=False):
        if q[0] == p[0] and q[1] == p[1] + p[2] and (q[3], q[4]) != (p[3], p[4] + p[2]):
            idx = asked_runs[p[0]].idx
            a.split.update(idx[p[1] : q[1] + q[2]])

    # 2. Longer phrases anywhere in the successor, if new to the paragraph (the diff may
    # have aligned some of their words with words of the original).
    whole = _Run(0, len(ot), [j for j, t in enumerate(rt) if counted(t)], rkey)
    okey = [t.casefold() for t in ot if counted(t)]
    for x in asked_runs:
        while True:
            i, j, size = longest_match(x.keys, whole.at, x.skip(used_s), whole.skip(used_r))
            if size < ANYWHERE_WORDS:
                break
            gram = whole.keys[j : j + size]
            if _count(whole.keys, gram) <= _count(okey, gram):
                break
            used_s.update(x.idx[i : i + size])
            used_r.update(whole.idx[j : j + size])
    for j in used_s:
        a.found[j] = "successor"
    # Used by the deletions: the successor's insertions not claimed by the suggestion.
    for h in new_runs:
        h.claimed = h.skip(used_r)
    return kept, new_runs


def _corrected_spelling(
    a: _Asked, skey: list[str], rkey: list[str], happened: Sequence[Opcode]
) -> None:
    """An asked-for word that the successor inserted with its spelling corrected
    ("muplitle" → "multiple") is the same word: its key becomes the successor's."""
    present = set(rkey)
    new_words = {
        rkey[j]
        for tag, _, _, j1, j2 in happened
        if tag in ("insert", "replace")
        for j in range(j1, j2)
        if is_word(rkey[j])
    }
    for j in a.ins_at:
        w = skey[j]
        if w in present or len(w) < 4 or not is_word(w):
            continue
        fix = next((n for n in sorted(new_words) if _respelled(w, n)), None)
        if fix is not None:
            skey[j] = fix


def _respelled(a: str, b: str) -> bool:
    """b is a spelling of a: the same first letter and one edit apart (two from eight
    letters), or the same letters in another order (from five letters)."""
    if a[0] != b[0] or a == b or abs(len(a) - len(b)) > 2 or a.isdigit() or b.isdigit():
        return False
    if len(a) >= 5 and sorted(a) == sorted(b):
        return True
    return OSA.distance(a, b) <= (2 if min(len(a), len(b)) >= 8 else 1)


def _match_elsewhere(a: _Asked, where: VersionWords, not_in: Collection[object]) -> None:
    """Asked phrases of at least ANYWHERE_WORDS words that are not in the successor but are
    new in another paragraph of the version.

    Where the successor holds only scattered words of an asked run (a "the" here, an
    "of" there, matched at their place in a long table), the phrase found whole in
    another paragraph is the better evidence: those scattered matches do not split it,
    and are kept only for the words the phrase does not cover."""
    for x in _runs(a.asked, a.st, [t.casefold() for t in a.st], is_word):
        words = x.keys
        in_successor = {j: a.found.pop(j) for j in x.idx if j in a.found}
        scattered = 2 * len(in_successor) < len(x.idx)
        if not scattered:
            a.found.update(in_successor)
        while True:
            skip = {k for k, j in enumerate(x.idx) if j in a.found}
            hit = where.find(words, skip, not_in)
            if hit is None:
                break
            k, p, size = hit
            for d in range(size):
                a.found[x.idx[k + d]] = where.labels[p]
        if scattered:
            for j, w in in_successor.items():
                a.found.setdefault(j, w)
    _grow_elsewhere(a, where)


def _grow_elsewhere(a: _Asked, where: VersionWords) -> None:
    """Short asked insertions next to a phrase found in another paragraph, where that
    paragraph holds the suggested wording from the phrase to them word for word (the
    words the suggestion keeps between them included): "… provide the URL to the System
    of Records Notice" found whole after "… provide the" was found there."""
    at = [j for j, t in enumerate(a.st) if is_word(t)]
    keys = [a.st[j].casefold() for j in at]
    index = {j: k for k, j in enumerate(at)}
    labels = {lab: p for p, lab in enumerate(where.labels)}
    for run in _phrases(a.st, a.ins_at, a.found):
        if run[0] in a.found or run[0] not in index or run[-1] not in index:
            continue  # found already, or marks (a suggestion about punctuation only)
        first, last = index[run[0]], index[run[-1]]
        for k in (
            (first - 1 - d for d in range(NEAR_PHRASE)),
            (last + 1 + d for d in range(NEAR_PHRASE)),
        ):
            nearby = next((n for n in k if 0 <= n < len(at) and at[n] in a.found), None)
            if nearby is None or a.found[at[nearby]] == "successor":
                continue
            p = labels.get(a.found[at[nearby]])
            lo, hi = min(nearby, first), max(nearby, last) + 1
            if p is not None and _contains(where.keys[p], keys[lo:hi]):
                for j in run:
                    a.found[j] = where.labels[p]
                break


def _recognisable(a: _Asked, r: str) -> bool:
    """The successor is still the commented paragraph: most of the words the suggestion
    keeps are in it (or, when it keeps none, most of the paragraph's words)."""
    kept_words = [
        a.ot[i].casefold()
        for tag, i1, i2, _, _ in a.asked
        if tag == "equal"
        for i in range(i1, i2)
        if is_word(a.ot[i])
    ]
    if not kept_words:
        kept_words = [t.casefold() for t in a.ot if is_word(t)]
    if not kept_words:
        return True
    in_r: dict[str, int] = {}
    for t in tokens_without_space(r):
        if is_word(t):
            in_r[t.casefold()] = in_r.get(t.casefold(), 0) + 1
    hits = 0
    for w in kept_words:
        if in_r.get(w):
            in_r[w] -= 1
            hits += 1
    return hits / len(kept_words) >= RECOGNISABLE


def _deletions(a: _Asked, kept: list[bool], new_runs: list[_Run]) -> None:
    """Asked deletions gone at their place and not moved elsewhere in the successor."""
    ot = a.ot
    asked_del = {
        i for tag, i1, i2, _, _ in a.asked if tag in ("delete", "replace") for i in range(i1, i2)
    }
    gone_all = {i for i in asked_del if not kept[i]}
    del_runs: list[list[int]] = []
    current: list[int] = []
    for i in range(len(ot) + 1):
        if i < len(ot) and i in gone_all:
            if a.counted(ot[i]):
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
                x, y, size = longest_match(keys, h.at, skip, h.claimed)
                lone = size == 1 == len(run) == len(h.idx)
                if (size >= MOVED_WORDS or lone) and (best is None or size > best[0]):
                    best = (size, h, x, y)
            if best is None:
                break
            size, h, x, y = best
            moved.update(run[x : x + size])
            h.claimed.update(range(y, y + size))
    a.done = {i for run in del_runs for i in run if i not in moved}


_TIGHT_BEFORE = re.compile(r"\s+([,.;:!?)\]}’”'%-])")
_TIGHT_AFTER = re.compile(r"([(\[{‘“'-])\s+")


def _runs_text(tokens: Sequence[str], positions_: Sequence[int]) -> list[str]:
    """Phrases of the tokens at `positions_` ("public hearings", "30 days"): positions
    that follow each other, or have only punctuation between them, make one phrase."""
    out: list[str] = []
    run: list[int] = []

    def close() -> None:
        text = " ".join(tokens[run[0] : run[-1] + 1])
        out.append(_TIGHT_AFTER.sub(r"\1", _TIGHT_BEFORE.sub(r"\1", text)))

    for p in sorted(positions_):
        if run and any(is_word(t) for t in tokens[run[-1] + 1 : p]):
            close()
            run = []
        run.append(p)
    if run:
        close()
    return out


def _evidence(a: _Asked) -> dict:
    present: list[dict] = []
    by_where: dict[object, list[int]] = {}
    for j, where in a.found.items():
        by_where.setdefault(where, []).append(j)
    for where, js in by_where.items():
        for words in _runs_text(a.st, js):
            item: dict = {
                "words": words,
                "where": "successor" if where == "successor" else "elsewhere",
            }
            if where != "successor":
                item["where"], item["paragraph"] = "elsewhere", where
            present.append(item)
    missing = _runs_text(a.st, [j for j in a.ins_at if j not in a.found])
    judged = a.judged == "judged"
    return {
        "present": present,
        "missing": missing,
        "deleted": _runs_text(a.ot, sorted(a.done)) if judged else [],
        "not_deleted": _runs_text(a.ot, [i for i in a.del_at if i not in a.done]) if judged else [],
        "deletions": a.judged,
    }


def _region_states(a: _Asked) -> list[str]:
    """taken / missing / some for each region of the asked change: changes closer than
    REGION_GAP words make one region. A region is taken when most of its inserted words
    are in the text (or, asking only deletions, when they were made), missing when none."""
    regions: list[list[Opcode]] = []
    last_end = None
    for op in a.asked:
        tag, i1, i2, _, _ = op
        if tag == "equal":
            continue
        words_between = (
            sum(1 for t in a.ot[last_end:i1] if is_word(t)) if last_end is not None else None
        )
        if regions and words_between is not None and words_between < REGION_GAP:
            regions[-1].append(op)
        else:
            regions.append([op])
        last_end = i2
    states = []
    ins_set, del_set = set(a.ins_at), set(a.del_at)
    for ops in regions:
        ins = [j for _, _, _, j1, j2 in ops for j in range(j1, j2) if j in ins_set]
        dels = [i for _, i1, i2, _, _ in ops for i in range(i1, i2) if i in del_set]
        if ins:
            share = sum(1 for j in ins if j in a.found) / len(ins)
            stayed = dels and a.judged == "judged" and not any(i in a.done for i in dels)
            if share >= 0.5 and stayed:
                share = 0.4  # the new words came, but the words they were to replace stayed
            if share >= 0.5 and any(a.found.get(j) == "successor" for j in a.split & set(ins)):
                share = 0.4  # the new words came, but not together as asked
        elif dels and a.judged == "judged":
            share = sum(1 for i in dels if i in a.done) / len(dels)
        else:
            continue
        states.append("taken" if share >= 0.5 else "missing" if share == 0 else "some")
    # Within a region, a phrase of the asked insertions made whole is a part taken, and
    # a clause of MISSING_CLAUSE words or more wholly absent is a part missing.
    for run in _phrases(a.st, a.ins_at, a.found):
        if run[0] in a.found and len(run) >= MOVED_WORDS:
            states.append("taken")
        elif run[0] not in a.found and len(run) >= MISSING_CLAUSE:
            states.append("missing")
    return states


def _phrases(tokens: Sequence[str], at: Sequence[int], found: Collection[int]) -> list[list[int]]:
    """The positions `at` grouped into phrases all found or all not: consecutive, or with
    only punctuation between them."""
    out: list[list[int]] = []
    for p in sorted(at):
        if (
            out
            and (p in found) == (out[-1][-1] in found)
            and not any(is_word(t) for t in tokens[out[-1][-1] + 1 : p])
        ):
            out[-1].append(p)
        else:
            out.append([p])
    return out


def _score(a: _Asked, whole_deletion: bool, removed: bool) -> float:
    ins, m_ins = len(a.ins_at), sum(1 for j in a.ins_at if j in a.found)
    dels = len(a.del_at) if a.judged == "judged" else 0
    m_dels = len(a.done) if a.judged == "judged" else 0
    if whole_deletion:
        # Asked to drop the whole paragraph (or span): done when it is gone.
        return 1.0 if removed or (dels and m_dels == dels) else (m_dels / dels if dels else 0.0)
    if ins:
        if not m_ins:
            return 0.0  # none of the asked-for words is in the text: the change did not happen
        w = DELETION_WEIGHT
        return (m_ins + w * m_dels) / (ins + w * dels)
    return m_dels / dels if dels else 0.0


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    if not needle:
        return True
    n = len(needle)
    return any(haystack[k : k + n] == needle for k in range(len(haystack) - n + 1))


def _carried(text: str, tokens: Sequence[str], at: Sequence[int]) -> list[int]:
    """The positions among `at` (word tokens of a wording) that repeat the paragraph `text`
    word for word, when the wording carries it along (CARRIED of its words, in order,
    in runs of two or more); [] when it does not."""
    keys = _word_keys(text)
    if len(keys) < CARRIED_WORDS or not at:
        return []
    sm = SequenceMatcher(None, keys, [tokens[j].casefold() for j in at], autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size >= MOVED_WORDS]
    if sum(b.size for b in blocks) < CARRIED * len(keys):
        return []
    return [at[b.b + d] for b in blocks for d in range(b.size)]


def suggested_paragraph(
    original: str | Sequence[str],
    suggested: str,
    *,
    quote: str | None = None,
    quote_start: int | None = None,
    part: int | None = None,
) -> tuple[str, str]:
    """(original, suggested) as whole texts: the quote replaced, merged parts joined."""
    parts = [original] if isinstance(original, str) else list(original)
    if part is not None and not 0 <= part < len(parts):
        raise ValueError(f"There is no paragraph {part} among the {len(parts)} given.")
    target = PARAGRAPH_BREAK.join(parts) if part is None else parts[part]
    if part is not None and quote is None:
        # A wording that carries a neighbouring part along (the commented paragraph and
        # the next one written out together, to join them) replaces both.
        words_at = [j for j, t in enumerate(tokens_without_space(suggested)) if is_word(t)]
        toks = tokens_without_space(suggested)
        lo, hi = part, part + 1
        while lo > 0 and _carried(parts[lo - 1], toks, words_at):
            lo -= 1
        while hi < len(parts) and _carried(parts[hi], toks, words_at):
            hi += 1
        if (lo, hi) != (part, part + 1):
            o = PARAGRAPH_BREAK.join(parts)
            return o, PARAGRAPH_BREAK.join([*parts[:lo], suggested, *parts[hi:]])
    if quote is not None:
        at = locate(target, quote, quote_start)
        if at is None:
            raise ValueError("The quoted span is not in the paragraph.")
        target_suggested = target[: at[0]] + suggested + target[at[1] :]
    else:
        target_suggested = suggested
    o = PARAGRAPH_BREAK.join(parts)
    if part is None:
        return o, target_suggested
    return o, PARAGRAPH_BREAK.join(parts[:part] + [target_suggested] + parts[part + 1 :])


def asks_change(original: str, suggested: str, **kwargs) -> bool:
    """Whether the suggestion asks for any change of words or punctuation."""
    o, s = suggested_paragraph(original, suggested, **kwargs)
    return tokens_without_space(o) != tokens_without_space(s)


def asked_insertions(
    original: str,
    suggested: str,
    *,
    quote: str | None = None,
    quote_start: int | None = None,
    diff: Sequence[tuple[str, str]] | None = None,
) -> list[str]:
    """The phrases a suggestion asks to insert, in order (words and the marks between
    them), as provenance credits them. Empty when it inserts no word. `diff`: its stored
    diff (asked_opcodes)."""
    try:
        o, s = suggested_paragraph(original, suggested, quote=quote, quote_start=quote_start)
    except ValueError:
        o, s = original, suggested
    st = tokens_without_space(s)
    out = []
    for tag, _, _, j1, j2 in asked_opcodes(o, s, diff):
        if tag in ("insert", "replace") and any(is_word(t) for t in st[j1:j2]):
            out.append(" ".join(st[j1:j2]))
    return out


def uptake(
    original: str | Sequence[str],
    suggested: str,
    successor: str | Sequence[str],
    *,
    quote: str | None = None,
    quote_start: int | None = None,
    part: int | None = None,
    elsewhere: VersionWords | None = None,
    not_in: Collection[object] = (),
    around: Sequence[str] = (),
    diff: Sequence[tuple[str, str]] | None = None,
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
    elsewhere: the new version's words, where an asked-for phrase of at least
        ANYWHERE_WORDS words that is new to the version (and holds a word few of its
        paragraphs use) also counts, and is named; `not_in` names the paragraphs not
        to look in (the successor, already searched).
    around: the paragraphs just before and after the commented one in its version. A
        wording that carries one of them along word for word (two blocks written out
        as one) does not ask for those words: they stand where they stood.
    diff: the suggestion's word diff as stored when it was written; used when it is the
        diff of the texts measured here (asked_opcodes), else the diff is made.

    The words the suggestion inserts are the evidence: when none of them is in the
    text, it is not taken up, whatever was deleted. Asked deletions weigh
    DELETION_WEIGHT of an inserted word, and count only when the successor exists and
    is recognisably the paragraph (most of the words the suggestion keeps are in it).
    A suggestion that deletes the whole paragraph is taken up when it is removed.

    Raises NoChange (a ValueError) when the suggestion asks for no change, and
    ValueError when the quote is not in the paragraph or `part` is out of range.
    """
    o, s = suggested_paragraph(original, suggested, quote=quote, quote_start=quote_start, part=part)
    r = _join(successor)
    a = _asked(o, s, diff)
    if a is None:
        raise NoChange("The suggested wording is the same as the paragraph's.")
    carried = {j for text in around for j in _carried(text, a.st, a.ins_at)}
    if carried:
        a.ins_at = [j for j in a.ins_at if j not in carried]
    target = suggested if quote is not None else s
    whole_deletion = not a.ins_at and not any(is_word(t) for t in tokens_without_space(target))
    kept, new_runs = _match_successor(a, o, s, r)
    if elsewhere is not None and len(a.found) < len(a.ins_at):
        _match_elsewhere(a, elsewhere, not_in)
    for j in carried:
        a.found.pop(j, None)
    if not a.del_at:
        a.judged = "none_asked"
    elif not tokens_without_space(r):
        a.judged = "paragraph_removed"
    elif not whole_deletion and not _recognisable(a, r):
        a.judged = "not_recognisable"
    else:
        a.judged = "judged"
        _deletions(a, kept, new_runs)
    score = round(_score(a, whole_deletion, not tokens_without_space(r)), 4)
    m_ins = sum(1 for j in a.ins_at if j in a.found)
    m_del = len(a.done)
    wording = tokens_without_space(target)
    verbatim = score == 1.0 and _contains(tokens_without_space(r), wording)
    label = label_for(score)
    if not whole_deletion:
        states = _region_states(a)
        # Some regions made and others not is "partly", whatever the share of words.
        some_missing = label == "taken_up" and ("missing" in states or "some" in states)
        some_made = label == "not_taken_up" and "taken" in states and m_ins
        if some_missing or some_made:
            label = "partly"
    return Uptake(
        score,
        label,
        len(a.ins_at),
        len(a.del_at),
        m_ins,
        m_del,
        verbatim,
        _evidence(a),
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
