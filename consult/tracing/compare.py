"""Comparing any two versions of a document, paragraph by paragraph, by lineage.

Because every paragraph carries its lineage, any two versions (not only
neighbours) can be compared: same lineage → unchanged, edited or moved;
lineage only in the newer → added; only in the older → removed.

Pure function on plain data.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from consult.tracing.diff import word_diff


@dataclass
class Row:
    relation: str  # unchanged, edited, moved, added, removed
    old: int | None  # index in the older version's paragraphs
    new: int | None  # index in the newer version's paragraphs
    diff: list[tuple[str, str]] = field(default_factory=list)


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


def compare(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[Row]:
    """Rows for (lineage, text) lists of two versions, in the newer version's order,
    with removed paragraphs placed after their old neighbour."""
    new_at = {lin: j for j, (lin, _) in enumerate(new)}
    pairs = [(i, new_at[lin]) for i, (lin, _) in enumerate(old) if lin in new_at]
    keep = longest_increasing([new for _, new in pairs])  # the rest moved
    moved_old = {pairs[k][0] for k in range(len(pairs)) if k not in keep}
    old_at = {lin: i for i, (lin, _) in enumerate(old)}
    rows: list[Row] = []
    removed_after: dict[int, list[int]] = {}
    matched_old = set(old_at[lin] for lin, _ in new if lin in old_at)
    # Removed paragraphs follow the new position of the nearest earlier kept paragraph.
    anchor = -1
    for i, (lin, _) in enumerate(old):
        if i in matched_old:
            if i not in moved_old:
                anchor = new_at[lin]
        else:
            removed_after.setdefault(anchor, []).append(i)
    rows += [Row("removed", i, None, [("delete", old[i][1])]) for i in removed_after.get(-1, [])]
    for j, (lin, text) in enumerate(new):
        i = old_at.get(lin)
        if i is None:
            rows.append(Row("added", None, j, [("insert", text)]))
        else:
            before = old[i][1]
            diff = word_diff(before, text)
            relation = "moved" if i in moved_old else "unchanged" if before == text else "edited"
            rows.append(Row(relation, i, j, diff))
        rows += [Row("removed", k, None, [("delete", old[k][1])]) for k in removed_after.get(j, [])]
    return rows


def summary(rows: list[Row]) -> dict[str, int]:
    counts = {k: 0 for k in ("unchanged", "edited", "moved", "added", "removed")}
    for r in rows:
        counts[r.relation] += 1
    return counts
