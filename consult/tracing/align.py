"""Paragraph alignment between two versions of a text.

Exact matches first, then an order-preserving matching of the rest by word
similarity, then out-of-order matches as moves, then splits (one old paragraph
became several consecutive new ones) and merges (several consecutive old ones
became one); the rest are added or removed. Candidate pairs come from shared
word shingles, never from all pairs, so the work grows with the text, not with
its square.

Words are weighed by how rare they are in the two versions (numbers, defined
terms and names count for more than "the" or "shall"), and the structure is
evidence too, when the caller gives each paragraph's kind and heading level:
a heading links only to a heading; an old paragraph left alone between two
matched neighbours, facing a new one of the same kind in the same gap, is its
successor when they share enough rare words (a requirement reworded under its
heading); a renamed heading follows its section's paragraphs.

Pure functions on lists of strings (and of (kind, level) pairs).
"""

from __future__ import annotations

import gc
import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_SIMILARITY = 0.5  # an edit that keeps at least half the words is still "the same paragraph"
MOVE_SIMILARITY = 0.6
SHINGLE = 3
MAX_POSTINGS = 50  # a shingle shared by more paragraphs than this says nothing
MAX_CANDIDATES = 8  # old paragraphs scored for each new one
MIN_SHINGLES = 6  # a paragraph with fewer shingles may share only one with its predecessor
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
# Between two matched neighbours, an unmatched old paragraph and an unmatched new one of
# the same kind are one paragraph rewritten when this share of their (rarity-weighted)
# words is shared: the position is evidence enough for the rest.
GAP_SIMILARITY = 0.2
MAX_GAP_PAIRS = 400  # a gap with more unmatched pairs than this is new text, not rewrites
# Kinds that may turn into one another (a paragraph becomes a list item, a table row a
# paragraph); a heading only ever links to a heading.
_BODY = {"paragraph", "list_item", "blockquote", "definition", "table", "code"}

# A pair's score is its kinship, but no more than its rarity-weighted Dice plus this:
# two tables that share only their boilerplate fall below MIN_SIMILARITY.
RARE_SLACK = 0.25
RARE_COUNT = 4  # a word found in this many paragraphs of the two versions or fewer is rare

Info = tuple[str, int]  # a paragraph's kind ("heading", "list_item", …) and heading level


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


def _rarity(counters: list[Counter]) -> dict[str, float]:
    """Weight of each word: the log of how rare it is among the paragraphs of both
    versions (inverse document frequency), at least a small floor so that no word is
    worth nothing."""
    df: Counter = Counter()
    for c in counters:
        df.update(c.keys())
    n = len(counters) + 1
    return {w: max(math.log(n / k), 0.1) for w, k in df.items()}


def _weight(c: Counter, rare: dict[str, float]) -> float:
    return sum(n * rare[w] for w, n in c.items())


