"""The organisation registry, joining and approval, verification, password reset and
address confirmation, "Our input", the organisation API and the Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.accounts import services as accounts
from consult.accounts import tokens
from consult.accounts.models import Membership, Organisation, User
from consult.consultation import services as consultation
from consult.consultation.models import Comment
from consult.documents import services as docs
from consult.extensions import db
from consult.mail.models import MailOutbox
from consult.record.models import Event
from consult.timeutil import utcnow

from .conftest import PASSWORD, SAMPLE

ATOM = "{http://www.w3.org/2005/Atom}"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(kind: str) -> int:
    return count(Event, Event.kind == kind)


def text_of(resp) -> str:
    return resp.get_data(as_text=True)


def org_form(**fields):
    data = {
        "name": "Mekong Youth Forum",
        "acronym": "MYF",
        "kind": "network",
        "countries": ["KH", "LA"],
        "other_countries": "cn",
        "focus": "youth participation, open budgets",
        "website": "https://myf.example.org",
        "description": "Young people on the Mekong.",
        "contact_email": "hello@myf.example.org",
        "contact_phone": "+855 23 456 789",
    }
    data.update(fields)
    return data


def new_member(make_user, org, email="joiner@example.org") -> User:
    """A person who signed up asking to join `org`: pending."""
    user, _ = accounts.sign_up(email, PASSWORD, name="Joiner", organisation=org)
    db.session.commit()
    return user


# ---------------------------------------------------------------- registry


def test_registering_an_organisation_makes_its_admin(client, make_user, as_user):
    user = as_user(make_user("cso"))
    resp = client.post("/organisations/new", data=org_form())
    assert resp.status_code == 302
    org = accounts.get_organisation("mekong-youth-forum")
    assert (org.acronym, org.kind, org.countries) == ("MYF", "network", ["KH", "LA", "CN"])
    assert org.focus == ["youth participation", "open budgets"]
    assert org.contact_email == "hello@myf.example.org" and org.verified_at is None
    assert user.admin_of(org)
    assert events("organisation.created") == 1
    page = text_of(client.get(resp.headers["Location"]))
    assert "Mekong Youth Forum (MYF)" in page and "unverified organisation" in page
    assert "hello@myf.example.org" in page and "+855 23 456 789" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"website": "myf dot org"}, "is not a web address"),
        ({"other_countries": "Cambodia"}, "two-letter ISO codes"),
        ({"contact_email": "nobody"}, "is not an e-mail address"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_a_bad_profile_is_refused_and_nothing_stored(client, make_user, as_user, fields, message):
    as_user(make_user("cso"))
    before = count(Organisation)
    resp = client.post("/organisations/new", data=org_form(**fields))
    assert resp.status_code == 400
    assert message in text_of(resp)
    assert count(Organisation) == before


def test_registering_needs_an_account(client):
    resp = client.post("/organisations/new", data=org_form())
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]
    assert count(Organisation) == 0


def test_the_list_filters_by_country_kind_and_verification(client, make_org):
    make_org("alpha", "Alpha Network", kind="network", countries=("PH",))
    make_org("beta", "Beta Union", kind="union", countries=("TH", "PH"), verified=False)
    make_org("gamma", "Gamma Media", kind="media", countries=("VN",))

    def names(query):
        page = text_of(client.get(f"/organisations{query}"))
        return [n for n in ("Alpha Network", "Beta Union", "Gamma Media") if n in page]

    assert names("") == ["Alpha Network", "Beta Union", "Gamma Media"]
    assert names("?country=PH") == ["Alpha Network", "Beta Union"]
    assert names("?country=ph&kind=union") == ["Beta Union"]
    assert names("?verified=yes") == ["Alpha Network", "Gamma Media"]
    assert client.get("/organisations?kind=club").status_code == 400


def test_the_org_admin_edits_the_profile_others_may_not(client, make_user, make_org, as_user):
    org = make_org("wipn", "Women in Parliament Network")
    admin = make_user("cso", org=org)
    org.memberships[0].role = "admin"
    member = make_user("cso", org=org)
    db.session.commit()
    as_user(member)
    assert client.get("/organisations/wipn/edit").status_code == 403
    assert client.post("/organisations/wipn/edit", data=org_form()).status_code == 403
    as_user(admin)
    form = client.get("/organisations/wipn/edit")
    assert "Women in Parliament Network" in text_of(form)
    resp = client.post(
        "/organisations/wipn/edit", data=org_form(name="Women in Parliament Network", acronym="")
    )
    assert resp.status_code == 302
    db.session.refresh(org)
    assert org.acronym is None and org.website == "https://myf.example.org"
    assert org.slug == "wipn"  # the address stays
    assert events("organisation.updated") == 1


# ---------------------------------------------------------------- joining and approval


def test_a_pending_member_cannot_comment_until_approved(
    client, make_user, make_org, make_document, as_user
):
    doc = make_document("consultation")
    org = make_org("wipn", "Women in Parliament Network")
    admin = make_user("cso", org=org)
    org.memberships[0].role = "admin"
    db.session.commit()
    joiner = new_member(make_user, org)
    assert joiner.organisations == [] and joiner.pending_organisations == [org]
    # The admin is told of the request.
    mail = db.session.scalar(select(MailOutbox).where(MailOutbox.to_email == admin.email))
    assert "asks to join Women in Parliament Network" in mail.subject
    assert "/organisations/wipn/members" in mail.body

    as_user(joiner)
    p = doc.latest.paragraphs[2]
    data = {"paragraph": str(p.id), "organisation": str(org.id), "kind": "comment", "body": "Hi"}
    resp = client.post(f"/documents/{doc.slug}/versions/1/comments", data=data)
    assert resp.status_code == 403
    assert count(Comment) == 0
    assert "waiting for the organisation" in text_of(client.get("/organisations/wipn"))
    # A plain member may not decide, nor the joiner themselves.
    m = joiner.memberships[0]
    assert (
        client.post(f"/organisations/wipn/members/{m.id}", data={"decision": "approve"}).status_code
        == 403
    )

    as_user(admin)
    page = text_of(client.get("/organisations/wipn/members"))
    assert "joiner@example.org" in page and "Waiting for approval" in page
    resp = client.post(f"/organisations/wipn/members/{m.id}", data={"decision": "approve"})
    assert resp.status_code == 302
    db.session.refresh(m)
    assert (m.status, m.decided_by_id) == ("approved", admin.id) and m.decided_at is not None
    assert events("membership.requested") == 1 and events("membership.decided") == 1
    told = db.session.scalar(
        select(MailOutbox).where(
            MailOutbox.to_email == "joiner@example.org", MailOutbox.kind == "organisation"
        )
    )
    assert "was approved" in told.subject
    # Deciding twice is refused.
    again = client.post(f"/organisations/wipn/members/{m.id}", data={"decision": "refuse"})
    assert again.status_code == 409

    as_user(joiner)
    resp = client.post(f"/documents/{doc.slug}/versions/1/comments", data=data)
    assert resp.status_code == 302
    assert count(Comment) == 1


def test_a_refused_request_is_kept_and_can_be_asked_again(client, make_user, make_org, as_user):
    org = make_org("wipn", "Women in Parliament Network")
    admin = make_user("cso", org=org)
    org.memberships[0].role = "admin"
    db.session.commit()
    joiner = new_member(make_user, org)
    m = joiner.memberships[0]
    as_user(admin)
    client.post(f"/organisations/wipn/members/{m.id}", data={"decision": "refuse"})
    db.session.refresh(m)
    assert m.status == "refused" and joiner.organisations == []
    as_user(joiner)
    assert "Ask to join" in text_of(client.get("/organisations/wipn"))
    assert client.post("/organisations/wipn/join").status_code == 302
    db.session.refresh(m)
    assert m.status == "pending" and count(Membership, Membership.user_id == joiner.id) == 1
    assert client.post("/organisations/wipn/join").status_code == 409


# ---------------------------------------------------------------- verification and the label


def test_the_secretariat_verifies_and_comments_lose_the_label(
    client, make_user, make_org, make_document, as_user
):
    doc = make_document("consultation")
    org = make_org("myf", "Mekong Youth Forum", verified=False)
    member = make_user("cso", org=org)
    c = consultation.post_comment(
        version=doc.latest,
        paragraph=doc.latest.paragraphs[2],
        organisation=org,
        kind="comment",
        body="Name a contact point.",
        by=member,
    )
    db.session.commit()
    page = text_of(client.get(f"/comments/{c.id}"))
    assert "unverified organisation" in page

    as_user(member)
    assert client.post("/organisations/myf/verify").status_code == 403
    sec = as_user(make_user("secretariat", name="Siti Rahma"))
    assert "Verify this organisation" in text_of(client.get("/organisations/myf"))
    assert client.post("/organisations/myf/verify").status_code == 302
    db.session.refresh(org)
    assert org.verified_by_id == sec.id and org.verified_at is not None
    assert events("organisation.verified") == 1
    profile = text_of(client.get("/organisations/myf"))
    assert "by Siti Rahma" in profile and 'class="badge verified"' in profile
    assert "unverified organisation" not in text_of(client.get(f"/comments/{c.id}"))
    assert client.post("/organisations/myf/verify").status_code == 409


# ---------------------------------------------------------------- profile, our input, API


def _answered_suggestion(make_document, make_user, org):
    """A suggestion of `org` on version 1, answered, and version 2 taking it up."""
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    member = make_user("cso", org=org)
    v1 = doc.latest
    p = next(q for q in v1.paragraphs if "written answer" in q.text)
    c = consultation.post_comment(
        version=v1,
        paragraph=p,
        organisation=org,
        kind="suggestion",
        by=member,
        body="Set a time limit.",
        suggested_text="Every submission receives a written answer within thirty days.",
    )
    other = consultation.post_comment(
        version=v1,
        paragraph=None,
        organisation=org,
        kind="question",
        by=member,
        body="Who chairs the hearings?",
    )
    docs.close(v1, by=sec)
    consultation.respond(c, decision="accepted", reason="Added in 1.2.", by=sec)
    v2 = docs.import_version(
        doc,
        SAMPLE.replace("a written answer.", "a written answer within thirty days."),
        by=sec,
    )
    docs.publish(v2, by=sec, closes_at=utcnow() + timedelta(days=3))
    db.session.commit()
    return doc, c, other, v2


def test_our_input_shows_decision_reason_uptake_and_where_it_went(
    client, make_user, make_org, make_document
):
    org = make_org("wipn", "Women in Parliament Network")
    doc, c, other, v2 = _answered_suggestion(make_document, make_user, org)
    successor = next(q for q in v2.paragraphs if "thirty days" in q.text)
    page = text_of(client.get("/organisations/wipn/input"))
    row = page[page.index(c.tracking) :]
    row = row[: row.index("</tr>")]
    assert "Accepted" in row and "Added in 1.2." in row
    assert "Taken up (100 %)" in row
    assert f'href="/paragraphs/{successor.id}"' in row and "(v2)" in row
    assert other.tracking in page and "Waiting for the committee" in page

    profile = text_of(client.get("/organisations/wipn"))
    assert c.tracking in profile and f"/comments/{c.id}" in profile and "Accepted" in profile

    data = client.get("/api/v1/organisations/wipn").get_json()
    assert data["name"] == "Women in Parliament Network" and data["verified"] is True
    by_tracking = {o["tracking"]: o for o in data["comments"]}
    got = by_tracking[c.tracking]
    assert (got["status"], got["decision"], got["reason"]) == (
        "answered",
        "accepted",
        "Added in 1.2.",
    )
    assert got["uptake"] == {"score": 1.0, "label": "taken_up"} and got["flag"] is None
    assert got["next_version"] == 2 and got["successors"][0]["id"] == successor.id
    assert by_tracking[other.tracking]["status"] == "waiting"
    assert by_tracking[other.tracking]["paragraph"] is None


def test_organisation_api_list_and_errors(client, make_org):
    make_org("alpha", "Alpha", countries=("PH",))
    make_org("beta", "Beta", countries=("TH",), verified=False)
    listed = client.get("/api/v1/organisations?country=TH").get_json()["organisations"]
    assert [(o["slug"], o["verified"], o["comment_count"]) for o in listed] == [("beta", False, 0)]
    resp = client.get("/api/v1/organisations/nobody")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/organisations?verified=maybe").status_code == 400


# ---------------------------------------------------------------- password reset, confirmation


def _link(body: str, path: str) -> str:
    m = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]+)", body)
    assert m, body
    return m.group(1)


def test_password_reset_by_e_mailed_link_works_once(client, make_user):
    user = make_user("cso", email="dara@example.org")
    resp = client.post("/forgot-password", data={"email": "DARA@example.org"})
    assert resp.status_code == 302
    mail = db.session.scalar(select(MailOutbox).where(MailOutbox.to_email == "dara@example.org"))
    path = _link(mail.body, "/reset-password/")
    assert client.get(path).status_code == 200
    bad = client.post(path, data={"password": "a new long password", "confirm": "different"})
    assert bad.status_code == 400 and "The two passwords differ" in text_of(bad)
    ok = client.post(
        path, data={"password": "a new long password", "confirm": "a new long password"}
    )
    assert ok.status_code == 302
    assert accounts.authenticate("dara@example.org", "a new long password") == user
    assert accounts.authenticate("dara@example.org", PASSWORD) is None
    assert user.email_confirmed_at is not None  # the link proved the address
    again = client.post(
        path, data={"password": "yet another password", "confirm": "yet another password"}
    )
    assert again.status_code == 400 and "already used" in text_of(again)
    assert accounts.authenticate("dara@example.org", "a new long password") == user


def test_password_reset_never_tells_which_addresses_exist(client):
    known = client.post(
        "/forgot-password", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert "If there is an account for that address" in text_of(known)
    assert count(MailOutbox) == 0


def test_reset_links_expire_and_forgeries_fail(client, make_user, monkeypatch):
    user = make_user("cso")
    token = tokens.reset_token(user)
    monkeypatch.setattr(tokens, "RESET_MAX_AGE", -1)
    resp = client.get(f"/reset-password/{token}")
    assert resp.status_code == 400 and "expired" in text_of(resp)
    resp = client.get(f"/reset-password/{token[:-3]}abc")
    assert resp.status_code == 400 and "not valid" in text_of(resp)


def test_sign_up_sends_an_address_confirmation(client):
    client.post(
        "/sign-up",
        data={
            "name": "Dara Sok",
            "email": "dara@example.org",
            "password": "a long enough password",
            "organisation": "",
            "org_name": "Mekong Voices",
            "org_country": "KH",
            "org_kind": "network",
            "notify_consultations": "y",
        },
    )
    user = accounts.get_user_by_email("dara@example.org")
    assert user.email_confirmed_at is None
    assert user.admin_of(accounts.get_organisation("mekong-voices"))
    mail = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "account"))
    assert "Confirm your e-mail" in mail.subject
    resp = client.get(_link(mail.body, "/confirm-email/"))
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
    from consult.mail import settings_of

    assert settings_of(user)["consultation_opened"] is True


# ---------------------------------------------------------------- Atom feed


def test_the_document_feed_is_atom_with_versions_and_responses(
    client, make_user, make_org, make_document
):
    org = make_org("wipn", "Women in Parliament Network")
    doc, c, _, v2 = _answered_suggestion(make_document, make_user, org)
    resp = client.get(f"/documents/{doc.slug}/feed.atom")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(resp.data)  # noqa: S314 - our own feed, in a test
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None
    assert (
        root.find(f"{ATOM}link[@rel='self']")
        .get("href")
        .endswith(f"/documents/{doc.slug}/feed.atom")
    )
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert any(t.startswith("Version 2") for t in titles) and any(
        t.startswith("Version 1") for t in titles
    )
    assert f"Accepted: {c.tracking} by Women in Parliament Network" in titles
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids))
    for e in entries:
        assert e.findtext(f"{ATOM}updated") and e.find(f"{ATOM}link").get("href").startswith("http")
    assert client.get("/documents/nothing/feed.atom").status_code == 404


# ---------------------------------------------------------------- every page of this part


@pytest.mark.parametrize("who", ["anonymous", "admin", "secretariat"])
def test_organisation_pages_carry_no_inline_script_or_style(
    client, as_user, make_org, make_user, make_document, who
):
    org = make_org("wipn", "Women in Parliament Network")
    doc, c, _, _ = _answered_suggestion(make_document, make_user, org)
    admin = make_user("cso", org=org)
    admin.memberships[0].role = "admin"
    db.session.commit()
    new_member(make_user, org)
    urls = [
        "/organisations",
        "/organisations/wipn",
        "/organisations/wipn/input",
        "/forgot-password",
    ]
    if who == "admin":
        as_user(admin)
        urls += [
            "/organisations/wipn/edit",
            "/organisations/wipn/members",
            "/account",
            "/organisations/new",
        ]
    elif who == "secretariat":
        as_user(make_user("secretariat"))
        urls += ["/organisations/wipn/edit", "/organisations/wipn/members", "/account"]
    urls.append(f"/unsubscribe/{tokens.unsubscribe_token(admin, 'receipt')}")
    for url in urls:
        resp = client.get(url)
        html = text_of(resp)
        assert resp.status_code == 200, url
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), url
        assert " style=" not in html and "<style" not in html, url
        assert "Content-Security-Policy" in resp.headers


def test_only_approved_members_act_for_an_organisation(make_user, make_org, make_document):
    from consult.accounts.policy import can

    doc = make_document("consultation")
    org, other = make_org("wipn", "WIPN"), make_org("myf", "MYF")
    author = make_user("cso", org=other)
    c = consultation.post_comment(
        version=doc.latest,
        paragraph=None,
        organisation=other,
        kind="comment",
        body="A comment to support.",
        by=author,
    )
    db.session.commit()
    joiner = new_member(make_user, org)
    for action, target in [
        ("comment.create", doc.latest),
        ("organisation.act_for", org),
        ("comment.cosign", c),
        ("organisation.edit", org),
        ("membership.decide", org),
    ]:
        assert not can(joiner, action, target), action
    joiner.memberships[0].status = "approved"
    assert can(joiner, "comment.create", doc.latest) and can(joiner, "organisation.act_for", org)
    assert can(joiner, "comment.cosign", c) and not can(joiner, "organisation.edit", org)
    assert can(joiner, "membership.request") and not can(None, "membership.request")


def test_our_input_reads_the_same_number_of_queries_for_more_comments(
    client, make_user, make_org, make_document, count_queries
):
    """The "Our input" page loads each comment's edits, withdrawal and moderation with
    the list, not one comment at a time."""
    org = make_org("wipn", "Women in Parliament Network")
    doc, c, other, v2 = _answered_suggestion(make_document, make_user, org)
    member = make_user("cso", org=org, email="second@example.org")

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/organisations/wipn/input").status_code == 200
        return len(statements)

    few = queries()
    for i in range(5):
        posted = consultation.post_comment(
            version=v2,
            paragraph=v2.paragraphs[i],
            organisation=org,
            kind="comment",
            by=member,
            body=f"Point {i}.",
        )
        if i == 0:
            consultation.withdraw_comment(posted, by=member, reason="Sent twice.")
    db.session.commit()
    assert queries() == few
