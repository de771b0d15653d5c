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

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import selectinload

from consult import signals
from consult.consultation import wording
from consult.consultation.models import Comment
from consult.documents.models import LineageLink, Paragraph, Version
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.timeutil import utcnow
from consult.tracing.models import StoredUptake, UptakeOutbox
from consult.tracing.suggested import Diff, kept_diff
from consult.tracing.uptake import NoChange, Uptake, VersionWords, label_disagreement, uptake

FLAG_LABELS = {
    "accepted_not_in_text": _l("Accepted, but the asked-for change is not in the text"),
    "taken_up_without_credit": _l("Not accepted, yet the wording appears in the text"),
}
#: The flag in words for the decision it concerns: a "partly accepted" answer is not
#: called "accepted", a "noted" one not "not accepted".
_FLAG_BY_DECISION = {
    ("accepted_not_in_text", "partly_accepted"): _l(
        "Partly accepted, but none of the asked-for change is in the text"
    ),
    ("taken_up_without_credit", "noted"): _l("Noted only, yet the wording appears in the text"),
    ("taken_up_without_credit", "out_of_scope"): _l(
        "Out of scope, yet the wording appears in the text"
    ),
}


def flag_label(flag: str | None, decision: str | None) -> str | None:
    """The public flag in words, naming the decision it disagrees with."""
    if not flag:
        return None
    return str(_FLAG_BY_DECISION.get((flag, decision or ""), FLAG_LABELS.get(flag, flag)))


UPTAKE_LABELS = {
    "taken_up": _l("Taken up"),
    "partly": _l("Partly taken up"),
    "not_taken_up": _l("Not taken up"),
}


@dataclass(frozen=True)
class Inputs:
    """What the measure of one suggestion is computed from."""

    original: list[str]  # the commented paragraph, or every paragraph merged with it
    part: int | None  # the commented paragraph's index in `original` when merged
    suggested: str  # the wording as the measure reads it (see `basis`)
    quote: str | None
    quote_start: int | None
    successor: list[str]  # the successor paragraph(s); [] when it was removed
    relation: str
    #: "text": the words a reader sees; "source": the Markdown, for a suggestion that
    #: changes only markup (a link's address).
    basis: str = "text"
    #: Display numbers of the successor paragraphs (not searched again as "elsewhere").
    successor_numbers: tuple[str, ...] = ()
    #: The paragraphs just before and after the commented one, in its version (a wording
    #: that carries one of them along does not ask for its words; uptake's `around`).
    around: tuple[str, ...] = ()

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
                    "basis": self.basis,
                    "around": list(self.around),
                    "measure": MEASURE_VERSION,
                }
            )
        )


#: Changes when the measure itself changes, so that a new publication measures again.
MEASURE_VERSION = 3


def text_loads() -> tuple:
    """Loader options for what `Comment.current`, the withdrawn and the hidden checks read
    (edits, withdrawals, moderation), so that many comments cost three queries, not three
    each."""
    return (
        selectinload(Comment.revisions),
        selectinload(Comment.withdrawal),
        selectinload(Comment.moderation),
    )


def _label(p) -> str:
    """How evidence names a paragraph of the new version: its display number."""
    return p.number or f"#{p.position + 1}"


@dataclass
class _Versions:
    """The two versions' paragraphs, read once for every suggestion measured."""

    texts: dict[int, str]
    sources: dict[int, str]
    labels: dict[int, str]
    positions: dict[int, int]
    elsewhere: VersionWords
    #: Each paragraph of the version commented on → its neighbours' ids (before, after).
    around: dict[int, tuple[int, ...]]


def gather_inputs(version: Version) -> Iterator[tuple[Comment, Inputs, Diff | None]]:
    """The inputs of every paragraph suggestion on the version before `version`, with
    its stored diff (for measure), read in batches (queries bounded by the batches, not
    one per suggestion)."""
    for c, inputs, _ in _gather(version):
        yield c, inputs, kept_diff(c.current)


#: Suggestions read at a time when uptake is measured: a version with a million comments
#: has a few hundred thousand, too many to hold at once.
BATCH = 500


