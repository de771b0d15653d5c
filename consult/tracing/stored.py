"""Measured uptake, stored: when a version is published, the uptake of every suggestion
made on the version before it is measured against the new text and kept, with the
sha256 of the inputs, so that pages and the API read it in one query and anyone can
check what it was computed from.

The measure is uptake.uptake (a pure function); this module gathers its inputs from
the lineage links and stores the result. The flag (a decision that disagrees with
the measure) is not stored: the committee may answer again, so it is worked out
when read, from the current decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult import signals
from consult.consultation.models import Comment
from consult.documents.models import LineageLink, Paragraph, Version
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.timeutil import utcnow
from consult.tracing.models import StoredUptake
from consult.tracing.uptake import label_disagreement, uptake

FLAG_LABELS = {
    "accepted_not_in_text": "Accepted, but the asked-for change is not in the text",
    "taken_up_without_credit": "Not accepted, yet the wording appears in the text",
}
UPTAKE_LABELS = {
    "taken_up": "Taken up",
    "partly": "Partly taken up",
    "not_taken_up": "Not taken up",
}


@dataclass(frozen=True)
class Inputs:
    """What the measure of one suggestion is computed from."""

    original: list[str]  # the commented paragraph, or every paragraph merged with it
    part: int | None  # the commented paragraph's index in `original` when merged
    suggested: str
    quote: str | None
    quote_start: int | None
    successor: list[str]  # the successor paragraph(s); [] when it was removed
    relation: str

    def digest(self) -> str:
        return sha256(
            canonical(
                {
                    "original": self.original,
                    "part": self.part,
                    "suggested": self.suggested,
                    "quote": self.quote,
                    "quote_start": self.quote_start,
                    "successor": self.successor,
                }
            )
        )


def text_loads() -> tuple:
    """Loader options for what `Comment.current`, the withdrawn and the hidden checks read
    (edits, withdrawals, moderation), so that many comments cost three queries, not three
    each."""
    return (
        selectinload(Comment.revisions),
        selectinload(Comment.withdrawal),
        selectinload(Comment.moderation),
    )


def gather_inputs(version: Version) -> list[tuple[Comment, Inputs]]:
    """The inputs of every paragraph suggestion on the version before `version`
    (three queries, whatever the number of suggestions)."""
    previous = version.neighbour(-1)
    if previous is None:
        return []
    comments = [
        c
        for c in db.session.scalars(
            select(Comment)
            .where(
                Comment.version_id == previous.id,
                Comment.kind == "suggestion",
                Comment.paragraph_id.is_not(None),
            )
            .options(*text_loads())
            .order_by(Comment.id)
        )
        if not c.withdrawn and c.current.suggested_text
    ]
    if not comments:
        return []
    links = db.session.execute(
        select(LineageLink.paragraph_id, LineageLink.predecessor_id, LineageLink.relation).where(
            LineageLink.version_id == version.id
        )
    ).all()
    texts = dict(
        db.session.execute(
            select(Paragraph.id, Paragraph.text).where(
                Paragraph.version_id.in_([version.id, previous.id])
            )
        ).all()
    )
    positions = dict(
        db.session.execute(
            select(Paragraph.id, Paragraph.position).where(Paragraph.version_id == version.id)
        ).all()
    )
    successors: dict[int, list[tuple[int, str]]] = defaultdict(list)  # old id → (new id, rel)
    predecessors: dict[int, list[int]] = defaultdict(list)  # new id → old ids
    for new, old, relation in links:
        if old is None:
            continue
        if new is None:
            successors.setdefault(old, [])
            continue
        successors[old].append((new, relation))
        predecessors[new].append(old)
    out = []
    for c in comments:
        t = c.current
        found = sorted(successors.get(c.paragraph_id, []), key=lambda s: positions[s[0]])
        original, part = [texts[c.paragraph_id]], None
        if not found:
            relation, successor = "removed", []
        elif len(found) > 1:
            relation, successor = "split", [texts[n] for n, _ in found]
        else:
            new, relation = found[0]
            successor = [texts[new]]
            olds = sorted(predecessors[new])
            if len(olds) > 1:
                relation = "merged"
                original = [texts[o] for o in olds]
                part = olds.index(c.paragraph_id)
        out.append(
            (
                c,
                Inputs(
                    original=original,
                    part=part,
                    suggested=t.suggested_text,
                    quote=t.quote,
                    quote_start=t.quote_start,
                    successor=successor,
                    relation=relation,
                ),
            )
        )
    return out


def measure(inputs: Inputs):
    """The pure measure for stored inputs."""
    original = inputs.original[0] if len(inputs.original) == 1 else inputs.original
    try:
        return uptake(
            original,
            inputs.suggested,
            inputs.successor,
            quote=inputs.quote,
            quote_start=inputs.quote_start,
            part=inputs.part,
        )
    except ValueError:
        # The quote is no longer found (the paragraph text was the same, so this
        # only happens for hand-made data): measure the wording against the paragraph.
        return uptake(original, inputs.suggested, inputs.successor, part=inputs.part)


def store_uptake(version: Version) -> int:
    """Measure and store the uptake of the suggestions made on the version before
    `version` against it; rows whose inputs did not change are kept. Flushes; returns
    the number of rows written."""
    gathered = gather_inputs(version)
    if not gathered:
        return 0
    existing = {
        u.comment_id: u
        for u in db.session.scalars(
            select(StoredUptake).where(StoredUptake.version_id == version.id)
        )
    }
    written = 0
    now = utcnow()
    for c, inputs in gathered:
        digest = inputs.digest()
        row = existing.get(c.id)
        if row is not None and row.inputs_hash == digest:
            continue
        up = measure(inputs)
        if row is None:
            row = StoredUptake(comment_id=c.id, version_id=version.id)
            db.session.add(row)
        row.score = up.score
        row.label = up.label
        row.verbatim = up.verbatim
        row.inputs_hash = digest
        row.relation = inputs.relation
        row.computed_at = now
        written += 1
    db.session.flush()
    return written


def _on_published(sender, subject=None, actor=None, data=None) -> None:
    store_uptake(subject)


def connect() -> None:
    signals.version_published.connect(_on_published, weak=False)


# --- reading ----------------------------------------------------------------------------


def latest_uptake(comment_ids: Iterable[int]) -> dict[int, StoredUptake]:
    """The stored uptake of each comment (against the nearest later version), one query."""
    ids = list(comment_ids)
    if not ids:
        return {}
    out: dict[int, StoredUptake] = {}
    rows = db.session.execute(
        select(StoredUptake, Version.number)
        .join(Version, Version.id == StoredUptake.version_id)
        .where(StoredUptake.comment_id.in_(ids))
        .order_by(Version.number.desc())
    ).all()
    for row, _ in rows:
        out[row.comment_id] = row  # the lowest version number wins (rows come high to low)
    return out


def flag_for(c: Comment, stored: StoredUptake | None) -> str | None:
    """The public flag when the current decision disagrees with the measured uptake."""
    if stored is None or c.response is None:
        return None
    return label_disagreement(c.response.decision, stored.label)


def uptake_json(c: Comment) -> tuple[dict | None, str | None]:
    """("uptake" object or None, flag or None) for the API."""
    stored = latest_uptake([c.id]).get(c.id)
    if stored is None:
        return None, None
    return (
        {"score": stored.score, "label": stored.label, "version": stored.version.number},
        flag_for(c, stored),
    )


def api_fields(c: Comment) -> dict:
    """The tracing fields of a comment in API v1: "uptake" (null until a later version
    is published), "flag" (null unless the decision disagrees with the measure) and
    "feedback" (the organisation's reply to the current answer, or null)."""
    from consult.tracing.models import ResponseFeedback

    up, flag = uptake_json(c)
    fb = None
    if c.response is not None:
        fb = db.session.scalar(
            select(ResponseFeedback).where(ResponseFeedback.response_id == c.response.id)
        )
    return {
        "uptake": up,
        "flag": flag,
        "feedback": (
            {"satisfied": fb.satisfied, "note": fb.note, "created_at": fb.created_at.isoformat()}
            if fb is not None
            else None
        ),
    }
