"""What the public tracing pages show, gathered in a bounded number of queries:
a paragraph's history across versions, the annotated comparison, the provenance of
a version's text, the consultation report and an organisation's account.

Routes call one function here and render; templates do no queries.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, selectinload

from consult.accounts.models import ORG_KINDS, Organisation
from consult.consultation.listing import PARAGRAPH_PAGE, Page
from consult.consultation.models import (
    DECISIONS,
    Comment,
    CommentWithdrawal,
    CoSignature,
    CoSignatureWithdrawal,
    Response,
)
from consult.consultation.wording import plain_wording
from consult.documents.models import Document, LineageLink, Paragraph, ResponseEffect, Version
from consult.extensions import db
from consult.i18n import N_, country_name
from consult.paging import page_count
from consult.record.models import Event
from consult.timeutil import utcnow
from consult.tracing import counters, kept
from consult.tracing.compare import JOIN, classify
from consult.tracing.compare_cache import compare_versions
from consult.tracing.diff import word_diff
from consult.tracing.grouping import feedback_for, groups_of
from consult.tracing.guard import override_for
from consult.tracing.models import KeptProvenance, ResponseFeedback, StoredUptake
from consult.tracing.provenance import PHRASES, Contribution, Span, provenance
from consult.tracing.services import ComparedParagraph
from consult.tracing.stored import (
    MEASURE_VERSION,
    being_measured,
    flag_for,
    latest_uptake,
    text_loads,
)
from consult.tracing.suggested import kept_diff, stored_diff
from consult.tracing.uptake import asked_insertions, label_disagreement

COMMENT_LOADS = (
    selectinload(Comment.organisation),
    selectinload(Comment.responses).selectinload(Response.responder),
    selectinload(Comment.cosignatures).selectinload(CoSignature.organisation),
    *text_loads(),
)


@dataclass
class Outcome:
    """A comment with what became of it: the current answer, the measured uptake and
    the flag, the group it was answered in, and the organisation's reply."""

    comment: Comment
    uptake: StoredUptake | None = None
    flag: str | None = None
    group_id: int | None = None
    group_size: int = 0
    feedback: ResponseFeedback | None = None
    proposed: list[tuple[str, str]] | None = None  # the suggestion as a word diff

    @property
    def response(self) -> Response | None:
        return self.comment.response

    @property
    def withdrawn(self) -> bool:
        return self.comment.withdrawn


def proposed_diff(c: Comment) -> list[tuple[str, str]] | None:
    """The suggestion as it stands as a word diff against its paragraph: stored when its
    text was written (computed here only for rows written before that)."""
    if c.paragraph_id is None or not c.current.suggested_text:
        return None
    t = c.current
    return stored_diff(t, None if t.suggested_diff else c.paragraph.text)


def outcomes(comments: Sequence[Comment], *, diffs: bool = False) -> list[Outcome]:
    """Outcomes for comments already loaded (three queries for all of them)."""
    from consult.consultation.redaction import preload

    preload(comments)  # their public text (personal data masked): one query for all
    ups = latest_uptake(c.id for c in comments)
    response_ids = [c.response.id for c in comments if c.response is not None]
    groups = groups_of(response_ids)
    feedback = feedback_for(response_ids)
    out = []
    for c in comments:
        r = c.response
        g = groups.get(r.id) if r is not None else None
        up = ups.get(c.id)
        out.append(
            Outcome(
                comment=c,
                uptake=up,
                flag=flag_for(c, up),
                group_id=g.id if g else None,
                group_size=len(g.members) if g else 0,
                feedback=feedback.get(r.id) if r is not None else None,
                proposed=proposed_diff(c) if diffs else None,
            )
        )
    return out


def comment_outcome(c: Comment) -> Outcome:
    return outcomes([c])[0]


# --- paragraph history ---------------------------------------------------------------------


@dataclass
class Step:
    paragraph: Paragraph
    version: Version
    #: first, unchanged, formatting, edited, moved, split, merged, split_merged, returned
    relation: str
    diff: list[tuple[str, str]]  # of the whole group when the step is a split or merge
    asked: list[Outcome]  # comments on the paragraph before this step (those shown)
    taken_up: list[Outcome]  # suggestions the committee took into this paragraph
    asked_total: int = 0  # all comments on the paragraph before this step
    #: The paragraphs of the version before this paragraph comes from (more than one:
    #: merged from them; at the first step: the paragraph it was split from).
    came_from: list[Paragraph] = field(default_factory=list)
    #: The other pieces of the paragraph this one was split from, in this version.
    pieces: list[Paragraph] = field(default_factory=list)


@dataclass
class History:
    document: Document
    lineage: str
    steps: list[Step]
    pending: list[Outcome]  # comments on the latest paragraph (no later version yet)
    pending_total: int
    comment_count: int
    #: Where the lineage's last paragraph went in the next version when the lineage
    #: ends there: merged into (or split into) paragraphs of other lineages.
    went_to: list[Paragraph] = field(default_factory=list)
    #: The next version removed the lineage's last paragraph.
    removed_in: Version | None = None


#: Comments shown per step of a paragraph's history unless all are asked for: as many as
#: a page of the paragraph's comments.
STEP_COMMENTS = PARAGRAPH_PAGE


