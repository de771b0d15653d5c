"""Bad JSON and bad values sent to API v1 are 400s with a readable message (never a 500),
refused before anything is stored; what people write goes through the text policy."""

from __future__ import annotations

import json

import pytest

from consult.consultation.models import Comment, Flag
from consult.extensions import db

from .conftest import assert_error, bearer, count, post_comment

OPENLY = 2  # index of "1.1 Parliaments engage civil society openly and in good faith."


@pytest.fixture
def world(make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    author = make_user("cso", name="Lan Pham")
    c = post_comment(v, v.paragraphs[OPENLY], author, body="Say how often.")
    return doc, v, author, c


def _post(client, url, raw: str | bytes, headers):
    return client.post(url, data=raw, headers={**headers, "Content-Type": "application/json"})


def _writes(doc, v, c):
    """(method, url) of writes that read a JSON body, one of each family."""
    p = v.paragraphs[OPENLY].id
    return [
        ("post", f"/api/v1/paragraphs/{p}/comments"),
        ("post", f"/api/v1/documents/{doc.slug}/versions/{v.number}/comments"),
        ("patch", f"/api/v1/comments/{c.id}"),
        ("post", f"/api/v1/comments/{c.id}/flags"),
        ("post", f"/api/v1/comments/{c.id}/replies"),
        ("post", f"/api/v1/comments/{c.id}/response"),
        ("post", f"/api/v1/documents/{doc.slug}/versions"),
        ("post", f"/api/v1/documents/{doc.slug}/versions/{v.number}/lineage"),
        ("patch", f"/api/v1/paragraphs/{p}"),
    ]


@pytest.mark.parametrize("raw", ["[" * 1000, '{"body": ' + "[" * 5000, "{" * 100_000])
def test_deeply_nested_json_is_a_400_on_every_write(client, world, make_user, raw):
    doc, v, author, c = world
    for headers in (bearer(author), bearer(make_user("secretariat"))):
        for method, url in _writes(doc, v, c):
            resp = getattr(client, method)(
                url, data=raw, headers={**headers, "Content-Type": "application/json"}
            )
            error = assert_error(resp, 400, "invalid_json")
            assert "nested too deeply" in error["message"], (url, error)
    assert count(Comment) == 1


def test_brackets_inside_strings_do_not_count_as_nesting(client, world):
    doc, v, author, c = world
    url = f"/api/v1/paragraphs/{v.paragraphs[OPENLY].id}/comments"
    body = 'Quoting [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ and {{{{{{{{{{{{{{{{{{{{{{{{ as written \\" ['
    resp = _post(client, url, json.dumps({"kind": "comment", "body": body}), bearer(author))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["body"] == body


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"kind": "comment", "body": "a\\ud800b"}', "body"),
        ('{"kind": "comment", "body": "ok", "quote": "\\udfff"}', "quote"),
        ('{"kind": "comment", "body": "ok", "organisation": "\\ud83d"}', "organisation"),
    ],
)
def test_a_lone_surrogate_is_refused(client, world, raw, field):
    doc, v, author, c = world
    url = f"/api/v1/paragraphs/{v.paragraphs[OPENLY].id}/comments"
    error = assert_error(_post(client, url, raw, bearer(author)), 400, "invalid_text")
    assert error["field"] == field and "surrogate" in error["message"]
    assert count(Comment) == 1


def test_a_nul_in_a_json_string_is_refused(client, world):
    doc, v, author, c = world
    url = f"/api/v1/paragraphs/{v.paragraphs[OPENLY].id}/comments"
    resp = client.post(url, json={"kind": "comment", "body": "a\u0000b"}, headers=bearer(author))
    error = assert_error(resp, 400, "invalid_text")
    assert error["field"] == "body" and "NUL" in error["message"]
    reply = client.post(
        f"/api/v1/comments/{c.id}/replies", json={"body": "\x00"}, headers=bearer(author)
    )
    assert assert_error(reply, 400, "invalid_text")["field"] == "body"
    assert count(Comment) == 1


def test_text_is_normalised_controls_dropped_and_invisible_text_is_empty(client, world):
    doc, v, author, c = world
    url = f"/api/v1/paragraphs/{v.paragraphs[OPENLY].id}/comments"
    me = bearer(author)
    resp = client.post(
        url, json={"kind": "comment", "body": "Cafe\u0301\u0001 ok\tyes"}, headers=me
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["body"] == "Caf\u00e9 ok\tyes"
    stored = db.session.get(Comment, resp.get_json()["id"])
    assert stored.body == "Caf\u00e9 ok\tyes"
    empty = client.post(url, json={"kind": "comment", "body": "\u200b\u200b"}, headers=me)
    assert "empty" in assert_error(empty, 400)["message"]
    assert count(Comment) == 2


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30, -1, 0])
def test_numbers_beyond_a_column_are_400s_naming_the_field(client, world, make_user, big):
    doc, v, author, c = world
    moderator = bearer(make_user("admin"))
    flags = f"/api/v1/comments/{c.id}/flags"
    error = assert_error(client.post(flags, json={"reply": big}, headers=bearer(author)), 400)
    assert error["code"] == "invalid_field" and error["field"] == "reply"
    assert "2,147,483,647" in error["message"]
    hide = {"action": "hide", "reason": "Spam", "reply": big}
    resp = client.post(f"/api/v1/comments/{c.id}/moderation", json=hide, headers=moderator)
    assert assert_error(resp, 400, "invalid_field")["field"] == "reply"
    assert count(Flag) == 0


