"""Text derived from a comment, computed once and stored: the suggested wording as a
word diff against its paragraph.

A suggestion's text never changes (an edit is a new CommentRevision) and neither does
the paragraph of a published version, so the diff is made when the text is written
(a flush that adds a Comment or a CommentRevision) and read by every page after.
Rows written without the ORM (bulk imports, rows from before the column) have none:
`stored_diff` then computes it, and `fill_missing` stores it for all of them.
"""

from __future__ import annotations

import json

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session

from consult.consultation.models import Comment, CommentRevision
from consult.documents.models import Paragraph
from consult.tracing.diff import word_diff

Diff = list[tuple[str, str]]


def suggestion_diff(
    paragraph_text: str | None, suggested: str | None, start: int | None, end: int | None
) -> Diff | None:
    """The suggested wording as a word diff against the paragraph; with a quoted span,
    the wording replaces only the span, so the diff shows the paragraph as it would
    read. Without a paragraph (a comment on the whole version) all of it is inserted."""
    if not suggested:
        return None
    if paragraph_text is None:
        return [("insert", suggested)]
    if start is not None and end is not None:
        proposed = paragraph_text[:start] + suggested + paragraph_text[end:]
    else:
        proposed = suggested
    return word_diff(paragraph_text, proposed)


def _dump(diff: Diff | None) -> str | None:
    return None if diff is None else json.dumps(diff, ensure_ascii=False, separators=(",", ":"))


def kept_diff(text: Comment | CommentRevision) -> Diff | None:
    """The diff stored for a comment's text (the comment as posted, or one of its
    revisions), or None when it has none."""
    if not text.suggested_text or not text.suggested_diff:
        return None
    return [(op, part) for op, part in json.loads(text.suggested_diff)]


def stored_diff(text: Comment | CommentRevision, paragraph_text: str | None) -> Diff | None:
    """The diff of a comment's text: the stored one, else computed now (not stored:
    pages never write)."""
    if not text.suggested_text:
        return None
    return kept_diff(text) or suggestion_diff(
        paragraph_text, text.suggested_text, text.quote_start, text.quote_end
    )


@event.listens_for(Session, "before_flush")
def _diff_new_texts(session: Session, flush_context, instances) -> None:
    for obj in session.new:
        if not isinstance(obj, Comment | CommentRevision) or not obj.suggested_text:
            continue
        if obj.suggested_diff is not None:
            continue
        comment = obj if isinstance(obj, Comment) else obj.comment
        if comment is None and isinstance(obj, CommentRevision) and obj.comment_id:
            comment = session.get(Comment, obj.comment_id)
        if comment is None:
            continue
        paragraph = comment.paragraph
        if paragraph is None and comment.paragraph_id is not None:
            paragraph = session.get(Paragraph, comment.paragraph_id)
        obj.suggested_diff = _dump(
            suggestion_diff(
                paragraph.text if paragraph is not None else None,
                obj.suggested_text,
                obj.quote_start,
                obj.quote_end,
            )
        )


def fill_missing(conn, batch: int = 2000) -> int:
    """Store the diff of every text that has suggested wording and no stored diff (rows
    from before the column, or written in bulk); returns how many. Works on a Core
    connection (the migration's, or an engine's)."""
    comment, revision, paragraph = Comment.__table__, CommentRevision.__table__, Paragraph.__table__
    done = 0
    for table in (comment, revision):
        query = select(
            table.c.id,
            table.c.suggested_text,
            table.c.quote_start,
            table.c.quote_end,
            paragraph.c.text,
        )
        if table is comment:
            query = query.outerjoin(paragraph, paragraph.c.id == comment.c.paragraph_id)
        else:
            query = query.join(comment, comment.c.id == revision.c.comment_id).outerjoin(
                paragraph, paragraph.c.id == comment.c.paragraph_id
            )
        last = 0
        while True:
            rows = conn.execute(
                query.where(
                    table.c.id > last,
                    table.c.suggested_text.is_not(None),
                    table.c.suggested_diff.is_(None),
                )
                .order_by(table.c.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("rid"))
                .values(suggested_diff=bindparam("diff")),
                [
                    {"rid": rid, "diff": _dump(suggestion_diff(text, suggested, start, end))}
                    for rid, suggested, start, end, text in rows
                ],
            )
            done += len(rows)
            last = rows[-1][0]
    return done
