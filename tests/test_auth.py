"""Signing up, in and out; CSRF and rate limits on the forms."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import select

from consult import create_app
from consult.accounts.models import Organisation, User
from consult.accounts.services import authenticate, create_user
from consult.consultation.models import Comment
from consult.extensions import db, limiter

from .conftest import PASSWORD, count


def sign_up_form(**fields):
    data = {
        "name": "Dara Sok",
        "email": "dara@example.org",
        "password": "a long enough password",
        "organisation": "",
        "org_name": "Mekong Voices",
        "org_country": "KH",
        "org_kind": "network",
    }
    data.update(fields)
    return data


@pytest.fixture
def fresh_app(app):
    """make(**config) → a second app on the same database, e.g. with CSRF or rate limits on."""
    made = []

    def make(**overrides):
        keys = (
            "TESTING",
            "SQLALCHEMY_DATABASE_URI",
            "INDEX_DIR",
            "SERVER_NAME",
            "WTF_CSRF_ENABLED",
            "RATELIMIT_ENABLED",
        )
        new = create_app({**{k: app.config[k] for k in keys}, **overrides})
        made.append(new)
        return new

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()
    # The limiter object is shared by every app; switch it back to the test app's setting.
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


# ---------------------------------------------------------------- sign up


def test_sign_up_page_offers_existing_organisations(client, make_org):
    make_org(name="Women in Parliament Network")
    resp = client.get("/sign-up")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Women in Parliament Network" in html
    assert "A new organisation" in html and "Philippines" in html
    assert '<label for="password">' in html


def test_sign_up_with_a_new_organisation(client):
    resp = client.post("/sign-up", data=sign_up_form())
    assert resp.status_code == 302
    user = db.session.scalar(select(User))
    org = db.session.scalar(select(Organisation))
    assert user.email == "dara@example.org" and user.role == "cso" and user.name == "Dara Sok"
    assert org.name == "Mekong Voices" and org.slug == "mekong-voices"
    assert org.countries == ["KH"] and org.kind == "network"
    assert org.verified_at is None  # the secretariat verifies it later
    assert user.organisations == [org]
    assert user.password_hash != "a long enough password"
    home = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Welcome, Dara Sok" in home and "Sign out" in home


def test_sign_up_joining_an_existing_organisation(client, make_org):
    org = make_org("wipn", "Women in Parliament Network")
    resp = client.post("/sign-up", data=sign_up_form(organisation="wipn", org_name=""))
    assert resp.status_code == 302
    user = db.session.scalar(select(User))
    # Joining an existing organisation waits for one of its admins (tests/test_organisations.py).
    assert user.organisations == [] and user.pending_organisations == [org]
    assert count(Organisation) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short"}, "at least 10 characters"),
        ({"organisation": "", "org_name": ""}, "Name your organisation"),
        ({"email": "not-an-address"}, "is not an e-mail address"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_sign_up_refuses_bad_input_and_stores_nothing(client, fields, message):
    resp = client.post("/sign-up", data=sign_up_form(**fields))
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert count(User) == 0 and count(Organisation) == 0


def test_sign_up_with_both_an_existing_and_a_new_organisation_is_refused(client, make_org):
    make_org("wipn", "Women in Parliament Network")
    resp = client.post("/sign-up", data=sign_up_form(organisation="wipn"))
    assert resp.status_code == 400
    assert "not both" in resp.get_data(as_text=True)
    assert count(User) == 0 and count(Organisation) == 1


def test_sign_up_twice_with_one_address_is_refused(client, make_user):
    make_user("cso", email="dara@example.org")
    before = count(Organisation)
    resp = client.post("/sign-up", data=sign_up_form())
    assert resp.status_code == 409
    assert "already an account" in resp.get_data(as_text=True)
    assert count(User) == 1 and count(Organisation) == before


def test_organisations_with_the_same_name_get_their_own_addresses(client, app):
    client.post("/sign-up", data=sign_up_form())
    g.pop("_login_user", None)
    client.post("/sign-up", data=sign_up_form(email="other@example.org"))
    client.post("/sign-up", data=sign_up_form(email="thai@example.org", org_name="มูลนิธิ"))
    slugs = sorted(db.session.scalars(select(Organisation.slug)))
    assert slugs == ["mekong-voices", "mekong-voices-2", "organisation"]


def test_a_new_member_can_comment_right_away(client, make_document):
    doc = make_document("consultation")
    client.post("/sign-up", data=sign_up_form())
    org = db.session.scalar(select(Organisation))
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data={
            "paragraph": str(doc.latest.paragraphs[2].id),
            "organisation": str(org.id),
            "kind": "comment",
            "body": "First comment from a new member.",
        },
    )
    assert resp.status_code == 302
    assert db.session.scalar(select(Comment.organisation_id)) == org.id


# ---------------------------------------------------------------- sign in and out


def test_sign_in_and_out(client, make_user):
    user = make_user("secretariat", name="Ana Reyes")
    page = client.get("/sign-in")
    assert page.status_code == 200 and '<label for="email">' in page.get_data(as_text=True)
    resp = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    home = client.get("/").get_data(as_text=True)
    assert "Signed in as Ana Reyes" in home and "(secretariat)" in home

    assert client.get("/sign-out").status_code == 405  # signing out is a POST
    out = client.post("/sign-out")
    assert out.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "You are signed out." in home and 'href="/sign-in"' in home
    assert "Ana Reyes" not in home


def test_passwords_are_kept_as_scrypt_hashes(fresh_app):
    """The suite hashes with a cheap method for speed; an app made with the default
    settings, as every deployment is, keeps scrypt hashes and checks them."""
    other = fresh_app()
    with other.app_context():
        user = create_user("hash@example.org", "a long enough password", role="secretariat")
        db.session.commit()
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert "a long enough password" not in user.password_hash
        assert authenticate("hash@example.org", "a long enough password") == user
        assert authenticate("hash@example.org", "a long enough passworD") is None
        db.session.remove()


def test_sign_in_with_a_wrong_password(client, make_user):
    user = make_user("cso")
    resp = client.post("/sign-in", data={"email": user.email, "password": "wrong password!"})
    assert resp.status_code == 400
    assert "The e-mail or the password is wrong." in resp.get_data(as_text=True)
    assert "Sign out" not in client.get("/").get_data(as_text=True)


def test_sign_in_goes_back_to_the_page_asked_for_but_never_elsewhere(
    client, make_user, make_document
):
    doc = make_document("consultation")
    user = make_user("cso")
    wanted = f"/documents/{doc.slug}/versions/1/comments/new"
    resp = client.get(wanted)
    assert resp.status_code == 302 and "/sign-in?next=" in resp.headers["Location"]
    resp = client.post(f"/sign-in?next={wanted}", data={"email": user.email, "password": PASSWORD})
    assert resp.headers["Location"].endswith(wanted)
    g.pop("_login_user", None)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client.post("/sign-out")
        resp = client.post(
            f"/sign-in?next={evil}", data={"email": user.email, "password": PASSWORD}
        )
        assert resp.status_code == 302
        assert "evil" not in resp.headers["Location"]


# ---------------------------------------------------------------- CSRF and rate limits


def test_a_post_without_csrf_token_is_refused_and_stores_nothing(
    fresh_app, make_document, make_user
):
    doc = make_document("consultation")
    member = make_user("cso")
    paragraph_id, org_id, slug = doc.latest.paragraphs[2].id, member.organisation.id, doc.slug
    db.session.commit()
    guarded = fresh_app(WTF_CSRF_ENABLED=True)
    browser = guarded.test_client()
    with browser.session_transaction() as s:
        s["_user_id"] = member.get_id()
    form = {
        "paragraph": str(paragraph_id),
        "organisation": str(org_id),
        "kind": "comment",
        "body": "Sent from another site.",
    }

    resp = browser.post(f"/documents/{slug}/versions/1/comments", data=form)
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    db.session.rollback()
    assert count(Comment) == 0

    # With the token the page gives, the same comment goes through.
    page = browser.get(f"/documents/{slug}/versions/1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = browser.post(
        f"/documents/{slug}/versions/1/comments", data={**form, "csrf_token": token}
    )
    assert resp.status_code == 302
    db.session.rollback()
    assert count(Comment) == 1


def test_sign_in_and_sign_out_need_the_csrf_token(fresh_app, make_user):
    user = make_user("cso")
    db.session.commit()
    browser = fresh_app(WTF_CSRF_ENABLED=True).test_client()
    resp = browser.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert "Sign out" not in browser.get("/").get_data(as_text=True)
    with browser.session_transaction() as s:
        s["_user_id"] = user.get_id()
    assert browser.post("/sign-out").status_code == 400
    assert "Sign out" in browser.get("/").get_data(as_text=True)


def test_sign_in_and_sign_up_are_rate_limited(fresh_app, make_user):
    user = make_user("cso")
    db.session.commit()
    browser = fresh_app(RATELIMIT_ENABLED=True).test_client()
    for _ in range(10):
        resp = browser.post("/sign-in", data={"email": user.email, "password": "guess guess"})
        assert resp.status_code == 400
    resp = browser.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 429
    assert "Too many attempts" in resp.get_data(as_text=True)
    assert browser.get("/sign-in").status_code == 200  # reading the form is not limited
    for _ in range(10):
        browser.post("/sign-up", data=sign_up_form(password="short"))
    assert browser.post("/sign-up", data=sign_up_form()).status_code == 429
    assert count(User) == 1
