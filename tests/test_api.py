"""JSON API v1: every endpoint, its answer and its refusals, and what is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.accounts.models import Membership
from consult.consultation import services as cs
from consult.consultation.models import Comment, Response
from consult.documents import services as docs
from consult.extensions import db
from consult.hashing import sha256

from .conftest import SAMPLE, assert_error, bearer, count, post_comment

# SAMPLE's paragraphs: "" title, "1" Principles, "1.1", "1.2", "2" Mechanisms, "2.1", "2.2".
OPENLY = 2  # index of "1.1 Parliaments engage civil society openly and in good faith."

V2 = """# Sample Framework

## Principles

Parliaments engage civil society openly, regularly and in good faith.

## Mechanisms

- Public hearings on every bill.
- Written submissions by e-mail or on paper.

Each committee publishes a yearly report.
"""


@pytest.fixture
def secretariat(make_user):
    return make_user("secretariat")


@pytest.fixture
def two_versions(make_document, secretariat):
    """A document with version 1 closed and version 2 (V2's text) open for comments."""
    doc = make_document("consultation", by=secretariat)
    docs.close(doc.latest, by=secretariat)
    v2 = docs.import_version(doc, V2, by=secretariat, label="Second draft")
    db.session.commit()
    return doc, v2


# --- documents --------------------------------------------------------------------------------


def test_documents_list_shows_what_the_reader_may_see(client, make_document, secretariat):
    public = make_document("consultation", slug="open-doc")
    make_document("draft", slug="draft-doc")
    docs.close(public.latest, by=secretariat)
    docs.copy_version(public, by=secretariat, label="Next draft")
    db.session.commit()

    resp = client.get("/api/v1/documents")
    assert resp.status_code == 200
    listed = resp.get_json()["documents"]
    assert listed == [
        {
            "slug": "open-doc",
            "title": "Sample Framework",
            "kind": "resolution",
            "committee": "",
            "versions": [
                {
                    "number": 1,
                    "label": "First draft",
                    "state": "closed",
                    "links": {"self": "/api/v1/documents/open-doc/versions/1"},
                }
            ],
            "links": {"self": "/api/v1/documents/open-doc"},
        }
    ]

    listed = client.get("/api/v1/documents", headers=bearer(secretariat)).get_json()["documents"]
    assert [(d["slug"], [v["state"] for v in d["versions"]]) for d in listed] == [
        ("open-doc", ["closed", "draft"]),
        ("draft-doc", ["draft"]),
    ]


def test_document_detail_counts_paragraphs_and_comments(client, make_document, make_user):
    doc = make_document("consultation", slug="framework")
    member = make_user("cso")
    v = doc.latest
    post_comment(v, v.paragraphs[OPENLY], member)
    post_comment(v, None, member)

    resp = client.get("/api/v1/documents/framework")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["slug"] == "framework" and body["title"] == "Sample Framework"
    [version] = body["versions"]
    assert version["number"] == 1 and version["label"] == "First draft"
    assert version["state"] == "consultation" and version["accepting_comments"] is True
    assert version["content_hash"] == sha256(SAMPLE)
    assert version["published_at"] == v.published_at.isoformat()
    assert version["closes_at"] == v.closes_at.isoformat()
    assert version["paragraph_count"] == 7
    assert version["comment_count"] == 2


def test_document_drafts_are_hidden_from_the_public(client, make_document, make_user, secretariat):
    make_document("draft", slug="secret-plan")
    assert_error(client.get("/api/v1/documents/secret-plan"), 404, "not_found")
    cso = bearer(make_user("cso"))
    assert_error(client.get("/api/v1/documents/secret-plan", headers=cso), 404)

    resp = client.get("/api/v1/documents/secret-plan", headers=bearer(secretariat))
    assert resp.status_code == 200
    [version] = resp.get_json()["versions"]
    assert version["state"] == "draft" and version["content_hash"] is None


def test_unknown_document_is_a_json_404(client):
    error = assert_error(client.get("/api/v1/documents/nothing-here"), 404, "not_found")
    assert "nothing-here" in error["message"]


def test_a_bad_token_is_refused_even_for_reading(client, make_document):
    make_document("consultation", slug="framework")
    resp = client.get("/api/v1/documents/framework", headers={"Authorization": "Bearer wrong"})
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    resp = client.get("/api/v1/documents", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert "Bearer" in assert_error(resp, 401, "unauthorized")["message"]
    for url in (
        "/api/v1/comments/1",
        "/api/v1/search?q=x",
        "/api/v1/documents/framework/versions/1",
    ):
        assert_error(client.get(url, headers={"Authorization": "Bearer "}), 401, "unauthorized")


# --- versions ---------------------------------------------------------------------------------


def test_version_lists_paragraphs_with_comment_counts(client, make_document, make_user):
    doc = make_document("consultation", slug="framework")
    member = make_user("cso")
    v = doc.latest
    p = v.paragraphs[OPENLY]
    post_comment(v, p, member)
    post_comment(v, p, member, kind="question", body="Who decides?")
    post_comment(v, None, member)

    resp = client.get("/api/v1/documents/framework/versions/1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["document"] == "framework" and body["number"] == 1
    assert body["comment_count"] == 3 and body["version_comment_count"] == 1
    assert [x["number"] for x in body["paragraphs"]] == ["", "1", "1.1", "1.2", "2", "2.1", "2.2"]
    first = body["paragraphs"][OPENLY]
    assert first == {
        "id": p.id,
        "number": "1.1",
        "kind": "paragraph",
        "level": p.level,
        "lineage": p.lineage,
        "text": "Parliaments engage civil society openly and in good faith.",
        "source": "Parliaments engage civil society openly and in good faith.",
        "comment_count": 2,
        "links": {"comments": f"/api/v1/paragraphs/{p.id}/comments"},
    }
    assert [x["comment_count"] for x in body["paragraphs"]] == [0, 0, 2, 0, 0, 0, 0]
    item = body["paragraphs"][5]
    assert item["kind"] == "list_item" and item["source"].startswith("- Public hearings")


def test_version_endpoint_query_count_does_not_grow_with_paragraphs(
    client, make_document, make_user, count_queries
):
    member = make_user("cso")
    small = make_document("consultation", slug="small")
    long_text = "# Long\n\n" + "\n\n".join(f"Paragraph number {i} of the text." for i in range(40))
    large = make_document("consultation", slug="large", text=long_text)
    for doc in (small, large):
        for p in doc.latest.paragraphs:
            post_comment(doc.latest, p, member, body="Noted.")
    db.session.remove()  # nothing loaded in advance: the request pays for what it reads

    counts = []
    for slug in ("small", "large"):
        with count_queries() as statements:
            resp = client.get(f"/api/v1/documents/{slug}/versions/1")
        assert resp.status_code == 200
        counts.append(len(statements))
    assert len(resp.get_json()["paragraphs"]) == 41
    assert all(p["comment_count"] == 1 for p in resp.get_json()["paragraphs"])
    assert counts[0] == counts[1]


def test_draft_version_is_404_unless_policy_allows(client, make_document, make_user, secretariat):
    make_document("draft", slug="framework")
    url = "/api/v1/documents/framework/versions/1"
    assert_error(client.get(url), 404, "not_found")
    assert_error(client.get(url, headers=bearer(make_user("cso"))), 404, "not_found")
    resp = client.get(url, headers=bearer(secretariat))
    assert resp.status_code == 200 and resp.get_json()["state"] == "draft"


def test_draft_version_of_a_public_document_is_hidden(client, two_versions):
    doc, _v2 = two_versions
    base = f"/api/v1/documents/{doc.slug}"
    assert client.get(f"{base}/versions/1").status_code == 200
    assert_error(client.get(f"{base}/versions/2"), 404, "not_found")
    assert [v["number"] for v in client.get(base).get_json()["versions"]] == [1]


def test_unknown_version_is_404(client, make_document):
    make_document("consultation", slug="framework")
    assert_error(client.get("/api/v1/documents/framework/versions/9"), 404, "not_found")
    assert_error(client.get("/api/v1/documents/framework/versions/one"), 404, "not_found")


# --- compare ----------------------------------------------------------------------------------


def test_compare_gives_relations_word_diffs_and_summary(client, two_versions, secretariat):
    doc, v2 = two_versions
    docs.publish(v2, by=secretariat)  # no deadline: published as a closed text
    db.session.commit()
    v1 = doc.versions[0]

    resp = client.get(f"/api/v1/documents/{doc.slug}/compare/1/2")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["from"] == {"number": 1, "label": "First draft", "state": "closed"}
    assert body["to"] == {"number": 2, "label": "Second draft", "state": "closed"}
    assert body["summary"] == {
        "unchanged": 5,
        "formatting": 0,
        "edited": 1,
        "moved": 0,
        "split": 0,
        "merged": 0,
        "added": 1,
        "removed": 1,
    }
    rows = {r["relation"]: r for r in body["paragraphs"]}
    edited = rows["edited"]
    assert edited["old"] == {"id": v1.paragraphs[OPENLY].id, "number": "1.1"}
    assert edited["new"] == {"id": v2.paragraphs[OPENLY].id, "number": "1.1"}
    assert edited["olds"] == [edited["old"]] and edited["news"] == [edited["new"]]
    assert ["insert", ", regularly"] in edited["diff"]
    assert "".join(t for op, t in edited["diff"] if op != "insert") == v1.paragraphs[OPENLY].text
    assert rows["removed"]["new"] is None and rows["removed"]["old"]["number"] == "1.2"
    assert rows["removed"]["diff"] == [["delete", "Every submission receives a written answer."]]
    assert rows["added"]["old"] is None
    assert rows["added"]["diff"] == [["insert", "Each committee publishes a yearly report."]]


def test_compare_with_a_draft_is_404_for_the_public(client, two_versions, secretariat):
    doc, _v2 = two_versions
    url = f"/api/v1/documents/{doc.slug}/compare/1/2"
    assert_error(client.get(url), 404, "not_found")
    resp = client.get(url, headers=bearer(secretariat))
    assert resp.status_code == 200 and resp.get_json()["to"]["state"] == "draft"


def test_compare_unknown_version_or_document_is_404(client, make_document):
    make_document("consultation", slug="framework")
    assert_error(client.get("/api/v1/documents/framework/compare/1/3"), 404, "not_found")
    assert_error(client.get("/api/v1/documents/nope/compare/1/2"), 404, "not_found")


# --- posting comments -------------------------------------------------------------------------


def test_post_comment_on_a_paragraph(client, make_document, make_user):
    doc = make_document("consultation", slug="framework")
    member = make_user("cso")
    p = doc.latest.paragraphs[OPENLY]
    resp = client.post(
        f"/api/v1/paragraphs/{p.id}/comments",
        json={"kind": "comment", "body": "  Say how often.  "},
        headers=bearer(member),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    stored = db.session.scalar(select(Comment))
    assert resp.headers["Location"] == f"/api/v1/comments/{stored.id}"
    assert body["id"] == stored.id and body["tracking"] == stored.tracking
    assert body["kind"] == "comment" and body["body"] == "Say how often."
    assert body["suggested_text"] is None and body["quote"] is None
    assert body["organisation"] == {
        "slug": member.organisation.slug,
        "name": member.organisation.name,
    }
    assert body["paragraph"] == {"id": p.id, "number": "1.1"}
    assert body["document"] == "framework" and body["version"] == 1
    assert body["created_at"] == stored.created_at.isoformat()
    assert body["content_hash"] == stored.content_hash == cs.comment_hash(stored)
    assert body["response"] is None and body["responses"] == []
    assert stored.author_id == member.id and stored.channel == "web"
    assert client.get(resp.headers["Location"]).get_json() == body


def test_post_suggestion_with_a_quote(client, make_document, make_user):
    doc = make_document("consultation")
    p = doc.latest.paragraphs[OPENLY]
    resp = client.post(
        f"/api/v1/paragraphs/{p.id}/comments",
        json={
            "kind": "suggestion",
            "body": "Make it regular.",
            "suggested_text": "openly and regularly",
            "quote": "openly  and",
        },
        headers=bearer(make_user("cso")),
    )
    assert resp.status_code == 201
    body = resp.get_json()
    start = p.text.index("openly and")
    assert body["quote"] == {"text": "openly and", "start": start, "end": start + 10}
    assert body["suggested_text"] == "openly and regularly"
    assert db.session.scalar(select(Comment.quote_start)) == start


def test_post_comment_needs_a_valid_token(client, make_document, make_user, login):
    doc = make_document("consultation")
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[0].id}/comments"
    data = {"kind": "comment", "body": "Hello"}
    resp = client.post(url, json=data)
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.post(url, json=data, headers={"Authorization": "Bearer nope"}), 401)
    # A session cookie is not enough: the API takes no CSRF token, so only a bearer token acts.
    login(make_user("cso"))
    assert_error(client.post(url, json=data), 401, "unauthorized")
    assert count(Comment) == 0


@pytest.mark.parametrize("role", ["secretariat", "admin"])
def test_post_comment_refused_to_accounts_that_may_not_comment(
    client, make_document, make_user, role
):
    doc = make_document("consultation")
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[0].id}/comments"
    resp = client.post(url, json={"kind": "comment", "body": "Hi"}, headers=bearer(make_user(role)))
    error = assert_error(resp, 403, "forbidden")
    assert "may not do this" in error["message"] and error["action"] == "comment.create"
    assert count(Comment) == 0


def test_post_comment_on_unknown_or_draft_paragraph_is_404(client, make_document, make_user):
    headers = bearer(make_user("cso"))
    data = {"kind": "comment", "body": "Hi"}
    assert_error(client.post("/api/v1/paragraphs/999/comments", json=data, headers=headers), 404)
    draft = make_document("draft")
    url = f"/api/v1/paragraphs/{draft.latest.paragraphs[0].id}/comments"
    assert_error(client.post(url, json=data, headers=headers), 404, "not_found")
    assert count(Comment) == 0


def test_post_comment_on_closed_version_is_409(client, make_document, make_user):
    doc = make_document("closed")
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[0].id}/comments"
    resp = client.post(url, json={"kind": "comment", "body": "Late"}, headers=bearer(make_user()))
    assert "not open for comments" in assert_error(resp, 409, "conflict")["message"]
    assert count(Comment) == 0


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        ({"kind": "opinion", "body": "Hi"}, "invalid_field", "Unknown kind 'opinion'"),
        ({"body": "Hi"}, "bad_request", "Unknown kind"),
        ({"kind": "comment", "body": "   "}, "bad_request", "empty"),
        ({"kind": "comment", "body": 5}, "invalid_field", "'body' must be a string"),
        ({"kind": "comment", "body": "Hi", "sugested_text": "x"}, "unknown_field", "sugested"),
        ({"kind": "suggestion", "body": "Hi"}, "bad_request", "wording you propose"),
        ({"kind": "comment", "body": "Hi", "quote": "not there"}, "bad_request", "quoted words"),
        (["kind", "comment"], "invalid_json", "JSON object"),
    ],
)
def test_post_comment_bad_fields_are_400(client, make_document, make_user, data, code, words):
    doc = make_document("consultation")
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[OPENLY].id}/comments"
    resp = client.post(url, json=data, headers=bearer(make_user("cso")))
    assert words in assert_error(resp, 400, code)["message"]
    assert count(Comment) == 0


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ("kind=comment&body=Hi", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
    ],
)
def test_post_comment_non_json_body_is_400(client, make_document, make_user, payload, content_type):
    doc = make_document("consultation")
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[0].id}/comments"
    headers = {**bearer(make_user("cso")), "Content-Type": content_type}
    assert_error(client.post(url, data=payload, headers=headers), 400, "invalid_json")
    assert count(Comment) == 0