def test_ids_inside_lists_and_drafting_numbers_are_bounded(client, make_document, make_user):
    doc = make_document("closed")
    sec = bearer(make_user("secretariat"))
    resp = client.post(f"/api/v1/documents/{doc.slug}/versions", json={}, headers=sec)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    draft = resp.get_json()
    p = draft["paragraphs"][0]["id"]
    lineage = f"/api/v1/documents/{doc.slug}/versions/{draft['number']}/lineage"
    bad = {"corrections": [{"paragraph": p, "predecessors": [2**40]}]}
    error = assert_error(client.post(lineage, json=bad, headers=sec), 400, "invalid_field")
    assert error["field"] == "corrections[0].predecessors[0]"
    split = client.post(f"/api/v1/paragraphs/{p}/split", json={"offset": 2**63}, headers=sec)
    assert assert_error(split, 400, "invalid_field")["field"] == "offset"
    edit = client.patch(
        f"/api/v1/paragraphs/{p}", json={"source": "x", "revision": 2**31}, headers=sec
    )
    assert assert_error(edit, 400, "invalid_field")["field"] == "revision"
    label = client.post(
        f"/api/v1/documents/{doc.slug}/versions", json={"label": "x" * 201}, headers=sec
    )
    assert "has at most 200 characters" in assert_error(label, 400, "invalid_field")["message"]


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        ('{"kind": "comment", "body": NaN}', "invalid_json", "not valid JSON"),
        ('{"kind": "comment", "body": "x"', "invalid_json", "not valid JSON"),
        (b'{"kind": "comment", "body": "\xff"}', "invalid_json", "UTF-8"),
        ("null", "invalid_json", "JSON object"),
        ('"a string"', "invalid_json", "JSON object"),
        ('{"kind": "comment", "body": true}', "invalid_field", "'body' must be a string"),
        ('{"kind": ["comment"], "body": "x"}', "invalid_field", "kind"),
        ('{"kind": "comment", "body": "x", "organisation": 7}', "invalid_field", "string"),
        ('{"kind": "comment", "body": "x", "jointly_with": {"a": 1}}', "invalid_field", "string"),
    ],
)
def test_malformed_bodies_are_400s(client, world, raw, code, words):
    doc, v, author, c = world
    url = f"/api/v1/paragraphs/{v.paragraphs[OPENLY].id}/comments"
    error = assert_error(_post(client, url, raw, bearer(author)), 400, code)
    assert words in error["message"]
    assert count(Comment) == 1


def test_wrong_types_in_drafting_and_feedback_bodies(client, world, make_user):
    doc, v, author, c = world
    me = bearer(author)
    feedback = client.post(f"/api/v1/comments/{c.id}/feedback", json={"satisfied": 1}, headers=me)
    error = assert_error(feedback, 400, "invalid_field")
    assert error["field"] == "satisfied" and "true or false" in error["message"]
    sec = bearer(make_user("secretariat"))
    start = client.post(
        f"/api/v1/documents/{doc.slug}/versions", json={"source": "import"}, headers=sec
    )
    assert_error(start, 400)


def test_validation_comes_after_the_token_check(client, world):
    doc, v, author, c = world
    url = f"/api/v1/paragraphs/{v.paragraphs[OPENLY].id}/comments"
    assert_error(client.post(url, data="[" * 1000, content_type="application/json"), 401)


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("q=x&page=1000000000000000000000000000000", "invalid_page", "page"),
        ("q=x&page=-3", "invalid_page", "page"),
        ("q=x&pgae=2", "unknown_field", "pgae"),
        ("q=" + "x" * 501, "invalid_field", "q"),
    ],
)
def test_bad_search_parameters_are_400s(client, query, code, field):
    error = assert_error(client.get(f"/api/v1/search?{query}"), 400, code)
    assert error["field"] == field


def test_bad_organisation_filters_are_400s(client):
    error = assert_error(client.get("/api/v1/organisations?kind=club"), 400, "invalid_field")
    assert "Unknown kind 'club'" in error["message"]
    assert_error(client.get("/api/v1/organisations?verified=maybe"), 400, "invalid_field")
    assert_error(client.get("/api/v1/organisations?country=THA"), 400, "invalid_field")
