"""The OpenAPI description is generated from the routes and the contracts their views
declare: it covers the whole API v1 and only what exists, its schemas are the ones
requests are validated against, and the answers match the declared answer models."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from pydantic import TypeAdapter

from consult.api import schemas
from consult.api.contract import INT32_MAX, OPERATIONS
from consult.api.openapi import spec
from consult.api.routes import bp
from consult.documents import services as docs
from consult.extensions import db

from .conftest import bearer, post_comment

PREFIX = "/api/v1"
METHODS = {"get", "post", "patch", "put", "delete"}


def _routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api/v1 route of the app."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method.lower()))
    return out


def _described(doc) -> set[tuple[str, str]]:
    return {(p, m) for p, ops in doc["paths"].items() for m in ops if m in METHODS}


def test_every_api_route_is_described_and_nothing_else(app):
    doc = spec()
    missing = _routes(app) - _described(doc)
    assert not missing, f"declare an @operation for these: {sorted(missing)}"
    stale = _described(doc) - _routes(app)
    assert not stale, f"these are described but do not exist: {sorted(stale)}"


def test_the_description_is_served_and_well_formed(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.1") and doc["servers"] == [{"url": "/api/v1"}]
    schemas = doc["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', resp.get_data(as_text=True)))
    assert refs and refs <= set(schemas), f"unknown schemas: {refs - set(schemas)}"
    ids = []
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, op in ops.items():
            ids.append((path, method))
            assert op["responses"], (path, method)
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == names, (path, method, declared)
            if method != "get":
                assert op["security"] == [{"bearer": []}], (path, method)
    assert len(ids) == len(set(ids))
    tags = {t["name"] for t in doc["tags"]}
    used = {tag for ops in doc["paths"].values() for op in ops.values() for tag in op["tags"]}
    assert used <= tags, f"undeclared tags: {used - tags}"


def test_described_answers_match_what_the_api_gives():
    """Spot checks where the description once said something else than the code."""
    doc = spec()
    respond = doc["paths"]["/comments/{comment_id}/response"]["post"]["responses"]["201"]
    assert respond["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Response"
    }
    take_up = doc["paths"]["/comments/{comment_id}/take-up"]["post"]["responses"]
    assert {"200", "201"} <= set(take_up)


def test_a_route_without_a_contract_cannot_be_described():
    other = Flask("other")
    other.register_blueprint(bp, url_prefix="/api/v1")
    other.add_url_rule("/api/v1/ghost", endpoint="api.ghost", view_func=lambda: "")
    with pytest.raises(LookupError, match="ghost"):
        spec(other)


def test_request_schemas_are_the_validated_models():
    doc = spec()
    post = doc["paths"]["/paragraphs/{paragraph_id}/comments"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/NewComment" and post["requestBody"]["required"]
    components = doc["components"]["schemas"]
    assert components["NewComment"] == schemas.NewComment.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    assert components["NewComment"]["additionalProperties"] is False
    flag = components["NewFlag"]["properties"]["reply"]["anyOf"][0]
    assert flag == {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
    kinds = components["NewComment"]["properties"]["kind"]["anyOf"][0]["enum"]
    assert kinds == ["comment", "suggestion", "question"]
    search = doc["paths"]["/search"]["get"]["parameters"]
    page = next(p for p in search if p["name"] == "page")
    assert page["schema"]["maximum"] == 10_000 and page["in"] == "query"
    comment_id = doc["paths"]["/comments/{comment_id}"]["get"]["parameters"][0]
    assert comment_id["schema"]["type"] == "integer"


def _valid(client, url, *, status=200, **kw):
    """The JSON answer of `url`, checked against the answer its view declares."""
    method = kw.pop("method", "get")
    resp = getattr(client, method)(url, **kw)
    assert resp.status_code == status, (url, resp.get_data(as_text=True))
    adapter = client.application.url_map.bind("").match(url, method=method.upper())[0]
    op = OPERATIONS[adapter.removeprefix("api.")]
    declared = op.also.get(status, (op.answer,))[0]
    TypeAdapter(declared).validate_python(resp.get_json())
    return resp.get_json()


def test_answers_match_their_declared_models(client, make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    author = make_user("cso")
    c = post_comment(v, v.paragraphs[2], author, body="Say how often.")
    me, sec = bearer(author), bearer(make_user("secretariat"))
    committee = make_user("committee")
    docs.add_committee_member(doc, committee, by=make_user("secretariat"))
    drafter = bearer(committee)
    base = f"/api/v1/documents/{doc.slug}"
    _valid(client, "/api/v1/documents")
    _valid(client, base)
    _valid(client, f"{base}/versions/1")
    _valid(client, f"{base}/compare/1/1")
    _valid(client, f"{base}/versions/1/changes")
    _valid(client, f"/api/v1/comments/{c.id}")
    _valid(client, f"/api/v1/comments/{c.id}/revisions")
    _valid(client, f"/api/v1/organisations/{author.organisation.slug}")
    _valid(client, "/api/v1/organisations")
    _valid(client, "/api/v1/openapi.json")
    p = v.paragraphs[3].id
    posted = {"kind": "comment", "body": "Name the committee."}
    _valid(
        client,
        f"/api/v1/paragraphs/{p}/comments",
        method="post",
        json=posted,
        headers=me,
        status=201,
    )
    reply = {"body": "We agree."}
    _valid(
        client,
        f"/api/v1/comments/{c.id}/replies",
        method="post",
        json=reply,
        headers=me,
        status=201,
    )
    _valid(client, f"/api/v1/comments/{c.id}/replies")
    _valid(
        client,
        f"/api/v1/comments/{c.id}/flags",
        method="post",
        json={"reason": "Spam"},
        headers=me,
        status=201,
    )
    docs.close(v, by=make_user("secretariat"))
    db.session.commit()
    answer = {"decision": "noted", "reason": "Thanks."}
    _valid(
        client,
        f"/api/v1/comments/{c.id}/response",
        method="post",
        json=answer,
        headers=sec,
        status=201,
    )
    draft = _valid(client, f"{base}/versions", method="post", json={}, headers=drafter, status=201)
    _valid(client, f"{base}/versions/{draft['number']}/lineage", headers=drafter)
    pid = draft["paragraphs"][0]["id"]
    _valid(
        client,
        f"/api/v1/paragraphs/{pid}/insert-after",
        method="post",
        json={"source": "New."},
        headers=drafter,
        status=201,
    )
