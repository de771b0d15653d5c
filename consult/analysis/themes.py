"""Themes: a document's own list of labels, given to comments by analysts and the
committee, counted per version and used as a filter. Services flush; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.analysis.models import CommentTheme, Theme
from consult.consultation.models import Comment
from consult.documents.models import Document, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.timeutil import utcnow

MAX_NAME = 80
MAX_DESCRIPTION = 2_000
#: A theme's comments per page.
PAGE = 50


def key(name: str) -> str:
    """The form of a name that `theme:NAME` matches: case, spaces, hyphens and
    underscores folded ("Language access" = language-access = LANGUAGE_ACCESS)."""
    return re.sub(r"[\s_\-]+", "-", (name or "").strip().casefold())


def _checked(name: str, description: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    description = (description or "").strip()
    if not name:
        raise ConsultError(_("A theme needs a name."))
    if len(name) > MAX_NAME:
        raise ConsultError(_("A theme's name is at most %(n)s characters.", n=MAX_NAME))
    if len(description) > MAX_DESCRIPTION:
        raise ConsultError(
            _("A theme's description is at most %(n)s characters.", n=f"{MAX_DESCRIPTION:,}")
        )
    return name, description


def _clash(doc: Document, name: str, other_than: int | None = None) -> None:
    for t in themes_of(doc, retired=True):
        if key(t.name) == key(name) and t.id != other_than:
            raise Conflict(_("This document already has the theme “%(name)s”.", name=t.name))


def themes_of(doc: Document, *, retired: bool = False) -> list[Theme]:
    q = select(Theme).where(Theme.document_id == doc.id).order_by(Theme.name, Theme.id)
    if not retired:
        q = q.where(Theme.retired.is_(False))
    return list(db.session.scalars(q))


def find(doc: Document, name: str) -> Theme | None:
    """The document's theme called `name` (compared as `key` does), retired ones too."""
    k = key(name)
    return next((t for t in themes_of(doc, retired=True) if key(t.name) == k), None)


def get(doc: Document, theme_id: int | None) -> Theme:
    t = db.session.get(Theme, theme_id) if theme_id else None
    if t is None or t.document_id != doc.id:
        raise NotFound(_("This document has no such theme."))
    return t


def create(doc: Document, name: str, description: str = "", *, by: User) -> Theme:
    name, description = _checked(name, description)
    _clash(doc, name)
    t = Theme(
        document_id=doc.id,
        name=name,
        description=description,
        created_by_id=by.id,
        created_at=utcnow(),
    )
    db.session.add(t)
    db.session.flush()
    return t


def edit(theme: Theme, name: str, description: str, *, retired: bool = False) -> Theme:
    name, description = _checked(name, description)
    _clash(theme.document, name, other_than=theme.id)
    theme.name, theme.description, theme.retired = name, description, bool(retired)
    db.session.flush()
    return theme


def tag(comment: Comment, theme: Theme, *, by: User) -> bool:
    """Give the comment the theme; False when it had it already."""
    if theme.document_id != comment.version.document_id:
        raise ConsultError(_("That theme belongs to another document."))
    if theme.retired:
        raise Conflict(_("The theme “%(name)s” is retired.", name=theme.name))
    have = db.session.scalar(
        select(CommentTheme.id).where(
            CommentTheme.comment_id == comment.id, CommentTheme.theme_id == theme.id
        )
    )
    if have is not None:
        return False
    db.session.add(
        CommentTheme(comment_id=comment.id, theme_id=theme.id, user_id=by.id, created_at=utcnow())
    )
    db.session.flush()
    return True


def tag_many(comment_ids: Iterable[int], theme: Theme, *, by: User) -> int:
    """Give the theme to many comments of its document at once (suggested themes);
    returns how many were tagged anew."""
    ids = sorted(set(comment_ids))
    have = set()
    for start in range(0, len(ids), 500):
        have |= set(
            db.session.scalars(
                select(CommentTheme.comment_id).where(
                    CommentTheme.theme_id == theme.id,
                    CommentTheme.comment_id.in_(ids[start : start + 500]),
                )
            )
        )
    now = utcnow()
    new = [cid for cid in ids if cid not in have]
    db.session.add_all(
        CommentTheme(comment_id=cid, theme_id=theme.id, user_id=by.id, created_at=now)
        for cid in new
    )
    db.session.flush()
    return len(new)


def untag(comment: Comment, theme: Theme) -> bool:
    row = db.session.scalar(
        select(CommentTheme).where(
            CommentTheme.comment_id == comment.id, CommentTheme.theme_id == theme.id
        )
    )
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def themes_for(comment_ids: Sequence[int]) -> dict[int, list[Theme]]:
    """Each comment's themes, by name (one query for the page's comments)."""
    if not comment_ids:
        return {}
    out: dict[int, list[Theme]] = {}
    for cid, t in db.session.execute(
        select(CommentTheme.comment_id, Theme)
        .join(Theme, Theme.id == CommentTheme.theme_id)
        .where(CommentTheme.comment_id.in_(list(comment_ids)))
        .order_by(Theme.name)
    ).all():
        out.setdefault(cid, []).append(t)
    return out


def counts(version: Version) -> list[tuple[Theme, int]]:
    """Each theme of the version's document with the number of the version's comments
    tagged with it (one aggregate query), most used first."""
    n = (
        select(CommentTheme.theme_id, func.count(CommentTheme.id).label("n"))
        .join(Comment, Comment.id == CommentTheme.comment_id)
        .where(Comment.version_id == version.id)
        .group_by(CommentTheme.theme_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Theme, func.coalesce(n.c.n, 0))
        .outerjoin(n, n.c.theme_id == Theme.id)
        .where(Theme.document_id == version.document_id)
        .order_by(func.coalesce(n.c.n, 0).desc(), Theme.name)
    ).all()
    return [(t, int(c)) for t, c in rows if c or not t.retired]


def comments_with(version: Version, theme: Theme, page: int = 1, size: int = PAGE):
    """(the page's comments, how many in all) of the version tagged with the theme."""
    where = (
        Comment.version_id == version.id,
        Comment.id.in_(select(CommentTheme.comment_id).where(CommentTheme.theme_id == theme.id)),
    )
    total = db.session.scalar(select(func.count(Comment.id)).where(*where)) or 0
    comments = db.session.scalars(
        select(Comment).where(*where).order_by(Comment.id).limit(size).offset((page - 1) * size)
    ).all()
    return list(comments), total
