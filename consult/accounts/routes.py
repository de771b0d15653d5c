"""Pages of the accounts part: sign up, sign in and out, password reset, address
confirmation, notification choices and one-click unsubscribe."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from consult.accounts import lockout, policy, services, tokens
from consult.accounts.forms import (
    NEW_ORGANISATION,
    ChangePasswordForm,
    ForgotPasswordForm,
    PlainForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
)
from consult.accounts.models import Organisation, User
from consult.errors import ConsultError
from consult.extensions import csrf, db, limiter

bp = Blueprint("accounts", __name__)

#: Guessing passwords or making accounts in bulk is slowed down per address; guesses at
#: one account from many addresses are stopped by its lock-out (consult.accounts.lockout).
AUTH_LIMIT = "10 per minute"
#: Reset links asked for one address, from any address: enough for a person, not a flood.
RESET_PER_ACCOUNT = "5 per hour"


def _submitted_email() -> str:
    """Key of the per-account limits: the address typed in the form (hashed)."""
    from consult.hashing import sha256

    return "email:" + sha256((request.form.get("email") or "").strip().lower())


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


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def sign_in():
    form = SignInForm()
    if request.method == "POST":
        if form.validate_on_submit():
            wait = lockout.locked_for(form.email.data)
            if wait is not None:
                form.password.errors = [lockout.message(wait)]
                return render_template("accounts/sign_in.html", form=form), 429
            user = services.authenticate(form.email.data, form.password.data)
            if user is not None:
                lockout.clear(form.email.data)
                login_user(user, remember=form.remember.data)
                flash(_("Signed in as %(display_name)s.", display_name=user.display_name))
                return redirect(safe_next(request.args.get("next")) or url_for("documents.home"))
            if lockout.record_failure(form.email.data):
                _tell_owner_of_lockout(form.email.data)
            form.password.errors = ["The e-mail or the password is wrong."]
        return render_template("accounts/sign_in.html", form=form), 400
    return render_template("accounts/sign_in.html", form=form)


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def sign_up():
    form = SignUpForm(services.all_organisations())
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                if form.organisation.data == NEW_ORGANISATION:
                    country = form.org_country.data
                    new = {
                        "slug": _free_org_slug(form.org_name.data),
                        "name": form.org_name.data,
                        "kind": form.org_kind.data,
                        "countries": [country] if country else [],
                    }
                    user, membership = services.sign_up(
                        form.email.data,
                        form.password.data,
                        name=form.name.data,
                        new_organisation=new,
                    )
                else:
                    org = services.get_organisation(form.organisation.data)
                    user, membership = services.sign_up(
                        form.email.data,
                        form.password.data,
                        name=form.name.data,
                        organisation=org,
                    )
                _after_sign_up(user, notify=form.notify_consultations.data)
            except ConsultError as e:
                db.session.rollback()
                page = render_template("accounts/sign_up.html", form=form, error=e.message)
                return page, e.status
            db.session.commit()
            login_user(user)
            org = membership.organisation
            if membership.status == "approved":
                flash(
                    _(
                        "Welcome, %(display_name)s: you can now comment for "
                        "%(name)s. It shows as an unverified organisation until the "
                        "secretariat checks it.",
                        display_name=user.display_name,
                        name=org.name,
                    )
                )
            else:
                flash(
                    _(
                        "Welcome, %(display_name)s: your request to join %(name)s "
                        "waits for its admins. You can comment for it once they "
                        "approve it.",
                        display_name=user.display_name,
                        name=org.name,
                    )
                )
            flash(_("We sent a link to %(email)s to confirm your address.", email=user.email))
            return redirect(url_for("documents.home"))
        return render_template("accounts/sign_up.html", form=form), 400
    return render_template("accounts/sign_up.html", form=form)


@bp.route("/sign-up/individual", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def sign_up_individual():
    """A member of the public signs up in their own name, where a consultation is open to
    individuals; commenting waits for the confirmed e-mail address."""
    from flask_babel import gettext as _

    from consult.accounts.forms import IndividualSignUpForm

    form = IndividualSignUpForm()
    if not services.open_to_individuals():
        page = render_template(
            "accounts/sign_up_individual.html",
            form=None,
            error=_("No consultation takes comments from individuals now."),
        )
        return page, 403
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("accounts/sign_up_individual.html", form=form), 400
        try:
            user = services.sign_up_individual(
                form.email.data, form.password.data, name=form.name.data
            )
            _after_sign_up(user, notify=False)
        except ConsultError as e:
            db.session.rollback()
            page = render_template("accounts/sign_up_individual.html", form=form, error=e.message)
            return page, e.status
        db.session.commit()
        login_user(user)
        flash(
            _(
                "Welcome, %(name)s. We sent a link to %(email)s: confirm your address, "
                "then you can comment in your own name.",
                name=user.display_name,
                email=user.email,
            )
        )
        return redirect(url_for("documents.home"))
    return render_template("accounts/sign_up_individual.html", form=form)


def _after_sign_up(user: User, *, notify: bool) -> None:
    from consult.mail import set_notification

    if notify:
        set_notification(user, "consultation_opened", True)
        set_notification(user, "closing_soon", True)
    _queue_confirmation(user)


def _queue_confirmation(user: User) -> None:
    from consult.mail.outbox import queue

    queue(
        user,
        "account",
        _l("Confirm your e-mail address for Consult"),
        "confirm_email",
        token=tokens.confirm_token(user),
    )


def _tell_owner_of_lockout(email: str) -> None:
    """Mail the owner of a real account that its sign-in is locked (nothing for an
    address without an account: the page reads the same either way)."""
    from consult.mail.outbox import queue

    user = services.get_user_by_email(email)
    if user is None:
        return
    queue(
        user,
        "account",
        _l("Sign-in to your Consult account is paused"),
        "account_locked",
        failures=lockout.FAILURES,
        minutes=lockout.WINDOW_MINUTES,
    )
    db.session.commit()


@bp.post("/sign-out")
def sign_out():
    # A copy of the session cookie (or of the remember-me cookie) must not outlive
    # the sign-out: ending the account's sessions refuses every copy.
    user = current_actor()
    if user is not None:
        services.end_sessions(user)
        db.session.commit()
    logout_user()
    flash(_("You are signed out. Any other device signed in to your account is signed out too."))
    return redirect(url_for("documents.home"))


# --- password reset and address confirmation ----------------------------------------------

FORGOT_SENT = (
    "If there is an account for that address, we have sent it a link to choose a new "
    "password. The link works for an hour, once."
)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limiter.limit(RESET_PER_ACCOUNT, methods=["POST"], key_func=_submitted_email)
def forgot_password():
    form = ForgotPasswordForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("accounts/forgot_password.html", form=form), 400
        from consult.mail.outbox import queue

        user = services.get_user_by_email(form.email.data)
        # The same answer whether or not the account exists: the page never tells
        # a stranger which addresses have accounts.
        if user is not None:
            queue(
                user,
                "account",
                _l("Choose a new password for Consult"),
                "password_reset",
                token=tokens.reset_token(user),
            )
            db.session.commit()
        flash(FORGOT_SENT)
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def reset_password(token: str):
    user = tokens.user_for_reset(token)
    form = ResetPasswordForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("accounts/reset_password.html", form=form, token=token), 400
        services.set_password(user, form.password.data)  # ends every session
        # Following the e-mailed link proves the address too.
        services.confirm_email(user, user.email)
        db.session.commit()
        lockout.clear(user.email)
        flash(_("Your password is changed: sign in with the new one."))
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form, token=token)


@bp.get("/confirm-email/<token>")
def confirm_email(token: str):
    user, email = tokens.confirmation(token)
    if not services.confirm_email(user, email):
        raise ConsultError(_("This link was sent to an address the account no longer uses."))
    db.session.commit()
    flash(_("Thank you: %(email)s is confirmed.", email=user.email))
    return redirect(url_for("accounts.account") if current_user.is_authenticated else "/")


# --- the account page: memberships, notifications ------------------------------------------


@bp.get("/account")
@login_required
def account():
    return _account_page(current_actor())


def _account_page(user: User, zone_error: str | None = None, zone_typed: str | None = None):
    from consult.mail import NOTIFICATIONS, settings_of
    from consult.web import known_zones

    return render_template(
        "accounts/account.html",
        user=user,
        memberships=sorted(user.memberships, key=lambda m: m.organisation.name),
        notifications=NOTIFICATIONS,
        settings=settings_of(user),
        form=PlainForm(),
        zones=sorted(known_zones()),
        zone_error=zone_error,
        zone_typed=user.timezone if zone_typed is None else zone_typed,
    )


@bp.post("/account/timezone")
@login_required
def save_timezone():
    """The account's own time zone (an IANA name), or none: then the browser's."""
    from consult.web import valid_zone

    user = current_actor()
    policy.require(user, "account.settings")
    if not PlainForm().validate_on_submit():
        raise ConsultError(_("The form expired; please try again."))
    typed = request.form.get("timezone", "").strip()
    zone = valid_zone(typed)
    if typed and zone is None:
        error = _(
            "“%(zone)s” is not a time zone we know. Write it as a region and a city, "
            "as in Asia/Yangon or America/Sao_Paulo, or leave the field empty.",
            zone=typed[:64],
        )
        return _account_page(user, zone_error=error, zone_typed=typed[:64]), 400
    user.timezone = zone
    db.session.commit()
    if zone:
        flash(_("Your time zone is saved: times are also shown in %(zone)s.", zone=zone))
    else:
        flash(_("Your time zone is cleared: times follow your browser's zone when it tells it."))
    return redirect(url_for("accounts.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def change_password():
    """A new password ends every other session of the account; this one stays signed in."""
    user = current_actor()
    form = ChangePasswordForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.change_password(user, form.current.data, form.password.data)
            except ConsultError as e:
                db.session.rollback()
                form.current.errors = [e.message]
            else:
                db.session.commit()
                login_user(user)  # the session again carries the account's new generation
                flash(_("Your password is changed; every other device was signed out."))
                return redirect(url_for("accounts.account"))
        return render_template("accounts/change_password.html", form=form), 400
    return render_template("accounts/change_password.html", form=form)


@bp.post("/account/notifications")
@login_required
def save_notifications():
    from consult.mail import NOTIFICATIONS, set_notification

    user = current_actor()
    policy.require(user, "notifications.manage")
    if not PlainForm().validate_on_submit():
        raise ConsultError(_("The form expired; please try again."))
    chosen = set(request.form.getlist("notify"))
    for kind in NOTIFICATIONS:
        set_notification(user, kind, kind in chosen)
    db.session.commit()
    flash(_("Your e-mail choices are saved."))
    return redirect(url_for("accounts.account"))


@bp.post("/account/confirm-email")
@login_required
@limiter.limit(AUTH_LIMIT)
def resend_confirmation():
    user = current_actor()
    if not PlainForm().validate_on_submit():
        raise ConsultError(_("The form expired; please try again."))
    if user.email_confirmed_at is not None:
        flash(_("%(email)s is already confirmed.", email=user.email))
    else:
        _queue_confirmation(user)
        db.session.commit()
        flash(_("We sent a new confirmation link to %(email)s.", email=user.email))
    return redirect(url_for("accounts.account"))


# --- unsubscribe: no sign-in, the signed link is the proof ---------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail programs post here with no session (RFC 8058); the token is the proof
def unsubscribe(token: str):
    from consult.mail import NOTIFICATIONS, set_notification, wants

    user, kind = tokens.unsubscription(token)
    if kind not in NOTIFICATIONS:
        raise ConsultError(_("This unsubscribe link is not valid."))
    label = NOTIFICATIONS[kind][0]
    if request.method == "POST":
        on = request.form.get("resubscribe") == "1"
        set_notification(user, kind, on)
        db.session.commit()
        return render_template("accounts/unsubscribed.html", label=label, on=on, token=token)
    return render_template(
        "accounts/unsubscribe.html",
        label=label,
        on=wants(user, kind),
        token=token,
        email=user.email,
    )
