"""The OpenAPI description covers the whole API v1, and only what exists."""

from __future__ import annotations

import re

from consult.api.openapi import spec

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
    assert not missing, f"describe these in consult/api/openapi.py: {sorted(missing)}"
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