def first_comments(
    query: Select, key, limit: int | None, *options
) -> tuple[dict[Any, int], Sequence[Comment]]:
    """For a select of comments grouped by `key` (a column): how many each group has,
    and each group's first `limit` comments (all, when None), earliest first, read with
    COMMENT_LOADS; the comments past the limit are counted, never read."""
    totals = dict(
        db.session.execute(query.with_only_columns(key, func.count()).group_by(key)).all()
    )
    if limit is not None:
        place = query.with_only_columns(
            Comment.id,
            func.row_number()
            .over(partition_by=key, order_by=(Comment.created_at, Comment.id))
            .label("n"),
        ).subquery()
        query = query.join(place, place.c.id == Comment.id).where(place.c.n <= limit)
    comments = db.session.scalars(
        query.options(*COMMENT_LOADS, *options).order_by(Comment.created_at, Comment.id)
    ).all()
    return totals, comments


#: Subqueries joined in one UNION ALL (SQLite allows 500 terms in a compound select).
UNION_TERMS = 400


def first_per_paragraph(paragraph_ids: Sequence[int], limit: int, *options) -> list[Comment]:
    """The first `limit` comments (earliest first) of each paragraph, read with
    COMMENT_LOADS: each paragraph's taken from the (paragraph_id, created_at, id) index
    with its own LIMIT, so the cost follows the paragraphs and the limit, never the
    number of comments. One query for the ids (and the loads) per UNION_TERMS paragraphs,
    so at most UNION_TERMS * limit ids in a list."""
    out: list[Comment] = []
    pids = list(paragraph_ids)
    for start in range(0, len(pids), UNION_TERMS):
        chunk = pids[start : start + UNION_TERMS]
        # Written as text: the SQL is the same on both databases, and building hundreds
        # of subqueries as expressions cost more than running them.
        first = text(
            " UNION ALL ".join(
                f"SELECT id FROM (SELECT id FROM comment WHERE paragraph_id = :p{k} "  # noqa: S608 - only the place k is formatted, values are bound
                f"ORDER BY created_at, id LIMIT :limit) AS t{k}"
                for k in range(len(chunk))
            )
        ).bindparams(limit=limit, **{f"p{k}": pid for k, pid in enumerate(chunk)})
        ids = list(db.session.scalars(first))
        if ids:
            out.extend(
                db.session.scalars(
                    select(Comment).where(Comment.id.in_(ids)).options(*COMMENT_LOADS, *options)
                )
            )
    return sorted(out, key=lambda c: (c.created_at, c.id))


def lineage_history(
    doc: Document, lineage: str, visible: Iterable[Version], *, show_all: bool = False
) -> History | None:
    """The steps of a lineage. Without `show_all`, each step lists its first
    STEP_COMMENTS comments (the page says how many more there are)."""
    versions = {v.id: v for v in visible}
    paragraphs = [
        p
        for p in db.session.scalars(
            select(Paragraph)
            .join(Version)
            .where(Paragraph.lineage == lineage, Version.document_id == doc.id)
            .order_by(Version.number)
        )
        if p.version_id in versions
    ]
    if not paragraphs:
        return None
    ids = [p.id for p in paragraphs]
    if show_all:
        totals, shown = first_comments(
            select(Comment).where(Comment.paragraph_id.in_(ids)), Comment.paragraph_id, None
        )
    else:
        totals = dict(
            db.session.execute(
                select(Comment.paragraph_id, func.count(Comment.id))
                .where(Comment.paragraph_id.in_(ids))
                .group_by(Comment.paragraph_id)
            ).all()
        )
        shown = first_per_paragraph(ids, STEP_COMMENTS)
    by_paragraph: dict[int, list[Comment]] = defaultdict(list)
    for c in shown:
        by_paragraph[c.paragraph_id].append(c)
    effects = db.session.execute(
        select(ResponseEffect.paragraph_id, Response.comment_id)
        .join(Response, Response.id == ResponseEffect.response_id)
        .where(ResponseEffect.paragraph_id.in_(ids))
    ).all()
    # Comments whose wording a step took up, also those on other lineages or past the
    # first STEP_COMMENTS of their paragraph.
    extra_ids = {cid for _, cid in effects} - {c.id for c in shown}
    extra = (
        db.session.scalars(
            select(Comment).where(Comment.id.in_(extra_ids)).options(*COMMENT_LOADS)
        ).all()
        if extra_ids
        else []
    )
    all_outcomes = {o.comment.id: o for o in outcomes([*shown, *extra], diffs=True)}
    effects_at: dict[int, list[int]] = defaultdict(list)
    for pid, cid in effects:
        effects_at[pid].append(cid)
    family = _family(paragraphs, versions)
    steps = []
    prev: Paragraph | None = None
    for p in paragraphs:
        v = versions[p.version_id]
        came_from = family.preds.get(p.id, [])
        pieces = sorted(
            {
                q.id: q for o in came_from for q in family.succs.get(o.id, []) if q.id != p.id
            }.values(),
            key=lambda q: q.position,
        )
        group = [*came_from, *pieces]
        if prev is None and not came_from:
            relation, diff = "first", [("equal", p.text)]
        elif group and (len(came_from) > 1 or pieces):
            news = sorted([p, *pieces], key=lambda q: q.position)
            relation = (
                "split_merged"
                if len(came_from) > 1 and pieces
                else "merged"
                if len(came_from) > 1
                else "split"
            )
            diff = word_diff(JOIN.join(q.text for q in came_from), JOIN.join(q.text for q in news))
        elif prev is None:  # the first step of a lineage that continues no other
            relation, diff = "first", [("equal", p.text)]
        else:
            relation = classify(
                family.relation.get(p.id, "edited"), prev.source == p.source, prev.text == p.text
            )
            if versions[prev.version_id].number != v.number - 1:
                relation = "returned"
            diff = word_diff(prev.text, p.text)
        on_prev = by_paragraph.get(prev.id, []) if prev else []
        asked = [all_outcomes[c.id] for c in on_prev]
        asked_ids = {o.comment.id for o in asked}
        steps.append(
            Step(
                paragraph=p,
                version=v,
                relation=relation,
                diff=diff,
                asked=asked,
                asked_total=totals.get(prev.id, 0) if prev else 0,
                taken_up=[
                    all_outcomes[cid] for cid in effects_at.get(p.id, []) if cid not in asked_ids
                ],
                came_from=came_from
                if len(came_from) > 1 or prev is None or came_from[0].lineage != lineage
                else [],
                pieces=pieces,
            )
        )
        prev = p
    last = paragraphs[-1]
    on_last = by_paragraph.get(last.id, [])
    pending = [all_outcomes[c.id] for c in on_last]
    return History(
        doc,
        lineage,
        steps,
        pending,
        totals.get(last.id, 0),
        sum(totals.values()),
        went_to=[q for q in family.succs.get(last.id, []) if q.lineage != lineage],
        removed_in=family.removed_in.get(last.id),
    )


