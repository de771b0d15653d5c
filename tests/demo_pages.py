"""The key pages of the demo as each role sees them: walked by the accessibility test
(every page at two widths, axe-core) and by the translation test (every page in every
language)."""

from __future__ import annotations

from sqlalchemy import select

from consult.accounts.models import Organisation
from consult.consultation.models import Comment
from consult.documents.models import Document
from consult.extensions import db

#: Who walks, and the account they sign in with (None: signed out).
ROLES = {
    "visitor": None,
    "cso": "sokha.chan@example.org",
    "secretariat": "nurul.hashim@example.org",
    "chair": "maria.lim@example.org",
}


def pages_for(role: str) -> list[str]:
    """The key pages of the demo for a role: what each would open in a working day."""
    doc = db.session.scalar(select(Document).order_by(Document.id).limit(1))
    slug = doc.slug
    n = max(v.number for v in doc.versions)
    commented = db.session.scalar(
        select(Comment).where(Comment.version_id == doc.versions[0].id).limit(1)
    )
    org = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    para = commented.paragraph_id if commented.paragraph_id else doc.versions[0].paragraphs[1].id
    pages = [
        "/",
        f"/documents/{slug}",
        *[f"/documents/{slug}/versions/{v.number}" for v in doc.versions],
        f"/paragraphs/{para}",
        f"/comments/{commented.id}",
        f"/documents/{slug}/versions/1/comments",
        f"/documents/{slug}/compare/1/{n}",
        f"/documents/{slug}/compare/1/{n}/annotated",
        f"/documents/{slug}/compare",
        f"/documents/{slug}/versions/1/report",
        f"/documents/{slug}/versions/{n}/report",
        f"/documents/{slug}/versions/{n}/provenance",
        "/organisations",
        f"/organisations/{org.slug}",
        f"/organisations/{org.slug}/accountability",
        "/search?q=parliament",
        "/record/",
        f"/record/receipts/{commented.tracking}",
    ]
    if role == "visitor":
        pages += ["/sign-in", "/sign-up", "/forgot-password"]
    else:
        pages += ["/account"]
    if role == "cso":
        mine = db.session.scalar(select(Organisation).where(Organisation.slug == "cchr"))
        if mine is not None:
            pages.append(f"/organisations/{mine.slug}/input")
    if role in ("secretariat", "chair"):
        pages += [
            f"/documents/{slug}/versions/{n}/draft",
            f"/documents/{slug}/committee",
            f"/documents/{slug}/versions/1/suggestions",
            "/moderation",
            "/intake",
            "/documents/new",
        ]
    return pages
