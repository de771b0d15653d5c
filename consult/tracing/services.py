"""Tracing services over the database: comparing versions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from consult.documents.models import LineageLink, Paragraph, Version
from consult.extensions import db
from consult.tracing.compare import LABELS, Row, Text, compare, compose


@dataclass
class ComparedParagraph:
    """One row of a comparison: a paragraph, or a group of paragraphs joined by a split
    or a merge, with the word diff of the whole group. `old` and `new` are the first
    paragraph of each side (None on the missing side of added and removed)."""

    relation: str
    olds: list[Paragraph]
    news: list[Paragraph]
    diff: list[tuple[str, str]]
    #: The links that join a group, as (old, new) indexes in the two versions' paragraphs
    #: (what compare.tally counts splits and merges by).
    pairs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def old(self) -> Paragraph | None:
        return self.olds[0] if self.olds else None

    @property
    def new(self) -> Paragraph | None:
        return self.news[0] if self.news else None

    @property
    def label(self) -> str:
        return LABELS[self.relation]

    @property
    def group(self) -> bool:
        """Several paragraphs on one side or the other (a split or a merge)."""
        return len(self.olds) > 1 or len(self.news) > 1

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [*self.olds, *self.news]


#: A comparison's row, by the name the pages use for a group of paragraphs.
ComparedGroup = ComparedParagraph


def compare_versions(a: Version, b: Version) -> list[ComparedParagraph]:
    """Rows comparing version `a` with version `b` of one document, built from the
    stored lineage links (composed across the versions between them); three queries:
    each version's paragraphs and the links of the versions after `a` up to `b`."""
    old, new = list(a.paragraphs), list(b.paragraphs)
    rows: list[Row] = compare(
        [Text(p.text, p.source) for p in old],
        [Text(p.text, p.source) for p in new],
        *_links(a, b, old, new),
    )
    return [
        ComparedParagraph(
            r.relation, [old[i] for i in r.olds], [new[j] for j in r.news], r.diff, r.pairs
        )
        for r in rows
    ]


def _links(a: Version, b: Version, old: list[Paragraph], new: list[Paragraph]):
    """(old index, new index) pairs from a to b, and for neighbouring versions which of
    them the stored links call moved (else None: the comparison finds the moves)."""
    lo, hi = sorted((a.number, b.number))
    links = db.session.execute(
        select(
            Version.number,
            LineageLink.predecessor_id,
            LineageLink.paragraph_id,
            LineageLink.relation,
        )
        .join(Version, Version.id == LineageLink.version_id)
        .where(
            Version.document_id == a.document_id,
            Version.number > lo,
            Version.number <= hi,
            LineageLink.predecessor_id.is_not(None),
            LineageLink.paragraph_id.is_not(None),
        )
    ).all()
    steps: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for number, before, after in (row[:3] for row in links):
        steps[number].append((before, after))
    first = old if a.number <= b.number else new
    reached = compose([steps[n] for n in range(lo + 1, hi + 1)], [p.id for p in first])
    if a.number > b.number:
        reached = {(j, i) for i, j in reached}
    old_at = {p.id: i for i, p in enumerate(old)}
    new_at = {p.id: j for j, p in enumerate(new)}
    pairs = {(old_at[i], new_at[j]) for i, j in reached if i in old_at and j in new_at}
    moved = None
    if b.number == a.number + 1:
        moved = {
            (old_at[before], new_at[after]): relation == "moved"
            for _, before, after, relation in links
            if before in old_at and after in new_at
        }
    return pairs, moved