@dataclass
class _Family:
    """The links around a lineage's paragraphs: their predecessors, the successors of
    those and of the paragraphs themselves, each paragraph's stored relation, and the
    versions that removed a paragraph."""

    preds: dict[int, list[Paragraph]]
    succs: dict[int, list[Paragraph]]
    relation: dict[int, str]
    removed_in: dict[int, Version]


def _family(paragraphs: list[Paragraph], versions: dict[int, Version]) -> _Family:
    """Three queries, bounded by the lineage's versions and the size of its splits and
    merges; paragraphs of versions the reader may not see are left out."""
    ids = [p.id for p in paragraphs]
    into = db.session.execute(
        select(LineageLink.paragraph_id, LineageLink.predecessor_id, LineageLink.relation).where(
            LineageLink.paragraph_id.in_(ids), LineageLink.predecessor_id.is_not(None)
        )
    ).all()
    pred_ids = {old for _, old, _ in into}
    out = db.session.execute(
        select(LineageLink.predecessor_id, LineageLink.paragraph_id, LineageLink.version_id).where(
            LineageLink.predecessor_id.in_(set(ids) | pred_ids)
        )
    ).all()
    wanted = (pred_ids | {new for _, new, _ in out if new is not None}) - set(ids)
    known = {
        p.id: p
        for p in (
            db.session.scalars(select(Paragraph).where(Paragraph.id.in_(wanted))) if wanted else []
        )
        if p.version_id in versions
    }
    known.update({p.id: p for p in paragraphs})
    preds: dict[int, list[Paragraph]] = defaultdict(list)
    relation: dict[int, str] = {}
    for new, old, rel in into:
        relation.setdefault(new, rel)
        if old in known:
            preds[new].append(known[old])
    succs: dict[int, list[Paragraph]] = defaultdict(list)
    removed_in: dict[int, Version] = {}
    for old, new, version_id in out:
        if new is None:
            if version_id in versions:
                removed_in[old] = versions[version_id]
        elif new in known:
            succs[old].append(known[new])
    for d in (preds, succs):
        for k in d:
            d[k].sort(key=lambda q: q.position)
    return _Family(preds, succs, relation, removed_in)


# --- annotated comparison ------------------------------------------------------------------


@dataclass
class AnnotatedRow(ComparedParagraph):
    """A row of the comparison with the comments behind its change."""

    behind: list[Outcome] = field(default_factory=list)
    behind_total: int = 0  # all the comments behind the change (the first ROW_COMMENTS shown)

    @property
    def lineages(self) -> list[str]:
        """The lineages of the row's paragraphs, each once, old ones first."""
        return list(self.histories)

    @property
    def histories(self) -> dict[str, Paragraph]:
        """Each lineage of the row with its first paragraph in the row (for the links to
        the paragraphs' histories)."""
        out: dict[str, Paragraph] = {}
        for p in (*self.olds, *self.news):
            out.setdefault(p.lineage, p)
        return out


#: Comments listed under one changed paragraph of the annotated comparison; the rest are
#: on the paragraph's history page.
ROW_COMMENTS = 5
#: Rows (changed paragraphs, or groups of them) on one page of the annotated comparison:
#: a long text's comparison comes in pages, each light enough for a slow connection.
ROWS_PAGE = 15


@dataclass
class AnnotatedComparison:
    page: Page  # one page of the rows (Page.comments holds the rows)
    unchanged: int  # paragraphs unchanged between the two versions (on any page)

    @property
    def rows(self) -> Sequence[AnnotatedRow]:
        return self.page.comments


