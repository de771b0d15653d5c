"""Paragraph alignment between two versions of a text.

Exact matches first, then an order-preserving matching of the rest by word
similarity, then out-of-order matches as moves, then splits (one old paragraph
became several consecutive new ones) and merges (several consecutive old ones
became one); the rest are added or removed. Candidate pairs come from shared
word shingles, never from all pairs, so the work grows with the text, not with
its square.

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
# A piece joins a split or merge when at least this share of its words is found in what
# its partner has left over, and the joined text is more similar to the partner than before.
PIECE_CONTAINMENT = 0.4
MAX_PIECES = 6  # paragraphs a split or merge may have
# Very short pieces (headings such as "§ 4 Antrag") share words by chance: they never join.
MIN_PIECE_WORDS = 4
# A piece that is not next to the rest of its split or merge (it moved as well) needs
# more evidence: real texts reuse phrases across articles.
FAR_CONTAINMENT = 0.75
MIN_FAR_WORDS = 8


@dataclass(frozen=True)
class Link:
    old: int | None
    new: int | None
    relation: str  # unchanged, edited, moved, split, merged, added, removed
    similarity: float


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _common(a: Counter, b: Counter) -> int:
    """Size of the multiset intersection (what Counter's & gives, without building it)."""
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    total = 0
    for w, n in a.items():  # a plain loop: four times faster than a generator or a & b
        m = get(w)
        if m:
            total += n if n < m else m
    return total


def similarity(a: list[str] | Counter, b: list[str] | Counter) -> float:
    """Dice coefficient on word multisets, in [0, 1]."""
    ca = a if isinstance(a, Counter) else Counter(a)
    cb = b if isinstance(b, Counter) else Counter(b)
    total = sum(ca.values()) + sum(cb.values())
    if not total:
        return 1.0
    return 2 * _common(ca, cb) / total


def kinship(a: Counter, b: Counter) -> float:
    """How likely two paragraphs are one paragraph edited: Dice, or, when one text grew
    or shrank a lot around the other (a clause added, a sentence cut), the share of
    the shorter text found in the longer one, slightly discounted. A text less than a
    quarter the length of the other (a heading beside an article) is no such case: its
    few words are found in long texts by chance."""
    common = _common(a, b)
    na, nb = sum(a.values()), sum(b.values())
    if not na or not nb:
        return 1.0 if na == nb else 0.0
    dice = 2 * common / (na + nb)
    short, long = min(na, nb), max(na, nb)
    if 4 * short < long:
        return dice
    return max(dice, 0.85 * common / short)


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
    candidates = _candidates(ow, nw, twin_old, twin_new)
    for i, j in candidates:
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
    # 4. splits and merges: an edited pair with unmatched neighbours, or unmatched pieces
    links = _splits_and_merges(links, oc, nc, candidates, used_old, used_new)
    links += [Link(i, None, "removed", 0.0) for i in range(len(old)) if i not in used_old]
    links += [Link(None, j, "added", 0.0) for j in range(len(new)) if j not in used_new]
    return sorted(links, key=lambda lk: (lk.new if lk.new is not None else -1, lk.old or 0))


def _containment(part: Counter, whole: Counter) -> float:
    """Share of the words of `part` found in `whole`."""
    size = sum(part.values())
    return _common(part, whole) / size if size else 0.0


def _grow(
    anchor: int, whole: Counter, pieces: list[Counter], free: set[int]
) -> tuple[list[int], float]:
    """Consecutive free pieces around `anchor` whose words together best match `whole`.

    Greedy: the group grows by one neighbour at a time, on whichever side helps, as long
    as the neighbour's words are mostly found in what `whole` has left over and the
    joined text is more similar to `whole` (Dice) than without it. (`free` need not
    hold the anchor: only neighbours are looked up in it.)
    """
    group = [anchor]
    n_whole = sum(whole.values())
    size = sum(pieces[anchor].values())
    common = _common(pieces[anchor], whole)
    best = 2 * common / (size + n_whole) if size + n_whole else 1.0
    left_over: Counter | None = None
    while len(group) < MAX_PIECES:
        choice = None
        for k in (group[0] - 1, group[-1] + 1):
            if k not in free:
                continue
            if left_over is None:
                left_over = whole - sum((pieces[g] for g in group), Counter())
            k_size = sum(pieces[k].values())
            k_common = _common(pieces[k], left_over)
            if k_size < MIN_PIECE_WORDS or k_common / k_size < PIECE_CONTAINMENT:
                continue
            # common(joined + piece, whole) = common(joined, whole) + common(piece, left over)
            score = 2 * (common + k_common) / (size + k_size + n_whole)
            if score > best and (choice is None or score > choice[1]):
                choice = (k, score, k_size, k_common)
        if choice is None:
            break
        k, best, k_size, k_common = choice
        group = sorted([*group, k])
        size, common = size + k_size, common + k_common
        left_over = None
    return group, best


class _Groups:
    """Pairs found so far as groups: an old paragraph with its new pieces (a split, or one
    edited successor) and a new paragraph with its old parts (a merge)."""

    def __init__(self, oc: list[Counter], nc: list[Counter]):
        self.oc, self.nc = oc, nc
        self.news_of: dict[int, list[int]] = {}
        self.olds_of: dict[int, list[int]] = {}
        self.relation: dict[tuple[int, int], str] = {}
        self.pair_similarity: dict[tuple[int, int], float] = {}

    def add(self, olds: list[int], news: list[int], relation: str, sim: float = 0.0) -> None:
        for i in olds:
            self.news_of.setdefault(i, [])
            self.news_of[i] = sorted({*self.news_of[i], *news})
        for j in news:
            self.olds_of.setdefault(j, [])
            self.olds_of[j] = sorted({*self.olds_of[j], *olds})
        for i in olds:
            for j in news:
                self.relation[(i, j)] = relation
                self.pair_similarity[(i, j)] = sim

    def joined_new(self, i: int) -> Counter:
        return sum((self.nc[j] for j in self.news_of[i]), Counter())

    def joined_old(self, j: int) -> Counter:
        return sum((self.oc[i] for i in self.olds_of[j]), Counter())

    def can_take_piece(self, i: int) -> bool:
        """Old `i` may gain another new piece: it is split already or paired one to one."""
        return i in self.news_of and all(len(self.olds_of[j]) == 1 for j in self.news_of[i])

    def can_take_part(self, j: int) -> bool:
        return j in self.olds_of and all(len(self.news_of[i]) == 1 for i in self.olds_of[j])

    def links(self) -> list[Link]:
        out = []
        for (i, j), relation in self.relation.items():
            if len(self.news_of[i]) > 1:
                relation, s = "split", similarity(self.joined_new(i), self.oc[i])
            elif len(self.olds_of[j]) > 1:
                relation, s = "merged", similarity(self.joined_old(j), self.nc[j])
            else:
                s = self.pair_similarity[(i, j)]
            out.append(Link(i, j, relation, round(s, 4)))
        return out


def _splits_and_merges(
    links: list[Link],
    oc: list[Counter],
    nc: list[Counter],
    candidates: set[tuple[int, int]],
    used_old: set[int],
    used_new: set[int],
) -> list[Link]:
    """Find splits and merges among what is left; one Link per (old, new) pair.
    Updates used_old and used_new."""
    free_new = {j for j in range(len(nc)) if j not in used_new}
    free_old = {i for i in range(len(oc)) if i not in used_old}
    if not free_new and not free_old:
        return links
    groups = _Groups(oc, nc)
    # Identical pairs have no words to spare for a split or merge.
    same = [lk for lk in links if lk.relation == "unchanged" or lk.similarity == 1.0]
    links = [lk for lk in links if not (lk.relation == "unchanged" or lk.similarity == 1.0)]

    def take(olds: list[int], news: list[int], relation: str) -> None:
        groups.add(olds, news, relation)
        free_old.difference_update(olds)
        free_new.difference_update(news)
        used_old.update(olds)
        used_new.update(news)

    # a. Unmatched neighbours of an edited pair join it. Least similar pairs first: a
    # pair that lost most words is the likeliest to have lost them to a neighbour.
    for lk in sorted(links, key=lambda lk: lk.similarity):
        if lk.relation not in ("edited", "moved"):
            groups.add([lk.old], [lk.new], lk.relation, lk.similarity)
            continue
        news, s_new = _grow(lk.new, oc[lk.old], nc, free_new)
        olds, s_old = _grow(lk.old, nc[lk.new], oc, free_old) if len(news) == 1 else ([], 0)
        if len(news) > 1:
            take([lk.old], news, "split")
        elif len(olds) > 1:
            take(olds, [lk.new], "merged")
        else:
            groups.add([lk.old], [lk.new], lk.relation, lk.similarity)
    # b. What is still unmatched: a piece that moved away from its split or merge, or a
    # split or merge none of whose pieces was similar enough alone. Shingle candidates only.
    olds_for: dict[int, list[int]] = defaultdict(list)
    news_for: dict[int, list[int]] = defaultdict(list)
    for i, j in candidates:
        olds_for[j].append(i)
        news_for[i].append(j)
    for j in sorted(free_new):
        if j not in free_new:
            continue
        best: tuple[float, list[int], list[int]] | None = None
        size = sum(nc[j].values())
        for i in olds_for[j]:
            if size < MIN_PIECE_WORDS:
                break
            if i in free_old:
                if _containment(nc[j], oc[i]) < PIECE_CONTAINMENT:
                    continue
                news, s = _grow(j, oc[i], nc, free_new)
                if len(news) > 1 and s >= MIN_SIMILARITY and (best is None or s > best[0]):
                    best = (s, [i], news)
            elif size >= MIN_FAR_WORDS and groups.can_take_piece(i):
                joined = groups.joined_new(i)
                if _containment(nc[j], oc[i] - joined) < FAR_CONTAINMENT:
                    continue
                gain = similarity(joined + nc[j], oc[i]) - similarity(joined, oc[i])
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, [i], [j])
        if best is not None:
            take(best[1], best[2], "split")
    for i in sorted(free_old):
        if i not in free_old:
            continue
        best = None
        size = sum(oc[i].values())
        for j in news_for[i]:
            if size < MIN_PIECE_WORDS:
                break
            if j in free_new:
                if _containment(oc[i], nc[j]) < PIECE_CONTAINMENT:
                    continue
                olds, s = _grow(i, nc[j], oc, free_old)
                if len(olds) > 1 and s >= MIN_SIMILARITY and (best is None or s > best[0]):
                    best = (s, olds, [j])
            elif size >= MIN_FAR_WORDS and groups.can_take_part(j):
                joined = groups.joined_old(j)
                if _containment(oc[i], nc[j] - joined) < FAR_CONTAINMENT:
                    continue
                gain = similarity(joined + oc[i], nc[j]) - similarity(joined, nc[j])
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, [i], [j])
        if best is not None:
            take(best[1], best[2], "merged")
    return same + groups.links()
