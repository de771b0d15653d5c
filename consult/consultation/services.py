"""Posting comments and answering them. Services flush; the caller commits."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select

from consult import signals
from consult.accounts.models import Organisation, User
from consult.consultation.models import CHANNELS, DECISIONS, KINDS, Comment, CoSignature, Response
from consult.documents.models import Paragraph, Version
from consult.documents.services import accepting_comments
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.timeutil import utcnow

MAX_BODY = 10_000
MAX_SUGGESTION = 20_000


def get_comment(comment_id: int) -> Comment:
    c = db.session.get(Comment, comment_id)
    if c is None:
        raise NotFound(f"There is no comment {comment_id}.")
    return c


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of `quote` in `text`, found again if white space differs."""
    quote = quote.strip()
    if not quote:
        return None
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    pattern = r"\s+".join(re.escape(w) for w in quote.split())
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None


def comment_hash(c: Comment) -> str:
    return sha256(
        canonical(
            {
                "tracking": c.tracking,
                "version": c.version_id,
                "paragraph": c.paragraph_id,
                "organisation": c.organisation_id,
                "kind": c.kind,
                "body": c.body,
                "suggested_text": c.suggested_text,
                "quote": c.quote,
                "created_at": c.created_at.isoformat(),
            }
        )
    )


def post_comment(
    *,
    version: Version,
    paragraph: Paragraph | None,
    organisation: Organisation,
    kind: str,
    body: str,
    by: User,
    suggested_text: str | None = None,
    quote: str | None = None,
    channel: str = "web",
    on_behalf: bool = False,
    received_at: datetime | None = None,
) -> Comment:
    """Post a comment for `organisation`.

    On the web the author must belong to the organisation and the consultation
    must be open. The secretariat may enter (on_behalf) a comment received by
    e-mail, on paper or at a workshop, also after closing, dated when received.
    """
    body = (body or "").strip()
    suggested_text = (suggested_text or "").strip() or None
    quote = (quote or "").strip() or None
    if kind not in KINDS:
        raise ConsultError(f"Unknown kind of comment '{kind}'; use one of: {', '.join(KINDS)}.")
    if channel not in CHANNELS:
        raise ConsultError(f"Unknown channel '{channel}'; use one of: {', '.join(CHANNELS)}.")
    if not body:
        raise ConsultError("The comment is empty.")
    if len(body) > MAX_BODY:
        raise ConsultError(
            f"A comment is at most {MAX_BODY:,} characters; this one has {len(body):,}."
        )
    if kind == "suggestion" and not suggested_text:
        raise ConsultError("A suggestion needs the wording you propose.")
    if kind != "suggestion" and suggested_text:
        raise ConsultError(
            "Only a suggestion carries proposed wording; choose the kind 'suggestion'."
        )
    if suggested_text and len(suggested_text) > MAX_SUGGESTION:
        raise ConsultError(f"Proposed wording is at most {MAX_SUGGESTION:,} characters.")
    if paragraph is not None and paragraph.version_id != version.id:
        raise ConsultError("That paragraph is not in this version.")
    if quote and paragraph is None:
        raise ConsultError("A quote needs a paragraph to quote from.")
    created = utcnow()
    if on_behalf:
        if version.state not in ("consultation", "closed"):
            raise Conflict(
                f"Version {version.number} does not take comments ({version.state_label})."
            )
        if received_at is not None:
            if received_at > created:
                raise ConsultError("The date received cannot be in the future.")
            created = received_at
        if channel == "web":
            raise ConsultError(
                "A comment entered for an organisation came by e-mail, paper or workshop."
            )
    else:
        if not accepting_comments(version):
            raise Conflict(
                f"Version {version.number} is not open for comments"
                + (
                    f": the deadline was {version.closes_at:%d %B %Y %H:%M} UTC."
                    if version.closes_at
                    else "."
                )
            )
        if organisation not in by.organisations:
            raise ConsultError(
                "You can only comment for an organisation you belong to.", status=403
            )
    span = None
    if quote:
        span = find_quote(paragraph.text, quote)
        if span is None:
            raise ConsultError(
                "The quoted words are not in this paragraph; copy them from its text."
            )
        quote = paragraph.text[span[0] : span[1]]
    c = Comment(
        tracking="C-" + secrets.token_hex(5).upper(),
        version=version,
        version_id=version.id,
        paragraph=paragraph,
        paragraph_id=paragraph.id if paragraph else None,
        organisation=organisation,
        organisation_id=organisation.id,
        author=None if on_behalf else by,
        entered_by=by if on_behalf else None,
        channel=channel,
        kind=kind,
        body=body,
        suggested_text=suggested_text,
        quote=quote,
        quote_start=span[0] if span else None,
        quote_end=span[1] if span else None,
        created_at=created,
        content_hash="",
    )
    c.content_hash = comment_hash(c)
    db.session.add(c)
    db.session.flush()
    signals.emit(
        signals.comment_posted,
        c,
        by,
        tracking=c.tracking,
        content_hash=c.content_hash,
        organisation=organisation.slug,
        channel=channel,
    )
    return c


def respond(comment: Comment, *, decision: str, reason: str, by: User) -> Response:
    """The committee's answer. A second answer is a new row; the first stays readable."""
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise ConsultError(f"Unknown decision '{decision}'; use one of: {', '.join(DECISIONS)}.")
    if not reason:
        raise ConsultError("Every answer gives its reason.")
    if comment.version.state == "consultation" and accepting_comments(comment.version):
        raise Conflict("Comments are answered once the consultation has closed.")
    r = Response(
        comment=comment, decision=decision, reason=reason, responder=by, created_at=utcnow()
    )
    db.session.add(r)
    db.session.flush()
    signals.emit(
        signals.response_given,
        r,
        by,
        comment=comment.tracking,
        decision=decision,
        reason_hash=sha256(reason),
    )
    return r


def comments_for_version(version: Version) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment).where(Comment.version_id == version.id).order_by(Comment.created_at)
        )
    )


def cosign(comment: Comment, organisation: Organisation, *, by: User | None) -> CoSignature:
    """Add an organisation's support to a comment, once per organisation."""
    if organisation.id == comment.organisation_id:
        raise ConsultError("An organisation cannot co-sign its own comment.")
    if any(s.organisation_id == organisation.id for s in comment.cosignatures):
        raise Conflict(f"{organisation.name} has already co-signed this comment.")
    s = CoSignature(
        comment=comment,
        organisation=organisation,
        user_id=by.id if by else None,
        created_at=utcnow(),
    )
    db.session.add(s)
    db.session.flush()
    signals.emit(
        signals.comment_cosigned, s, by, comment=comment.tracking, organisation=organisation.slug
    )
    return s
