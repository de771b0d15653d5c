"""Comments listed page by page: a paragraph's, and a version's in the order of its text.

A page costs the same with a thousand comments or a million: the counts come from
aggregate queries over the (version_id, paragraph_id) index, the page's comments are
found with LIMIT/OFFSET inside each paragraph over the (paragraph_id, created_at, id)
index, and only the page's comments are loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, literal, select, union_all
from sqlalchemy.orm import aliased

from consult.consultation.models import Comment, CommentWithdrawal, ModerationAction, Response
from consult.documents.models import Paragraph, Version
from consult.extensions import db
from consult.paging import page_count

#: Comments on one page of a paragraph. Each is shown whole, with its answer: ten make a
#: page of about 25 KB, light on a slow link, and the page's cost follows them (a page
#: of a paragraph with three comments and one with a thousand differ by seven comments
#: of work, not seventeen).
PARAGRAPH_PAGE = 10
#: Comments on one page of a version's list.
VERSION_PAGE = 50


@dataclass
class Page:
    comments: Sequence[Comment]
    number: int  # from 1
    size: int
    total: int  # comments in the whole list

    @property
    def first(self) -> int:
        """The place of the page's first comment in the list, from 1 (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.comments else 0

    @property
    def last(self) -> int:
        return self.first + len(self.comments) - 1 if self.comments else 0

    @property
    def pages(self) -> int:
        return page_count(self.total, self.size)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_number(value: str | None) -> int:
    """The page asked for in the address: a whole number from 1 (anything else: 1)."""
    try:
        n = int(value or 1)
    except ValueError:
        return 1
    return n if 1 <= n <= 10**7 else 1


def hidden() -> object:
    """A comment whose latest moderation (of the comment itself) hides it."""
    m, later = aliased(ModerationAction), aliased(ModerationAction)
    return exists().where(
        m.comment_id == Comment.id,
        m.reply_id.is_(None),
        m.action == "hide",
        # Correlated with m (naming Comment here would add a second, uncorrelated comment
        # table: any later moderation of any comment would then show this one again).
        ~exists().where(
            later.comment_id == m.comment_id, later.reply_id.is_(None), later.id > m.id
        ),
    )


def waiting() -> object:
    """A comment still waiting for an answer: none yet, not withdrawn, not hidden."""
    return and_(
        ~exists().where(Response.comment_id == Comment.id),
        ~exists().where(CommentWithdrawal.comment_id == Comment.id),
        ~hidden(),
    )


def paragraph_page(p: Paragraph, number: int, *options) -> Page:
    """The paragraph's comments, earliest first, page `number`."""
    from consult.tracing import counters  # a later layer, kept as comments arrive

    total = counters.per_paragraph(p.version_id).get(p.id, 0)
    number = min(number, page_count(total, PARAGRAPH_PAGE))
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.paragraph_id == p.id)
        .options(*options)
        .order_by(Comment.created_at, Comment.id)
        .offset((number - 1) * PARAGRAPH_PAGE)
        .limit(PARAGRAPH_PAGE)
    ).all()
    return Page(comments, number, PARAGRAPH_PAGE, total)


def version_page(v: Version, number: int, *options, only_waiting: bool = False) -> tuple[Page, int]:
    """The version's comments in the order of its text (those on the version as a whole
    first), earliest first within a paragraph, page `number`; with `only_waiting`, those
    still waiting for an answer. Also how many are waiting in all. Four queries."""
    # Kept as comments arrive (tracing.counters, a later layer: imported here).
    from consult.tracing import counters

    waiting_counts = counters.waiting_per_paragraph(v.id)
    counts = waiting_counts if only_waiting else counters.per_paragraph(v.id)
    n_waiting = sum(waiting_counts.values())
    where = [Comment.version_id == v.id]
    if only_waiting:
        where.append(waiting())
    order = [
        None,
        *(
            pid
            for (pid,) in db.session.execute(
                select(Paragraph.id)
                .where(Paragraph.version_id == v.id)
                .order_by(Paragraph.position)
            )
        ),
    ]
    total = sum(counts.values())
    number = min(number, page_count(total, VERSION_PAGE))
    # Which paragraphs the page spans, and where in each it starts.
    skip, room, parts = (number - 1) * VERSION_PAGE, VERSION_PAGE, []
    for pid in order:
        n = counts.get(pid, 0)
        if skip >= n:
            skip -= n
            continue
        take = min(room, n - skip)
        parts.append((pid, skip, take))
        room -= take
        skip = 0
        if not room:
            break
    comments: list[Comment] = []
    if parts:
        pieces = [
            select(inner.c.id, literal(k).label("part"), inner.c.created_at)
            for k, inner in enumerate(
                select(Comment.id, Comment.created_at)
                .where(
                    *where,
                    Comment.paragraph_id == pid
                    if pid is not None
                    else Comment.paragraph_id.is_(None),
                )
                .order_by(Comment.created_at, Comment.id)
                .offset(skip)
                .limit(take)
                .subquery()
                for pid, skip, take in parts
            )
        ]
        both = union_all(*pieces).subquery() if len(pieces) > 1 else pieces[0].subquery()
        ids = [
            cid
            for cid, *_ in db.session.execute(
                select(both.c.id, both.c.part, both.c.created_at).order_by(
                    both.c.part, both.c.created_at, both.c.id
                )
            )
        ]
        loaded = {
            c.id: c
            for c in db.session.scalars(
                select(Comment).where(Comment.id.in_(ids)).options(*options)
            )
        }
        comments = [loaded[cid] for cid in ids]
    return Page(comments, number, VERSION_PAGE, total), n_waiting
