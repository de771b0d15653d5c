"""Pages of the accounts part: sign up, sign in, sign out."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from consult.accounts import services
from consult.accounts.forms import NEW_ORGANISATION, SignInForm, SignUpForm
from consult.accounts.models import Organisation, User
from consult.errors import ConsultError
from consult.extensions import db, limiter

bp = Blueprint("accounts", __name__)

#: Guessing passwords or making accounts in bulk is slowed down per address.
AUTH_LIMIT = "10 per minute"


def current_actor() -> User | None:
    """The signed-in user as a model instance (services need the object, not the proxy)."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def safe_next(value: str | None) -> str | None:
    """A path on this site to go back to, or None: never an address elsewhere."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value:
        return None
    return value


def _free_org_slug(name: str) -> str:
    """A slug made from the organisation's name, numbered when it is taken."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:70].strip("-")
    if len(base) < 2:
        base = "organisation"
    taken = set(
        db.session.scalars(select(Organisation.slug).where(Organisation.slug.like(f"{base}%")))
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def sign_in():
    form = SignInForm()
    if request.method == "POST":
        if form.validate_on_submit():
            user = services.authenticate(form.email.data, form.password.data)
            if user is not None:
                login_user(user, remember=form.remember.data)
                flash(f"Signed in as {user.display_name}.")
                return redirect(safe_next(request.args.get("next")) or url_for("documents.home"))
            form.password.errors = ["The e-mail or the password is wrong."]
        return render_template("accounts/sign_in.html", form=form), 400
    return render_template("accounts/sign_in.html", form=form)


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def sign_up():
    form = SignUpForm(_organisations())
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                if form.organisation.data == NEW_ORGANISATION:
                    country = form.org_country.data
                    org = services.create_organisation(
                        _free_org_slug(form.org_name.data),
                        form.org_name.data,
                        kind=form.org_kind.data,
                        countries=[country] if country else [],
                    )
                else:
                    org = services.get_organisation(form.organisation.data)
                user = services.create_user(
                    form.email.data, form.password.data, name=form.name.data, organisation=org
                )
            except ConsultError as e:
                db.session.rollback()
                page = render_template("accounts/sign_up.html", form=form, error=e.message)
                return page, e.status
            db.session.commit()
            login_user(user)
            flash(f"Welcome, {user.display_name}: you can now comment for {org.name}.")
            return redirect(url_for("documents.home"))
        return render_template("accounts/sign_up.html", form=form), 400
    return render_template("accounts/sign_up.html", form=form)


@bp.post("/sign-out")
def sign_out():
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("documents.home"))
