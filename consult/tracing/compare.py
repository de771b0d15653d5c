"""Comparing any two versions of a document, paragraph by paragraph, by their lineage
links.

The links between neighbouring versions (composed across the versions in between
when the two are further apart) say which old paragraphs became which new ones. Old
and new paragraphs joined by links form a group: one old and one new paragraph are
unchanged, changed in formatting only, edited or moved; one old paragraph that
became several was split, several that became one were merged (both at once: split
and merged); a new paragraph without a link was added, an old one removed. A group
of several paragraphs gets one word diff of its joined old texts to its joined new
texts, so that a split or merge reads as the change it is (a space that became a
paragraph break, or the reverse, is not marked as a change).

`classify` is the one rule that names the change of a one-to-one pair, and `tally`
the one way of counting a comparison's rows; tracing.summary.count_changes counts
the same way in SQL for neighbouring versions. Pure functions on plain data.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from consult.i18n import N_
from consult.tracing.diff import word_diff

#: What a paragraph (or a group of paragraphs) of a comparison is; in the order counts
#: and summaries list them.
RELATIONS = (
    "unchanged",
    "formatting",
    "edited",
    "moved",
    "split",
    "merged",
    "split_merged",
    "added",
    "removed",
)
#: What the counts count: a paragraph split counts as split and a paragraph made of
#: several as merged, also when one group is both (so there is no "split_merged" count).
COUNTED = ("unchanged", "formatting", "edited", "moved", "split", "merged", "added", "removed")
#: The words people read for each relation (pages, exports).
LABELS = {
    "unchanged": N_("unchanged"),
    "formatting": N_("formatting only"),
    "edited": N_("edited"),
    "moved": N_("moved"),
    "split": N_("split"),
    "merged": N_("merged"),
    "split_merged": N_("split and merged"),
    "added": N_("added"),
    "removed": N_("removed"),
    "first": N_("first text"),
    "returned": N_("back after a gap"),
}
#: Between the texts of a group's paragraphs in its diff.
JOIN = "\n\n"


def classify(relation: str, same_source: bool, same_text: bool) -> str:
    """The change of one old paragraph that became one new one: "moved" when the link
    says it left the order of the rest; otherwise "unchanged" (same Markdown source),
    "formatting" (same plain text, different source: a link's address, emphasis) or
    "edited" (the words changed)."""
    if relation == "moved":
        return "moved"
    if same_source:
        return "unchanged"
    return "formatting" if same_text else "edited"


@dataclass(frozen=True)
class Text:
    """A paragraph as the comparison sees it."""

    text: str
    source: str


@dataclass
class Row:
    """One group of a comparison: the indexes of its old and new paragraphs (in order),
    its relation, its word diff, and the (old, new) links that join it."""

    relation: str
    olds: list[int]
    news: list[int]
    diff: list[tuple[str, str]] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def old(self) -> int | None:
        return self.olds[0] if self.olds else None

    @property
    def new(self) -> int | None:
        return self.news[0] if self.news else None


def longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing run within `values` (in order)."""
    tails: list[int] = []
    tails_at: list[int] = []
    prev = [-1] * len(values)
    for k, v in enumerate(values):
        i = bisect.bisect_left(tails, v)
        if i == len(tails):
            tails.append(v)
            tails_at.append(k)
        else:
            tails[i] = v
            tails_at[i] = k
        prev[k] = tails_at[i - 1] if i else -1
    keep: set[int] = set()
    k = tails_at[-1] if tails_at else -1
    while k != -1:
        keep.add(k)
        k = prev[k]
    return keep


def compose(
    steps: Iterable[Iterable[tuple[int, int]]], start: Iterable[int]
) -> set[tuple[int, int]]:
    """(first, last) pairs through a chain of link steps: each step maps ids of one
    version to ids of the next; `start` are the ids of the first version."""
    reach = {i: {i} for i in start}
    for step in steps:
        succ: dict[int, set[int]] = defaultdict(set)
        for a, b in step:
            succ[a].add(b)
        reach = {i: {b for a in ids for b in succ.get(a, ())} for i, ids in reach.items()}
    return {(i, j) for i, ids in reach.items() for j in ids}


def _components(pairs: set[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """Connected components of the link graph, as (old indexes, new indexes), sorted."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x):
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for i, j in pairs:
        a, b = find(("o", i)), find(("n", j))
        if a != b:
            parent[a] = b
    groups: dict[tuple[str, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for node in list(parent):
        side, k = node
        groups[find(node)][0 if side == "o" else 1].append(k)
    return [(sorted(o), sorted(n)) for o, n in groups.values()]


def quiet_breaks(diff: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A group's diff without changes of white space alone: where a paragraph was cut
    in two or two were joined, the space that became a paragraph break (or the break
    that became a space) is not a change of words. The newer side's white space stays."""
    out: list[tuple[str, str]] = []
    k = 0
    while k < len(diff):
        run = k
        while run < len(diff) and diff[run][0] != "equal":
            run += 1
        if run > k and not "".join(t for _, t in diff[k:run]).strip():
            kept = "".join(t for op, t in diff[k:run] if op == "insert")
            if not kept:
                pass
            elif out and out[-1][0] == "equal":
                out[-1] = ("equal", out[-1][1] + kept)
            else:
                out.append(("equal", kept))
            k = run
            continue
        if run > k:
            out.extend(diff[k:run])
            k = run
            continue
        op, text = diff[k]
        if op == "equal" and out and out[-1][0] == "equal":
            out[-1] = ("equal", out[-1][1] + text)
        else:
            out.append((op, text))
        k += 1
    return out


def compare(
    old: list[Text],
    new: list[Text],
    pairs: Iterable[tuple[int, int]],
    moved: Mapping[tuple[int, int], bool] | None = None,
) -> list[Row]:
    """Rows for the paragraphs of two versions linked by `pairs` of (old, new) indexes,
    in the newer version's order, each removed paragraph after its old neighbour.

    `moved` says which one-to-one pairs left the order of the rest (the stored links
    know it for neighbouring versions); without it, the pairs outside one longest run
    in the order of both versions are the moved ones."""
    pairs = set(pairs)
    from_old: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j in pairs:
        from_old[i].append((i, j))
    rows_at: dict[int, Row] = {}  # by the first new index of the group
    grouped: set[int] = set()
    for olds, news in _components(pairs):
        grouped.update(news)
        if len(olds) == 1 and len(news) == 1:
            a, b = old[olds[0]], new[news[0]]
            row = Row("", olds, news, word_diff(a.text, b.text), [(olds[0], news[0])])
        else:
            relation = "split" if len(olds) == 1 else "merged" if len(news) == 1 else "split_merged"
            before = JOIN.join(old[i].text for i in olds)
            after = JOIN.join(new[j].text for j in news)
            mine = sorted(p for i in olds for p in from_old[i])
            row = Row(relation, olds, news, quiet_breaks(word_diff(before, after)), mine)
        rows_at[news[0]] = row
    simple = sorted((r.olds[0], r.news[0]) for r in rows_at.values() if not r.relation)
    if moved is None:
        keep = longest_increasing([j for _, j in simple])
        moved = {pair: k not in keep for k, pair in enumerate(simple)}
    for i, j in simple:
        a, b = old[i], new[j]
        rows_at[j].relation = classify(
            "moved" if moved.get((i, j)) else "edited", a.source == b.source, a.text == b.text
        )
    # Removed paragraphs follow the row of the nearest earlier old paragraph that kept
    # its place.
    in_row = {i: r for r in rows_at.values() for i in r.olds}
    removed_after: dict[int, list[int]] = defaultdict(list)
    anchor = -1
    for i in range(len(old)):
        r = in_row.get(i)
        if r is None:
            removed_after[anchor].append(i)
        elif r.relation != "moved":
            anchor = r.news[0]

    def removed(at: int) -> list[Row]:
        return [Row("removed", [i], [], [("delete", old[i].text)]) for i in removed_after[at]]

    rows = removed(-1)
    for j, t in enumerate(new):
        r = rows_at.get(j)
        if r is not None:
            rows.append(r)
        elif j not in grouped:
            rows.append(Row("added", [], [j], [("insert", t.text)]))
        rows += removed(j)
    return rows


def tally(rows: Iterable[Row]) -> dict[str, int]:
    """Counts of a comparison's rows by COUNTED relation: a group counts one split per
    old paragraph that became several and one merge per new paragraph made of several."""
    counts = dict.fromkeys(COUNTED, 0)
    for r in rows:
        if r.relation in ("split", "merged", "split_merged"):
            succs, preds = defaultdict(int), defaultdict(int)
            for i, j in r.pairs:
                succs[i] += 1
                preds[j] += 1
            counts["split"] += sum(1 for n in succs.values() if n > 1)
            counts["merged"] += sum(1 for n in preds.values() if n > 1)
        else:
            counts[r.relation] += 1
    return counts
