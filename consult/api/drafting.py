"""JSON API v1 for the drafting committee: versions, paragraph operations, take-up of
suggestions, lineage review and the version's life.

Routes on the API blueprint (same token rules, same JSON errors, same policy as the
pages). A paragraph saved over someone else's change answers 409 with both texts:
{"error": {"code": "edit_conflict", "message", "theirs", "yours", "merged",
"revision", "paragraph"}}.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue

from consult.accounts import policy
from consult.accounts.models import User
from consult.api import queries, serializers
from consult.api.routes import (
    POST_LIMIT,
    _actor,
    _created,
    _document,
    _json_object,
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
from consult.timeutil import parse_iso
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


def _body(fields: dict[str, type | tuple[type, ...]]) -> dict[str, Any]:
    """The JSON object sent, with only `fields`, each of its type (or null); no body at
    all is an empty object."""
    data = _json_object(fields, empty_ok=True)
    for key, value in data.items():
        kind = fields[key]
        if value is not None and (
            not isinstance(value, kind) or (isinstance(value, bool) and kind is int)
        ):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise ConsultError(f"'{key}' must be a {names}.", code="invalid_field")
    return data


def _required(data: dict[str, Any], key: str) -> Any:
    if data.get(key) is None:
        raise ConsultError(f"'{key}' is required.", code="field_required")
    return data[key]


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


# --- versions --------------------------------------------------------------------------------


@bp.post("/documents/<slug>/versions")
@limiter.limit(POST_LIMIT)
def create_version(slug: str) -> ResponseReturnValue:
    """Start the next version: {"source": "copy"} (default) or {"source": "import",
    "text": "..."}; optional "label"."""
    user = _signed_in_actor()
    doc = _document(slug, user)
    policy.require(user, "version.create", doc)
    data = _body({"source": str, "label": str, "text": str})
    source = data.get("source") or "copy"
    if source not in ("copy", "import"):
        raise ConsultError("'source' is 'copy' or 'import'.", code="invalid_field")
    text = _required(data, "text") if source == "import" else None
    v = drafting.start_version(doc, by=user, label=data.get("label") or "", text=text)
    db.session.commit()
    return _created(_version_json(v), url_for("api.version", slug=doc.slug, number=v.number))


@bp.patch("/documents/<slug>/versions/<int:number>")
@limiter.limit(POST_LIMIT)
def update_version(slug: str, number: int) -> ResponseReturnValue:
    """The draft's explanatory note: {"note": "..."}."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
    data = _body({"note": str})
    drafting.set_note(v, _required(data, "note"), by=user)
    db.session.commit()
    return jsonify(_version_json(v))


@bp.get("/documents/<slug>/versions/<int:number>/changes")
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
def publish_version(slug: str, number: int) -> ResponseReturnValue:
    """Publish the draft: {"closes_at": ISO 8601 with zone} opens it for comments; without,
    it is published as a closed text."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.publish")
    data = _body({"closes_at": str})
    closes_at = None
    if data.get("closes_at"):
        try:
            closes_at = parse_iso(data["closes_at"])
        except (ValueError, ConsultError):
            raise ConsultError(
                f"'closes_at' is not an ISO 8601 date and time: {data['closes_at']!r}.",
                code="invalid_field",
            ) from None
    drafting.refuse_unreviewed(v)
    documents.publish(v, by=user, closes_at=closes_at)
    db.session.commit()
    return jsonify(serializers.version_detail(v, {}))


@bp.post("/documents/<slug>/versions/<int:number>/close")
@limiter.limit(POST_LIMIT)
def close_version(slug: str, number: int) -> ResponseReturnValue:
    """Close for comments; before the deadline {"reason": "..."} is required."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.close")
    reason = (_body({"reason": str}).get("reason") or "").strip()
    if documents.closes_early(v) and not reason:
        raise ConsultError(
            "The deadline has not passed: give the reason for closing early in 'reason'.",
            code="reason_required",
        )
    documents.close(v, by=user, reason=reason)
    db.session.commit()
    return jsonify(serializers.version_detail(v, queries.comment_counts_by_paragraph(v)))


@bp.post("/documents/<slug>/versions/<int:number>/finalize")
@limiter.limit(POST_LIMIT)
def finalize_version(slug: str, number: int) -> ResponseReturnValue:
    """Make the latest closed version final. While comments are unanswered this needs
    {"override_reason": "..."} (shown publicly)."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.finalize")
    data = _body({"override_reason": str})
    documents.finalize(v, by=user, override_reason=data.get("override_reason"))
    db.session.commit()
    return jsonify(serializers.version_detail(v, queries.comment_counts_by_paragraph(v)))


# --- paragraph operations --------------------------------------------------------------------


@bp.patch("/paragraphs/<int:paragraph_id>")
@limiter.limit(POST_LIMIT)
def patch_paragraph(paragraph_id: int) -> ResponseReturnValue:
    """{"source": "...", "revision": n, "base_source": "..." (optional, for a merge)}."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    data = _body({"source": str, "revision": int, "base_source": str})
    source, revision = _required(data, "source"), _required(data, "revision")
    v = p.version
    saved = drafting.save_paragraph(
        v, p.id, source, revision, by=user, base_source=data.get("base_source")
    )
    return _draft_answer(v, saved)


