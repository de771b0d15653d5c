"""Appending to the record (a Merkle tree log, consult.record.log) and verifying it."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from consult import signals
from consult.errors import Conflict
from consult.extensions import db
from consult.record import digests
from consult.record import log as tree_log
from consult.record import verify_standalone as rules
from consult.record.models import Event, TreeHead, TreeNode
from consult.record.verify_standalone import GENESIS, event_hash

__all__ = ["GENESIS", "append", "event_hash", "head", "head_hash", "seal", "verify"]


def recomputed_hash(ev: Event, prev_hash: str) -> str:
    """The chain hash `ev` must carry when it follows an event with hash `prev_hash`
    (events recorded while the record was a hash chain)."""
    return event_hash(
        prev_hash,
        ev.seq,
        ev.kind,
        ev.created_at.isoformat(),
        f"{ev.subject_type}:{ev.subject_id}",
        ev.payload,
    )


@dataclass(frozen=True)
class Head:
    """The record's head as exports print it: the tree of the first `seq` events and
    its root hash."""

    seq: int
    hash: str


def head() -> Head | None:
    size, root = tree_log.state()
    return Head(size, root) if size else None


def head_hash() -> str | None:
    """The record as written, in one value: the leaf hash of its newest entry (placed in
    the tree or still waiting for the sequencer), None for an empty record. It moves
    whenever an entry is written and not when the sequencer places it, so it keys the
    stored derived pages and exports. The tree's root is `head()` (and log.state())."""
    return db.session.scalar(select(Event.leaf_hash).order_by(Event.id.desc()).limit(1))


def append(
    kind: str, subject_type: str, subject_id: int, actor_id: int | None, data: dict
) -> Event:
    """Add one entry to the record in the caller's transaction (placed in the tree after
    the commit, see consult.record.log)."""
    return tree_log.append(kind, subject_type, subject_id, actor_id, data)


#: A verification lists at most this many problems (and counts the rest).
MAX_PROBLEMS = 100


@dataclass
class Verification:
    ok: bool
    events: int
    versions: int
    head: str
    #: The first problem found ("" when none).
    problem: str = ""
    #: Every problem found, up to MAX_PROBLEMS, each naming what changed.
    problems: list[str] = field(default_factory=list)
    #: Things published before the record covered their content, and not sealed since.
    not_covered: list[str] = field(default_factory=list)
    #: Events whose content digest was recomputed and matched.
    covered: int = 0
    more: int = 0
    #: Signed tree heads checked (root at their size and signature).
    heads: int = 0
    #: Entries written but not placed in the tree yet.
    waiting: int = 0


