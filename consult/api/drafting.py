"""JSON API v1 for the drafting committee: versions, paragraph operations, take-up of
suggestions, lineage review and the version's life.

Routes on the API blueprint (same token rules, same JSON errors, same policy as the
pages). A paragraph saved over someone else's change answers 409 with both texts:
{"error": {"code": "edit_conflict", "message", "theirs", "yours", "merged",
"revision", "paragraph"}}.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from consult.accounts import policy
from consult.accounts.models import User
from consult.api import queries, schemas, serializers
from consult.api import word as word_api
from consult.api.contract import operation
from consult.api.datetimes import parse_zoned
from consult.api.routes import (
    POST_LIMIT,
    WRITE_ERRORS,
    _actor,
    _created,
    _document,
    _paragraph,
    _signed_in_actor,
    _version,
    bp,
)
from consult.consultation import services as consultation
from consult.consultation.takeup import preview_take_up, take_up_suggestion
from consult.documents import drafting
from consult.documents import services as documents
from consult.documents.drafting import Correction, EditConflict
from consult.documents.models import Paragraph, Version
from consult.errors import ConsultError
from consult.extensions import db, limiter
from consult.tracing.summary import change_summary

# --- helpers ---------------------------------------------------------------------------------


@bp.errorhandler(EditConflict)
def _edit_conflict(e: EditConflict):
    paragraph = e.paragraph.id if e.paragraph is not None else None
    db.session.rollback()
    error = {
        "code": e.code,
        "message": e.message,
        "paragraph": paragraph,
        "revision": e.revision,
        "theirs": e.theirs,
        "yours": e.yours,
        "merged": e.merged,
    }
    return jsonify(error=error), e.status


def _write(summary: str, body, answer=schemas.DraftAnswer, status: int = 200, **more):
    """The contract of a drafting write: a token, a JSON body (none at all is {} where
    nothing is required), the usual refusals."""
    return operation(
        summary=summary,
        tag="drafting",
        body=body,
        answer=answer,
        status=status,
        auth=True,
        errors=WRITE_ERRORS,
        **more,
    )


def _version_allowing(slug: str, number: int, user: User, action: str) -> Version:
    """The version the URL names, when the policy lets the user do `action` to it."""
    v = _version(_document(slug, user), number, user)
    policy.require(user, action, v)
    return v


def _editable_paragraph(paragraph_id: int, user: User) -> Paragraph:
    p = _paragraph(paragraph_id, user)
    policy.require(user, "version.edit", p.version)
    return p


def _paragraph_json(p: Paragraph) -> dict[str, Any]:
    # A draft's paragraphs have no comments: comments are made on published versions.
    return {**serializers.paragraph(p, 0), "position": p.position, "revision": p.revision}


def _version_json(v: Version) -> dict[str, Any]:
    """The version as GET shows it, with each paragraph's revision (to save over)."""
    return {
        **serializers.version_detail(v, {}),
        "paragraphs": [_paragraph_json(p) for p in v.paragraphs],
    }


def _draft_answer(v: Version, paragraphs: list[Paragraph], status: int = 200):
    """The paragraphs an operation produced, and the whole draft in its new order."""
    db.session.commit()
    resp = jsonify(
        paragraphs=[_paragraph_json(p) for p in paragraphs],
        version=_version_json(v),
    )
    resp.status_code = status
    return resp


# --- documents -------------------------------------------------------------------------------


@bp.post("/documents")
@limiter.limit(POST_LIMIT)
@_write("Create a document (without versions)", schemas.NewDocument, schemas.Document, 201)
def create_document(body: schemas.NewDocument) -> ResponseReturnValue:
    """A new document: "title", optional "kind" (resolution by default), "slug" (made from
    the title when left out), "committee" and "timezone"."""
    user = _signed_in_actor()
    policy.require(user, "document.create")
    zone = (body.timezone or "UTC").strip()
    if zone not in available_timezones():
        raise ConsultError(
            _(
                "'%(zone)s' is not a time zone name; use one such as Asia/Bangkok or UTC.",
                zone=zone,
            ),
            code="invalid_timezone",
        )
    doc = documents.create_document(
        (body.slug or "").strip() or documents.slug_from_title(body.title),
        body.title,
        by=user,
        committee=body.committee or "",
        timezone=zone,
        kind=body.kind or "resolution",
    )
    db.session.commit()
    return _created(
        serializers.document_detail(doc, [], {}, {}), url_for("api.document", slug=doc.slug)
    )