def test_member_of_several_organisations_names_one(client, make_document, make_user, make_org):
    doc = make_document("consultation")
    first, second = make_org("first-org"), make_org("second-org")
    member = make_user("cso", org=first)
    db.session.add(Membership(user=member, organisation=second))
    db.session.commit()
    headers = bearer(member)
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[0].id}/comments"

    resp = client.post(url, json={"kind": "comment", "body": "Hi"}, headers=headers)
    error = assert_error(resp, 400, "organisation_required")
    assert "first-org" in error["message"] and "second-org" in error["message"]
    make_org("other-org")
    data = {"kind": "comment", "body": "Hi", "organisation": "other-org"}
    assert_error(client.post(url, json=data, headers=headers), 403, "forbidden")
    assert count(Comment) == 0

    data["organisation"] = "second-org"
    resp = client.post(url, json=data, headers=headers)
    assert resp.status_code == 201
    assert resp.get_json()["organisation"]["slug"] == "second-org"
    assert db.session.scalar(select(Comment.organisation_id)) == second.id


def test_post_comment_on_the_version_as_a_whole(client, make_document, make_user):
    make_document("consultation", slug="framework")
    url = "/api/v1/documents/framework/versions/1/comments"
    headers = bearer(make_user("cso"))
    resp = client.post(url, json={"kind": "question", "body": "When is v2?"}, headers=headers)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["paragraph"] is None and body["kind"] == "question" and body["version"] == 1
    assert resp.headers["Location"] == f"/api/v1/comments/{body['id']}"
    stored = db.session.get(Comment, body["id"])
    assert stored.paragraph_id is None and stored.body == "When is v2?"

    data = {"kind": "comment", "body": "Hi", "quote": "Parliaments"}
    assert (
        "needs a paragraph"
        in assert_error(client.post(url, json=data, headers=headers), 400)["message"]
    )
    assert count(Comment) == 1