def _wcommon(a: Counter, b: Counter, rare: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    total = 0.0
    for w, n in a.items():
        m = get(w)
        if m:
            total += (n if n < m else m) * rare[w]
    return total


def _rare_dice(a: Counter, b: Counter, wa: float, wb: float, rare: dict[str, float]) -> float:
    """Dice coefficient with each word weighed by its rarity."""
    total = wa + wb
    return 2 * _wcommon(a, b, rare) / total if total else 1.0


def _stems(ws: list[str]) -> Counter:
    """Words with a plural or genitive s cut, for the looser comparison of rewrites."""
    return Counter(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in ws)


def _shingles(ws: list[str]) -> set[str]:
    """Runs of SHINGLE words (and, for a shorter text, its words and the whole), as
    strings: strings are no work for the garbage collector, tuples are, and a long text
    has hundreds of thousands of them."""
    if len(ws) < SHINGLE:
        return {" ".join(ws)} | {f"{w} " for w in ws}
    return {" ".join(ws[i : i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1)}


def _candidates(old: list[list[str]], new: list[list[str]], skip_old: set[int], skip_new: set[int]):
    """Pairs worth scoring: for each new paragraph, the old ones sharing most shingles."""
    # A shingle found in one old paragraph (most of them) maps to its index, one found in
    # several to a list: fewer objects to make and for the garbage collector to visit.
    index: dict[str, int | list[int]] = {}
    get_posting = index.get
    for i, ws in enumerate(old):
        if i not in skip_old:
            for sh in _shingles(ws):
                posting = get_posting(sh)
                if posting is None:
                    index[sh] = i
                elif isinstance(posting, int):
                    index[sh] = [posting, i]
                else:
                    posting.append(i)
    pairs: set[tuple[int, int]] = set()
    for j, ws in enumerate(new):
        if j in skip_new:
            continue
        shared: dict[int, int] = {}
        get = shared.get
        shingles = _shingles(ws)
        for sh in shingles:
            posting = get_posting(sh)
            if posting is None:
                continue
            if isinstance(posting, int):
                shared[posting] = get(posting, 0) + 1
            elif len(posting) <= MAX_POSTINGS:
                for i in posting:
                    shared[i] = get(i, 0) + 1
        # One shingle in common is chance in a long text (and more so the longer the
        # text, which made the work grow faster than the text); a rewrite the shingles
        # miss is found by its position instead (_fill_gaps).
        least = 1 if len(shingles) <= MIN_SHINGLES else 2 if len(shingles) < 30 else 3
        found = [(n, i) for i, n in shared.items() if n >= least]
        if len(found) > MAX_CANDIDATES:
            found = heapq.nlargest(MAX_CANDIDATES, found)
        pairs.update((i, j) for _, i in found)
    return pairs


def _heaviest_chain(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The set of pairs increasing in both indexes with the greatest total weight."""
    if not pairs:
        return []
    pairs = sorted(pairs, key=lambda p: (p[0], -p[1]))
    # New indexes by rank, so that the tree is as small as the set of pairs (a gap's
    # pairs sit at high indexes of a long text).
    rank = {j: r for r, j in enumerate(sorted({p[1] for p in pairs}))}
    size = len(rank) + 2
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
        r = rank[j]
        best, at = query(r + 1)  # chains ending at new index < j
        score[n], prev[n] = best + w, at
        update(r + 2, (score[n], n))
    n = max(range(len(pairs)), key=score.__getitem__)
    chain = []
    while n != -1:
        chain.append(pairs[n])
        n = prev[n]
    return chain[::-1]


def _kinds(info: list[Info] | list[str] | None, count: int) -> list[tuple[str, int]]:
    if info is None:
        return [("paragraph", 0)] * count
    if len(info) != count:
        raise ValueError("one (kind, level) per paragraph is needed")
    return [(k, 0) if isinstance(k, str) else (k[0], k[1]) for k in info]


def align(
    old: list[str],
    new: list[str],
    old_info: list[Info] | None = None,
    new_info: list[Info] | None = None,
) -> list[Link]:
    """Links from the paragraphs of `old` to those of `new` (texts in order).

    `old_info` and `new_info`, when given, hold each paragraph's (kind, heading level),
    as the splitter's blocks have them (a bare kind is accepted too). Without them every
    paragraph counts as a plain paragraph.
    """
    # The alignment makes hundreds of thousands of small objects and no reference cycles:
    # the cyclic garbage collector, run every few hundred allocations over everything
    # alive, only adds work that grows faster than the text. It is paused meanwhile.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _align(old, new, old_info, new_info)
    finally:
        if paused:
            gc.enable()


def _align(
    old: list[str],
    new: list[str],
    old_info: list[Info] | None,
    new_info: list[Info] | None,
) -> list[Link]:
    ok, nk = _kinds(old_info, len(old)), _kinds(new_info, len(new))
    o_head = [k == "heading" for k, _ in ok]
    n_head = [k == "heading" for k, _ in nk]
    ow = [words(t) for t in old]
    nw = [words(t) for t in new]
    oc = [Counter(w) for w in ow]
    nc = [Counter(w) for w in nw]
    rare = _rarity(oc + nc)
    rare_bar = math.log((len(oc) + len(nc) + 1) / RARE_COUNT)
    o_weight = [_weight(c, rare) for c in oc]
    n_weight = [_weight(c, rare) for c in nc]

    def score(i: int, j: int) -> float:
        """Kinship, with rare words weighing more: shared boilerplate ("Field",
        "Required", "Cardinality" in every table) says less than a shared field name."""
        plain = kinship(oc[i], nc[j])
        if plain < MIN_SIMILARITY:
            return plain
        rare_dice = _rare_dice(oc[i], nc[j], o_weight[i], n_weight[j], rare)
        return min(plain, rare_dice + RARE_SLACK)

    # 1. exact matches are candidates with the highest weight
    by_text: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(old):
        by_text[t.strip()].append(i)
    once_old = {t for t, idx in by_text.items() if len(idx) == 1}
    new_count = Counter(t.strip() for t in new)
    twin_new = {j for j, t in enumerate(new) if t.strip() in once_old and new_count[t.strip()] == 1}
    twin_old = {by_text[new[j].strip()][0] for j in twin_new}
    weighted: list[tuple[int, int, float]] = []
    for j, t in enumerate(new):
        for i in by_text.get(t.strip(), [])[:MAX_POSTINGS]:
            if o_head[i] == n_head[j] or j in twin_new:
                weighted.append((i, j, 2.0))
    # 2. similar pairs from shared shingles
    sims: dict[tuple[int, int], float] = {}
    candidates = _candidates(ow, nw, twin_old, twin_new)
    candidates = {(i, j) for i, j in candidates if o_head[i] == n_head[j]}
    for i, j in candidates:
        if old[i].strip() == new[j].strip():
            continue
        s = score(i, j)
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
    # 3. what is left may have moved: best remaining pair first. A much better pair
    # takes its paragraph back from a weak edited link of the chain (a table re-sorted
    # among tables of the same shape: the chain matched it with its new neighbour).
    rest = sorted(
        ((s, i, j) for (i, j), s in sims.items() if i not in used_old or j not in used_new),
        reverse=True,
    )
    exact_moves = [
        (1.0, i, j)
        for j, t in enumerate(new)
        if j not in used_new
        for i in by_text.get(t.strip(), [])
        if i not in used_old and o_head[i] == n_head[j]
    ]
    weak_old = {lk.old: lk for lk in links if lk.relation == "edited"}
    weak_new = {lk.new: lk for lk in links if lk.relation == "edited"}
    best_old: dict[int, float] = {}
    best_new: dict[int, float] = {}
    for s, i, j in rest:
        if i not in used_old and j not in used_new:
            best_old.setdefault(i, s)
            best_new.setdefault(j, s)
    dropped: set[Link] = set()
    for s, i, j in exact_moves + rest:
        if s < MOVE_SIMILARITY:
            # Below the bar for a move, a pair still links when each is the other's best
            # and they share a rare word (a field name, a defined term).
            if s < MIN_SIMILARITY or best_old.get(i) != s or best_new.get(j) != s:
                continue
            if ok[i][0] != nk[j][0] or not any(rare[w] >= rare_bar for w in oc[i] if w in nc[j]):
                continue
        if i in used_old and j in used_new:
            continue
        if i in used_old or j in used_new:
            weak = weak_old.get(i) if i in used_old else weak_new.get(j)
            if weak is None or weak in dropped or weak.similarity + 0.3 > s:
                continue
            # The weak link's other end is set free.
            dropped.add(weak)
            used_old.discard(weak.old)
            used_new.discard(weak.new)
        used_old.add(i)
        used_new.add(j)
        links.append(Link(i, j, "moved", round(s, 4)))
    if dropped:
        links = [lk for lk in links if lk not in dropped]
        chain = [(i, j, w) for i, j, w in chain if (i, j) not in {(d.old, d.new) for d in dropped}]
    # 4. rewrites in place: unmatched paragraphs facing each other between matched neighbours
    links += _fill_gaps(chain, ow, nw, ok, nk, rare, used_old, used_new)
    # 5. a renamed heading follows its section
    links += _renamed_headings(links, ok, nk, oc, nc, used_old, used_new)
    # 6. splits and merges: an edited pair with unmatched neighbours, or unmatched pieces
    links = _splits_and_merges(links, oc, nc, o_head, n_head, candidates, used_old, used_new)
    links += [Link(i, None, "removed", 0.0) for i in range(len(old)) if i not in used_old]
    links += [Link(None, j, "added", 0.0) for j in range(len(new)) if j not in used_new]
    return sorted(links, key=lambda lk: (lk.new if lk.new is not None else -1, lk.old or 0))


def _same_kind(a: tuple[str, int], b: tuple[str, int]) -> bool:
    if a[0] == "heading" or b[0] == "heading":
        return a == b or (a[0] == b[0] and abs(a[1] - b[1]) <= 1)
    return a[0] == b[0] or (a[0] in _BODY and b[0] in _BODY and "table" not in (a[0], b[0]))


def _fill_gaps(
    chain: list[tuple[int, int, float]],
    ow: list[list[str]],
    nw: list[list[str]],
    ok: list[tuple[str, int]],
    nk: list[tuple[str, int]],
    rare: dict[str, float],
    used_old: set[int],
    used_new: set[int],
) -> list[Link]:
    """Pair the unmatched paragraphs of each gap between two consecutive pairs of the
    order-preserving chain: the gap's old and new paragraphs of the same kind, in order,
    whose rarity-weighted word overlap reaches GAP_SIMILARITY. Each paragraph is looked
    at in one gap only, so the work grows with the text (gaps with more than
    MAX_GAP_PAIRS unmatched pairs are new or dropped passages and are left alone)."""
    bounds = [(-1, -1), *((i, j) for i, j, _ in chain), (len(ow), len(nw))]
    gaps = []
    for (i1, j1), (i2, j2) in zip(bounds, bounds[1:], strict=False):
        olds = [i for i in range(i1 + 1, i2) if i not in used_old]
        news = [j for j in range(j1 + 1, j2) if j not in used_new]
        if olds and news and len(olds) * len(news) <= MAX_GAP_PAIRS:
            gaps.append((olds, news))
    if not gaps:
        return []
    # Loosened words (plurals) of the paragraphs that take part, weighed by the rarity
    # of the word as written (or of its plural).
    stems: dict[tuple[int, int], Counter] = {}
    for olds, news in gaps:
        for i in olds:
            stems[(0, i)] = _stems(ow[i])
        for j in news:
            stems[(1, j)] = _stems(nw[j])
    top = max(rare.values(), default=1.0)
    loose: dict[str, float] = {}
    for c in stems.values():
        for w in c:
            if w not in loose:
                loose[w] = rare.get(w) or rare.get(w + "s") or top
    rare = loose
    weight = {k: _weight(c, rare) for k, c in stems.items()}
    links = []
    for olds, news in gaps:
        pairs = []
        for i in olds:
            a = stems[(0, i)]
            for j in news:
                if not _same_kind(ok[i], nk[j]):
                    continue
                b = stems[(1, j)]
                s = _rare_dice(a, b, weight[(0, i)], weight[(1, j)], rare)
                if s >= GAP_SIMILARITY:
                    pairs.append((i, j, s))
        for i, j, _s in _heaviest_chain(pairs):
            used_old.add(i)
            used_new.add(j)
            links.append(Link(i, j, "edited", round(similarity(ow[i], nw[j]), 4)))
    return links


def _sections(kinds: list[tuple[str, int]]) -> list[int]:
    """For each paragraph, the index of the heading it stands under (-1: none)."""
    out, current = [], -1
    for k, (kind, _) in enumerate(kinds):
        if kind == "heading":
            current = k
        out.append(current)
    return out


def _renamed_headings(
    links: list[Link],
    ok: list[tuple[str, int]],
    nk: list[tuple[str, int]],
    oc: list[Counter],
    nc: list[Counter],
    used_old: set[int],
    used_new: set[int],
) -> list[Link]:
    """An unmatched old heading whose section's paragraphs went, for the most part, under
    one unmatched new heading of the same level (whose paragraphs came mostly from that
    section) is that heading renamed ("§ 4 Antragsverfahren" → "§ 5 Entscheidung über
    den Antrag")."""
    so, sn = _sections(ok), _sections(nk)
    votes: dict[int, Counter] = defaultdict(Counter)
    back: dict[int, Counter] = defaultdict(Counter)
    for lk in links:
        if ok[lk.old][0] == "heading":
            continue
        ho, hn = so[lk.old], sn[lk.new]
        if ho >= 0 and hn >= 0:
            votes[ho][hn] += 1
            back[hn][ho] += 1
    out = []
    for ho, counter in votes.items():
        if ho in used_old:
            continue
        hn, n = counter.most_common(1)[0]
        if hn in used_new or ok[ho] != nk[hn] or 2 * n <= sum(counter.values()):
            continue
        if back[hn].most_common(1)[0][0] != ho or 2 * back[hn][ho] <= sum(back[hn].values()):
            continue
        used_old.add(ho)
        used_new.add(hn)
        out.append(Link(ho, hn, "edited", round(similarity(oc[ho], nc[hn]), 4)))
    return out


def _containment(part: Counter, whole: Counter) -> float:
    """Share of the words of `part` found in `whole`."""
    size = sum(part.values())
    return _common(part, whole) / size if size else 0.0


def _grow(
    anchor: int,
    whole: Counter,
    pieces: list[Counter],
    free: set[int],
    heads: list[bool] | None = None,
    head: bool = False,
) -> tuple[list[int], float]:
    """Consecutive free pieces around `anchor` whose words together best match `whole`.

    Greedy: the group grows by one neighbour at a time, on whichever side helps, as long
    as the neighbour's words are mostly found in what `whole` has left over and the
    joined text is more similar to `whole` (Dice) than without it. (`free` need not
    hold the anchor: only neighbours are looked up in it.) With `heads`, only pieces
    that are headings when `head` is (and only those) may join: a heading never
    becomes part of a list item, nor a paragraph part of a heading.
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
            if k not in free or (heads is not None and heads[k] != head):
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
    o_head: list[bool],
    n_head: list[bool],
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
        head = o_head[lk.old]
        news, s_new = _grow(lk.new, oc[lk.old], nc, free_new, n_head, head)
        olds, s_old = (
            _grow(lk.old, nc[lk.new], oc, free_old, o_head, head) if len(news) == 1 else ([], 0)
        )
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
                news, s = _grow(j, oc[i], nc, free_new, n_head, o_head[i])
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
                olds, s = _grow(i, nc[j], oc, free_old, o_head, n_head[j])
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
