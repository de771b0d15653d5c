"""JSON API v1 for campaigns (signing and withdrawing a signature) and the secretariat's
review of personal data found in a comment (issue 21). Same services and rules as the
pages; added to the API blueprint of consult.api.routes."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from consult.accounts import policy
from consult.api import schemas, serializers
from consult.api.comments import _comment
from consult.api.contract import operation
from consult.api.routes import POST_LIMIT, WRITE_ERRORS, _created, _signed_in_actor, bp
from consult.consultation import campaigns, redaction
from consult.errors import NotAllowed, NotFound
from consult.extensions import db, limiter


def _signer_organisation(user, slug: str | None):
    if not slug:
        return None
    for org in user.organisations:
        if org.slug == slug:
            return org
    raise NotAllowed(_("You can only sign for an organisation you belong to."))


@bp.post("/comments/<int:comment_id>/signatures")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Sign a campaign, as an individual or for one's organisation",
    tag="comments",
    body=schemas.CampaignSigning,
    answer=schemas.Comment,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def sign_campaign(comment_id: int, body: schemas.CampaignSigning) -> ResponseReturnValue:
    """{"organisation": slug} signs for it; without, an individual signs ({"named": true}
    to be named among the supporters)."""
    user = _signed_in_actor()
    c = _comment(comment_id, user)
    policy.require(user, "campaign.sign", c)
    org = _signer_organisation(user, body.organisation)
    campaigns.sign(c, by=user, organisation=org, named=bool(body.named))
    db.session.commit()
    return _created(serializers.comment(c), None)


@bp.delete("/comments/<int:comment_id>/signatures")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Withdraw one's signature of a campaign (kept in the record)",
    tag="comments",
    body=schemas.CampaignSigning,
    answer=schemas.Comment,
    status=200,
    auth=True,
    errors=WRITE_ERRORS,
)
def withdraw_signature(comment_id: int, body: schemas.CampaignSigning) -> ResponseReturnValue:
    user = _signed_in_actor()
    c = _comment(comment_id, user)
    org = _signer_organisation(user, body.organisation)
    signature = campaigns.standing_signature(c, user, org)
    if signature is None:
        raise NotFound(_("This campaign has no signature of yours."))
    policy.require(user, "campaign.withdraw_signature", signature)
    campaigns.withdraw(signature, by=user)
    db.session.commit()
    return jsonify(serializers.comment(c))


@bp.post("/comments/<int:comment_id>/personal-data")
@limiter.limit(POST_LIMIT)
@operation(
    summary="The secretariat confirms or undoes each mask of personal data found in a comment",
    tag="comments",
    body=schemas.RedactionReview,
    answer=schemas.Comment,
    status=200,
    auth=True,
    errors=WRITE_ERRORS,
)
def review_personal_data(comment_id: int, body: schemas.RedactionReview) -> ResponseReturnValue:
    """{"masked": [span indexes that stay masked], "reason": "..."}; the others are
    published as written. The review is a record event."""
    user = _signed_in_actor()
    c = _comment(comment_id, user)
    policy.require(user, "comment.review_personal_data", c)
    redaction.review(c, set(body.masked), by=user, reason=body.reason or "")
    db.session.commit()
    return jsonify(serializers.comment(c))
