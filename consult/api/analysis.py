"""API v1: a version's form-letter groups and a document's themes (consult.analysis)."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts import policy
from consult.analysis import grouping, themes
from consult.api.contract import Query, operation
from consult.api.routes import _actor, _document, _version, bp
from consult.api.schemas import Answer, Links
from consult.consultation.models import Comment
from consult.extensions import db
from consult.paging import page_count

#: Members listed in a group's entry; the rest are behind its `members_next` link.
MEMBERS_SHOWN = 100


class GroupsQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = Field(1, description="Page number from 1.")
    members_page: Annotated[int, Field(ge=1, le=100_000)] = Field(
        1, description="Page of each group's members and unique parts (100 a page)."
    )

    error_codes = {"page": "invalid_page"}


class UniquePart(Answer):
    comment: int
    text: str


class Group(Answer):
    """Comments that are copies or near-copies of one letter."""

    id: int
    size: int = Field(description="Comments in the group, the master included.")
    master: int = Field(description="The comment whose text is the group's master text.")
    master_text: str | None = Field(description="Null while moderators hide the master.")
    members: list[int] = Field(description="Comment ids, oldest first, 100 a page.")
    unique_parts: list[UniquePart] = Field(
        description="What this page's variants add to the master: their sentences "
        "not in it (greetings and signatures left out), 100 a page as members."
    )
    links: Links


class GroupList(Answer):
    document: str
    version: int
    page: int
    pages: int
    total: int = Field(description="Groups of the version (of two comments or more).")
    comments_grouped: int
    groups: list[Group]
    links: Links


class Theme(Answer):
    id: int
    name: str
    description: str
    retired: bool
    comments: int | None = Field(
        description="Comments of the latest public version tagged with it."
    )


class ThemeList(Answer):
    document: str
    version: int | None
    themes: list[Theme]


def _group(g, members_page: int, parts, comments: dict, user) -> dict:
    master = comments[g.master_comment_id]
    members = grouping.members(g, members_page, MEMBERS_SHOWN)
    slug, number = g.version.document.slug, g.version.number
    links = {"page": url_for("analysis.group", group_id=g.id)}
    if members_page * MEMBERS_SHOWN < g.size:
        links["members_next"] = url_for(
            "api.version_groups", slug=slug, number=number, members_page=members_page + 1
        )
    return {
        "id": g.id,
        "size": g.size,
        "master": master.id,
        # As the caller may read them: personal data masked, a held comment's left out.
        "master_text": None if master.is_hidden else grouping.master_text(g, user),
        "members": members,
        "unique_parts": [
            {"comment": cid, "text": text}
            for cid, text in grouping.shown_parts(parts, comments, user)
            if text is not None
        ],
        "links": links,
    }


@bp.get("/documents/<slug>/versions/<int:number>/groups")
@operation(
    summary="A version's form letters: groups of near-copies, largest first",
    tag="analysis",
    query=GroupsQuery,
    answer=GroupList,
    errors=(404,),
)
def version_groups(slug: str, number: int, query: GroupsQuery) -> ResponseReturnValue:
    user = _actor()
    doc = _document(slug, user)
    v = _version(doc, number, user)
    groups, total = grouping.groups_page(v, query.page)
    parts = {g.id: grouping.unique_parts(g, query.members_page, MEMBERS_SHOWN) for g in groups}
    # The page's masters and variants with their moderation and revisions (which text is
    # current decides its public copy): three queries, not three per group.
    ids = [g.master_comment_id for g in groups] + [c for p in parts.values() for c, _t in p]
    comments = {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(ids))
            .options(selectinload(Comment.moderation), selectinload(Comment.revisions))
        )
    }
    _n, members = grouping.totals(v)
    pages = page_count(total, grouping.GROUPS_PAGE)
    links = {"self": url_for("api.version_groups", slug=doc.slug, number=v.number, page=query.page)}
    if query.page < pages:
        links["next"] = url_for(
            "api.version_groups", slug=doc.slug, number=v.number, page=query.page + 1
        )
    return jsonify(
        document=doc.slug,
        version=v.number,
        page=query.page,
        pages=pages,
        total=total,
        comments_grouped=members,
        groups=[_group(g, query.members_page, parts[g.id], comments, user) for g in groups],
        links=links,
    )


@bp.get("/documents/<slug>/themes")
@operation(
    summary="A document's themes, with their counts on its latest public version",
    tag="analysis",
    answer=ThemeList,
    errors=(404,),
)
def document_themes(slug: str) -> ResponseReturnValue:
    user = _actor()
    doc = _document(slug, user)
    seen = [v for v in doc.versions if policy.can(user, "version.view", v)]
    v = seen[-1] if seen else None
    rows = themes.counts(v) if v is not None else [(t, None) for t in themes.themes_of(doc)]
    return jsonify(
        document=doc.slug,
        version=v.number if v is not None else None,
        themes=[
            {
                "id": t.id,
                "name": t.name,
                "description": t.description,
                "retired": t.retired,
                "comments": n,
            }
            for t, n in rows
        ],
    )
