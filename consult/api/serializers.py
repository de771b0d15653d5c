"""Presenting domain objects as JSON-able dicts for API v1.

Plain functions, one per shape; they read what they are given and never query
beyond it, so the routes decide (and bound) what is loaded. Times are ISO 8601
in UTC; links are paths on this server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import url_for

from consult import jobs
from consult.consultation.models import Comment, Response
from consult.documents.models import Document, Paragraph, Version
from consult.documents.services import accepting_comments
from consult.search.results import Hit, Results
from consult.tracing.services import ComparedParagraph

JSON = dict[str, Any]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def version_summary(version: Version) -> JSON:
    return {
        "number": version.number,
        "label": version.label,
        "state": version.state,
        "links": {
            "self": url_for("api.version", slug=version.document.slug, number=version.number)
        },
    }


def document_summary(document: Document, versions: Sequence[Version]) -> JSON:
    """A document in the list, with the versions the reader may see."""
    return {
        "slug": document.slug,
        "title": document.title,
        "kind": document.kind,
        "committee": document.committee,
        "versions": [version_summary(v) for v in versions],
        "links": {"self": url_for("api.document", slug=document.slug)},
    }


def _version_fields(version: Version) -> JSON:
    return {
        "number": version.number,
        "label": version.label,
        "state": version.state,
        "state_label": version.state_label,
        "note": version.note,
        "published_at": iso(version.published_at),
        "closes_at": iso(version.closes_at),
        "closed_at": iso(version.closed_at),
        "finalized_at": iso(version.finalized_at),
        "accepting_comments": accepting_comments(version),
        "content_hash": version.content_hash,
    }


def document_detail(
    document: Document,
    versions: Sequence[Version],
    paragraph_counts: dict[int, int],
    comment_counts: dict[int, int],
) -> JSON:
    return {
        "slug": document.slug,
        "title": document.title,
        "kind": document.kind,
        "committee": document.committee,
        "timezone": document.timezone,
        "created_at": iso(document.created_at),
        "versions": [
            {
                **_version_fields(v),
                "paragraph_count": paragraph_counts.get(v.id, 0),
                "comment_count": comment_counts.get(v.id, 0),
                "links": {"self": url_for("api.version", slug=document.slug, number=v.number)},
            }
            for v in versions
        ],
        "links": {"self": url_for("api.document", slug=document.slug)},
    }


def paragraph(p: Paragraph, comment_count: int) -> JSON:
    return {
        "id": p.id,
        "number": p.number,
        "kind": p.kind,
        "level": p.level,
        "lineage": p.lineage,
        "text": p.text,
        "source": p.source,
        "comment_count": comment_count,
        "links": {"comments": url_for("api.paragraph_comments", paragraph_id=p.id)},
    }


def version_detail(version: Version, comment_counts: dict[int | None, int]) -> JSON:
    """The version with its paragraphs; `comment_counts` maps paragraph id (None for
    the version as a whole) to its number of comments."""
    slug = version.document.slug
    return {
        "document": slug,
        **_version_fields(version),
        "comment_count": sum(comment_counts.values()),
        "version_comment_count": comment_counts.get(None, 0),
        "paragraphs": [paragraph(p, comment_counts.get(p.id, 0)) for p in version.paragraphs],
        "links": {
            "self": url_for("api.version", slug=slug, number=version.number),
            "document": url_for("api.document", slug=slug),
            "comments": url_for("api.version_comments", slug=slug, number=version.number),
        },
    }


def paragraph_ref(p: Paragraph | None) -> JSON | None:
    return {"id": p.id, "number": p.number} if p is not None else None


def _organisation_ref(o) -> JSON:
    return {"slug": o.slug, "name": o.name}


def _quote(text) -> JSON | None:
    """The quoted span of a comment's text (the Comment or a CommentRevision)."""
    if not text.quote:
        return None
    return {"text": text.quote, "start": text.quote_start, "end": text.quote_end}


def _dated_reason(row) -> JSON | None:
    """When and why, for a withdrawal or a moderators' decision; None when there is none."""
    return {"at": iso(row.created_at), "reason": row.reason} if row is not None else None


