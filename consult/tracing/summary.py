"""The generated change summary of a version: what happened to the paragraphs of
the version before it, how many of its comments were answered, and how many
suggestions were taken up into this version.

`count_changes` is the one place that counts what happened to the paragraphs between
two versions: the lineage review, the comparison (page, API, exports) and the change
summary all ask it, so they give the same numbers. For neighbouring versions it counts
in SQL, from the stored lineage links, with tracing.compare.classify deciding
unchanged, formatting and edited; for versions further apart it counts the rows of
the comparison with tracing.compare.tally, which follows the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import ngettext
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from consult.documents.models import LineageLink, Paragraph, Version
from consult.extensions import db
from consult.tracing.compare import COUNTED, classify, tally


@dataclass(frozen=True)
class ChangeSummary:
    """Counts for a version against the one before it.

    Paragraphs of this version: unchanged, formatting (the same words, other Markdown:
    a link's address, emphasis), edited, moved, added, merged (one paragraph made of
    several). Paragraphs of the version before: removed, split (one paragraph
    that became several). Comments on the version before: comments, answered;
    suggestions among them, taken_up (their answer took effect in this version through
    the drafting tools, or their wording is measured in its text) and partly (measured
    as partly taken up, and not taken up by the tools).
    """

    previous: int | None
    unchanged: int = 0
    formatting: int = 0
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
        return any(getattr(self, name) for name in COUNTED if name != "unchanged")

    def phrases(self) -> list[str]:
        """Short phrases for the page ("3 paragraphs edited"), leaving out zeros, in the
        page's language."""
        out = [
            _PARAGRAPHS[name](n)
            for name in ("edited", "formatting", "added", "removed", "moved", "split", "merged")
            if (n := getattr(self, name))
        ]
        if self.comments:
            out.append(
                ngettext(
                    "%(answered)s of %(num)d comment answered",
                    "%(answered)s of %(num)d comments answered",
                    self.comments,
                    answered=self.answered,
                )
            )
        if self.suggestions:
            args = {"taken": self.taken_up, "partly": self.partly}
            if self.partly:
                out.append(
                    ngettext(
                        "%(taken)s of %(num)d suggestion taken up (%(partly)s more partly)",
                        "%(taken)s of %(num)d suggestions taken up (%(partly)s more partly)",
                        self.suggestions,
                        **args,
                    )
                )
            else:
                out.append(
                    ngettext(
                        "%(taken)s of %(num)d suggestion taken up",
                        "%(taken)s of %(num)d suggestions taken up",
                        self.suggestions,
                        **args,
                    )
                )
        return out


#: The change summary's phrases, one message (singular, plural) per kind of change.
_PARAGRAPHS = {
    "edited": lambda n: ngettext("%(num)d paragraph edited", "%(num)d paragraphs edited", n),
    "formatting": lambda n: ngettext(
        "%(num)d paragraph changed in formatting only",
        "%(num)d paragraphs changed in formatting only",
        n,
    ),
    "added": lambda n: ngettext("%(num)d paragraph added", "%(num)d paragraphs added", n),
    "removed": lambda n: ngettext("%(num)d paragraph removed", "%(num)d paragraphs removed", n),
    "moved": lambda n: ngettext("%(num)d paragraph moved", "%(num)d paragraphs moved", n),
    "split": lambda n: ngettext("%(num)d paragraph split", "%(num)d paragraphs split", n),
    "merged": lambda n: ngettext("%(num)d paragraph merged", "%(num)d paragraphs merged", n),
}


def count_changes(a: Version, b: Version, rows: Sequence | None = None) -> dict[str, int]:
    """How many paragraphs are unchanged, formatting, edited, moved, split, merged,
    added and removed from version `a` to version `b` (COUNTED).

    From a version to the next: four aggregate queries over the stored links, whatever
    the size of the texts. Otherwise the rows of the comparison are counted: `rows`
    when the caller has them (services.compare_versions), else they are built."""
    if b.document_id == a.document_id and b.number == a.number + 1:
        return _link_counts(a, b)
    if rows is None:
        from consult.tracing.services import compare_versions

        rows = compare_versions(a, b)
    return tally(rows)


