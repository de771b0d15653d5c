"""The generated change summary of a version: what happened to the paragraphs of
the version before it, how many of its comments were answered, and how many
suggestions were taken up into this version.

`summarise` is a pure function on plain data; `change_summary` gathers that data
for a version in a few queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, select

from consult.extensions import db

RELATIONS = ("unchanged", "edited", "moved", "split", "merged", "added", "removed")


@dataclass(frozen=True)
class LinkFact:
    """One lineage link of the version: (paragraph of this version, paragraph of the
    version before, relation); None on the missing side of added and removed."""

    paragraph_id: int | None
    predecessor_id: int | None
    relation: str


@dataclass(frozen=True)
class CommentFact:
    """One comment on the version before: its kind, whether the committee answered it,
    and whether an answer of it took effect in a paragraph of this version."""

    kind: str
    answered: bool
    taken_up: bool
    #: The uptake label measured in this version's text (taken_up, partly,
    #: not_taken_up), or None when it was not measured (not a suggestion, or a draft).
    measured: str | None = None


@dataclass(frozen=True)
class ChangeSummary:
    """Counts for a version against the one before it.

    Paragraphs of this version: unchanged, edited, moved, added, merged (one paragraph
    made of several). Paragraphs of the version before: removed, split (one paragraph
    that became several). Comments on the version before: comments, answered;
    suggestions among them, taken_up (their answer took effect in this version through
    the drafting tools, or their wording is measured in its text) and partly (measured
    as partly taken up, and not taken up by the tools).
    """

    previous: int | None
    unchanged: int = 0
    edited: int = 0
    moved: int = 0
    added: int = 0
    removed: int = 0
    split: int = 0
    merged: int = 0
    comments: int = 0
    answered: int = 0
    suggestions: int = 0
    taken_up: int = 0
    partly: int = 0

    @property
    def changed(self) -> bool:
        return any((self.edited, self.moved, self.added, self.removed, self.split, self.merged))

    def phrases(self) -> list[str]:
        """Short phrases for the page ("3 paragraphs edited"), leaving out zeros."""
        out = []
        for name in ("edited", "added", "removed", "moved", "split", "merged"):
            n = getattr(self, name)
            if n:
                out.append(f"{n} paragraph{'s' if n != 1 else ''} {name}")
        if self.comments:
            out.append(f"{self.answered} of {self.comments} comments answered")
        if self.suggestions:
            partly = f" ({self.partly} more partly)" if self.partly else ""
            out.append(f"{self.taken_up} of {self.suggestions} suggestions taken up{partly}")
        return out


def summarise(
    previous: int | None, links: Iterable[LinkFact], comments: Iterable[CommentFact]
) -> ChangeSummary:
    """Count links and comments into a ChangeSummary.

    A split counts once per paragraph split (however many pieces), a merge once per
    merged paragraph (however many parts); every other relation once per link.
    """
    counts = dict.fromkeys(RELATIONS, 0)
    split_from: set[int | None] = set()
    merged_into: set[int | None] = set()
    for lk in links:
        if lk.relation == "split":
            split_from.add(lk.predecessor_id)
        elif lk.relation == "merged":
            merged_into.add(lk.paragraph_id)
        else:
            counts[lk.relation] += 1
    counts["split"], counts["merged"] = len(split_from), len(merged_into)
    total = answered = suggestions = taken_up = partly = 0
    for c in comments:
        total += 1
        answered += c.answered
        if c.kind == "suggestion":
            suggestions += 1
            if c.taken_up or c.measured == "taken_up":
                taken_up += 1
            elif c.measured == "partly":
                partly += 1
    return ChangeSummary(
        previous=previous,
        **counts,
        comments=total,
        answered=answered,
        suggestions=suggestions,
        taken_up=taken_up,
        partly=partly,
    )


def change_summary(version) -> ChangeSummary:
    """The change summary of a version against the one before it (three queries)."""
    from consult.consultation.models import Comment, Response
    from consult.documents.models import LineageLink, ResponseEffect
    from consult.tracing.models import StoredUptake

    before = version.neighbour(-1)
    if before is None:
        return ChangeSummary(previous=None, added=len(version.paragraphs))
    previous = before.id
    links = [
        LinkFact(*row)
        for row in db.session.execute(
            select(
                LineageLink.paragraph_id, LineageLink.predecessor_id, LineageLink.relation
            ).where(LineageLink.version_id == version.id)
        )
    ]
    answered = exists().where(Response.comment_id == Comment.id)
    taken = exists().where(
        Response.comment_id == Comment.id,
        ResponseEffect.response_id == Response.id,
        ResponseEffect.version_id == version.id,
    )
    measured = (
        select(StoredUptake.label)
        .where(StoredUptake.comment_id == Comment.id, StoredUptake.version_id == version.id)
        .order_by(StoredUptake.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    comments = [
        CommentFact(kind, bool(a), bool(t), m)
        for kind, a, t, m in db.session.execute(
            select(Comment.kind, answered, taken, measured).where(Comment.version_id == previous)
        )
    ]
    return summarise(version.number - 1, links, comments)