def annotated_compare(
    doc: Document, a: Version, b: Version, *, changes_only: bool = True, page: int = 1
) -> AnnotatedComparison:
    """One page of compare_versions (the changed rows only, or all), each changed
    paragraph (or group of paragraphs split or merged) with the comments behind the
    change: those on the lineages of the row's paragraphs in the versions from `a` up to
    the one before `b`, and those the committee took up into the paragraph of `b`. Its
    queries follow the page's rows, not the text's length nor the comments' number."""
    rows = [
        AnnotatedRow(r.relation, r.olds, r.news, r.diff, r.pairs) for r in compare_versions(a, b)
    ]
    unchanged = sum(1 for r in rows if r.relation == "unchanged")
    if changes_only:
        rows = [r for r in rows if r.relation != "unchanged"]
    pages = page_count(len(rows), ROWS_PAGE)
    number = min(page, pages)
    rows_page = rows[(number - 1) * ROWS_PAGE : number * ROWS_PAGE]
    lo, hi = sorted((a.number, b.number))
    changed = {lin for r in rows_page if r.relation != "unchanged" for lin in r.lineages}
    # The paragraphs of the versions the comments were made on (bounded by the texts).
    in_range = db.session.scalars(
        select(Version.id).where(
            Version.document_id == doc.id, Version.number >= lo, Version.number < hi
        )
    ).all()
    on = (
        {
            pid: lineage
            for pid, lineage in db.session.execute(
                select(Paragraph.id, Paragraph.lineage).where(Paragraph.version_id.in_(in_range))
            )
            if lineage in changed
        }
        if changed
        else {}
    )
    totals: Counter[str] = Counter()
    for vid in in_range if on else ():
        # Counts kept per paragraph as comments arrive (consult.tracing.counters).
        for pid, n in counters.per_paragraph(vid).items():
            if pid in on:
                totals[on[pid]] += n
    listed = first_per_paragraph(list(on), ROW_COMMENTS, selectinload(Comment.paragraph))
    by_lineage: dict[str, list[Comment]] = defaultdict(list)
    for c in listed:
        by_lineage[on[c.paragraph_id]].append(c)
    outs = {o.comment.id: o for o in outcomes(listed)}
    for r in rows_page:
        if r.relation == "unchanged":
            continue
        mine = sorted(
            (c for lin in r.lineages for c in by_lineage[lin]), key=lambda c: (c.created_at, c.id)
        )
        r.behind = [outs[c.id] for c in mine[:ROW_COMMENTS]]
        r.behind_total = sum(totals.get(lin, 0) for lin in r.lineages)
    return AnnotatedComparison(Page(rows_page, number, ROWS_PAGE, len(rows)), unchanged)


# --- provenance ----------------------------------------------------------------------------


@dataclass
class Passage:
    text: str
    version: int  # version number where it first appeared
    source: int | None  # the id of the suggestion that brought it
    ref: int | None  # its number in the list of sources (1 for the first credited)
    gap: str = ""  # white space before it


@dataclass
class ProvenanceParagraph:
    paragraph: Paragraph
    passages: list[Passage]


#: Sources listed on one page of the provenance page.
SOURCES_PAGE = 50


@dataclass
class Provenance:
    """One page of the sources of a version's provenance (the text is shown whole)."""

    version: Version
    #: One page of the suggestions credited somewhere, in order of first credit.
    sources: list[Outcome]
    total_sources: int
    page: int
    pages: int
    first_ref: int  # the number of the first source of the page


def source_page_of(ref: int) -> int:
    """The page of the provenance's sources list that lists source number `ref`."""
    return (ref - 1) // SOURCES_PAGE + 1


def sources_page(page: int, total: int) -> tuple[int, int]:
    """(the page shown, the number of pages) of a list of `total` sources when `page`
    is asked for (past the last: the last)."""
    pages = page_count(total, SOURCES_PAGE)
    return min(max(page, 1), pages), pages


def provenance_passages(version: Version) -> tuple[list[ProvenanceParagraph], dict[int, int]]:
    """Every passage of `version` with the version it first appeared in and the
    suggestion that introduced it, and the credited suggestions' numbers (id -> number,
    in order of first credit). Queries: versions, paragraphs, links and the kept spans:
    bounded by the text, not by the comments."""
    doc_versions = {
        v.id: v
        for v in db.session.scalars(
            select(Version).where(
                Version.document_id == version.document_id, Version.number <= version.number
            )
        )
    }
    paras = db.session.scalars(
        select(Paragraph).where(Paragraph.version_id.in_(list(doc_versions)))
    ).all()
    by_lineage: dict[str, list[Paragraph]] = defaultdict(list)
    for p in sorted(paras, key=lambda p: doc_versions[p.version_id].number):
        by_lineage[p.lineage].append(p)
    by_id = {p.id: p for p in paras}
    preds: dict[int, list[int]] = defaultdict(list)
    for pid, old in db.session.execute(
        select(LineageLink.paragraph_id, LineageLink.predecessor_id).where(
            LineageLink.version_id.in_(list(doc_versions)),
            LineageLink.paragraph_id.is_not(None),
            LineageLink.predecessor_id.is_not(None),
        )
    ):
        preds[pid].append(old)

    def chain(p: Paragraph) -> list[Paragraph]:
        number = doc_versions[p.version_id].number
        out = [q for q in by_lineage[p.lineage] if doc_versions[q.version_id].number <= number]
        seen = {p.lineage}
        # A piece split off (or a paragraph merged in) starts a lineage; follow its link back.
        while out and preds.get(out[0].id):
            first = by_id.get(min(preds[out[0].id]))
            if first is None or first.lineage in seen:
                break
            seen.add(first.lineage)
            n0 = doc_versions[first.version_id].number
            out = [
                q for q in by_lineage[first.lineage] if doc_versions[q.version_id].number <= n0
            ] + out
        return out

    targets = list(version.paragraphs)
    chains = {p.id: chain(p) for p in targets}
    spans_of = _kept_spans(version, targets, chains)
    refs: dict[int, int] = {}  # suggestion id -> its number, in order of first credit
    result = []
    for p in targets:
        ch = chains[p.id]
        passages = []
        pos = 0
        for s in spans_of[p.id]:
            cid = s.contribution
            if cid is not None and cid not in refs:
                refs[cid] = len(refs) + 1
            passages.append(
                Passage(
                    text=s.text,
                    version=doc_versions[ch[s.version].version_id].number,
                    source=cid,
                    ref=refs[cid] if cid is not None else None,
                    gap=p.text[pos : s.start],
                )
            )
            pos = s.end
        result.append(ProvenanceParagraph(p, passages))
    return result, refs


