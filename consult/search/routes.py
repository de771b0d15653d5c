"""Pages of the search part."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.consultation.models import Comment
from consult.documents.models import Paragraph, Version
from consult.extensions import db
from consult.search import backend
from consult.web import page_number

bp = Blueprint("search", __name__)

PER_PAGE = 20


@dataclass
class Found:
    """One hit, described for the page."""

    kind: str  # "Paragraph" or the comment's kind
    url: str
    document: str
    version: Version
    paragraph_number: str | None
    snippet: Markup
    organisation: str = ""
    decision: str = ""
    decision_code: str = ""
    tracking: str = ""


def _paragraphs(ids: list[int]) -> dict[int, Paragraph]:
    if not ids:
        return {}
    query = (
        select(Paragraph)
        .where(Paragraph.id.in_(ids))
        .options(selectinload(Paragraph.version).selectinload(Version.document))
    )
    return {p.id: p for p in db.session.scalars(query)}


def _comments(ids: list[int]) -> dict[int, Comment]:
    if not ids:
        return {}
    query = (
        select(Comment)
        .where(Comment.id.in_(ids))
        .options(
            selectinload(Comment.organisation),
            selectinload(Comment.responses),
            selectinload(Comment.paragraph),
            selectinload(Comment.version).selectinload(Version.document),
        )
    )
    return {c.id: c for c in db.session.scalars(query)}


def _describe(hits) -> list[Found]:
    """Load what the hits point at in two queries; hits whose object is gone are left out."""
    paragraphs = _paragraphs([h.object_id for h in hits if h.doc_type == "paragraph"])
    comments = _comments([h.object_id for h in hits if h.doc_type == "comment"])
    found = []
    for h in hits:
        # The backend builds snippets from escaped text with <mark> added: safe HTML.
        snippet = Markup(h.snippet)  # noqa: S704
        p = paragraphs.get(h.object_id) if h.doc_type == "paragraph" else None
        c = comments.get(h.object_id) if h.doc_type == "comment" else None
        if p is not None and p.version.state != "draft":  # drafts are never shown publicly
            url = url_for("consultation.paragraph", paragraph_id=p.id)
            found.append(
                Found("Paragraph", url, p.version.document.title, p.version, p.number, snippet)
            )
        elif c is not None:
            r = c.response
            found.append(
                Found(
                    c.kind_label,
                    url_for("consultation.comment", comment_id=c.id),
                    c.version.document.title,
                    c.version,
                    c.paragraph.number if c.paragraph else None,
                    snippet,
                    organisation=c.organisation.name,
                    decision=r.decision_label if r else "Not answered yet",
                    decision_code=r.decision if r else "none",
                    tracking=c.tracking,
                )
            )
    return found


@bp.get("/search")
def search():
    q = request.args.get("q", "").strip()
    page = page_number()
    if not q:
        return render_template("search/search.html", q=q, results=None, found=[], pages=0, page=1)
    results = backend.get(current_app).search(q, limit=PER_PAGE, page=page)
    pages = max(1, math.ceil(results.total / PER_PAGE))
    if page > pages:
        return redirect(url_for("search.search", q=q, page=pages))
    return render_template(
        "search/search.html",
        q=q,
        results=results,
        found=_describe(results.hits),
        pages=pages,
        page=page,
    )
