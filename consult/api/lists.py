"""A version's comments for machines, page by page with a keyset (issue 18): each page
starts after the last id of the one before (`?after=<id>&limit=`), so the thousandth
page costs what the first does (an offset would read every row before it)."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.api.contract import INT32_MAX, Count, Query, operation
from consult.api.routes import _actor, _document, _version, bp
from consult.api.schemas import Answer, DateTime, Links
from consult.api.serializers import iso
from consult.consultation.models import Comment
from consult.extensions import db
from consult.tracing import counters

#: The most comments one page gives.
MAX_LIMIT = 200


class CommentsQuery(Query):
    after: Count = Field(
        0, description="Comments with an id above this one: the `next` link carries it."
    )
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = Field(
        50, description=f"How many comments, at most {MAX_LIMIT}."
    )


class CommentListItem(Answer):
    id: int
    tracking: str
    kind: str
    organisation: str | None = Field(description="The organisation's slug; None: an individual.")
    paragraph: int | None = Field(description="The paragraph's id; None: the whole version.")
    created_at: DateTime
    withdrawn: bool
    hidden: bool
    links: Links


class CommentList(Answer):
    count: int = Field(description="Comments on the version in all (every page).")
    comments: list[CommentListItem]
    links: Links = Field(description="`next`: the following page, absent on the last.")


@bp.get("/documents/<slug>/versions/<int:number>/comments")
@operation(
    summary="A version's comments, oldest first, page by page (?after=<id>&limit=)",
    tag="comments",
    query=CommentsQuery,
    answer=CommentList,
    errors=(404,),
)
def list_version_comments(slug: str, number: int, query: CommentsQuery) -> ResponseReturnValue:
    """Each comment in brief, with the address of the whole of it (GET /comments/<id>)."""
    user = _actor()
    doc = _document(slug, user)
    v = _version(doc, number, user)
    rows = db.session.scalars(
        select(Comment)
        .where(Comment.version_id == v.id, Comment.id > query.after)
        .order_by(Comment.id)
        .limit(query.limit + 1)
        .options(
            selectinload(Comment.organisation),
            selectinload(Comment.withdrawal),
            selectinload(Comment.moderation),
        )
    ).all()
    page, more = rows[: query.limit], len(rows) > query.limit
    links = {"version": url_for("api.version", slug=doc.slug, number=v.number)}
    if more and page[-1].id < INT32_MAX:
        links["next"] = url_for(
            "api.list_version_comments",
            slug=doc.slug,
            number=v.number,
            after=page[-1].id,
            limit=query.limit,
        )
    return jsonify(
        count=counters.per_version([v.id]).get(v.id, 0),
        comments=[
            {
                "id": c.id,
                "tracking": c.tracking,
                "kind": c.kind,
                "organisation": c.organisation.slug if c.organisation else None,
                "paragraph": c.paragraph_id,
                "created_at": iso(c.created_at),
                "withdrawn": c.withdrawal is not None,
                "hidden": c.is_hidden,
                "links": {"self": url_for("api.comment", comment_id=c.id)},
            }
            for c in page
        ],
        links=links,
    )