def comparison(
    document: Document,
    old: Version,
    new: Version,
    rows: Sequence[ComparedParagraph],
    counts: dict[str, int],
) -> JSON:
    """A comparison: `counts` from tracing.summary.count_changes, and one row per
    paragraph or per group of paragraphs joined by a split or a merge. `olds` and `news`
    list a row's paragraphs; `old` and `new` (the first of each) stay for clients
    written before groups."""
    return {
        "document": document.slug,
        "from": {"number": old.number, "label": old.label, "state": old.state},
        "to": {"number": new.number, "label": new.label, "state": new.state},
        "summary": counts,
        "paragraphs": [
            {
                "relation": r.relation,
                "label": r.label,
                "old": paragraph_ref(r.old),
                "new": paragraph_ref(r.new),
                "olds": [paragraph_ref(p) for p in r.olds],
                "news": [paragraph_ref(p) for p in r.news],
                "diff": [[op, text] for op, text in r.diff],
            }
            for r in rows
        ],
    }


def response(r: Response) -> JSON:
    return {
        "id": r.id,
        "decision": r.decision,
        "decision_label": r.decision_label,
        "reason": r.reason,
        # The committee member's name, never the e-mail address the account signs in with.
        "responder": r.responder.name or None,
        "created_at": iso(r.created_at),
    }


def comment(c: Comment, *, just_posted: bool = False) -> JSON:
    """The comment with the committee's current response and the earlier ones.

    `just_posted`: the comment this request wrote: no measured uptake yet (measured when
    a later version is published), no answer, and, when a worker runs the jobs, no
    form-letter group yet (the grouping job places it after the commit; without a worker
    it ran in this request and is looked up). Said rather than looked up.
    """
    current = c.response
    # The text as it stands (the latest revision) as the public reads it — with personal
    # data masked, none while held for review; omitted while moderators hide it.
    text = c.shown
    shown = c.hidden_by is None and text is not None
    redaction = c.redaction
    return {
        "id": c.id,
        "tracking": c.tracking,
        "kind": c.kind,
        "channel": c.channel,
        "body": text.body if shown else None,
        "suggested_text": text.suggested_text if shown else None,
        "quote": _quote(text) if shown else None,
        "organisation": _organisation_ref(c.organisation) if c.organisation else None,
        "individual": {"name": c.public_author} if c.by_individual else None,
        "personal_data": redaction.state if redaction is not None else None,
        "campaign": _campaign(c),
        "cosigned_by": [_organisation_ref(s.organisation) for s in c.cosignatures],
        "document": c.version.document.slug,
        "version": c.version.number,
        "paragraph": paragraph_ref(c.paragraph),
        "created_at": iso(c.created_at),
        "content_hash": c.content_hash,
        "language": c.language,
        "group": None if just_posted and jobs.queued() else _group_of(c),
        **comment_state(c),
        # uptake, flag (a decision that disagrees with the measured uptake), feedback.
        **(NOT_TRACED if just_posted else _tracing_fields(c)),
        "response": response(current) if current is not None else None,
        "responses": [response(r) for r in c.responses[:-1]],
        "attachments": [attachment(a) for a in c.attachments] if shown else [],
        "links": {
            "self": url_for("api.comment", comment_id=c.id),
            "version": url_for(
                "api.version", slug=c.version.document.slug, number=c.version.number
            ),
        },
    }


def _campaign(c: Comment) -> JSON | None:
    """A campaign's supporters: how many, and the first page of those named."""
    if not c.campaign:
        return None
    from consult.consultation import campaigns

    return {
        "supporters": campaigns.supporter_count(c),
        "named": [s.public_name for s in campaigns.named_supporters(c)],
    }


def _group_of(c: Comment) -> int | None:
    """The comment's form-letter group (consult.analysis.grouping), or None."""
    from consult.analysis.grouping import group_of

    return group_of(c.id)


def attachment(a) -> JSON:
    """A file attached to a comment (consultation.attachments.Attachment)."""
    return {
        "id": a.id,
        "name": a.filename,
        "type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "text": a.text_label,
        "pages": a.pages,
        "created_at": iso(a.created_at),
        "links": {"download": url_for("attachments.download", attachment_id=a.id, name=a.filename)},
    }


