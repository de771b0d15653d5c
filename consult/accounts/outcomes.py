"""What became of an organisation's comments: for its profile, its "Our input" page and
the API. A read-side module: it reads the consultation and tracing parts (above
accounts) and is imported only by routes and the API, never by a domain service.

Everything is loaded in a fixed number of queries, whatever the number of comments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts.models import Organisation
from consult.consultation.models import Comment, CoSignature, Response
from consult.documents.models import Document, LineageLink, Paragraph, ResponseEffect, Version
from consult.documents.services import accepting_comments
from consult.extensions import db
from consult.tracing.stored import UPTAKE_LABELS, flag_label, latest_uptake, text_loads
from consult.tracing.uptake import label_disagreement, uptake

STATUS_LABELS = {
    "open": "Consultation open",
    "waiting": "Waiting for the committee's answer",
    "answered": "Answered",
    "withdrawn": "Withdrawn",
    "hidden": "Hidden by the moderators",
}


@dataclass
class Outcome:
    comment: Comment
    status: str
    response: Response | None
    #: The measured uptake of a suggestion in the next version (stored, or measured here).
    uptake_score: float | None = None
    uptake_label: str | None = None
    #: A public flag when the decision and the measured uptake disagree.
    flag: str | None = None
    #: The next public version, when there is one, and where the paragraph went in it
    #: (empty when it was removed).
    next_version: Version | None = None
    successors: list[Paragraph] = field(default_factory=list)
    #: Paragraphs where the committee took up the suggested wording.
    effects: list[Paragraph] = field(default_factory=list)
    #: "own" for the organisation's comments, "cosigned" for those it supports.
    role: str = "own"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def uptake_text(self) -> str | None:
        if self.uptake_label is None:
            return None
        return f"{UPTAKE_LABELS[self.uptake_label]} ({round(self.uptake_score * 100)} %)"

    @property
    def flag_label(self) -> str | None:
        return flag_label(self.flag, self.response.decision if self.response else None)


def _status(c: Comment) -> str:
    if c.withdrawn:
        return "withdrawn"
    if c.is_hidden:
        return "hidden"
    if c.response is not None:
        return "answered"
    if accepting_comments(c.version):
        return "open"
    return "waiting"


def outcomes(
    org: Organisation, *, visible: Callable[[Version], bool], include_cosigned: bool = True
) -> list[Outcome]:
    """Every comment of the organisation (and those it co-signed) with its outcome,
    newest first, on versions `visible` says the reader may see."""
    loads = (
        selectinload(Comment.version)
        .selectinload(Version.document)
        .selectinload(Document.versions),
        selectinload(Comment.paragraph),
        selectinload(Comment.organisation),
        selectinload(Comment.responses).selectinload(Response.responder),
        *text_loads(),  # for the status and the text as it stands
    )
    own = list(
        db.session.scalars(select(Comment).where(Comment.organisation_id == org.id).options(*loads))
    )
    cosigned = []
    if include_cosigned:
        cosigned = list(
            db.session.scalars(
                select(Comment)
                .join(CoSignature, CoSignature.comment_id == Comment.id)
                .where(CoSignature.organisation_id == org.id, Comment.organisation_id != org.id)
                .options(*loads)
            )
        )
    pairs = [(c, "own") for c in own] + [(c, "cosigned") for c in cosigned]
    pairs = [(c, role) for c, role in pairs if visible(c.version)]
    pairs.sort(key=lambda p: (p[0].created_at, p[0].id), reverse=True)
    comments = [c for c, _ in pairs]

    para_ids = [c.paragraph_id for c in comments if c.paragraph_id is not None]
    successors: dict[int, list[Paragraph]] = defaultdict(list)
    if para_ids:
        rows = db.session.execute(
            select(LineageLink.predecessor_id, Paragraph)
            .join(Paragraph, Paragraph.id == LineageLink.paragraph_id)
            .where(LineageLink.predecessor_id.in_(para_ids))
            .options(selectinload(Paragraph.version))
            .order_by(Paragraph.position)
        )
        for pred_id, p in rows:
            successors[pred_id].append(p)
    response_ids = [c.response.id for c in comments if c.response is not None]
    effects: dict[int, list[Paragraph]] = defaultdict(list)
    if response_ids:
        rows = db.session.execute(
            select(ResponseEffect.response_id, Paragraph)
            .join(Paragraph, Paragraph.id == ResponseEffect.paragraph_id)
            .where(ResponseEffect.response_id.in_(response_ids))
            .options(selectinload(Paragraph.version))
        )
        for rid, p in rows:
            if visible(p.version):
                effects[rid].append(p)
    stored = {
        cid: (u.score, u.label)
        for cid, u in latest_uptake(c.id for c in comments if c.kind == "suggestion").items()
    }

    out = []
    for c, role in pairs:
        r = c.response
        nxt = next(
            (
                v
                for v in c.version.document.versions
                if v.number == c.version.number + 1 and visible(v)
            ),
            None,
        )
        succ = [p for p in successors.get(c.paragraph_id, []) if visible(p.version)]
        o = Outcome(
            comment=c,
            status=_status(c),
            response=r,
            next_version=nxt,
            successors=succ,
            effects=effects.get(r.id, []) if r is not None else [],
            role=role,
        )
        measured = stored.get(c.id) or _measure(c, nxt, succ)
        if measured is not None:
            o.uptake_score, o.uptake_label = measured
            if r is not None:
                o.flag = label_disagreement(r.decision, o.uptake_label)
        out.append(o)
    return out


def _measure(c: Comment, nxt: Version | None, succ: list[Paragraph]) -> tuple[float, str] | None:
    """Measure a suggestion's uptake here when nothing is stored (a later version the
    tracing part has not measured yet)."""
    t = c.current
    if c.kind != "suggestion" or c.paragraph is None or nxt is None or t.suggested_text is None:
        return None
    try:
        up = uptake(
            c.paragraph.text,
            t.suggested_text,
            [p.text for p in succ],
            quote=t.quote,
            quote_start=t.quote_start,
        )
    except ValueError:
        return None
    return up.score, up.label