# --- versions --------------------------------------------------------------------------------


@bp.post("/documents/<slug>/versions")
@limiter.limit(POST_LIMIT)
@_write(
    "Start the next version: a copy of the latest (default) or an imported text",
    schemas.NewVersion,
    word_api.ImportedVersion,
    201,
    form=word_api.VersionUpload,
    files=("file",),
)
def create_version(
    slug: str, body: schemas.NewVersion | None, form: word_api.VersionUpload | None = None
) -> ResponseReturnValue:
    """Start the next version: {"source": "copy"} (default) or {"source": "import",
    "text": "..."}; optional "label". Or a multipart upload of a Word (.docx) or
    OpenDocument (.odt) file as `file` (with `label`): the answer's `warnings` list what
    the file held that could not be imported (images, embedded objects)."""
    user = _signed_in_actor()
    doc = _document(slug, user)
    policy.require(user, "version.create", doc)
    if form is not None:
        text, warnings = word_api.version_text(form)
        v = drafting.start_version(doc, by=user, label=form.label or "", text=text)
        db.session.commit()
        return _created(
            {**_version_json(v), "warnings": warnings},
            url_for("api.version", slug=doc.slug, number=v.number),
        )
    assert body is not None  # the contract gives a body when no form was sent
    text = None
    if body.source == "import":
        if body.text is None:
            raise ConsultError(_("'text' is required to import a text."), code="field_required")
        text = body.text
    v = drafting.start_version(doc, by=user, label=body.label or "", text=text)
    db.session.commit()
    return _created(_version_json(v), url_for("api.version", slug=doc.slug, number=v.number))


@bp.patch("/documents/<slug>/versions/<int:number>")
@limiter.limit(POST_LIMIT)
@_write("Change a draft's explanatory note", schemas.VersionNote, schemas.DraftVersion)
def update_version(slug: str, number: int, body: schemas.VersionNote) -> ResponseReturnValue:
    """The draft's explanatory note: {"note": "..."}."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
    drafting.set_note(v, body.note, by=user)
    db.session.commit()
    return jsonify(_version_json(v))


@bp.get("/documents/<slug>/versions/<int:number>/changes")
@operation(
    summary="The generated change summary against the version before, and the note",
    tag="drafting",
    answer=schemas.Changes,
    errors=(404,),
)
def version_changes(slug: str, number: int) -> ResponseReturnValue:
    """The generated change summary against the version before, and the note."""
    user = _actor()
    v = _version(_document(slug, user), number, user)
    s = change_summary(v)
    counts = {
        k: getattr(s, k)
        for k in (
            "unchanged",
            "formatting",
            "edited",
            "moved",
            "added",
            "removed",
            "split",
            "merged",
            "comments",
            "answered",
            "suggestions",
            "taken_up",
            "partly",
        )
    }
    return jsonify(
        document=slug,
        version=v.number,
        previous=s.previous,
        note=v.note,
        summary=counts,
        phrases=s.phrases(),
    )


@bp.post("/documents/<slug>/versions/<int:number>/publish")
@limiter.limit(POST_LIMIT)
@_write(
    "Publish a draft; with closes_at it opens for comments until then",
    schemas.Publication,
    schemas.Version,
)
def publish_version(slug: str, number: int, body: schemas.Publication) -> ResponseReturnValue:
    """Publish the draft: {"closes_at": ISO 8601 with zone} opens it for comments; without,
    it is published as a closed text."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.publish")
    closes_at = parse_zoned(body.closes_at, "closes_at") if body.closes_at else None
    drafting.refuse_unreviewed(v)
    documents.publish(
        v,
        by=user,
        closes_at=closes_at,
        participants=body.participants or "organisations",
        withheld_names=bool(body.withheld_names),
        personal_data=body.personal_data or "hold",
    )
    db.session.commit()
    return jsonify(serializers.version_detail(v, {}))


