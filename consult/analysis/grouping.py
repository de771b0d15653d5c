"""Form letters: comments grouped with their near-copies as they arrive.

A posted comment writes a grouping outbox row in its own transaction (`connect`); after
commit the `group_comments` job (consult.jobs.tasks) places it: its MinHash signature
(consult.analysis.nearcopies) is computed, its BANDS band keys are looked up in the
letter_band table (one indexed query, whatever the number of comments), the candidates
found are compared with it, and it joins the group of the most similar one at or above
the threshold, or stays alone and stores its own band keys for the comments to come.
The POST only writes the outbox row.

`regroup` does the same for all of a version's comments at once, in memory (the
benchmark's million comments), and writes the same rows.

A group's master is its first comment; each other member keeps "the unique part": its
sentences not in the master. The committee can take a variant out of its group
(`take_out`): a GroupRemoval row and a record event; the comment then stays alone,
through any regrouping.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery, TextualSelect

from consult import signals
from consult.accounts.models import User
from consult.analysis import nearcopies
from consult.analysis.models import (
    CommentSignature,
    GroupingOutboxEntry,
    GroupRemoval,
    LetterBand,
    LetterGroup,
)
from consult.consultation.models import Comment
from consult.documents.models import Version
from consult.errors import Conflict, ConsultError
from consult.extensions import db
from consult.hashing import sha256
from consult.paging import page_count
from consult.timeutil import utcnow

log = logging.getLogger(__name__)

#: Outbox rows one job transaction places. Few: placing a comment writes, and on SQLite a
#: write holds the whole database until the commit (200 a transaction held it 0.3 s
#: against the requests' comments, benchmarks/load.py; 25 hold it a few milliseconds).
BATCH = 25
#: Candidates compared with a new comment at most (those sharing the most bands first).
MAX_CANDIDATES = 32
#: Members listed per page of a group, and on a group's summary.
MEMBERS_PAGE = 50
GROUPS_PAGE = 20


def text_of(body: str | None, suggested: str | None) -> str:
    """The text compared: the comment and its proposed wording."""
    return (body or "") + ("\n" + suggested if suggested else "")


# --- as comments arrive -------------------------------------------------------------------


def _on_comment_posted(sender, subject=None, actor=None, data=None) -> None:
    if not isinstance(subject, Comment) or subject.id is None:
        return
    db.session.add(GroupingOutboxEntry(comment_id=subject.id, created_at=utcnow()))
    db.session.info["grouping_pending"] = True


def _after_commit(session: Session) -> None:
    if not session.info.pop("grouping_pending", False) or not has_app_context():
        return
    from consult import jobs

    jobs.poke("group_comments", current_app._get_current_object())


def _after_rollback(session: Session, previous_transaction=None) -> None:
    session.info.pop("grouping_pending", None)


def connect() -> None:
    signals.comment_posted.connect(_on_comment_posted, weak=False)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


def drain(app: Flask, limit: int | None = None) -> int:
    """Place the comments waiting in the grouping outbox, BATCH per transaction; returns
    how many outbox rows were taken. Safe to run twice at once: a comment already placed
    is skipped."""
    done = 0
    with app.app_context():
        while limit is None or done < limit:
            rows = db.session.execute(
                select(GroupingOutboxEntry.id, GroupingOutboxEntry.comment_id)
                .order_by(GroupingOutboxEntry.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            try:
                place([r.comment_id for r in rows])
                db.session.execute(
                    delete(GroupingOutboxEntry).where(
                        GroupingOutboxEntry.id.in_([r.id for r in rows])
                    )
                )
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            done += len(rows)
    return done


def pending() -> int:
    return db.session.scalar(select(func.count(GroupingOutboxEntry.id))) or 0


def place(comment_ids: Sequence[int]) -> dict[int, int | None]:
    """Place each comment (oldest first) in its group; returns {comment id: group id or
    None}. Comments already placed are left as they are. The caller commits.

    A few statements per comment, whatever the number of comments: one lookup of its
    band keys that also reads the candidates' signatures and groups, then the rows
    written with Core inserts (the job places a comment in a few milliseconds)."""
    ids = sorted(set(comment_ids))
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        # For the rest of this transaction: band keys read from the index in order, so
        # that each lookup stops at its share (_band_rows). With a skewed key (thousands
        # of near-copies on a few keys) the planner's estimate from the average key picks
        # a bitmap scan, which reads every matching entry first.
        db.session.execute(select(func.set_config("enable_bitmapscan", "off", True)))
    removed = exists().where(GroupRemoval.comment_id == Comment.id)
    rows = db.session.execute(
        select(
            Comment.id,
            Comment.version_id,
            Comment.body,
            Comment.suggested_text,
            removed.label("removed"),
        )
        .outerjoin(CommentSignature, CommentSignature.comment_id == Comment.id)
        .where(Comment.id.in_(ids), CommentSignature.comment_id.is_(None))
        .order_by(Comment.id)
    ).all()
    sigs = nearcopies.signatures(text_of(r.body, r.suggested_text) for r in rows)
    placed: dict[int, int | None] = {}
    for r, sig in zip(rows, sigs, strict=True):
        placed[r.id] = _place_one(
            r.id, r.version_id, text_of(r.body, r.suggested_text), sig, alone=bool(r.removed)
        )
    return placed


@functools.lru_cache(maxsize=2048)
def _master_sentences(master_id: int, content_hash: str) -> tuple[str, ...]:
    """A master's normalised sentences: its text never changes (a comment's first text is
    never rewritten), so a process keeps them, by id and content hash (the same id in
    another database is another comment)."""
    m = db.session.execute(
        select(Comment.body, Comment.suggested_text).where(Comment.id == master_id)
    ).one()
    return tuple(nearcopies.master_sentences(text_of(m.body, m.suggested_text)))


@functools.cache
def _seek_per_key(n: int) -> TextualSelect:
    """SQLite's lookup of `n` band keys (parameters v, per, k0…k<n-1>): a UNION ALL of one
    limited seek per key, written once for each number of keys. Built from SQLAlchemy's
    constructs for every new comment (42 subqueries), the statement alone took half of
    the grouping job's time."""
    one = (
        'SELECT * FROM (SELECT comment_id FROM letter_band WHERE version_id = :v AND "key" = '
        ":k%d ORDER BY comment_id LIMIT :per)"
    )
    # Only the parameters' numbers are written into it; every value is bound.
    return text(" UNION ALL ".join(one % i for i in range(n))).columns(
        LetterBand.__table__.c.comment_id
    )