def _link_counts(a: Version, b: Version) -> dict[str, int]:
    """count_changes for a version `b` and the one before it, `a`, in two queries."""
    lk, other, twin = LineageLink, aliased(LineageLink), aliased(LineageLink)
    old, new = aliased(Paragraph), aliased(Paragraph)
    pair = and_(lk.version_id == b.id, lk.predecessor_id.is_not(None), lk.paragraph_id.is_not(None))
    # One old paragraph that became one new one: neither has another partner.
    alone = and_(
        ~exists().where(
            other.version_id == b.id,
            other.paragraph_id == lk.paragraph_id,
            other.predecessor_id.is_not(None),
            other.predecessor_id != lk.predecessor_id,
        ),
        ~exists().where(
            twin.version_id == b.id,
            twin.predecessor_id == lk.predecessor_id,
            twin.paragraph_id.is_not(None),
            twin.paragraph_id != lk.paragraph_id,
        ),
    )
    same_source, same_text = old.source == new.source, old.text == new.text
    counts = dict.fromkeys(COUNTED, 0)
    for relation, source, text, n in db.session.execute(
        select(lk.relation, same_source, same_text, func.count(func.distinct(lk.paragraph_id)))
        .join(new, new.id == lk.paragraph_id)
        .join(old, old.id == lk.predecessor_id)
        .where(pair, alone)
        .group_by(lk.relation, same_source, same_text)
    ):
        counts[classify(relation, bool(source), bool(text))] += n

    def several(side, partner):
        return (
            select(func.count())
            .select_from(
                select(side)
                .where(pair)
                .group_by(side)
                .having(func.count(func.distinct(partner)) > 1)
                .subquery()
            )
            .scalar_subquery()
        )

    def unlinked(version: Version, side, partner):
        return (
            select(func.count(Paragraph.id))
            .where(
                Paragraph.version_id == version.id,
                ~exists().where(lk.version_id == b.id, side == Paragraph.id, partner.is_not(None)),
            )
            .scalar_subquery()
        )

    split, merged, added, removed = db.session.execute(
        select(
            several(lk.predecessor_id, lk.paragraph_id),
            several(lk.paragraph_id, lk.predecessor_id),
            unlinked(b, lk.paragraph_id, lk.predecessor_id),
            unlinked(a, lk.predecessor_id, lk.paragraph_id),
        )
    ).one()
    counts.update(split=split, merged=merged, added=added, removed=removed)
    return counts


def change_summary(version: Version) -> ChangeSummary:
    """The change summary of a version against the one before it: count_changes, and
    the comments on the version before counted in one aggregate query."""
    from consult.consultation.models import Comment, Response
    from consult.documents.models import ResponseEffect
    from consult.tracing.models import StoredUptake

    before = version.neighbour(-1)
    if before is None:
        added = db.session.scalar(
            select(func.count(Paragraph.id)).where(Paragraph.version_id == version.id)
        )
        return ChangeSummary(previous=None, added=added)
    from consult.tracing import counters

    # The comments on the version before, counted as they arrived (tracing.counters):
    # every comment (withdrawn ones too), answered, suggestions, and their uptake label.
    total = n_answered = suggestions = taken_up = partly = 0
    for _v, kind, decision, label, _withdrawn, n in counters.facts([before.id]):
        total += n
        n_answered += n if decision is not None else 0
        if kind == "suggestion":
            suggestions += n
            taken_up += n if label == "taken_up" else 0
            partly += n if label == "partly" else 0
    # A suggestion whose answer took effect in this version counts as taken up whatever
    # its measure: those few (joined from the effects, not from the comments) move from
    # partly or not measured to taken up.
    taken = (
        select(Response.comment_id)
        .join(ResponseEffect, ResponseEffect.response_id == Response.id)
        .where(ResponseEffect.version_id == version.id)
        .distinct()
        .subquery()
    )
    for label, n in db.session.execute(
        select(StoredUptake.label, func.count())
        .select_from(taken)
        .join(Comment, Comment.id == taken.c.comment_id)
        .outerjoin(
            StoredUptake,
            and_(StoredUptake.comment_id == Comment.id, StoredUptake.version_id == version.id),
        )
        .where(Comment.version_id == before.id, Comment.kind == "suggestion")
        .group_by(StoredUptake.label)
    ):
        if label != "taken_up":
            taken_up += n
        if label == "partly":
            partly -= n
    return ChangeSummary(
        previous=before.number,
        **count_changes(before, version),
        comments=total,
        answered=n_answered,
        suggestions=suggestions,
        taken_up=taken_up,
        partly=partly,
    )