@bp.post("/documents/<slug>/versions/<int:number>/close")
@limiter.limit(POST_LIMIT)
@_write("Close for comments (before the deadline, with a reason)", schemas.Closing, schemas.Version)
def close_version(slug: str, number: int, body: schemas.Closing) -> ResponseReturnValue:
    """Close for comments; before the deadline {"reason": "..."} is required."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.close")
    reason = (body.reason or "").strip()
    if documents.closes_early(v) and not reason:
        raise ConsultError(
            _("The deadline has not passed: give the reason for closing early in 'reason'."),
            code="reason_required",
        )
    documents.close(v, by=user, reason=reason)
    db.session.commit()
    return jsonify(serializers.version_detail(v, queries.comment_counts_by_paragraph(v)))


@bp.post("/documents/<slug>/versions/<int:number>/finalize")
@limiter.limit(POST_LIMIT)
@_write("Make the closed latest version the final text", schemas.Finalizing, schemas.Version)
def finalize_version(slug: str, number: int, body: schemas.Finalizing) -> ResponseReturnValue:
    """Make the latest closed version final. While comments are unanswered this needs
    {"override_reason": "..."} (shown publicly)."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.finalize")
    documents.finalize(v, by=user, override_reason=body.override_reason)
    db.session.commit()
    return jsonify(serializers.version_detail(v, queries.comment_counts_by_paragraph(v)))


# --- paragraph operations --------------------------------------------------------------------


@bp.patch("/paragraphs/<int:paragraph_id>")
@limiter.limit(POST_LIMIT)
@_write(
    "Change a draft paragraph's Markdown (with the revision seen, to avoid overwrites)",
    schemas.ParagraphEdit,
    empty_ok=False,
)
def patch_paragraph(paragraph_id: int, body: schemas.ParagraphEdit) -> ResponseReturnValue:
    """{"source": "...", "revision": n, "base_source": "..." (optional, for a merge)}."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    v = p.version
    saved = drafting.save_paragraph(
        v, p.id, body.source, body.revision, by=user, base_source=body.base_source
    )
    return _draft_answer(v, saved)


@bp.post("/paragraphs/<int:paragraph_id>/insert-after")
@limiter.limit(POST_LIMIT)
@_write("Insert a paragraph after this one", schemas.NewParagraph, status=201)
def insert_after(paragraph_id: int, body: schemas.NewParagraph) -> ResponseReturnValue:
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    v = p.version
    new = drafting.insert_after(p, body.source, by=user)
    return _draft_answer(v, new, 201)


@bp.post("/documents/<slug>/versions/<int:number>/insert-first")
@limiter.limit(POST_LIMIT)
@_write("Insert a paragraph at the start of a draft", schemas.NewParagraph, status=201)
def insert_first(slug: str, number: int, body: schemas.NewParagraph) -> ResponseReturnValue:
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
    new = drafting.insert_first(v, body.source, by=user)
    return _draft_answer(v, new, 201)


@bp.post("/paragraphs/<int:paragraph_id>/delete")
@limiter.limit(POST_LIMIT)
@_write("Delete a draft paragraph", schemas.Revision)
def delete_paragraph(paragraph_id: int, body: schemas.Revision) -> ResponseReturnValue:
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    v = p.version
    drafting.delete_paragraph(p, by=user, expected_revision=body.revision)
    return _draft_answer(v, [])


@bp.post("/paragraphs/<int:paragraph_id>/move")
@limiter.limit(POST_LIMIT)
@_write("Move a paragraph up or down", schemas.Move)
def move_paragraph(paragraph_id: int, body: schemas.Move) -> ResponseReturnValue:
    """{"direction": "up" | "down"}."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    v = p.version
    (drafting.move_up if body.direction == "up" else drafting.move_down)(p, by=user)
    return _draft_answer(v, [p])


@bp.post("/paragraphs/<int:paragraph_id>/split")
@limiter.limit(POST_LIMIT)
@_write("Split a paragraph at an offset of its source", schemas.Split)
def split_paragraph(paragraph_id: int, body: schemas.Split) -> ResponseReturnValue:
    """{"offset": character offset in the Markdown source, "revision": n (optional)}."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    v = p.version
    pieces = drafting.split_paragraph(p, body.offset, by=user, expected_revision=body.revision)
    return _draft_answer(v, list(pieces))


@bp.post("/paragraphs/<int:paragraph_id>/merge")
@limiter.limit(POST_LIMIT)
@_write("Merge a paragraph with the next one", schemas.Revision)
def merge_paragraph(paragraph_id: int, body: schemas.Revision) -> ResponseReturnValue:
    """Merge with the next paragraph; {"revision": n} optional."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    v = p.version
    merged = drafting.merge_with_next(p, by=user, expected_revision=body.revision)
    return _draft_answer(v, [merged])