def _band_rows(version_id: int, keys: list[int]) -> tuple[Subquery, dict]:
    """The comments sharing a band key with a new comment (a subquery of comment_id, and
    the parameters to execute it with): at most about MAX_BAND_ROWS rows, read without
    reading every row of a key that thousands of near-copies share.

    Each key gets its own scan of the (version_id, key, comment_id) index, oldest first,
    that stops at its share of the rows. A single `key IN (…) LIMIT n` let one key shared
    by thousands fill the lookup (SQLite reads the keys in order), and PostgreSQL read it
    with a bitmap scan of every matching entry before the limit applied (8,495 entries
    for 256 rows with 4,000 near-copies; a letter copied a million times, millions)."""
    per_key = -(-nearcopies.MAX_BAND_ROWS // max(1, len(keys)))
    if db.session.get_bind().dialect.name != "postgresql":
        # One index seek per key, each stopping at its share: a key shared by thousands
        # does not fill the lookup and crowd out the others. Its values are given when the
        # statement is executed: bound into it, they copied the statement (a third of the
        # time the job spent on a comment).
        values = {f"k{i}": k for i, k in enumerate(keys)}
        return _seek_per_key(len(keys)).subquery(), {"v": version_id, "per": per_key, **values}
    key = func.unnest(array(keys, type_=BigInteger)).table_valued("key").render_derived()
    found = (
        select(LetterBand.comment_id)
        .where(LetterBand.version_id == version_id, LetterBand.key == key.c.key)
        .order_by(LetterBand.comment_id)
        .limit(per_key)
        .lateral()
    )
    return select(found.c.comment_id).select_from(key).join(found, true()).subquery(), {}


def _place_one(cid: int, version_id: int, text: str, sig: bytes, *, alone: bool) -> int | None:
    row = {
        "comment_id": cid,
        "version_id": version_id,
        "signature": sig,
        "group_id": None,
        "unique_part": None,
        "similarity": None,
    }
    if alone or nearcopies.is_empty(sig):
        db.session.execute(insert(CommentSignature.__table__), [row])
        return None
    keys = nearcopies.band_keys(sig)
    rows, params = _band_rows(version_id, keys)
    hits = (
        select(rows.c.comment_id, func.count().label("n"))
        .group_by(rows.c.comment_id)
        .order_by(func.count().desc(), rows.c.comment_id)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    master = func.coalesce(LetterGroup.master_comment_id, CommentSignature.comment_id)
    cands = db.session.execute(
        select(
            CommentSignature.comment_id,
            CommentSignature.signature,
            CommentSignature.group_id,
            master.label("master_id"),
            Comment.content_hash.label("master_hash"),
        )
        .join(hits, hits.c.comment_id == CommentSignature.comment_id)
        .outerjoin(LetterGroup, LetterGroup.id == CommentSignature.group_id)
        .join(Comment, Comment.id == master),
        params,
    ).all()
    best = nearcopies.best_match(sig, [(c.comment_id, c.signature) for c in cands])
    band_rows = [{"version_id": version_id, "key": k, "comment_id": cid} for k in keys]
    if best is None:
        db.session.execute(insert(CommentSignature.__table__), [row])
        db.session.execute(insert(LetterBand.__table__), band_rows)
        return None
    cand_id, sim = best
    cand = next(c for c in cands if c.comment_id == cand_id)
    group_id, master_id = cand.group_id, cand.master_id
    if group_id is None:
        group_id = db.session.execute(
            insert(LetterGroup.__table__)
            .values(version_id=version_id, master_comment_id=cand_id, size=1, created_at=utcnow())
            .returning(LetterGroup.__table__.c.id)
        ).scalar_one()
        db.session.execute(
            update(CommentSignature.__table__)
            .where(CommentSignature.__table__.c.comment_id == cand_id)
            .values(group_id=group_id)
        )
    unique = nearcopies.unique_part(list(_master_sentences(master_id, cand.master_hash)), text)
    row.update(
        group_id=group_id,
        unique_part=json.dumps(unique, ensure_ascii=False) if unique else None,
        similarity=round(sim, 4),
    )
    db.session.execute(insert(CommentSignature.__table__), [row])
    if sim < nearcopies.REACH:
        db.session.execute(insert(LetterBand.__table__), band_rows)
    db.session.execute(
        update(LetterGroup.__table__)
        .where(LetterGroup.__table__.c.id == group_id)
        .values(size=LetterGroup.__table__.c.size + 1)
    )
    return group_id


# --- all at once ----------------------------------------------------------------------------


@dataclass
class _Holder:
    text: str
    group_id: int | None = None
    size: int = 1
    norm_sentences: list[str] | None = None


def _prepare_chunk(texts: list[str]):
    return nearcopies.prepare(texts)


def regroup(
    version: Version,
    *,
    chunk: int = 5000,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Group all of a version's comments again from nothing (what `place` does one by
    one, in memory, with the rows written in bulk). Comments taken out of a group stay
    alone. Commits as it goes (a regrouping of a million comments is a job, not a
    request). Returns counts: comments, groups, grouped."""
    vid = version.id
    # Derived rows only; removals (what people decided) stay.
    db.session.execute(delete(LetterBand).where(LetterBand.version_id == vid))
    db.session.execute(delete(CommentSignature).where(CommentSignature.version_id == vid))
    db.session.execute(delete(LetterGroup).where(LetterGroup.version_id == vid))
    db.session.commit()
    removed = set(
        db.session.scalars(
            select(GroupRemoval.comment_id)
            .join(Comment, Comment.id == GroupRemoval.comment_id)
            .where(Comment.version_id == vid)
        )
    )
    holders: dict[int, _Holder] = {}
    index = nearcopies.MemoryIndex(max_candidates=MAX_CANDIDATES)
    #: Each comment whose band keys are held → the first comment of its letter.
    root: dict[int, int] = {}
    counts = {"comments": 0, "groups": 0, "grouped": 0}
    pool = None
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers)

    def read(after: int):
        return db.session.execute(
            select(Comment.id, Comment.body, Comment.suggested_text)
            .where(Comment.version_id == vid, Comment.id > after)
            .order_by(Comment.id)
            .limit(chunk)
        ).all()

    def start(rows):
        """The chunk's texts, and its signatures being computed by the workers."""
        texts = [text_of(r.body, r.suggested_text) for r in rows]
        if pool is None:
            return texts, None
        step = -(-len(texts) // workers)
        return texts, [
            pool.submit(_prepare_chunk, texts[i : i + step]) for i in range(0, len(texts), step)
        ]

    def finish(started):
        texts, futures = started
        if futures is None:
            return texts, nearcopies.prepare(texts)
        return texts, [x for f in futures for x in f.result()]

    try:
        batch = read(0)
        started = start(batch) if batch else None
        while batch:
            # The workers compute the next chunk's signatures while this one is matched
            # and written (the matching is in this process, in comment order).
            following = read(batch[-1].id)
            started_next = start(following) if following else None
            texts, prepared = finish(started)
            sig_rows, band_rows, new_groups = [], [], []
            for r, text, (sig, keys, sents) in zip(batch, texts, prepared, strict=True):
                row = {
                    "comment_id": r.id,
                    "version_id": vid,
                    "signature": sig,
                    "group_id": None,
                    "unique_part": None,
                    "similarity": None,
                }
                sig_rows.append(row)
                if r.id in removed or nearcopies.is_empty(sig):
                    continue
                found = index.match(sig, keys)
                if found is None:
                    holders[r.id] = _Holder(text=text)
                    root[r.id] = r.id
                    index.add(r.id, sig, keys)
                    band_rows.extend(
                        {"version_id": vid, "key": k, "comment_id": r.id} for k in keys
                    )
                    continue
                best, best_sim = found
                h = holders[root[best]]
                if h.norm_sentences is None:
                    h.norm_sentences = nearcopies.master_sentences(h.text)
                if h.group_id is None:
                    h.group_id = -root[best]  # a group to make; its id comes when written
                    new_groups.append(root[best])
                h.size += 1
                if best_sim < nearcopies.REACH:
                    # A far variant: later ones close to it find the group through it.
                    root[r.id] = root[best]
                    index.add(r.id, sig, keys)
                    band_rows.extend(
                        {"version_id": vid, "key": k, "comment_id": r.id} for k in keys
                    )
                unique = nearcopies.unique_part(h.norm_sentences, sents)
                row["group_id"] = h.group_id
                row["unique_part"] = json.dumps(unique, ensure_ascii=False) if unique else None
                row["similarity"] = round(best_sim, 4)
                counts["grouped"] += 1
            _write_groups(vid, new_groups, holders)
            for row in sig_rows:
                if row["group_id"] is not None and row["group_id"] < 0:
                    row["group_id"] = holders[-row["group_id"]].group_id
            db.session.execute(insert(CommentSignature.__table__), sig_rows)
            if band_rows:
                db.session.execute(insert(LetterBand.__table__), band_rows)
            db.session.commit()
            counts["comments"] += len(batch)
            if progress is not None:
                progress(counts["comments"])
            batch, started = following, started_next
    finally:
        if pool is not None:
            pool.shutdown()
    grouped = [(h.group_id, mid, h.size) for mid, h in holders.items() if h.group_id]
    for gid, mid, size in grouped:
        db.session.execute(update(LetterGroup).where(LetterGroup.id == gid).values(size=size))
        db.session.execute(
            update(CommentSignature).where(CommentSignature.comment_id == mid).values(group_id=gid)
        )
    db.session.commit()
    counts["groups"] = len(grouped)
    counts["grouped"] += len(grouped)  # the masters
    return counts


def _write_groups(vid: int, masters: list[int], holders: dict[int, _Holder]) -> None:
    now = utcnow()
    for mid in masters:
        g = LetterGroup(version_id=vid, master_comment_id=mid, size=0, created_at=now)
        db.session.add(g)
        db.session.flush()
        holders[mid].group_id = g.id


# --- reading and deciding -------------------------------------------------------------------


def group_of(comment_id: int) -> int | None:
    return db.session.scalar(
        select(CommentSignature.group_id).where(CommentSignature.comment_id == comment_id)
    )


@dataclass
class GroupView:
    group: LetterGroup
    master_text: str
    members: list[int]  # the first MEMBERS_PAGE (or the page asked for)
    unique_parts: list[tuple[Comment | int, str]]  # (comment or its id, text)


def groups_page(
    version: Version, page: int, size: int = GROUPS_PAGE
) -> tuple[list[LetterGroup], int]:
    """A version's groups, largest first, and how many there are (aggregate query)."""
    total = db.session.scalar(
        select(func.count(LetterGroup.id)).where(
            LetterGroup.version_id == version.id, LetterGroup.size > 1
        )
    )
    groups = db.session.scalars(
        select(LetterGroup)
        .where(LetterGroup.version_id == version.id, LetterGroup.size > 1)
        .order_by(LetterGroup.size.desc(), LetterGroup.id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return list(groups), total or 0


def totals(version: Version) -> tuple[int, int]:
    """(groups, comments in them) of a version: one aggregate query."""
    n, members = db.session.execute(
        select(func.count(LetterGroup.id), func.coalesce(func.sum(LetterGroup.size), 0)).where(
            LetterGroup.version_id == version.id, LetterGroup.size > 1
        )
    ).one()
    return int(n or 0), int(members or 0)


#: Rows (a form letter, or a comment in no letter) on one page of a comment list shown
#: one row per letter.
LETTERS_PAGE = 50


@dataclass
class LettersPage:
    """One page of a version's comments with each form letter on one row: the letters
    first (largest first), then the comments in no letter (oldest first)."""

    groups: list[LetterGroup]
    comment_ids: list[int]  # the page's comments in no letter, in order
    number: int
    size: int
    total: int  # rows in the whole list: letters + comments in none
    letters: int  # form letters on the version
    in_letters: int  # comments in them

    @property
    def comments(self) -> list:
        """The page's rows (for listing.Page's arithmetic and the pager)."""
        return [*self.groups, *self.comment_ids]

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.comments else 0

    @property
    def last(self) -> int:
        return self.first + len(self.comments) - 1 if self.comments else 0

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def in_no_letter() -> object:
    """A comment in no form letter (alone, not placed yet, or taken out): correlated with
    Comment, one lookup of its signature row by primary key."""
    return ~exists().where(
        CommentSignature.comment_id == Comment.id,
        LetterGroup.id == CommentSignature.group_id,
        LetterGroup.size > 1,
    )


def letters_page(version: Version, number: int, size: int | None = None) -> LettersPage:
    """Page `number` of the version's comments, one row per form letter: the counts from
    aggregates (the groups' kept sizes, the comments' kept counts), the page's letters
    and comments with LIMIT/OFFSET; a few queries whatever the number of comments."""
    from consult.tracing import counters  # a later layer, kept as comments arrive

    size = size or LETTERS_PAGE
    n_letters, n_in = totals(version)
    n_comments = counters.per_version([version.id]).get(version.id, 0)
    alone = max(0, n_comments - n_in)
    total = n_letters + alone
    number = min(max(1, number), page_count(total, size))
    start = (number - 1) * size
    groups: list[LetterGroup] = []
    if start < n_letters:
        groups = list(
            db.session.scalars(
                select(LetterGroup)
                .where(LetterGroup.version_id == version.id, LetterGroup.size > 1)
                .order_by(LetterGroup.size.desc(), LetterGroup.id)
                .offset(start)
                .limit(size)
            )
        )
    room = size - len(groups)
    ids: list[int] = []
    if room > 0:
        ids = list(
            db.session.scalars(
                select(Comment.id)
                .where(Comment.version_id == version.id, in_no_letter())
                .order_by(Comment.id)
                .offset(max(0, start - n_letters))
                .limit(room)
            )
        )
    return LettersPage(groups, ids, number, size, total, n_letters, n_in)


def members(group: LetterGroup, page: int = 1, size: int = MEMBERS_PAGE) -> list[int]:
    """The group's comment ids, master first then oldest first, page by page."""
    return list(
        db.session.scalars(
            select(CommentSignature.comment_id)
            .where(CommentSignature.group_id == group.id)
            .order_by(CommentSignature.comment_id)
            .limit(size)
            .offset((page - 1) * size)
        )
    )


def unique_parts(
    group: LetterGroup, page: int = 1, size: int = MEMBERS_PAGE
) -> list[tuple[int, str]]:
    """(comment id, the sentences it adds) of the group's variants that add something,
    page by page."""
    rows = db.session.execute(
        select(CommentSignature.comment_id, CommentSignature.unique_json)
        .where(CommentSignature.group_id == group.id, CommentSignature.unique_json.is_not(None))
        .order_by(CommentSignature.comment_id)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return [(r.comment_id, " ".join(json.loads(r.unique_json))) for r in rows]


def master_text(group: LetterGroup, user=None) -> str | None:
    """The letter as `user` may read it (None: the public): personal data masked, None
    while the master comment is held for review."""
    from consult.consultation.redaction import shown_to

    t = shown_to(group.master, user)
    return None if t is None else text_of(t.body, t.suggested_text)


def shown_parts(parts, comments: dict, user=None) -> list[tuple[int, str | None]]:
    """unique_parts() as `user` may read them (None: the public): masked, None for a held
    comment's (`comments`: the parts' comments by id)."""
    from consult.consultation.redaction import excerpt_for, preload

    preload([comments[cid] for cid, _t in parts if cid in comments])
    return [
        (cid, excerpt_for(comments[cid], text, user) if cid in comments else None)
        for cid, text in parts
    ]


def member_comments(group: LetterGroup) -> Iterable[Comment]:
    """Every comment of the group (for answering it once), in id order, streamed."""
    return db.session.scalars(
        select(Comment)
        .join(CommentSignature, CommentSignature.comment_id == Comment.id)
        .where(CommentSignature.group_id == group.id)
        .order_by(Comment.id)
    )


def take_out(comment: Comment, *, reason: str, by: User) -> GroupRemoval:
    """Take a variant out of its group, to be answered alone; kept as a GroupRemoval and
    a record event. The master cannot be taken out (its group is defined by it)."""
    reason = (reason or "").strip()
    if not reason:
        raise ConsultError(_("Say why this comment is taken out of its group."))
    sig = db.session.get(CommentSignature, comment.id)
    if sig is None or sig.group_id is None:
        raise Conflict(_("Comment %(t)s is in no group.", t=comment.tracking))
    group = db.session.get(LetterGroup, sig.group_id)
    if group.master_comment_id == comment.id:
        raise Conflict(
            _(
                "Comment %(t)s is the group's master text; take its variants out instead.",
                t=comment.tracking,
            )
        )
    removal = GroupRemoval(
        comment_id=comment.id,
        master_comment_id=group.master_comment_id,
        reason=reason,
        user_id=by.id,
        created_at=utcnow(),
    )
    db.session.add(removal)
    # A far variant's band keys lead later copies to it: no longer, it is alone now (its
    # keys are found from its signature, so the delete reads the (version, key) index).
    db.session.execute(
        delete(LetterBand).where(
            LetterBand.version_id == sig.version_id,
            LetterBand.key.in_(nearcopies.band_keys(sig.signature)),
            LetterBand.comment_id == comment.id,
        )
    )
    sig.group_id = None
    sig.unique_json = None
    sig.similarity = None
    db.session.execute(
        update(LetterGroup).where(LetterGroup.id == group.id).values(size=LetterGroup.size - 1)
    )
    db.session.flush()
    signals.emit(
        signals.group_member_removed,
        removal,
        by,
        comment=comment.tracking,
        master=group.master.tracking,
        reason_hash=sha256(reason),
    )
    return removal


def removals(comment_ids: Sequence[int]) -> dict[int, GroupRemoval]:
    if not comment_ids:
        return {}
    return {
        r.comment_id: r
        for r in db.session.scalars(
            select(GroupRemoval).where(GroupRemoval.comment_id.in_(list(comment_ids)))
        )
    }
