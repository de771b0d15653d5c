"""API v1: the organisation registry, each organisation with its comments and their
outcomes (decision, reason, measured uptake, where the paragraph went)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from consult.accounts import outcomes as outcomes_module
from consult.accounts import policy, services
from consult.accounts.models import Organisation
from consult.accounts.services import list_organisations
from consult.api import schemas, serializers
from consult.api.contract import operation
from consult.api.routes import _actor, bp
from consult.api.serializers import iso


def organisation_summary(org: Organisation, comment_count: int | None = None) -> dict[str, Any]:
    out = {
        "slug": org.slug,
        "name": org.name,
        "acronym": org.acronym,
        "kind": org.kind,
        "kind_label": org.kind_label,
        "countries": list(org.countries),
        "verified": org.verified,
        "links": {"self": url_for("api.organisation", slug=org.slug)},
    }
    if comment_count is not None:
        out["comment_count"] = comment_count
    return out


def _paragraph_ref(p) -> dict[str, Any]:
    return {"id": p.id, "number": p.number, "version": p.version.number}


def outcome(o: outcomes_module.Outcome) -> dict[str, Any]:
    c, r = o.comment, o.response
    return {
        "id": c.id,
        "tracking": c.tracking,
        "kind": c.kind,
        "role": o.role,
        "organisation": c.organisation.slug,
        "document": c.version.document.slug,
        "version": c.version.number,
        "paragraph": serializers.paragraph_ref(c.paragraph),
        "created_at": iso(c.created_at),
        "status": o.status,
        "decision": r.decision if r else None,
        "decision_label": r.decision_label if r else None,
        "reason": r.reason if r else None,
        "answered_at": iso(r.created_at) if r else None,
        "uptake": ({"score": o.uptake_score, "label": o.uptake_label} if o.uptake_label else None),
        "flag": o.flag,
        "next_version": o.next_version.number if o.next_version else None,
        "successors": [_paragraph_ref(p) for p in o.successors],
        "took_effect_in": [_paragraph_ref(p) for p in o.effects],
        "links": {"self": url_for("api.comment", comment_id=c.id)},
    }


@bp.get("/organisations")
@operation(
    summary="The organisation registry",
    tag="organisations",
    query=schemas.OrganisationsQuery,
    answer=schemas.OrganisationList,
)
def organisations(query: schemas.OrganisationsQuery) -> ResponseReturnValue:
    country = (query.country or "").strip().upper()
    kind = query.kind or ""
    verified = query.verified or ""
    rows = list_organisations(country, kind, verified)
    return jsonify(organisations=[organisation_summary(o, n) for o, n in rows])


@bp.get("/organisations/<slug>")
@operation(
    summary="An organisation's profile with its comments and their outcomes",
    tag="organisations",
    answer=schemas.Organisation,
    errors=(404,),
)
def organisation(slug: str) -> ResponseReturnValue:
    org = services.get_organisation(slug)
    user = _actor()
    rows = outcomes_module.outcomes(org, visible=lambda v: policy.can(user, "version.view", v))
    return jsonify(
        {
            **organisation_summary(org),
            "focus": list(org.focus),
            "website": org.website,
            "description": org.description,
            "contact": {"email": org.contact_email, "phone": org.contact_phone},
            "verified_at": iso(org.verified_at),
            "verified_by": org.verified_by.name if org.verified_by else None,
            "created_at": iso(org.created_at),
            "comments": [outcome(o) for o in rows if o.role == "own"],
            "cosigned": [outcome(o) for o in rows if o.role == "cosigned"],
        }
    )
