"""Sessions end when they should: a copied session or remember-me cookie stops working
after sign-out, and a password change or reset signs out every other device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from flask import g

from consult.accounts import tokens
from consult.accounts.models import User
from consult.extensions import db

from .conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def fresh(client):
    """The client, with the user Flask-Login loaded for the last request forgotten:
    requests in a test share its app context, where Flask-Login keeps that user."""
    g.pop("_login_user", None)
    return client


def sign_in(client, user, password=PASSWORD, remember=False):
    fresh(client)
    data = {"email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    resp = client.post("/sign-in", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp


def signed_in(client) -> bool:
    return fresh(client).get("/account").status_code == 200


def copy_cookie(source, target, name):
    cookie = source.get_cookie(name, domain="localhost")
    assert cookie is not None, f"no {name} cookie"
    target.set_cookie(name, cookie.value, domain="localhost")


def test_a_copied_session_cookie_stops_working_after_sign_out(app, make_user):
    user = make_user("cso")
    mine, thief = app.test_client(), app.test_client()
    sign_in(mine, user)
    copy_cookie(mine, thief, "session")
    assert signed_in(thief)

    assert fresh(mine).post("/sign-out").status_code == 302
    assert not signed_in(mine)
    resp = fresh(thief).get("/account")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]
    # Signing in again works, and gives a session the old copy does not match.
    sign_in(mine, user)
    assert signed_in(mine) and not signed_in(thief)


def test_remember_me_cookie_is_short_lived_lax_http_only_and_ends_with_sign_out(app, make_user):
    user = make_user("cso")
    mine = app.test_client()
    resp = sign_in(mine, user, remember=True)
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert timedelta(days=13) < expires - datetime.now(UTC) <= timedelta(days=14, minutes=1)

    # The remember-me cookie alone signs a browser in ...
    other = app.test_client()
    copy_cookie(mine, other, "remember_token")
    assert signed_in(other)
    # ... until the account signs out: then no copy of it works.
    stale = app.test_client()
    copy_cookie(mine, stale, "remember_token")
    fresh(mine).post("/sign-out")
    assert not signed_in(stale)
    assert not signed_in(other)


def test_a_password_change_signs_out_every_other_device(app, make_user):
    user = make_user("cso")
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)

    wrong = fresh(laptop).post(
        "/account/password",
        data={"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert "The current password is wrong." in wrong.get_data(as_text=True)
    assert signed_in(phone)

    resp = fresh(laptop).post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert "Your password is changed" in resp.get_data(as_text=True)
    assert signed_in(laptop)  # the device that changed it stays signed in
    assert not signed_in(phone)
    assert (
        fresh(phone).post("/sign-in", data={"email": user.email, "password": PASSWORD}).status_code
        == 400
    )
    sign_in(phone, user, password=NEW_PASSWORD)


def test_a_password_reset_signs_out_every_device(app, make_user):
    user = make_user("cso")
    laptop = app.test_client()
    sign_in(laptop, user)
    token = tokens.reset_token(db.session.get(User, user.id))
    resp = fresh(app.test_client()).post(
        f"/reset-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert resp.status_code == 302
    assert not signed_in(laptop)


def test_sessions_without_the_accounts_generation_are_refused(app, make_user):
    """Cookies made before sessions carried a generation (a bare id) or carrying an
    older one are refused."""
    user = make_user("cso")
    browser = app.test_client()
    for value in (str(user.id), f"{user.id}:7", f"{user.id}:x", "99999999999999999999:0"):
        with browser.session_transaction() as s:
            s["_user_id"] = value
        assert not signed_in(browser), value
    with browser.session_transaction() as s:
        s["_user_id"] = user.get_id()
    assert signed_in(browser)