# --- taking up suggestions ---------------------------------------------------------------------


@bp.post("/comments/<int:comment_id>/take-up")
@limiter.limit(POST_LIMIT)
@_write(
    "Put a suggestion's wording into the draft (?preview=1: show it, save nothing)",
    schemas.TakeUp,
    schemas.TakeUpDone,
    201,
    query=schemas.PreviewQuery,
    also={200: (schemas.TakeUpPreview, "Preview only (?preview=1): nothing saved")},
)
def take_up(
    comment_id: int, body: schemas.TakeUp, query: schemas.PreviewQuery
) -> ResponseReturnValue:
    """Put a suggestion's wording into the document's draft. With ?preview=1 nothing is
    saved: the answer shows the paragraph before and after, as a word diff.

    Body: {"version": draft number (default: the latest version), "reason": "..." (records
    a new answer), "decision": "accepted" | "partly_accepted", "revision": n (from the
    preview)}.
    """
    user = _signed_in_actor()
    c = consultation.get_comment(comment_id)
    doc = _document(c.version.document.slug, user)
    number = body.version or (doc.latest.number if doc.latest else 0)
    v = _version_allowing(doc.slug, number, user, "version.edit")
    if query.preview:
        pv = preview_take_up(c, v)
        return jsonify(
            comment=c.tracking,
            version=v.number,
            paragraph=_paragraph_json(pv.paragraph),
            before=pv.before,
            after=pv.after,
            quoted=pv.quoted,
            revision=pv.revision,
            diff=[[op, text] for op, text in pv.diff],
        )
    policy.require(user, "response.create", c)
    effects = take_up_suggestion(
        c,
        v,
        by=user,
        reason=body.reason,
        decision=body.decision or "accepted",
        expected_revision=body.revision,
    )
    db.session.commit()
    return _created(
        {
            "comment": serializers.comment(c),
            "version": v.number,
            "paragraphs": [_paragraph_json(e.paragraph) for e in effects],
        }
    )


# --- lineage review ----------------------------------------------------------------------------


@bp.get("/documents/<slug>/versions/<int:number>/lineage")
@operation(
    summary="The lineage links of a draft to the version before, for review",
    tag="drafting",
    answer=schemas.Lineage,
    auth=True,
    errors=(403, 404),
)
def lineage(slug: str, number: int) -> ResponseReturnValue:
    user = _signed_in_actor()
    return _lineage(_version_allowing(slug, number, user, "version.edit"))


def _lineage(v: Version) -> ResponseReturnValue:
    rows = drafting.review_links(v)
    return jsonify(
        version=v.number,
        unreviewed=drafting.unreviewed_links(v),
        counts=drafting.review_counts(v),
        links=[
            {
                "paragraph": _ref(r.paragraph),
                "predecessors": [_ref(q) for q in r.predecessors],
                "relation": r.relation,
                "similarity": r.similarity,
                "method": r.method,
            }
            for r in rows
        ],
    )


def _ref(p: Paragraph | None) -> dict[str, Any] | None:
    return {"id": p.id, "number": p.number, "text": p.text} if p is not None else None


@bp.post("/documents/<slug>/versions/<int:number>/lineage")
@limiter.limit(POST_LIMIT)
@_write(
    "Confirm the proposed lineage links, with corrections",
    schemas.LineageConfirmation,
    schemas.Lineage,
)
def confirm_lineage(
    slug: str, number: int, body: schemas.LineageConfirmation
) -> ResponseReturnValue:
    """Confirm the proposed links, with corrections:
    {"corrections": [{"paragraph": id, "predecessors": [ids of the version before]}]}."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
    corrections = [
        Correction(item.paragraph, tuple(item.predecessors)) for item in body.corrections or []
    ]
    drafting.confirm_links(v, corrections, by=user)
    db.session.commit()
    return _lineage(v)