class _Check:
    """One pass over the record: the chain, then every content digest, in batches."""

    def __init__(self, recompute: bool = True) -> None:
        #: False: only find what is covered (for sealing), recompute nothing.
        self.recompute = recompute
        self.problems: list[str] = []
        self.more = 0
        self.covered = 0
        #: (event, the covers it recorded, the kinds of thing they cover) to recompute.
        self.pending: list[tuple[Event, dict, tuple[str, ...]]] = []
        #: (subject type, id) of everything an event's digest covers.
        self.subjects: set[tuple[str, int]] = set()
        #: (subject type, id) → kind, for events recorded before digests.
        self.legacy: dict[tuple[str, int], str] = {}
        self.names = digests.names()
        #: Versions whose publication left the uptake to a later event; those with one.
        self.later: set[int] = set()
        self.measured: set[int] = set()

    def bad(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more += 1

    def event(self, ev: Event) -> None:
        subject_type = rules.COVERING_KINDS.get(ev.kind)
        if subject_type is None and ev.kind != rules.SEALED:
            return
        if ev.subject_type not in rules.SUBJECT_THINGS:
            return
        payload = json.loads(ev.payload)
        if "covers" not in payload:
            self.legacy[(ev.subject_type, ev.subject_id)] = ev.kind
            return
        if ev.kind == "version.published" and payload.get("uptake") == rules.MEASURED_LATER:
            self.later.add(ev.subject_id)
        elif ev.kind == rules.UPTAKE_MEASURED:
            self.measured.add(ev.subject_id)
        self.subjects.add((ev.subject_type, ev.subject_id))
        if not self.recompute:
            return
        things = rules.things_of(ev.kind, ev.subject_type, payload)
        self.pending.append((ev, payload["covers"], things))
        if len(self.pending) >= digests.BATCH:
            self.flush()

    def flush(self) -> None:
        """Recompute the digests of the pending events from the current rows, reading
        for each event only the kinds of thing it covers."""
        by_what: dict[tuple[str, tuple[str, ...]], list] = defaultdict(list)
        for ev, recorded, things in self.pending:
            by_what[(ev.subject_type, things)].append((ev, recorded))
        self.pending = []
        for (subject_type, things), events in by_what.items():
            current = digests.load(subject_type, [ev.subject_id for ev, _ in events], things)
            for ev, recorded in events:
                now = current[ev.subject_id]
                found = rules.compare(recorded, now)
                if not found:
                    self.covered += 1
                for thing, i, what in found:
                    rows = {r["id"]: r for r in now.get(thing, [])}
                    name = (
                        rules.describe(thing, i, rows.get(i), *self.names)
                        if thing
                        else f"{ev.subject_type} {ev.subject_id}"
                    )
                    when = "publication" if ev.kind == "version.published" else "it was recorded"
                    self.bad(f"{name}: {what} since {when} (event {ev.seq}, {ev.kind})")

    def uncovered(self) -> dict[str, list[tuple[str, int]]]:
        """Rows the public reads that no event's digest covers, by why: "legacy" (their
        event was recorded before digests), "no_event" (nothing in the record)."""
        out: dict[str, list[tuple[str, int]]] = {"legacy": [], "no_event": []}
        for subject_type in rules.SUBJECT_THINGS:
            for batch in digests.covered_ids(subject_type):
                for i in batch:
                    key = (subject_type, i)
                    if key in self.subjects:
                        continue
                    out["legacy" if key in self.legacy else "no_event"].append(key)
        return out


_WHAT = {  # singular, plural
    "version": ("published version", "published versions"),
    "response": ("answer", "answers"),
    "responsegroup": ("grouped answer", "grouped answers"),
    "moderationaction": ("moderation decision", "moderation decisions"),
    "organisation": ("organisation's verification", "organisations' verifications"),
    "responsefeedback": ("organisation's reply to an answer", "organisations' replies"),
    "translation": ("published translation", "published translations"),
}


def _plural(n: int, subject_type: str) -> str:
    one, many = _WHAT[subject_type]
    return f"1 {one}" if n == 1 else f"{n} {many}"


def _not_covered(uncovered: dict[str, list[tuple[str, int]]]) -> tuple[list[str], list[str]]:
    """(notes, problems): what was recorded before digests or verified without an event
    is a note; anything else the public reads with no event at all is a problem."""
    notes, problems = [], []
    legacy = digests.group(uncovered["legacy"])
    for subject_type, ids in legacy.items():
        notes.append(
            f"not covered: {_plural(len(ids), subject_type)} recorded before the "
            "record covered content (the chain covers only their hashes); "
            "`flask --app consult seal-record` covers them from now on"
        )
    for subject_type, ids in digests.group(uncovered["no_event"]).items():
        if subject_type == "organisation":
            notes.append(
                f"not covered: {_plural(len(ids), subject_type)} set when the "
                "organisation was created, with no event; `flask --app consult seal-record` "
                "covers them from now on"
            )
            continue
        for i in ids[:MAX_PROBLEMS]:
            problems.append(f"{_WHAT[subject_type][0]} {i} is not in the record")
    return notes, problems


def _uptake_unrecorded(version_ids: set[int]) -> tuple[list[str], list[str]]:
    """(notes, problems) for the versions whose publication left the uptake to a later
    event that is not in the record yet: still waiting for the worker (a note), or not
    waiting any more, so that the measures stored are in no event (a problem)."""
    from consult.documents.models import Document, Version
    from consult.tracing.models import UptakeOutbox

    if not version_ids:
        return [], []
    waiting = set(
        db.session.scalars(
            select(UptakeOutbox.version_id).where(UptakeOutbox.version_id.in_(version_ids))
        )
    )
    notes, problems = [], []
    for vid, number, slug in db.session.execute(
        select(Version.id, Version.number, Document.slug)
        .join(Document, Document.id == Version.document_id)
        .where(Version.id.in_(version_ids))
    ):
        name = f"{slug} version {number}"
        if vid in waiting:
            notes.append(f"being measured: the uptake against {name} (the job worker records it)")
        else:
            problems.append(f"the uptake measured against {name} is in no event of the record")
    return notes, problems[:MAX_PROBLEMS]


@dataclass
class TreeCheck:
    events: int
    root: str
    heads: int = 0
    waiting: int = 0
    #: The first inconsistency, in the order of the record ("" when none).
    problem: str = ""


#: Events read (and stored subtrees compared) per query.
CHUNK = 4_000


def _head_problem(h: TreeHead, untrusted, root: str | None) -> str:
    when = f"{h.signed_at:%Y-%m-%d %H:%M:%S} UTC"
    name = f"signed tree head {h.id} (size {h.tree_size}, signed {when})"
    why = untrusted(h.public_key, h.timestamp)
    if why:
        return f"{name}: {why}"
    if not rules.head_signed(tree_log.head_json(h), h.public_key):
        return f"{name}: its signature does not verify (the head was changed after signing)"
    if root is not None and root != h.root_hash:
        return (
            f"{name}: its root hash is not the root of the first {h.tree_size} events as "
            "stored now (an event before it was changed, removed or reordered)"
        )
    return ""


def check_tree(on_event=None) -> TreeCheck:
    """Rebuild the Merkle tree from every event, in order, and compare it with each
    event's leaf hash, the chain of events recorded before the tree, the stored subtree
    hashes proofs are made of, the tree's state and every signed head (its signature
    with the instance's key, its root at its size); the first inconsistency is named."""
    from consult.record import keys

    known = keys.known_keys()

    def untrusted(key: str, stamp: int) -> str | None:
        return keys.key_problem(key, stamp, known)

    heads = list(db.session.scalars(select(TreeHead).order_by(TreeHead.tree_size, TreeHead.id)))
    hi = 0
    f = rules.Frontier()
    prev_chain: str | None = GENESIS
    while hi < len(heads) and heads[hi].tree_size == 0:
        problem = _head_problem(heads[hi], untrusted, rules.EMPTY_ROOT)
        if problem:
            return TreeCheck(0, rules.EMPTY_ROOT, hi, problem=problem)
        hi += 1
    while True:
        events = db.session.scalars(
            select(Event).where(Event.seq > f.size, Event.seq <= f.size + CHUNK).order_by(Event.seq)
        ).all()
        made: list[tuple[int, int, int, bytes]] = []  # (leaves so far, height, idx, hash)
        problems: list[tuple[int, str]] = []
        start = f.size
        for ev in events:
            n = f.size + 1
            if ev.seq != n:
                problems.append((n, f"event {n} is missing (found event {ev.seq} next)"))
                break
            if ev.hash is not None:
                if prev_chain is None:
                    problems.append((n, f"event {n} ({ev.kind}) has a chain hash after the chain"))
                    break
                if ev.prev_hash != prev_chain or ev.hash != recomputed_hash(ev, prev_chain):
                    problems.append((n, f"event {n} ({ev.kind}) does not match its chain hash"))
                    break
                prev_chain = ev.hash
            else:
                prev_chain = None
            leaf = rules.leaf_hash(tree_log.leaf_of(ev)).hex()
            if ev.leaf_hash != leaf:
                problems.append(
                    (n, f"event {n} ({ev.kind}): its content does not match its leaf hash")
                )
                break
            made += [(n, h, i, x) for h, i, x in f.append(bytes.fromhex(leaf))]
            if on_event is not None:
                on_event(ev)
            while hi < len(heads) and heads[hi].tree_size == n:
                problem = _head_problem(heads[hi], untrusted, f.root().hex())
                if problem:
                    problems.append((n, problem))
                    break
                hi += 1
            if problems:
                break
        stored = _stored_nodes([(h, i) for _, h, i, _ in made])
        for n, h, i, x in made:
            got = stored.get((h, i))
            if got != x.hex():
                first, last = i << h, ((i + 1) << h) - 1
                what = "is missing" if got is None else "does not match the events"
                problems.append(
                    (
                        n,
                        f"the stored hash of events {first + 1}–{last + 1} (subtree of height "
                        f"{h}, index {i}), which proofs are made of, {what}",
                    )
                )
                break
        if problems:
            n, problem = min(problems, key=lambda p: p[0])
            return TreeCheck(n, f.root().hex(), hi, problem=problem)
        if len(events) < CHUNK or f.size == start:
            break
    size, root = tree_log.state()
    waiting = db.session.scalar(select(db.func.count(Event.id)).where(Event.seq.is_(None))) or 0
    problem = ""
    if hi < len(heads):
        h = heads[hi]
        problem = _head_problem(h, untrusted, None) or (
            f"signed tree head {h.id} is for {h.tree_size} events, but the record holds "
            f"{f.size} (events were removed)"
        )
    elif size != f.size or root != f.root().hex():
        problem = (
            f"the tree's state (size {size}, root {root[:16]}…) is not the tree of the "
            f"{f.size} events stored"
        )
    return TreeCheck(f.size, f.root().hex(), hi, waiting, problem)


def _stored_nodes(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The stored subtree hashes around `wanted`: one index range per height (the
    subtrees a run of events completes are consecutive at each height)."""
    from sqlalchemy import and_, or_

    ranges: dict[int, tuple[int, int]] = {}
    for h, i in wanted:
        lo, hi = ranges.get(h, (i, i))
        ranges[h] = (min(lo, i), max(hi, i))
    if not ranges:
        return {}
    q = select(TreeNode.height, TreeNode.idx, TreeNode.hash).where(
        or_(
            *(
                and_(TreeNode.height == h, TreeNode.idx.between(lo, hi))
                for h, (lo, hi) in ranges.items()
            )
        )
    )
    return {(h, i): x for h, i, x in db.session.execute(q)}


def verify() -> Verification:
    """Recompute the chain, every published version's and comment's hash, and every
    content digest the events carry (texts, answers, grouped answers, moderation,
    verification of organisations, measured uptake, organisations' replies); name each
    thing that changed since it was recorded."""
    from consult.consultation.models import Comment
    from consult.consultation.services import comment_hash
    from consult.documents.models import Version
    from consult.documents.services import compute_hash

    check = _Check()
    tree = check_tree(on_event=check.event)
    if tree.problem:
        return Verification(False, tree.events, 0, tree.root, tree.problem, [tree.problem])
    prev = tree.root
    count = tree.events
    # Entries written but not placed yet still cover what they published.
    for ev in db.session.scalars(select(Event).where(Event.seq.is_(None)).order_by(Event.id)):
        check.event(ev)
    check.flush()
    versions = 0
    for v in db.session.scalars(select(Version).where(Version.state != "draft")):
        versions += 1
        if compute_hash(v) != v.content_hash:
            check.bad(
                f"{v.document.slug} version {v.number}: text does not match its published hash"
            )
    _check_comments(check, Comment, comment_hash)
    notes, problems = _not_covered(check.uncovered())
    waiting, unrecorded = _uptake_unrecorded(check.later - check.measured)
    notes += waiting
    for p in problems + unrecorded:
        check.bad(p)
    return Verification(
        not check.problems,
        count,
        versions,
        prev,
        check.problems[0] if check.problems else "",
        check.problems,
        notes,
        check.covered,
        check.more,
        tree.heads,
        tree.waiting,
    )


def _recorded_hashes(kind: str, subject_type: str, ids: list[int]) -> dict[int, dict]:
    rows = db.session.execute(
        select(Event.subject_id, Event.payload).where(Event.kind == kind, Event.subject_id.in_(ids))
    )
    return {i: json.loads(payload) for i, payload in rows}


def _check_comments(check: _Check, Comment, comment_hash) -> None:  # noqa: N803
    """Every comment's (and later text's) hash recomputes and is the one its event
    recorded, so that changing a text and its hash together is found too."""
    from consult.consultation.models import CommentRevision
    from consult.consultation.services import revision_hash

    batch: list = []

    def run(batch):
        recorded = _recorded_hashes("comment.posted", "comment", [c.id for c in batch])
        for c in batch:
            if comment_hash(c) != c.content_hash:
                check.bad(f"comment {c.tracking} was altered")
            elif (recorded.get(c.id) or {}).get("content_hash") != c.content_hash:
                check.bad(f"comment {c.tracking}: its hash is not the one in the record")

    for c in db.session.scalars(select(Comment).order_by(Comment.id)).yield_per(500):
        batch.append(c)
        if len(batch) >= 500:
            run(batch)
            batch = []
    run(batch)

    def run_revisions(batch):
        recorded = _recorded_hashes("comment.edited", "commentrevision", [r.id for r in batch])
        for r in batch:
            if revision_hash(r.comment, r) != r.content_hash:
                check.bad(f"comment {r.comment.tracking} text {r.number} was altered")
            elif (recorded.get(r.id) or {}).get("content_hash") != r.content_hash:
                check.bad(
                    f"comment {r.comment.tracking} text {r.number}: its hash is not the one "
                    "in the record"
                )

    batch = []
    for r in db.session.scalars(select(CommentRevision).order_by(CommentRevision.id)).yield_per(
        500
    ):
        batch.append(r)
        if len(batch) >= 500:
            run_revisions(batch)
            batch = []
    run_revisions(batch)


def seal(by=None) -> int:
    """Cover what the record does not cover yet (content published before events carried
    digests, organisations verified when created): one new `record.sealed` event per
    thing, with the digest of its content as it stands now. Old events are never
    rewritten. Refused while verify finds a problem, so that a seal never covers a
    change. Returns the number of events added; the caller commits."""
    result = verify()
    if not result.ok:
        raise Conflict(
            _(
                "The record does not verify (%(problem)s); it is not sealed over a change.",
                problem=result.problem,
            )
        )
    check = _Check(recompute=False)
    for ev in db.session.scalars(select(Event).order_by(Event.seq)).yield_per(500):
        check.event(ev)
    uncovered = check.uncovered()
    added = 0
    for subject_type, subject_id in uncovered["legacy"] + [
        k for k in uncovered["no_event"] if k[0] == "organisation"
    ]:
        append(
            rules.SEALED,
            subject_type,
            subject_id,
            by.id if by is not None else None,
            {
                "covers": digests.covers_for(subject_type, subject_id),
                "why": check.legacy.get((subject_type, subject_id), "no event"),
            },
        )
        added += 1
    return added


def _subject_type(obj) -> str:
    return type(obj).__name__.lower()


def _on_event(sender: str, subject, actor=None, data=None) -> None:
    data = dict(data or {})
    subject_type = _subject_type(subject)
    if rules.COVERING_KINDS.get(sender) == subject_type:
        if sender == "version.published":
            # The uptake measured against the new version is part of what it publishes,
            # unless the job worker measures it (many suggestions) and records it later.
            # Receivers of one signal run in no set order: whichever comes first does
            # the uptake's part, once.
            from consult.tracing.stored import at_publication

            if at_publication(subject):
                data["uptake"] = rules.MEASURED_LATER
        data["covers"] = digests.covers_for(
            subject_type, subject.id, rules.things_of(sender, subject_type, data)
        )
    tree_log.append(
        sender,
        subject_type,
        subject.id,
        actor.id if actor is not None else None,
        data,
        head=_head_for(sender, subject, data),
    )


#: Version states whose change gets a signed tree head of its own.
_HEAD_STATES = {"closed": "closing", "final": "finalisation"}


def _head_for(sender: str, subject, data: dict) -> tuple[str, str] | None:
    """(reason, about) when this event is one a signed tree head must follow at once:
    a version's publication, closing and finalisation."""
    if sender == "version.published":
        reason = "publication"
    elif sender == "version.state_changed" and data.get("state") in _HEAD_STATES:
        reason = _HEAD_STATES[data["state"]]
    else:
        return None
    return reason, f"{subject.document.slug} version {subject.number}"


def connect() -> None:
    tree_log.connect()
    for sig in (
        signals.version_created,
        signals.version_published,
        signals.version_state_changed,
        signals.comment_posted,
        signals.comment_cosigned,
        signals.cosignature_withdrawn,
        signals.comment_edited,
        signals.comment_withdrawn,
        signals.reply_posted,
        signals.comment_flagged,
        signals.comment_moderated,
        signals.response_given,
        signals.committee_member_added,
        signals.committee_member_removed,
        signals.suggestion_taken_up,
        signals.draft_changed,
        signals.responses_grouped,
        signals.response_feedback_given,
        signals.group_member_removed,
        signals.attachment_added,
        signals.intake_confirmed,
        signals.intake_rejected,
        signals.returned_word_imported,
        signals.translation_published,
        signals.organisation_created,
        signals.organisation_updated,
        signals.organisation_verified,
        signals.membership_requested,
        signals.membership_decided,
        signals.comment_redacted,
        signals.campaign_signed,
        signals.campaign_signature_withdrawn,
        signals.uptake_measured,
    ):
        sig.connect(_on_event, weak=False)
