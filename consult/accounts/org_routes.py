"""Pages of the organisation registry: the list, public profiles with what became of
their comments, "Our input", registering and editing, joining, approving members and
verification by the secretariat."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.accounts import outcomes as outcomes_module
from consult.accounts import policy, services
from consult.accounts.forms import COUNTRIES, OrganisationForm, PlainForm
from consult.accounts.models import ORG_KINDS, Membership, Organisation
from consult.accounts.routes import _free_org_slug, current_actor
from consult.errors import ConsultError
from consult.extensions import db
from consult.i18n import COUNTRY_NAMES, country_name, labels

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


def _visible(version) -> bool:
    return policy.can(current_user, "version.view", version)


def _require_posted_form() -> None:
    if not PlainForm().validate_on_submit():
        raise ConsultError(_("The form expired; please go back and try again."))


@bp.get("")
def index():
    country = (request.args.get("country") or "").strip().upper()[:2]
    kind = request.args.get("kind") or ""
    verified = request.args.get("verified") or ""
    if kind and kind not in ORG_KINDS:
        raise ConsultError(
            _("Unknown kind '%(kind)s'; use one of: %(x)s.", kind=kind, x=", ".join(ORG_KINDS))
        )
    rows = services.list_organisations(country, kind, verified)
    known = {c for cs in db.session.scalars(select(Organisation.countries)) for c in cs}
    countries = {c: country_name(c) for c in sorted(known | set(COUNTRY_NAMES))}
    return render_template(
        "organisations/index.html",
        rows=rows,
        country=country,
        kind=kind,
        verified=verified,
        countries=countries,
        kinds=labels(ORG_KINDS),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    user = current_actor()
    policy.require(user, "organisation.create")
    form = OrganisationForm()
    if request.method == "GET":
        return render_template("organisations/form.html", form=form)
    if not form.validate_on_submit():
        return render_template("organisations/form.html", form=form), 400
    try:
        profile = form.profile()
        org = services.create_organisation(_free_org_slug(profile["name"]), **profile)
        services.register_organisation(org, by=user)
    except ConsultError as e:
        db.session.rollback()
        page = render_template("organisations/form.html", form=form, error=e.message)
        return page, e.status
    db.session.commit()
    flash(
        f"{org.name} is registered"
        + (", with you as its admin" if user.role == "cso" else "")
        + ". It shows as unverified until the secretariat checks it."
    )
    return redirect(url_for("organisations.profile", slug=org.slug))


@bp.get("/<slug>")
def profile(slug: str):
    org = services.get_organisation(slug)
    user = current_actor()
    rows = outcomes_module.outcomes(org, visible=_visible)
    mine = (
        next((m for m in user.memberships if m.organisation_id == org.id), None) if user else None
    )
    return render_template(
        "organisations/profile.html",
        org=org,
        own=[o for o in rows if o.role == "own"],
        cosigned=[o for o in rows if o.role == "cosigned"],
        membership=mine,
        members=len(org.approved_memberships),
        may_join=policy.can(user, "membership.request")
        and (mine is None or mine.status == "refused"),
        countries=COUNTRIES,
        form=PlainForm(),
    )


@bp.get("/<slug>/input")
def our_input(slug: str):
    org = services.get_organisation(slug)
    rows = outcomes_module.outcomes(org, visible=_visible)
    counts = Counter(o.response.decision_label if o.response else o.status_label for o in rows)
    return render_template(
        "organisations/input.html",
        org=org,
        rows=rows,
        counts=counts,
        member=policy.can(current_user, "organisation.act_for", org),
    )


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    org = services.get_organisation(slug)
    user = current_actor()
    policy.require(user, "organisation.edit", org)
    form = OrganisationForm()
    if request.method == "GET":
        form.fill(org)
        return render_template("organisations/form.html", form=form, org=org)
    if not form.validate_on_submit():
        return render_template("organisations/form.html", form=form, org=org), 400
    try:
        changed = services.update_organisation(org, by=user, **form.profile())
    except ConsultError as e:
        db.session.rollback()
        page = render_template("organisations/form.html", form=form, org=org, error=e.message)
        return page, e.status
    db.session.commit()
    flash(_("The profile is saved.") if changed else _("Nothing changed."))
    return redirect(url_for("organisations.profile", slug=org.slug))


@bp.post("/<slug>/verify")
@login_required
def verify(slug: str):
    org = services.get_organisation(slug)
    user = current_actor()
    policy.require(user, "organisation.verify", org)
    _require_posted_form()
    services.verify_organisation(org, by=user)
    db.session.commit()
    flash(_("%(name)s is verified.", name=org.name))
    return redirect(url_for("organisations.profile", slug=org.slug))


@bp.post("/<slug>/join")
@login_required
def join(slug: str):
    org = services.get_organisation(slug)
    user = current_actor()
    policy.require(user, "membership.request", org)
    _require_posted_form()
    services.request_membership(user, org)
    db.session.commit()
    flash(_("Your request to join %(name)s is sent to its admins.", name=org.name))
    return redirect(url_for("organisations.profile", slug=org.slug))


@bp.get("/<slug>/members")
@login_required
def members(slug: str):
    org = services.get_organisation(slug)
    policy.require(current_actor(), "membership.decide", org)
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.organisation_id == org.id)
        .options(selectinload(Membership.user), selectinload(Membership.decided_by))
        .order_by(Membership.id)
    )
    rows = sorted(memberships, key=lambda m: (m.status != "pending", m.created_at))
    return render_template("organisations/members.html", org=org, rows=rows, form=PlainForm())


@bp.post("/<slug>/members/<int:membership_id>")
@login_required
def decide(slug: str, membership_id: int):
    org = services.get_organisation(slug)
    user = current_actor()
    policy.require(user, "membership.decide", org)
    _require_posted_form()
    m = services.get_membership(membership_id)
    if m.organisation_id != org.id:
        raise ConsultError(_("That request is for another organisation."), status=404)
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        raise ConsultError(_("Choose to approve or to refuse the request."))
    services.decide_membership(m, approve=decision == "approve", by=user)
    db.session.commit()
    flash(f"{m.user.display_name}: {m.status_label.lower()}.")
    return redirect(url_for("organisations.members", slug=org.slug))