def provenance_sources(version: Version, refs: Sequence[int], page: int = 1) -> Provenance:
    """One page of the credited suggestions of `version` with their outcomes; `refs`
    the suggestions' ids in order of first credit (provenance_passages). Bounded by the
    page: only its suggestions are read."""
    page, pages = sources_page(page, len(refs))
    first = (page - 1) * SOURCES_PAGE
    shown = list(refs[first : first + SOURCES_PAGE])
    loaded = (
        {
            c.id: c
            for c in db.session.scalars(
                select(Comment)
                .where(Comment.id.in_(shown))
                .options(*COMMENT_LOADS, selectinload(Comment.paragraph))
            )
        }
        if shown
        else {}
    )
    sources = outcomes([loaded[cid] for cid in shown])
    return Provenance(version, sources, len(refs), page, pages, first + 1)


#: The uptake labels that give a suggestion credit for the words it inserted.
CREDITED = ("taken_up", "partly")
#: Credited suggestions read at a time when a provenance is computed.
CREDITED_BATCH = 500

#: What a published version's provenance depends on beyond its frozen texts and links:
#: the suggestions credited and their wording. Uptake is measured when a version is
#: published (or, for many suggestions, by the worker after it: "uptake.measured"); a
#: suggestion changes only by an edit, a withdrawal or a redaction; each is an event of
#: the record. The latest event of each kind names the kept provenance (for publications
#: and measures, the latest of this version and the versions before it: a later version's
#: publication measures the suggestions on this one, not those it was made from).
PROVENANCE_KINDS = (
    "comment.edited",
    "comment.withdrawn",
    "comment.redacted",
    "suggestion.taken_up",
)


def provenance_key(version: Version) -> str:
    """A hash of what the provenance of `version` depends on beyond its frozen texts and
    links (one query of index lookups: it costs the same at any number of comments)."""
    upto = select(Version.id).where(
        Version.document_id == version.document_id, Version.number <= version.number
    )
    published = (
        select(func.max(Event.id))
        .where(
            Event.kind.in_(("version.published", "uptake.measured")),
            Event.subject_type == "version",
            Event.subject_id.in_(upto),
        )
        .scalar_subquery()
    )
    latest = [
        select(func.max(Event.id)).where(Event.kind == kind).scalar_subquery()
        for kind in PROVENANCE_KINDS
    ]
    ids = list(db.session.execute(select(published, *latest)).one())
    return kept.key_of("provenance", version.id, version.content_hash, MEASURE_VERSION, ids)


def _kept_spans(version: Version, targets, chains) -> dict[int, list[Span]]:
    """The provenance spans of a published version's paragraphs: kept in the database
    the first time and read back while the key holds (a draft's are computed each time:
    its text changes while it is edited)."""
    if not version.frozen:
        return _provenance_spans(targets, chains)
    key = provenance_key(version)
    row = db.session.get(KeptProvenance, version.id)
    if row is not None and row.key == key:
        texts = {p.id: p.text for p in targets}
        return {
            int(pid): [Span(a, b, texts[int(pid)][a:b], step, c) for a, b, step, c in spans]
            for pid, spans in json.loads(row.spans_json).items()
        }
    spans_of = _provenance_spans(targets, chains)
    data = json.dumps(
        {
            str(pid): [[s.start, s.end, s.version, s.contribution] for s in spans]
            for pid, spans in spans_of.items()
        },
        separators=(",", ":"),
    )
    # Kept in its own transaction, so that a reader's request never commits anything
    # else; two readers computing at once both keep the same thing.
    values = {"key": key, "spans_json": data, "computed_at": utcnow()}
    with db.engine.begin() as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            insert(KeptProvenance)
            .values(version_id=version.id, **values)
            .on_conflict_do_update(index_elements=["version_id"], set_=values)
        )
    return spans_of


def keep_provenance(app, version_id: int) -> None:
    """Compute and keep the provenance of a published version unless the kept one still
    holds (the job run after a publication, so that the first reader of a large version
    does not wait for it)."""
    with app.app_context():
        try:
            version = db.session.get(Version, version_id)
            if version is not None and version.frozen:
                provenance_passages(version)  # keeps the spans (_kept_spans)
        finally:
            db.session.remove()