@bp.post("/paragraphs/<int:paragraph_id>/insert-after")
@limiter.limit(POST_LIMIT)
def insert_after(paragraph_id: int) -> ResponseReturnValue:
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    data = _body({"source": str})
    v = p.version
    new = drafting.insert_after(p, _required(data, "source"), by=user)
    return _draft_answer(v, new, 201)


@bp.post("/documents/<slug>/versions/<int:number>/insert-first")
@limiter.limit(POST_LIMIT)
def insert_first(slug: str, number: int) -> ResponseReturnValue:
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
    data = _body({"source": str})
    new = drafting.insert_first(v, _required(data, "source"), by=user)
    return _draft_answer(v, new, 201)


@bp.post("/paragraphs/<int:paragraph_id>/delete")
@limiter.limit(POST_LIMIT)
def delete_paragraph(paragraph_id: int) -> ResponseReturnValue:
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    data = _body({"revision": int})
    v = p.version
    drafting.delete_paragraph(p, by=user, expected_revision=data.get("revision"))
    return _draft_answer(v, [])


@bp.post("/paragraphs/<int:paragraph_id>/move")
@limiter.limit(POST_LIMIT)
def move_paragraph(paragraph_id: int) -> ResponseReturnValue:
    """{"direction": "up" | "down"}."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    direction = _required(_body({"direction": str}), "direction")
    if direction not in ("up", "down"):
        raise ConsultError("'direction' is 'up' or 'down'.", code="invalid_field")
    v = p.version
    (drafting.move_up if direction == "up" else drafting.move_down)(p, by=user)
    return _draft_answer(v, [p])


@bp.post("/paragraphs/<int:paragraph_id>/split")
@limiter.limit(POST_LIMIT)
def split_paragraph(paragraph_id: int) -> ResponseReturnValue:
    """{"offset": character offset in the Markdown source, "revision": n (optional)}."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    data = _body({"offset": int, "revision": int})
    v = p.version
    pieces = drafting.split_paragraph(
        p, _required(data, "offset"), by=user, expected_revision=data.get("revision")
    )
    return _draft_answer(v, list(pieces))


@bp.post("/paragraphs/<int:paragraph_id>/merge")
@limiter.limit(POST_LIMIT)
def merge_paragraph(paragraph_id: int) -> ResponseReturnValue:
    """Merge with the next paragraph; {"revision": n} optional."""
    user = _signed_in_actor()
    p = _editable_paragraph(paragraph_id, user)
    data = _body({"revision": int})
    v = p.version
    merged = drafting.merge_with_next(p, by=user, expected_revision=data.get("revision"))
    return _draft_answer(v, [merged])


# --- taking up suggestions ---------------------------------------------------------------------


@bp.post("/comments/<int:comment_id>/take-up")
@limiter.limit(POST_LIMIT)
def take_up(comment_id: int) -> ResponseReturnValue:
    """Put a suggestion's wording into the document's draft. With ?preview=1 nothing is
    saved: the answer shows the paragraph before and after, as a word diff.

    Body: {"version": draft number (default: the latest version), "reason": "..." (records
    a new answer), "decision": "accepted" | "partly_accepted", "revision": n (from the
    preview)}.
    """
    user = _signed_in_actor()
    c = consultation.get_comment(comment_id)
    doc = _document(c.version.document.slug, user)
    data = _body({"version": int, "reason": str, "decision": str, "revision": int})
    number = data.get("version") or (doc.latest.number if doc.latest else 0)
    v = _version_allowing(doc.slug, number, user, "version.edit")
    if request.args.get("preview"):
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
        reason=data.get("reason"),
        decision=data.get("decision") or "accepted",
        expected_revision=data.get("revision"),
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
def lineage(slug: str, number: int) -> ResponseReturnValue:
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
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
def confirm_lineage(slug: str, number: int) -> ResponseReturnValue:
    """Confirm the proposed links, with corrections:
    {"corrections": [{"paragraph": id, "predecessors": [ids of the version before]}]}."""
    user = _signed_in_actor()
    v = _version_allowing(slug, number, user, "version.edit")
    data = _body({"corrections": list})
    corrections = []
    for item in data.get("corrections") or []:
        if (
            not isinstance(item, dict)
            or set(item) - {"paragraph", "predecessors"}
            or not isinstance(item.get("paragraph"), int)
            or not isinstance(item.get("predecessors", []), list)
            or not all(isinstance(i, int) for i in item.get("predecessors", []))
        ):
            raise ConsultError(
                'Each correction is {"paragraph": id, "predecessors": [ids]}.',
                code="invalid_field",
            )
        corrections.append(Correction(item["paragraph"], tuple(item.get("predecessors", []))))
    drafting.confirm_links(v, corrections, by=user)
    db.session.commit()
    return lineage(slug, number)
