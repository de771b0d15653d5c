"""API v1 for comments after posting: edit, withdraw, co-sign, replies, flags and
moderation, joint submissions; the same rules as the pages, JSON answers and refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from consult.accounts.models import Membership
from consult.consultation import services as cs
from consult.consultation.models import (
    CommentRevision,
    CommentWithdrawal,
    CoSignature,
    Flag,
    ModerationAction,
    Reply,
)
from consult.documents.models import Version
from consult.extensions import db
from consult.timeutil import clock

from .conftest import assert_error, bearer, count, post_comment

OPENLY = 2  # "Parliaments engage civil society openly and in good faith."


@pytest.fixture
def world(make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    author = make_user("cso", name="Lan Pham")
    other = make_user("cso", name="Somchai K")
    c = post_comment(
        v,
        v.paragraphs[OPENLY],
        author,
        kind="suggestion",
        body="Say how often.",
        suggested_text="openly and regularly",
        quote="openly",
    )
    return doc, v, author, other, c


def test_edit_keeps_earlier_texts_and_the_comment_shows_the_current_one(client, world):
    doc, v, author, other, c = world
    url = f"/api/v1/comments/{c.id}"
    assert_error(client.patch(url, json={"body": "x"}), 401)
    assert_error(client.patch(url, json={"body": "x"}, headers=bearer(other)), 403)
    me = bearer(author)
    assert_error(client.patch(url, json={}, headers=me), 400, "nothing_to_change")
    assert_error(client.patch(url, json={"body": 3}, headers=me), 400, "invalid_field")
    assert_error(client.patch(url, json={"quote": "secretly"}, headers=me), 400)
    resp = client.patch(
        url, json={"body": "Say how often, at least yearly.", "quote": "openly  and"}, headers=me
    )
    assert resp.status_code == 200
    data = resp.get_json()
    # Fields left out keep their value; the quote is found again despite the white space.
    assert data["body"] == "Say how often, at least yearly."
    assert data["suggested_text"] == "openly and regularly"
    assert data["quote"]["text"] == "openly and"
    assert data["revisions"] == 1 and data["current_text"]["number"] == 2
    assert data["content_hash"] == c.content_hash  # the receipt's hash is the first text's
    texts = client.get(f"{url}/revisions").get_json()["revisions"]
    assert [(t["number"], t["body"]) for t in texts] == [
        (1, "Say how often."),
        (2, "Say how often, at least yearly."),
    ]
    assert count(CommentRevision) == 1


def test_withdraw_then_nothing_more(client, world):
    doc, v, author, other, c = world
    url = f"/api/v1/comments/{c.id}"
    assert_error(client.post(f"{url}/withdraw", headers=bearer(other)), 403)
    resp = client.post(
        f"{url}/withdraw", json={"reason": "Merged with C-2."}, headers=bearer(author)
    )
    assert resp.status_code == 200
    assert resp.get_json()["withdrawn"]["reason"] == "Merged with C-2."
    assert resp.get_json()["body"] == "Say how often."  # kept, shown as withdrawn
    assert_error(client.post(f"{url}/withdraw", headers=bearer(author)), 409, "conflict")
    assert_error(client.patch(url, json={"body": "x"}, headers=bearer(author)), 409)
    assert_error(client.post(f"{url}/cosign", headers=bearer(other)), 409)
    assert count(CommentWithdrawal) == 1 and count(CoSignature) == 0


def test_cosign_once_per_organisation(client, world, make_org):
    doc, v, author, other, c = world
    url = f"/api/v1/comments/{c.id}/cosign"
    assert_error(client.post(url, headers=bearer(author)), 403)  # its own organisation
    resp = client.post(url, headers=bearer(other))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["cosignatures"] == {
        "count": 1,
        "joint_with": [],
        "supported_by": [other.organisation.slug],
    }
    assert_error(client.post(url, headers=bearer(other)), 409)
    # A member of several organisations names one, and only one of their own.
    second = make_org(slug="second-org")
    db.session.add(Membership(user=other, organisation=second))
    db.session.commit()
    me = bearer(other)
    assert_error(client.post(url, headers=me), 400, "organisation_required")
    assert_error(client.post(url, json={"organisation": "org-1"}, headers=me), 403)
    assert client.post(url, json={"organisation": "second-org"}, headers=me).status_code == 201
    assert count(CoSignature) == 2


def test_joint_submission_at_posting(client, make_document, make_user, make_org):
    doc = make_document("consultation")
    member = make_user("cso")
    partner = make_org(slug="partner")
    make_org(slug="stranger")
    db.session.add(Membership(user=member, organisation=partner))
    db.session.commit()
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[OPENLY].id}/comments"
    me = bearer(member)
    base = {"body": "Jointly.", "kind": "comment", "organisation": member.organisation.slug}
    assert_error(client.post(url, json={**base, "jointly_with": "stranger"}, headers=me), 403)
    resp = client.post(url, json={**base, "jointly_with": "partner"}, headers=me)
    assert resp.status_code == 201
    assert resp.get_json()["cosignatures"]["joint_with"] == ["partner"]


def test_replies_thread(client, world, make_user):
    doc, v, author, other, c = world
    url = f"/api/v1/comments/{c.id}/replies"
    assert_error(client.post(url, json={"body": "Hi"}), 401)
    assert_error(client.post(url, json={"body": ""}, headers=bearer(other)), 400)
    resp = client.post(url, json={"body": "We agree."}, headers=bearer(other))
    assert resp.status_code == 201
    assert resp.get_json()["organisation"]["slug"] == other.organisation.slug
    sec = make_user("secretariat", name="Secretary")
    resp = client.post(url, json={"body": "Which bills?"}, headers=bearer(sec))
    assert resp.get_json()["for_committee"] is True
    thread = client.get(url).get_json()["replies"]
    assert [(r["author"], r["body"]) for r in thread] == [
        ("Somchai K", "We agree."),
        ("Secretary", "Which bills?"),
    ]
    assert "@" not in str(thread)  # no e-mail addresses
    assert client.get(f"/api/v1/comments/{c.id}").get_json()["reply_count"] == 2
    assert count(Reply) == 2


def test_replies_query_count_does_not_grow_with_the_thread(client, world, make_user, count_queries):
    comment_id = world[-1].id
    url = f"/api/v1/comments/{comment_id}/replies"
    counts = []
    for _ in range(2):
        for _ in range(3):  # each reply by another member of another organisation
            member = make_user("cso")
            c = cs.get_comment(comment_id)
            cs.post_reply(c, body="Agreed.", by=member, organisation=member.organisation)
        db.session.commit()
        db.session.remove()  # nothing loaded in advance: the request pays for what it reads
        with count_queries() as statements:
            resp = client.get(url)
        assert resp.status_code == 200
        counts.append(len(statements))
    assert len(resp.get_json()["replies"]) == 6
    assert counts[0] == counts[1]


def test_flag_and_moderation(client, world, make_user):
    doc, v, author, other, c = world
    base = f"/api/v1/comments/{c.id}"
    assert_error(client.post(f"{base}/flags", json={"reason": "Spam"}), 401)
    assert (
        client.post(f"{base}/flags", json={"reason": "Spam"}, headers=bearer(other)).status_code
        == 201
    )
    assert_error(client.post(f"{base}/flags", json={"reason": "Spam"}, headers=bearer(other)), 409)
    assert_error(
        client.post(f"{base}/flags", json={"reason": "x", "reply": "1"}, headers=bearer(other)), 400
    )
    hide = {"action": "hide", "reason": "Off topic."}
    assert_error(client.post(f"{base}/moderation", json=hide, headers=bearer(other)), 403)
    mod = bearer(make_user("secretariat"))
    assert_error(
        client.post(f"{base}/moderation", json={"action": "delete", "reason": "x"}, headers=mod),
        400,
    )
    resp = client.post(f"{base}/moderation", json=hide, headers=mod)
    assert resp.status_code == 201
    data = resp.get_json()
    assert data["hidden"]["reason"] == "Off topic."
    assert (data["body"], data["suggested_text"], data["quote"]) == (None, None, None)
    assert client.get(f"{base}/revisions").get_json()["revisions"] == []
    # A hidden comment takes no replies or co-signatures.
    assert_error(client.post(f"{base}/replies", json={"body": "x"}, headers=bearer(other)), 409)
    assert count(Flag) == 1 and count(ModerationAction) == 1


def test_after_the_deadline_nothing_changes(client, world):
    doc, v, author, other, c = world
    base = f"/api/v1/comments/{c.id}"
    me, them = bearer(author), bearer(other)
    with clock(v.closes_at + timedelta(seconds=1)):
        assert_error(client.patch(base, json={"body": "Later"}, headers=me), 409)
        assert_error(client.post(f"{base}/withdraw", headers=me), 409)
        assert_error(client.post(f"{base}/cosign", headers=them), 409)
        assert_error(client.post(f"{base}/replies", json={"body": "x"}, headers=them), 409)
    assert (count(CommentRevision), count(CommentWithdrawal), count(CoSignature), count(Reply)) == (
        0,
        0,
        0,
        0,
    )


def test_unknown_comment_or_reply_is_404(client, world, make_user):
    doc, v, author, other, c = world
    assert_error(client.get("/api/v1/comments/999/replies"), 404)
    assert_error(client.post("/api/v1/comments/999/withdraw", headers=bearer(author)), 404)
    mod = bearer(make_user("secretariat"))
    resp = client.post(
        f"/api/v1/comments/{c.id}/moderation",
        json={"action": "hide", "reason": "x", "reply": 12345},
        headers=mod,
    )
    assert_error(resp, 404)


def test_a_comment_is_read_only_where_its_version_may_be_read(client, world, make_user):
    """Comments are made on published versions only, but the API's reading of one
    comment asks the same question as every other: may this caller see its version?"""
    doc, v, author, other, c = world
    url = f"/api/v1/comments/{c.id}"
    assert client.get(url).status_code == 200
    # A version back in draft cannot happen through the services; written straight to
    # the table, it stands for any version the public may not read.
    db.session.execute(sa.update(Version).where(Version.id == v.id).values(state="draft"))
    db.session.commit()
    db.session.expire_all()
    for path in (url, f"{url}/replies", f"{url}/revisions"):
        assert_error(client.get(path), 404, "not_found")
    assert client.get(url, headers=bearer(make_user("secretariat"))).status_code == 200