def _on_published(sender, subject=None, actor=None, data=None) -> None:
    if isinstance(subject, Version) and subject.id is not None:
        db.session.info.setdefault("provenance_pending", set()).add(subject.id)


def _after_commit(session) -> None:
    from consult import jobs

    # Queued after the commit; should it fail, the first reader computes it.
    jobs.queue_each("keep_provenance", session.info.pop("provenance_pending", None))


def _after_rollback(session, previous_transaction=None) -> None:
    session.info.pop("provenance_pending", None)


def connect() -> None:
    from sqlalchemy import event as orm_event
    from sqlalchemy.orm import Session

    from consult import signals

    signals.version_published.connect(_on_published, weak=False)
    # The provenance credits what the measure found taken up: kept again once it is in.
    signals.uptake_measured.connect(_on_published, weak=False)
    orm_event.listen(Session, "after_commit", _after_commit)
    orm_event.listen(Session, "after_soft_rollback", _after_rollback)


def _provenance_spans(
    targets: list[Paragraph], chains: dict[int, list[Paragraph]]
) -> dict[int, list]:
    """The pure provenance of each target paragraph along its chain of texts, with the
    suggestions on each step's paragraph as candidates. Only a suggestion measured as at
    least partly taken up is a candidate, and only for the words it asked to insert: a
    suggestion not taken up never gets credit for words that happen to be in its wording."""
    on = {q.id for ch in chains.values() for q in ch[:-1]}
    if not on:
        return {p.id: provenance([q.text for q in chains[p.id]]) for p in targets}
    suggested = select(Comment.id).where(Comment.paragraph_id.in_(on), Comment.kind == "suggestion")
    taken = select(StoredUptake.comment_id).where(
        StoredUptake.comment_id.in_(suggested), StoredUptake.label.in_(CREDITED)
    )
    texts = {q.id: q.text for ch in chains.values() for q in ch}
    sources = {q.id: q.source for ch in chains.values() for q in ch}
    on_paragraph: dict[int, list[Contribution]] = defaultdict(list)
    # Read in batches, each let go once its phrases are taken: at a million comments a
    # version has a hundred thousand credited suggestions, too many to hold at once.
    for c in db.session.scalars(
        select(Comment)
        .where(Comment.id.in_(taken))
        .options(*text_loads())
        .order_by(Comment.id)
        .execution_options(yield_per=CREDITED_BATCH)
    ):
        t = c.current
        if not t.suggested_text or c.withdrawn or c.paragraph_id not in texts:
            continue
        phrases = asked_insertions(
            texts[c.paragraph_id],
            plain_wording(t.suggested_text, None if t.quote else sources[c.paragraph_id]),
            quote=t.quote,
            quote_start=t.quote_start,
            diff=kept_diff(t),
        )
        if phrases:
            on_paragraph[c.paragraph_id].append(Contribution(c.id, PHRASES.join(phrases)))
    out = {}
    for p in targets:
        ch = chains[p.id]
        out[p.id] = provenance([q.text for q in ch], [on_paragraph.get(q.id, []) for q in ch[:-1]])
    return out


# --- the consultation report ---------------------------------------------------------------


@dataclass
class Bar:
    label: str
    value: int
    share: float  # of the chart's largest value, for the bar's length


def bars(counts: Iterable[tuple[str, int]]) -> list[Bar]:
    """Bars of a chart; labels marked with N_ (or already in the reader's language) are
    shown in the reader's language."""
    items = list(counts)
    top = max((n for _, n in items), default=0) or 1
    return [Bar(gettext(label), n, n / top) for label, n in items]


@dataclass
class Round:
    """One round of the consultation (a version that was open for comments): its figures."""

    version: Version
    comments: int = 0
    organisations: int = 0
    suggestions: int = 0
    answered: int = 0
    taken_up: int = 0
    partly: int = 0
    not_taken_up: int = 0
    flags: int = 0
    #: Comments by individuals (members of the public), within `comments`.
    individual_comments: int = 0

    @property
    def organisation_comments(self) -> int:
        return self.comments - self.individual_comments


@dataclass
class Report:
    version: Version
    comments: int
    suggestions: int
    answered: int
    unanswered: int
    unanswered_before: int  # on this version and the ones before (the finalize guard)
    by_decision: list[Bar]
    by_kind: list[Bar]
    by_country: list[Bar]
    uptake: list[Bar]
    uptake_measured: int
    uptake_rate: float | None  # share of measured suggestions taken up (fully)
    uptake_any_rate: float | None  # share taken up fully or partly
    flags: int
    satisfaction: list[Bar]
    top_cosigned: list[tuple[Comment, int]]
    organisations: int
    override: object | None
    #: Comments by individuals (members of the public), counted apart from organisations'.
    individual_comments: int = 0
    #: "version": the comments on this version; "consultation": every round up to and
    #: including it (a final text that took no comments reports the rounds that led to it).
    scope: str = "version"
    rounds: list[Round] = field(default_factory=list)
    #: The next version is published and the job worker still measures the uptake of the
    #: suggestions (many of them) made on this version or a round before it.
    uptake_pending: bool = False

    @property
    def organisation_comments(self) -> int:
        """Comments made for organisations (the others are individuals', counted apart)."""
        return self.comments - self.individual_comments

    @property
    def taken_up(self) -> int:
        return next((b.value for b in self.uptake if b.label == "Taken up"), 0)

    @property
    def partly(self) -> int:
        return next((b.value for b in self.uptake if b.label == "Partly taken up"), 0)

    @property
    def not_taken_up(self) -> int:
        return next((b.value for b in self.uptake if b.label == "Not taken up"), 0)