#: The tracing fields of a comment nothing has measured or answered yet.
NOT_TRACED: JSON = {"uptake": None, "flag": None, "feedback": None}


def _tracing_fields(c: Comment) -> JSON:
    from consult.tracing.stored import api_fields

    return api_fields(c)


def comment_state(c: Comment) -> JSON:
    """Edits, withdrawal, moderation, replies and co-signatures of a comment."""
    return {
        "revisions": len(c.revisions),
        "current_text": {
            "number": c.current.number if c.revisions else 1,
            "content_hash": c.current.content_hash,
            "created_at": iso(c.current.created_at),
        },
        "withdrawn": _dated_reason(c.withdrawal),
        "hidden": _dated_reason(c.hidden_by),
        "reply_count": len(c.replies),
        "cosignatures": {
            "count": len(c.cosignatures),
            "joint_with": [o.slug for o in c.joint_organisations],
            "supported_by": [o.slug for o in c.supporters],
        },
    }


def comment_revision(c: Comment, text) -> JSON:
    """One text of a comment: the Comment itself (text 1) or a CommentRevision, as the
    public reads it (personal data masked; no text while held for review)."""
    from consult.consultation.redaction import public_text

    number = getattr(text, "number", 1)
    public = public_text(c, number, text)
    return {
        "number": number,
        "body": public.body if public is not None else None,
        "suggested_text": public.suggested_text if public is not None else None,
        "quote": _quote(text),
        "content_hash": text.content_hash,
        "created_at": iso(text.created_at),
    }


def reply(r) -> JSON:
    """A reply in a comment's thread; its text is omitted while moderators hide it."""
    hidden = r.hidden_by
    return {
        "id": r.id,
        "comment": r.comment.tracking,
        # The person's name, never the e-mail address the account signs in with.
        "author": r.author.name or None,
        "organisation": _organisation_ref(r.organisation) if r.organisation else None,
        "for_committee": r.organisation is None,
        "body": r.body if hidden is None else None,
        "hidden": _dated_reason(hidden),
        "created_at": iso(r.created_at),
    }


def _search_link(h: Hit) -> str | None:
    if h.doc_type == "comment":
        return url_for("api.comment", comment_id=h.object_id)
    if h.doc_type == "paragraph":
        return url_for("api.version", slug=h.document_slug, number=h.version_number)
    if h.doc_type == "document":
        return url_for("api.document", slug=h.document_slug)
    if h.doc_type == "organisation":
        return url_for("api.organisation", slug=h.organisation_slug)
    return None


def search_results(results: Results) -> JSON:
    """Search hits with where they are, facets with counts, notes and suggestions.

    `snippet` is HTML: the matched words are wrapped in <mark>, the rest is escaped.
    `matched_in` says which part of the hit the snippet shows: body, suggested (the
    suggested wording), quote, response (the committee's reason), title or attachments
    (the text of a file attached to a comment).
    """
    hits = []
    for h in results.hits:
        link = _search_link(h)
        hits.append(
            {
                "type": h.doc_type,
                "id": h.object_id,
                "title": h.title,
                "snippet": h.snippet,
                "matched_in": h.matched_in,
                "score": h.score,
                "document": h.document_slug,
                "document_title": h.document_title,
                "version": h.version_number,
                "paragraph_number": h.paragraph_number,
                "organisation": h.organisation_slug,
                "organisation_name": h.organisation,
                "kind": h.comment_kind,
                "decision": h.decision,
                "tracking": h.tracking,
                "date": iso(h.date),
                "links": {"self": link} if link else {},
            }
        )
    return {
        "query": results.query,
        "page": results.page,
        "per_page": results.per_page,
        "total": results.total,
        "total_exact": results.total_exact,
        "sort": results.sort,
        "note": results.note,
        "suggestion": results.suggestion,
        "facets": {
            name: [
                {"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                for v in values
            ]
            for name, values in results.facets.items()
        },
        "hits": hits,
    }
