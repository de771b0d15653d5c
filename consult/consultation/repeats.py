"""An exact repeat: the same words sent twice by accident (a double click, a second tab).

Before a comment is stored, the page asks whether the same organisation already sent
exactly this text (body, proposed wording and quote) on the same paragraph of the same
version, and if so warns and asks to confirm. One query over the
(version_id, organisation_id) index, at most one row read.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from consult.consultation.models import Comment, CommentWithdrawal
from consult.extensions import db


def exact_repeat(
    *,
    version_id: int,
    paragraph_id: int | None,
    organisation_id: int,
    body: str,
    suggested_text: str | None,
    quote: str | None,
) -> Comment | None:
    """The organisation's earlier standing comment with exactly this text, or None."""
    same_paragraph = (
        Comment.paragraph_id.is_(None)
        if paragraph_id is None
        else Comment.paragraph_id == paragraph_id
    )
    same_wording = (
        Comment.suggested_text.is_(None)
        if suggested_text is None
        else Comment.suggested_text == suggested_text
    )
    same_quote = Comment.quote.is_(None) if quote is None else Comment.quote == quote
    return db.session.scalar(
        select(Comment)
        .where(
            Comment.version_id == version_id,
            Comment.organisation_id == organisation_id,
            same_paragraph,
            Comment.body == body,
            same_wording,
            same_quote,
            ~exists().where(CommentWithdrawal.comment_id == Comment.id),
        )
        .order_by(Comment.id.desc())
        .limit(1)
    )
