"""Pages for campaigns (sign, withdraw a signature) and for the secretariat's review of
personal data found in comments (issue 21). Added to the consultation blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consult.accounts import policy
from consult.accounts.routes import current_actor
from consult.consultation import campaigns, redaction
from consult.consultation.listing import page_number
from consult.consultation.routes import bp
from consult.consultation.services import get_comment
from consult.documents.routes import visible_version
from consult.errors import ConsultError, NotAllowed, NotFound
from consult.extensions import db
from consult.paging import page_count


def _comment(comment_id: int):
    c = get_comment(comment_id)
    if not policy.can(current_user, "version.view", c.version):
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    return c


def _chosen_organisation(value: str | None):
    """One of the signed-in user's organisations (by id in the form), or None."""
    if not value:
        return None
    for org in current_user.organisations:
        if str(org.id) == value:
            return org
    raise NotAllowed(_("You can only sign for an organisation you belong to."))


@bp.post("/comments/<int:comment_id>/signatures")
@login_required
def sign_campaign(comment_id: int):
    c = _comment(comment_id)
    policy.require(current_user, "campaign.sign", c)
    org = _chosen_organisation(request.form.get("organisation"))
    campaigns.sign(c, by=current_actor(), organisation=org, named=bool(request.form.get("named")))
    db.session.commit()
    flash(_("Thank you: your signature is counted."))
    return redirect(url_for("consultation.comment", comment_id=c.id, _anchor="campaign-h"))


@bp.post("/comments/<int:comment_id>/signatures/withdraw")
@login_required
def withdraw_signature(comment_id: int):
    c = _comment(comment_id)
    org = _chosen_organisation(request.form.get("organisation"))
    signature = campaigns.standing_signature(c, current_user, org)
    if signature is None:
        raise NotFound(_("This campaign has no signature of yours."))
    policy.require(current_user, "campaign.withdraw_signature", signature)
    campaigns.withdraw(signature, by=current_actor())
    db.session.commit()
    flash(_("Your signature is withdrawn (the record keeps that you signed and withdrew)."))
    return redirect(url_for("consultation.comment", comment_id=c.id, _anchor="campaign-h"))


@bp.route("/comments/<int:comment_id>/personal-data", methods=["GET", "POST"])
@login_required
def review_personal_data(comment_id: int):
    """The secretariat reads what was found and keeps or undoes each mask."""
    c = _comment(comment_id)
    policy.require(current_user, "comment.review_personal_data", c)
    current = redaction.latest_redaction(c)
    if current is None:
        raise NotFound(_("No personal data was found in this comment."))
    if request.method == "POST":
        try:
            masked = {int(v) for v in request.form.getlist("masked")}
        except ValueError:
            raise ConsultError(_("Choose the spans to keep masked from the list.")) from None
        redaction.review(c, masked, by=current_actor(), reason=request.form.get("reason", ""))
        db.session.commit()
        flash(_("The review of comment %(tracking)s is published.", tracking=c.tracking))
        return redirect(
            url_for(
                "consultation.personal_data_queue",
                slug=c.version.document.slug,
                number=c.version.number,
            )
        )
    text = c.current
    spans = [
        {
            **s,
            "before": (getattr(text, s["field"]) or "")[max(0, s["start"] - 40) : s["start"]],
            "after": (getattr(text, s["field"]) or "")[s["end"] : s["end"] + 40],
        }
        for s in current.spans
    ]
    return render_template(
        "consultation/personal_data_review.html",
        c=c,
        doc=c.version.document,
        version=c.version,
        current=current,
        spans=spans,
    )


@bp.get("/documents/<slug>/versions/<int:number>/personal-data")
@login_required
def personal_data_queue(slug: str, number: int):
    """The comments of a version whose personal data waits for review, page by page."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.review_personal_data", v)
    page = page_number(request.args.get("page"))
    comments, total = redaction.waiting_review(v.id, page)
    return render_template(
        "consultation/personal_data_queue.html",
        doc=doc,
        version=v,
        comments=comments,
        total=total,
        page=page,
        pages=page_count(total, 50),
    )


@bp.app_context_processor
def _voices_helpers() -> dict:
    from consult.consultation import personal_data

    return {
        "campaign_supporters": campaigns.named_supporters,
        "mask_label": personal_data.mask_label,
    }