def _suggestions_on(previous: Version) -> tuple:
    """The conditions of the suggestions on `previous` that the next version measures:
    those on a paragraph (withdrawn ones and those without a wording are skipped as read)."""
    return (
        Comment.version_id == previous.id,
        Comment.kind == "suggestion",
        Comment.paragraph_id.is_not(None),
    )


def _gather(version: Version) -> Iterator[tuple[Comment, Inputs, _Versions]]:
    previous = version.neighbour(-1)
    if previous is None:
        return
    texts = None
    for c in db.session.scalars(
        select(Comment)
        .where(*_suggestions_on(previous))
        .options(*text_loads())
        .order_by(Comment.id)
        .execution_options(yield_per=BATCH)
    ):
        if c.withdrawn or not c.current.suggested_text:
            continue
        if texts is None:  # the texts only when there is a suggestion to measure
            texts = _texts(version, previous)
        inputs = _inputs(c, *texts)
        if inputs is not None:
            yield c, inputs, texts[0]


def _texts(version: Version, previous: Version):
    """The two versions' paragraphs and the links between them: (both, successors,
    predecessors) for _inputs."""
    links = db.session.execute(
        select(LineageLink.paragraph_id, LineageLink.predecessor_id, LineageLink.relation).where(
            LineageLink.version_id == version.id
        )
    ).all()
    rows = db.session.execute(
        select(
            Paragraph.id,
            Paragraph.version_id,
            Paragraph.text,
            Paragraph.source,
            Paragraph.number,
            Paragraph.position,
        )
        .where(Paragraph.version_id.in_([version.id, previous.id]))
        .order_by(Paragraph.version_id, Paragraph.position)
    ).all()
    new_rows = [r for r in rows if r.version_id == version.id]
    old_ids = [r.id for r in rows if r.version_id == previous.id]
    both = _Versions(
        texts={r.id: r.text for r in rows},
        sources={r.id: r.source for r in rows},
        labels={r.id: _label(r) for r in new_rows},
        positions={r.id: r.position for r in new_rows},
        elsewhere=VersionWords(
            [(_label(r), r.text) for r in new_rows],
            [r.text for r in rows if r.version_id == previous.id],
        ),
        around={
            pid: tuple(old_ids[k] for k in (n - 1, n + 1) if 0 <= k < len(old_ids))
            for n, pid in enumerate(old_ids)
        },
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
    return both, successors, predecessors


def _inputs(c: Comment, both: _Versions, successors, predecessors) -> Inputs | None:
    """One suggestion's inputs; None when it asks for no change (it is never measured)."""
    t = c.current
    texts = both.texts
    found = sorted(successors.get(c.paragraph_id, []), key=lambda s: both.positions[s[0]])
    olds = [c.paragraph_id]
    part = None
    if not found:
        relation, news = "removed", []
    elif len(found) > 1:
        relation, news = "split", [n for n, _ in found]
    else:
        new, relation = found[0]
        news = [new]
        merged = sorted(predecessors[new])
        if len(merged) > 1:
            relation = "merged"
            olds = merged
            part = olds.index(c.paragraph_id)
    how = wording.basis(
        texts[c.paragraph_id],
        both.sources[c.paragraph_id],
        t.suggested_text,
        quoted=t.quote is not None,
    )
    if how is None:
        return None
    side = texts if how == "text" else both.sources
    if how == "text" and t.quote is None:
        suggested = wording.plain_wording(t.suggested_text, both.sources[c.paragraph_id])
    elif how == "text":
        suggested = wording.plain_wording(t.suggested_text)
    else:
        suggested = t.suggested_text
    return Inputs(
        original=[side[o] for o in olds],
        part=part,
        suggested=suggested,
        quote=t.quote,
        quote_start=t.quote_start,
        successor=[side[n] for n in news],
        relation=relation,
        basis=how,
        successor_numbers=tuple(both.labels[n] for n in news),
        around=tuple(texts[n] for n in both.around.get(c.paragraph_id, ()))
        if how == "text" and t.quote is None
        else (),
    )


def measure(
    inputs: Inputs, elsewhere: VersionWords | None = None, diff: Diff | None = None
) -> Uptake | None:
    """The pure measure for stored inputs (None when the suggestion asks for no change).

    `elsewhere`, the new version's words, lets an asked-for phrase count where it landed
    outside the successor; the Markdown of a markup-only suggestion is never looked for
    there. `diff`, the suggestion's stored diff, spares making it again when it is the
    diff of the texts measured (uptake.asked_opcodes): the measure is the same."""
    original = inputs.original[0] if len(inputs.original) == 1 else inputs.original
    kwargs = {
        "part": inputs.part,
        "elsewhere": elsewhere if inputs.basis == "text" else None,
        "not_in": inputs.successor_numbers,
        "around": inputs.around,
    }
    try:
        try:
            return uptake(
                original,
                inputs.suggested,
                inputs.successor,
                quote=inputs.quote,
                quote_start=inputs.quote_start,
                diff=diff,
                **kwargs,
            )
        except NoChange:
            raise
        except ValueError:
            # The quote is no longer found (the paragraph text was the same, so this
            # only happens for hand-made data): measure the wording against the paragraph.
            return uptake(original, inputs.suggested, inputs.successor, **kwargs)
    except NoChange:
        return None


def store_uptake(version: Version) -> int:
    """Measure and store the uptake of the suggestions made on the version before
    `version` against it; rows whose inputs did not change are kept. Flushes; returns
    the number of rows written."""
    # What is kept already: the hash of its inputs (a row is read only to be rewritten).
    existing = {
        cid: (rid, digest)
        for rid, cid, digest in db.session.execute(
            select(StoredUptake.id, StoredUptake.comment_id, StoredUptake.inputs_hash).where(
                StoredUptake.version_id == version.id
            )
        )
    }
    written = 0
    now = utcnow()
    for c, inputs, both in _gather(version):
        digest = inputs.digest()
        kept = existing.get(c.id)
        if kept is not None and kept[1] == digest:
            continue
        up = measure(inputs, both.elsewhere, kept_diff(c.current))
        if up is None:
            continue
        if kept is None:
            row = StoredUptake(comment_id=c.id, version_id=version.id)
            db.session.add(row)
        else:
            row = db.session.get(StoredUptake, kept[0])
        row.score = up.score
        row.label = up.label
        row.verbatim = up.verbatim
        row.inputs_hash = digest
        row.relation = inputs.relation
        row.evidence_json = json.dumps(
            {**up.evidence, "relation": inputs.relation, "basis": inputs.basis},
            ensure_ascii=False,
            sort_keys=True,
        )
        row.computed_at = now
        written += 1
        if written % BATCH == 0:
            db.session.flush()  # the session lets go of the rows written so far
    db.session.flush()
    return written


# --- at publication: in the request, or by the job worker for many suggestions ----------


def _waiting_suggestions(version: Version, most: int) -> tuple[Version | None, int]:
    """(the version before, how many suggestions on it there are to measure, counted up
    to `most` + 1): the count is bounded, so it costs the same at any number."""
    previous = version.neighbour(-1)
    if previous is None:
        return None, 0
    some = select(Comment.id).where(*_suggestions_on(previous)).limit(most + 1).subquery()
    return previous, db.session.scalar(select(func.count()).select_from(some)) or 0


def at_publication(version: Version) -> bool:
    """The uptake's part of publishing `version`: the suggestions made on the version
    before it are measured and stored now, or, past UPTAKE_IN_REQUEST_MAX of them (a
    version published after a million comments has hundreds of thousands, minutes of
    work), left to the job worker (a row in the outbox, a job asked for at the commit).
    Returns True when left to the worker.

    Both receivers of the publication call it (the tracing, and the record, which covers
    the measures now or in a later event) in no set order: it is done by the first and
    its answer kept for the transaction."""
    done = db.session.info.setdefault(_PUBLISHED, {})
    if version.id not in done:
        most = current_app.config["UPTAKE_IN_REQUEST_MAX"]
        previous, n = _waiting_suggestions(version, most)
        later = previous is not None and n > most
        if later:
            db.session.add(
                UptakeOutbox(version_id=version.id, previous_id=previous.id, suggestions=n)
            )
        else:
            store_uptake(version)
        done[version.id] = later
    return done[version.id]


def _on_published(sender, subject=None, actor=None, data=None) -> None:
    at_publication(subject)


#: How long a job's claim on a waiting measure holds: past it, the job is taken for lost
#: (its process killed) and the measure is done again. A million comments take minutes.
CLAIM_LEASE = timedelta(hours=1)


def _unclaimed(now):
    return or_(UptakeOutbox.claimed_at.is_(None), UptakeOutbox.claimed_at < now - CLAIM_LEASE)


def _claim(version_id: int) -> bool:
    """Take the waiting measure on, in a transaction of its own: False when nothing waits
    or another job holds it (on PostgreSQL a second claim waits for the first's short
    transaction, then finds it taken; SQLite runs one writer at a time)."""
    now = utcnow()
    taken = db.session.execute(
        update(UptakeOutbox)
        .where(UptakeOutbox.version_id == version_id, _unclaimed(now))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return taken == 1


def measure_waiting(app, version_id: int) -> int | None:
    """The job: measure and store the uptake a publication left to the worker, record it
    (event "uptake.measured", whose digest covers the measures) and take the version out
    of the outbox, in one transaction. Returns the rows written, or None when nothing
    waited or another job has it. A failure lets go of the claim (the retry, or the
    sweep, does it again)."""
    with app.app_context():  # a session of its own, removed when the context ends
        if not _claim(version_id):
            return None
        try:
            return _measure_and_record(version_id)
        except Exception:
            db.session.rollback()
            _release(version_id)
            raise


def _measure_and_record(version_id: int) -> int:
    waiting = db.session.get(UptakeOutbox, version_id)
    version = db.session.get(Version, version_id)
    written = store_uptake(version)
    previous = db.session.get(Version, waiting.previous_id)
    signals.emit(
        signals.uptake_measured,
        version,
        None,
        document=version.document.slug,
        version=version.number,
        suggestions_on=previous.number,
        suggestions=waiting.suggestions,
    )
    db.session.delete(waiting)
    db.session.commit()
    return written


def _release(version_id: int) -> None:
    """Let go of a claim (the measure failed): the next job or sweep takes it."""
    db.session.execute(
        update(UptakeOutbox).where(UptakeOutbox.version_id == version_id).values(claimed_at=None)
    )
    db.session.commit()


def waiting_ids(older_than: timedelta = timedelta(0)) -> list[int]:
    """The versions whose uptake waits for the worker, queued at least `older_than` ago
    and held by no job (the periodic sweep asks again for those whose job was lost)."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(UptakeOutbox.version_id)
            .where(UptakeOutbox.queued_at <= now - older_than, _unclaimed(now))
            .order_by(UptakeOutbox.version_id)
        )
    )


def being_measured(version_ids: Select | Iterable[int]) -> bool:
    """Whether the uptake of suggestions made on any of these versions is still being
    measured by the worker (one index lookup)."""
    return bool(
        db.session.scalar(
            select(UptakeOutbox.version_id)
            .where(UptakeOutbox.previous_id.in_(version_ids))
            .limit(1)
        )
    )


#: session.info key: the publications of this transaction, each with whether its
#: uptake was left to the worker (at_publication).
_PUBLISHED = "uptake_at_publication"


def _forget(session, previous_transaction=None) -> None:
    session.info.pop(_PUBLISHED, None)


def _after_commit(session) -> None:
    from consult import jobs

    published = session.info.pop(_PUBLISHED, None) or {}
    jobs.queue_each("measure_uptake", [v for v, later in published.items() if later])


def connect() -> None:
    from sqlalchemy import event as orm_event
    from sqlalchemy.orm import Session

    signals.version_published.connect(_on_published, weak=False)
    orm_event.listen(Session, "after_commit", _after_commit)
    orm_event.listen(Session, "after_soft_rollback", _forget)


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
        {
            "score": stored.score,
            "label": stored.label,
            "version": stored.version.number,
            "evidence": stored.evidence,
        },
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
            select(ResponseFeedback)
            .where(ResponseFeedback.response_id == c.response.id)
            .order_by(ResponseFeedback.id.desc())
            .limit(1)
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