def _current_response_id(of: Any = Comment.id) -> Any:
    """The id of the current answer to the comment `of` names."""
    return select(func.max(Response.id)).where(Response.comment_id == of).scalar_subquery()


def _rounds_up_to(version: Version) -> Select:
    """The ids of the public versions of the document up to and including `version`."""
    return select(Version.id).where(
        Version.document_id == version.document_id,
        Version.number <= version.number,
        Version.state != "draft",
    )


def report(version: Version, *, whole: bool | None = None) -> Report:
    """The counts of the report, each from an aggregate query over the comments
    (withdrawn ones left out): no comment is read into Python except the few most
    co-signed, and no query carries a list of comment ids.

    whole=False: the comments on this version; whole=True: every round of the
    consultation up to this version, in all and round by round. Left to the default, a
    version that took no comments (a final text) reports the consultation that led to it.
    """
    if whole is None:
        own = counters.per_version([version.id]).get(version.id, 0)
        whole = not own and version.number > 1
    scope = _rounds_up_to(version) if whole else select(Version.id).where(Version.id == version.id)
    standing = (
        Comment.version_id.in_(scope),
        ~exists().where(CommentWithdrawal.comment_id == Comment.id),
    )
    # The counts are kept as comments arrive (tracing.counters): a few rows per version
    # are read, whatever the number of comments.
    scope_ids = list(db.session.scalars(scope))
    rounds: dict[int, Round] = {}
    if whole:
        rounds = {
            v.id: Round(v)
            for v in db.session.scalars(
                select(Version).where(Version.id.in_(scope_ids)).order_by(Version.number)
            )
        }
    decisions: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    total = suggestions = flags = 0
    for version_id, kind, decision, label, withdrawn, n in counters.facts(scope_ids):
        if withdrawn:
            continue
        suggestion = kind == "suggestion"
        one = rounds.get(version_id) or Round(version)
        total += n
        one.comments += n
        if suggestion:
            suggestions += n
            one.suggestions += n
        if decision is not None:
            decisions[decision] += n
            one.answered += n
        if label is not None:
            labels[label] += n
            if label == "taken_up":
                one.taken_up += n
            elif label == "partly":
                one.partly += n
            elif label == "not_taken_up":
                one.not_taken_up += n
            if decision is not None and label_disagreement(decision, label) is not None:
                flags += n
                one.flags += n
    per_org_rows = counters.per_organisation(scope_ids)
    for version_id, n in Counter(v for v, oid, _n in per_org_rows if oid is not None).items():
        if version_id in rounds:
            rounds[version_id].organisations = n
    for version_id, oid, n in per_org_rows:
        if oid is None and version_id in rounds:
            rounds[version_id].individual_comments += n
    answered = sum(decisions.values())
    unanswered = total - answered
    per_org_counts: Counter = Counter()
    for _v, oid, n in per_org_rows:
        per_org_counts[oid] += n
    per_org = list(per_org_counts.items())
    org_ids = [oid for oid in per_org_counts if oid is not None]
    orgs = {
        oid: (kind, countries or [])
        for oid, kind, countries in db.session.execute(
            select(Organisation.id, Organisation.kind, Organisation.countries).where(
                Organisation.id.in_(org_ids or [-1])
            )
        )
    }
    kinds: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    for oid, n in per_org:
        if oid not in orgs:
            continue  # an individual's comments count under no kind or country
        kind, codes = orgs[oid]
        kinds[kind] += n
        for cc in codes:
            countries[cc] += n
    sat = Counter(
        {
            ("satisfied" if satisfied else "not"): n
            for satisfied, n in db.session.execute(
                # From the replies (few) to their comments, never the other way: SQLite
                # would otherwise read every comment of the version to find them.
                select(ResponseFeedback.satisfied, func.count())
                .where(
                    exists().where(Comment.id == ResponseFeedback.comment_id, *standing),
                    *_standing_feedback(ResponseFeedback.comment_id),
                )
                .group_by(ResponseFeedback.satisfied)
            )
        }
    )
    replied = sum(sat.values())
    measured = sum(labels.values())
    top = db.session.execute(
        select(CoSignature.comment_id, func.count(CoSignature.id).label("n"))
        .join(Comment, Comment.id == CoSignature.comment_id)
        .where(*standing, *_standing_cosignature())
        .group_by(CoSignature.comment_id)
        .order_by(func.count(CoSignature.id).desc(), CoSignature.comment_id)
        .limit(5)
    ).all()
    top_comments = {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.id.in_([cid for cid, _ in top] or [-1]))
            .options(*COMMENT_LOADS)
        )
    }
    cosigned = [(top_comments[cid], n) for cid, n in top]
    return Report(
        version=version,
        comments=total,
        suggestions=suggestions,
        answered=answered,
        unanswered=unanswered,
        unanswered_before=counters.unanswered(version),
        by_decision=bars(
            [(label, decisions.get(key, 0)) for key, label in DECISIONS.items()]
            + [(N_("Not answered yet"), unanswered)]
        ),
        by_kind=bars(
            sorted(
                ((ORG_KINDS.get(k, k), n) for k, n in kinds.items()), key=lambda x: (-x[1], x[0])
            )
        ),
        by_country=bars(
            sorted(
                ((country_name(c), n) for c, n in countries.items()), key=lambda x: (-x[1], x[0])
            )
        ),
        uptake=bars(
            [
                (N_("Taken up"), labels.get("taken_up", 0)),
                (N_("Partly taken up"), labels.get("partly", 0)),
                (N_("Not taken up"), labels.get("not_taken_up", 0)),
            ]
        ),
        uptake_measured=measured,
        uptake_pending=being_measured(scope_ids),
        uptake_rate=labels.get("taken_up", 0) / measured if measured else None,
        uptake_any_rate=(labels.get("taken_up", 0) + labels.get("partly", 0)) / measured
        if measured
        else None,
        flags=flags,
        satisfaction=bars(
            [
                (N_("Satisfied"), sat.get("satisfied", 0)),
                (N_("Not satisfied"), sat.get("not", 0)),
                (N_("No reply yet"), answered - replied),
            ]
        ),
        top_cosigned=cosigned,
        organisations=len(org_ids),
        individual_comments=per_org_counts.get(None, 0),
        override=override_for(version),
        scope="consultation" if whole else "version",
        rounds=list(rounds.values()),
    )


