"""Paragraph alignment between two versions of a text.

Exact matches first, then an order-preserving matching of the rest by word
similarity, then out-of-order matches as moves; the rest are added or removed.
Candidate pairs come from shared word shingles, never from all pairs, so the
work grows with the text, not with its square.

Pure functions on lists of strings.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_SIMILARITY = 0.5  # an edit that keeps at least half the words is still "the same paragraph"
MOVE_SIMILARITY = 0.6
SHINGLE = 3
MAX_POSTINGS = 50  # a shingle shared by more paragraphs than this says nothing
MAX_CANDIDATES = 8  # old paragraphs scored for each new one


@dataclass(frozen=True)
class Link:
    old: int | None
    new: int | None
    relation: str  # unchanged, edited, moved, added, removed
    similarity: float


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def similarity(a: list[str] | Counter, b: list[str] | Counter) -> float:
    """Dice coefficient on word multisets, in [0, 1]."""
    ca = a if isinstance(a, Counter) else Counter(a)
    cb = b if isinstance(b, Counter) else Counter(b)
    total = sum(ca.values()) + sum(cb.values())
    if not total:
        return 1.0
    return 2 * sum((ca & cb).values()) / total


def kinship(a: Counter, b: Counter) -> float:
    """How likely two paragraphs are one paragraph edited: Dice, or, when one text grew
    or shrank a lot around the other (a clause added, a sentence cut), the share of
    the shorter text found in the longer one, slightly discounted."""
    common = sum((a & b).values())
    na, nb = sum(a.values()), sum(b.values())
    if not na or not nb:
        return 1.0 if na == nb else 0.0
    return max(2 * common / (na + nb), 0.85 * common / min(na, nb))


def _shingles(ws: list[str]) -> set[tuple[str, ...]]:
    if len(ws) < SHINGLE:
        return {tuple(ws)} | {(w,) for w in ws}
    return {tuple(ws[i : i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1)}


def _candidates(old: list[list[str]], new: list[list[str]], skip_old: set[int], skip_new: set[int]):
    """Pairs worth scoring: for each new paragraph, the old ones sharing most shingles."""
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, ws in enumerate(old):
        if i not in skip_old:
            for sh in _shingles(ws):
                index[sh].append(i)
    pairs: set[tuple[int, int]] = set()
    for j, ws in enumerate(new):
        if j in skip_new:
            continue
        shared: Counter = Counter()
        for sh in _shingles(ws):
            posting = index.get(sh)
            if posting and len(posting) <= MAX_POSTINGS:
                shared.update(posting)
        pairs.update((i, j) for i, _ in shared.most_common(MAX_CANDIDATES))
    return pairs


def _heaviest_chain(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The set of pairs increasing in both indexes with the greatest total weight."""
    if not pairs:
        return []
    pairs = sorted(pairs, key=lambda p: (p[0], -p[1]))
    size = max(p[1] for p in pairs) + 2
    tree = [(0.0, -1)] * (size + 1)  # Fenwick tree of (best weight, pair index) by new index

    def query(k: int) -> tuple[float, int]:
        best = (0.0, -1)
        while k > 0:
            best = max(best, tree[k])
            k -= k & -k
        return best

    def update(k: int, val: tuple[float, int]) -> None:
        while k <= size:
            if val > tree[k]:
                tree[k] = val
            k += k & -k

    prev = [-1] * len(pairs)
    score = [0.0] * len(pairs)
    for n, (_, j, w) in enumerate(pairs):
        best, at = query(j + 1)  # chains ending at new index < j
        score[n], prev[n] = best + w, at
        update(j + 2, (score[n], n))
    n = max(range(len(pairs)), key=score.__getitem__)
    chain = []
    while n != -1:
        chain.append(pairs[n])
        n = prev[n]
    return chain[::-1]


def align(old: list[str], new: list[str]) -> list[Link]:
    """Links from the paragraphs of `old` to those of `new` (texts in order)."""
    ow = [words(t) for t in old]
    nw = [words(t) for t in new]
    oc = [Counter(w) for w in ow]
    nc = [Counter(w) for w in nw]
    # 1. exact matches are candidates with the highest weight
    by_text: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(old):
        by_text[t.strip()].append(i)
    weighted: list[tuple[int, int, float]] = []
    exact_new: set[int] = set()
    for j, t in enumerate(new):
        for i in by_text.get(t.strip(), [])[:MAX_POSTINGS]:
            weighted.append((i, j, 2.0))
            exact_new.add(j)
    # 2. similar pairs from shared shingles
    sims: dict[tuple[int, int], float] = {}
    once_old = {t for t, idx in by_text.items() if len(idx) == 1}
    new_count = Counter(t.strip() for t in new)
    twin_new = {j for j, t in enumerate(new) if t.strip() in once_old and new_count[t.strip()] == 1}
    twin_old = {by_text[new[j].strip()][0] for j in twin_new}
    for i, j in _candidates(ow, nw, twin_old, twin_new):
        if old[i].strip() == new[j].strip():
            continue
        s = kinship(oc[i], nc[j])
        if s >= MIN_SIMILARITY:
            sims[(i, j)] = s
            weighted.append((i, j, s))
    chain = _heaviest_chain(weighted)
    used_old = {i for i, _, _ in chain}
    used_new = {j for _, j, _ in chain}
    links = [
        Link(i, j, "unchanged" if w == 2.0 else "edited", 1.0 if w == 2.0 else round(w, 4))
        for i, j, w in chain
    ]
    # 3. what is left may have moved: best remaining pair first
    rest = sorted(
        ((s, i, j) for (i, j), s in sims.items() if i not in used_old and j not in used_new),
        reverse=True,
    )
    exact_moves = [
        (1.0, i, j)
        for j, t in enumerate(new)
        if j not in used_new
        for i in by_text.get(t.strip(), [])
        if i not in used_old
    ]
    rest = exact_moves + rest
    for s, i, j in rest:
        if i in used_old or j in used_new or s < MOVE_SIMILARITY:
            continue
        used_old.add(i)
        used_new.add(j)
        links.append(Link(i, j, "moved", round(s, 4)))
    links += [Link(i, None, "removed", 0.0) for i in range(len(old)) if i not in used_old]
    links += [Link(None, j, "added", 0.0) for j in range(len(new)) if j not in used_new]
    return sorted(links, key=lambda lk: (lk.new if lk.new is not None else -1, lk.old or 0))
