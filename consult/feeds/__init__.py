"""Atom feeds (RFC 4287): a document's new versions and the committee's responses,
for feed readers and for organisations that watch a consultation without an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts import policy
from consult.consultation.models import Comment, Response
from consult.documents.closing import closing_sentence
from consult.documents.routes import visible_document
from consult.extensions import db

bp = Blueprint("feeds", __name__)

#: The newest entries a feed carries; readers keep what they saw before.
MAX_ENTRIES = 100


@dataclass
class Entry:
    id: str
    title: str
    updated: datetime
    link: str
    author: str
    summary: str
    category: str


def document_entries(doc) -> list[Entry]:
    versions = [
        v
        for v in doc.versions
        if v.published_at is not None and policy.can(current_user, "version.view", v)
    ]
    entries = [
        Entry(
            id=url_for("documents.version", slug=doc.slug, number=v.number, _external=True),
            title=_("%(title)s published (%(lower)s)", title=v.title, lower=v.state_label.lower()),
            updated=v.published_at,
            link=url_for("documents.version", slug=doc.slug, number=v.number, _external=True),
            author=doc.committee or "The committee",
            # Open until the deadline, or when comments actually closed (early or not).
            summary="\n\n".join(x for x in (v.note or "", closing_sentence(v)) if x),
            category="version",
        )
        for v in versions
    ]
    if versions:
        rows = db.session.scalars(
            select(Response)
            .join(Comment, Comment.id == Response.comment_id)
            .where(Comment.version_id.in_([v.id for v in versions]))
            .options(
                selectinload(Response.comment).selectinload(Comment.organisation),
                selectinload(Response.responder),
            )
            .order_by(Response.created_at.desc(), Response.id.desc())
            .limit(MAX_ENTRIES)
        )
        for r in rows:
            c = r.comment
            link = url_for("consultation.comment", comment_id=c.id, _external=True)
            entries.append(
                Entry(
                    id=f"{link}#response-{r.id}",
                    title=_(
                        "%(decision_label)s: %(tracking)s by %(name)s",
                        decision_label=r.decision_label,
                        tracking=c.tracking,
                        name=c.organisation.name,
                    ),
                    updated=r.created_at,
                    link=link,
                    author=r.responder.name or doc.committee or "The committee",
                    summary=r.reason,
                    category="response",
                )
            )
    entries.sort(key=lambda e: e.updated, reverse=True)
    return entries[:MAX_ENTRIES]


@bp.get("/documents/<slug>/feed.atom")
def document_feed(slug: str):
    doc = visible_document(slug)
    entries = document_entries(doc)
    updated = entries[0].updated if entries else doc.created_at
    body = render_template("feeds/document.xml", doc=doc, entries=entries, updated=updated)
    resp = make_response(body)
    resp.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return resp