def _standing_feedback(of: Any = Comment.id) -> tuple:
    """The replies that count: to the current answer to the comment `of` names (a later
    reply to the same answer replaces an earlier one in the counts; both stay in the
    history)."""
    later = aliased(ResponseFeedback)
    return (
        ResponseFeedback.response_id == _current_response_id(of),
        ~exists().where(
            later.response_id == ResponseFeedback.response_id, later.id > ResponseFeedback.id
        ),
    )


def _standing_cosignature() -> tuple:
    """Co-signatures still standing (a withdrawn one stays in the history)."""
    return (~exists().where(CoSignatureWithdrawal.cosignature_id == CoSignature.id),)


@dataclass
class Considered:
    """ "Was the input considered?" for a document: the answer in figures, over every
    public round, and the version whose report proves it."""

    report: Report
    first: int
    last: int


def considered(doc: Document, versions: Sequence[Version]) -> Considered | None:
    """The consultation's figures across the public `versions` of `doc` (the latest
    public one's report over every round), or None before any comment was made."""
    public = [v for v in versions if v.state != "draft"]
    if not public:
        return None
    r = report(public[-1], whole=True)
    if not r.comments:
        return None
    numbers = [x.version.number for x in r.rounds if x.comments]
    return Considered(r, min(numbers), max(numbers))


# --- an organisation's account -------------------------------------------------------------


@dataclass
class Shaped:
    """A passage of a final text that one of the organisation's suggestions brought."""

    text: str
    version: int
    comment: Comment


@dataclass
class Account:
    organisation: Organisation
    outcomes: list[Outcome]
    by_decision: list[Bar]
    suggestions: int
    measured: int
    taken_up: int
    partly: int
    passages: list[tuple[Version, Paragraph, list[Shaped]]]


def organisation_account(org: Organisation, visible_version_ids: set[int]) -> Account:
    comments = [
        c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.organisation_id == org.id)
            .options(
                *COMMENT_LOADS,
                selectinload(Comment.paragraph),
                selectinload(Comment.version).selectinload(Version.document),
            )
            .order_by(Comment.created_at, Comment.id)
        )
        if c.version_id in visible_version_ids
    ]
    outs = outcomes(comments)
    decisions = Counter(o.response.decision for o in outs if o.response is not None)
    measured = [o for o in outs if o.uptake is not None]
    # Passages of final texts this organisation's suggestions shaped.
    mine = {c.id for c in comments if c.kind == "suggestion"}
    by_id = {c.id: c for c in comments}
    passages = []
    finals = db.session.scalars(
        select(Version).where(
            Version.state == "final",
            Version.document_id.in_({c.version.document_id for c in comments} or {-1}),
        )
    ).all()
    for final in finals:
        if final.id not in visible_version_ids:
            continue
        paragraphs, _refs = provenance_passages(final)
        for pp in paragraphs:
            shaped = [
                Shaped(s.text, s.version, by_id[s.source])
                for s in pp.passages
                if s.source is not None and s.source in mine
            ]
            # A lone word ("the") credited between other hands' words says little: list
            # phrases, unless single words are all there is.
            phrases = [s for s in shaped if len(s.text.split()) > 1]
            shaped = phrases or shaped
            if shaped:
                passages.append((final, pp.paragraph, shaped))
    return Account(
        organisation=org,
        outcomes=outs,
        by_decision=bars(
            [(label, decisions.get(key, 0)) for key, label in DECISIONS.items()]
            + [(N_("Not answered yet"), sum(1 for o in outs if o.response is None))]
        ),
        suggestions=len(mine),
        measured=len(measured),
        taken_up=sum(1 for o in measured if o.uptake.label == "taken_up"),
        partly=sum(1 for o in measured if o.uptake.label == "partly"),
        passages=passages,
    )


def comment_counts_by_lineage(doc: Document) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Paragraph.lineage, func.count(Comment.id))
            .join(Comment, Comment.paragraph_id == Paragraph.id)
            .join(Version, Version.id == Paragraph.version_id)
            .where(Version.document_id == doc.id)
            .group_by(Paragraph.lineage)
        ).all()
    )