def test_post_version_comment_refusals(client, make_document, make_user, secretariat):
    make_document("closed", slug="closed-doc")
    make_document("draft", slug="draft-doc")
    data = {"kind": "comment", "body": "Hi"}
    cso = bearer(make_user("cso"))
    assert_error(client.post("/api/v1/documents/closed-doc/versions/1/comments", json=data), 401)
    assert_error(
        client.post("/api/v1/documents/closed-doc/versions/1/comments", json=data, headers=cso),
        409,
        "conflict",
    )
    assert_error(
        client.post("/api/v1/documents/closed-doc/versions/4/comments", json=data, headers=cso),
        404,
    )
    assert_error(
        client.post("/api/v1/documents/draft-doc/versions/1/comments", json=data, headers=cso), 404
    )
    assert_error(
        client.post(
            "/api/v1/documents/closed-doc/versions/1/comments",
            json=data,
            headers=bearer(secretariat),
        ),
        403,
    )
    assert count(Comment) == 0


# --- comments and responses -------------------------------------------------------------------


def test_get_comment_with_its_responses(client, make_document, make_user, secretariat):
    doc = make_document("consultation", slug="framework")
    member = make_user("cso")
    v = doc.latest
    c = post_comment(v, v.paragraphs[OPENLY], member, body="Say how often.")
    docs.close(v, by=secretariat)
    cs.respond(c, decision="noted", reason="We will see.", by=secretariat)
    db.session.commit()
    cs.respond(c, decision="accepted", reason="Now taken up.", by=secretariat)
    db.session.commit()

    resp = client.get(f"/api/v1/comments/{c.id}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["tracking"] == c.tracking and body["body"] == "Say how often."
    assert body["organisation"] == {
        "slug": member.organisation.slug,
        "name": member.organisation.name,
    }
    assert body["paragraph"] == {"id": v.paragraphs[OPENLY].id, "number": "1.1"}
    assert body["version"] == 1 and body["document"] == "framework"
    assert body["response"]["decision"] == "accepted"
    assert body["response"]["reason"] == "Now taken up."
    assert body["response"]["decision_label"] == "Accepted"
    assert body["response"]["responder"] == secretariat.name
    assert [r["decision"] for r in body["responses"]] == ["noted"]
    assert "@" not in resp.get_data(as_text=True)  # no e-mail address is published


def test_get_unknown_comment_is_404(client):
    assert "999" in assert_error(client.get("/api/v1/comments/999"), 404, "not_found")["message"]


@pytest.mark.parametrize("role", ["secretariat", "admin"])
def test_respond_to_a_comment(client, make_document, make_user, role):
    doc = make_document("consultation")
    v = doc.latest
    c = post_comment(v, v.paragraphs[OPENLY], make_user("cso"))
    docs.close(v, by=None)
    db.session.commit()
    responder = make_user(role)

    resp = client.post(
        f"/api/v1/comments/{c.id}/response",
        json={"decision": "partly_accepted", "reason": " Taken up in part. "},
        headers=bearer(responder),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    stored = db.session.scalar(select(Response))
    assert resp.headers["Location"] == f"/api/v1/comments/{c.id}"
    assert body == {
        "id": stored.id,
        "decision": "partly_accepted",
        "decision_label": "Partly accepted",
        "reason": "Taken up in part.",
        "responder": responder.name,
        "created_at": stored.created_at.isoformat(),
    }
    assert stored.responder_id == responder.id and stored.comment_id == c.id
    assert client.get(f"/api/v1/comments/{c.id}").get_json()["response"] == body


def test_respond_refusals_store_nothing(client, make_document, make_user, secretariat):
    doc = make_document("consultation")
    v = doc.latest
    member = make_user("cso")
    c = post_comment(v, v.paragraphs[OPENLY], member)
    url = f"/api/v1/comments/{c.id}/response"
    sec = bearer(secretariat)
    good = {"decision": "noted", "reason": "Thanks."}

    assert_error(client.post(url, json=good), 401, "unauthorized")
    assert_error(client.post(url, json=good, headers=bearer(member)), 403, "forbidden")
    error = assert_error(client.post(url, json=good, headers=sec), 409, "conflict")
    assert "closed" in error["message"]

    docs.close(v, by=secretariat)
    db.session.commit()
    error = assert_error(
        client.post(url, json={"decision": "maybe", "reason": "x"}, headers=sec), 400
    )
    assert "Unknown decision" in error["message"]
    error = assert_error(
        client.post(url, json={"decision": "noted", "reason": " "}, headers=sec), 400
    )
    assert "reason" in error["message"]
    assert_error(client.post(url, json={**good, "extra": 1}, headers=sec), 400, "unknown_field")
    assert_error(client.post(url, data="decision=noted", headers=sec), 400, "invalid_json")
    assert_error(client.post("/api/v1/comments/999/response", json=good, headers=sec), 404)
    assert count(Response) == 0


# --- search -----------------------------------------------------------------------------------


def test_search_finds_paragraphs_and_comments(client, make_document, make_user):
    doc = make_document("consultation", slug="framework")
    v = doc.latest
    c = post_comment(v, v.paragraphs[OPENLY], make_user("cso"), body="What about Zanzibar?")

    resp = client.get("/api/v1/search", query_string={"q": "submission"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"] == 2 and body["page"] == 1 and body["note"] == ""
    hits = sorted(body["hits"], key=lambda h: h["paragraph_number"])
    assert [(h["type"], h["document"], h["version"], h["paragraph_number"]) for h in hits] == [
        ("paragraph", "framework", 1, "1.2"),
        ("paragraph", "framework", 1, "2.2"),
    ]
    assert hits[0]["id"] == v.paragraphs[3].id
    assert hits[0]["links"] == {"self": "/api/v1/documents/framework/versions/1"}
    assert "<mark" in hits[0]["snippet"] and "submission</mark>" in hits[0]["snippet"]

    hits = client.get("/api/v1/search?q=zanzibar").get_json()["hits"]
    assert [(h["type"], h["id"], h["paragraph_number"]) for h in hits] == [("comment", c.id, "1.1")]
    assert hits[0]["links"] == {"self": f"/api/v1/comments/{c.id}"}


def test_search_pages_and_bad_parameters(client, make_document):
    make_document("consultation")
    assert client.get("/api/v1/search?q=submission&page=1").get_json()["total"] == 2
    past = client.get("/api/v1/search?q=submission&page=2").get_json()
    assert past["hits"] == [] and past["total"] == 2 and past["page"] == 2
    assert_error(client.get("/api/v1/search"), 400, "query_required")
    assert_error(client.get("/api/v1/search?q=%20"), 400, "query_required")
    assert_error(client.get("/api/v1/search?q=x&page=0"), 400, "invalid_page")
    assert_error(client.get("/api/v1/search?q=x&page=two"), 400, "invalid_page")


def test_search_a_malformed_query_is_still_answered(client, make_document):
    make_document("consultation")
    resp = client.get("/api/v1/search", query_string={"q": 'written AND (answer OR "'})
    assert resp.status_code == 200
    assert resp.get_json()["total"] >= 1


# --- errors for the whole API -----------------------------------------------------------------


def test_unknown_api_url_is_a_json_404(client):
    assert_error(client.get("/api/v1/nothing/here"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("delete", "/api/v1/documents", "GET"),
        ("get", "/api/v1/paragraphs/1/comments", "POST"),
        ("put", "/api/v1/comments/1/response", "POST"),
        ("post", "/api/v1/comments/1", "GET"),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(client, method, url, allowed):
    resp = getattr(client, method)(url)
    assert_error(resp, 405, "method_not_allowed")
    assert allowed in resp.headers["Allow"].split(", ")


def test_too_large_body_is_a_json_413(client, make_document, make_user, app):
    doc = make_document("consultation")
    url = f"/api/v1/paragraphs/{doc.latest.paragraphs[0].id}/comments"
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = client.post(url, json={"kind": "comment", "body": big}, headers=bearer(make_user()))
    assert_error(resp, 413)
    assert count(Comment) == 0
