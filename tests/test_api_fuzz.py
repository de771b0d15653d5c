"""Fuzzing API v1 from its own description: schemathesis generates requests for every
operation of /api/v1/openapi.json, both inside the schemas (positive) and outside them
(negative: wrong types, missing and unknown fields, values out of range, odd path
parameters), sent in-process through the Flask test client, without a token, with a
broken one, and with the tokens of a CSO member, a committee member and an
administrator. Path parameters are sometimes generated, sometimes the ids of real
things, so the requests reach the services. Hypothesis adds hostile bodies over the
declared fields that a schema-driven generator does not think of: numbers beyond an
INTEGER column, lone surrogates, NUL, control and invisible characters, NaN, JSON
nested a thousand deep, bytes that are not UTF-8. No answer may be a 5xx.

Bounded: a fixed number of examples per operation and a fixed seed (derandomize), so a
run sends the same requests every time (30 for each of ~40 operations: 30 s on SQLite,
42 s on PostgreSQL here).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from consult.api.openapi import spec
from consult.documents import services as docs
from consult.extensions import db

from .conftest import bearer, post_comment

#: Examples per operation; ~37 operations.
EXAMPLES = 30
PREFIX = "/api/v1"


@pytest.fixture
def world(make_document, make_user):
    """A version open for comments with a comment and a reply, and a document whose
    next version is a draft being written by a committee member."""
    open_doc = make_document("consultation")
    v = open_doc.latest
    author = make_user("cso")
    c = post_comment(
        v,
        v.paragraphs[2],
        author,
        kind="suggestion",
        body="Say how often.",
        suggested_text="openly and regularly",
        quote="openly",
    )
    closed = make_document("closed")
    sec = make_user("secretariat")
    committee = make_user("committee")
    docs.add_committee_member(closed, committee, by=sec)
    db.session.commit()
    return {
        "open": open_doc,
        "closed": closed,
        "comment": c,
        "author": author,
        "committee": committee,
        "admin": make_user("admin"),
        "sec": sec,
    }


def _real_parameters(world, client, committee_headers) -> list[dict]:
    """Path parameters naming things that exist, for each kind of path."""
    closed = world["closed"]
    resp = client.post(
        f"{PREFIX}/documents/{closed.slug}/versions", json={}, headers=committee_headers
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    draft = resp.get_json()
    v = world["open"].latest
    c = world["comment"]
    return [
        {
            "slug": world["open"].slug,
            "number": v.number,
            "a": 1,
            "b": 1,
            "comment_id": c.id,
            "paragraph_id": v.paragraphs[2].id,
        },
        {
            "slug": closed.slug,
            "number": draft["number"],
            "a": 1,
            "b": draft["number"],
            "comment_id": c.id,
            "paragraph_id": draft["paragraphs"][1]["id"],
        },
        {"slug": world["author"].organisation.slug},
    ]


#: Values a careless or hostile client puts in a field.
HOSTILE_VALUES = st.one_of(
    st.integers(min_value=2**31, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=0),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Zs"]), max_size=6),
    st.sampled_from(["a\x00b", "\u200b\u200b", "\ud800", "x" * 25_000, "", " "]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-(2**64), max_value=2**64), max_size=3),
)
#: Bodies no JSON library would write.
RAW_BODIES = st.sampled_from(
    [
        "[" * 1000,
        '{"body": ' * 2000,
        '{"body": NaN}',
        '{"reply": 1e400}',
        '{"reply": ' + "9" * 5000 + "}",
        b'{"body": "\xff\xfe"}',
        '{"body": "a\\ud800b"}',
        "",
        "{",
    ]
)


def _hostile(properties: list[str]):
    """A hostile body over the declared fields: JSON text, or raw bytes/str."""
    fields = st.fixed_dictionaries({}, optional={name: HOSTILE_VALUES for name in properties})
    return st.one_of(fields.map(json.dumps), RAW_BODIES)


def _body_properties(doc: dict, op) -> list[str] | None:
    """The declared fields of the operation's request body (None: it reads no body)."""
    body = op.definition.raw.get("requestBody")
    if body is None:
        return None
    content = body["content"]  # an upload may take multipart/form-data only
    schema = (content.get("application/json") or next(iter(content.values())))["schema"]
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {}))


def _send(client, case, headers: dict | None, hostile: str | bytes | None = None):
    sent_headers = {k: v for k, v in (case.headers or {}).items() if isinstance(v, str)}
    if headers is not None:
        sent_headers.update(headers)
    kw: dict = {"headers": sent_headers, "query_string": case.query or None}
    if hostile is not None:
        kw["data"] = hostile
        kw["content_type"] = "application/json"
    elif not isinstance(case.body, schemathesis.core.NotSet):
        body = case.body
        kw["data"] = body if isinstance(body, bytes) else json.dumps(body)
        kw["content_type"] = case.media_type or "application/json"
    return client.open(PREFIX + case.formatted_path, method=case.method, **kw)


def test_no_api_operation_answers_a_server_error(app, client, world, monkeypatch):
    # The search index is not the point here (and an index failure never fails a
    # request): writes leave their rows in the outbox instead of indexing each one.
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)
    tokens = [
        None,
        bearer(world["author"]),
        bearer(world["committee"]),
        bearer(world["admin"]),
    ]
    real = _real_parameters(world, client, tokens[2])
    description = spec()
    schema = schemathesis.openapi.from_dict(description)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for op in operations:
        names = {p["name"] for p in op.definition.raw.get("parameters", []) if p["in"] == "path"}
        fitting = [
            {k: v for k, v in params.items() if k in names}
            for params in real
            if names and names <= set(params)
        ]
        cases = [
            op.as_strategy(mode) for mode in (GenerationMode.NEGATIVE, GenerationMode.POSITIVE)
        ]
        for params in fitting:
            for mode in (GenerationMode.NEGATIVE, GenerationMode.POSITIVE):
                cases.append(op.as_strategy(mode, path_parameters=params))

        properties = _body_properties(description, op)
        hostile = st.none() if properties is None else st.one_of(st.none(), _hostile(properties))

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(cases), headers=st.sampled_from(tokens), hostile=hostile)
        def run(case, headers, hostile):
            resp = _send(client, case, headers, hostile)
            statuses[resp.status_code] += 1
            if resp.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} query={case.query!r} "
                    f"body={str(hostile or getattr(case, 'body', None))[:300]!r}: "
                    f"{resp.status_code} "
                    f"{resp.get_data(as_text=True)[:200]}"
                )
            else:
                assert resp.is_json, (case.method, case.formatted_path, resp.status_code)
                if resp.status_code >= 400:
                    assert resp.get_json()["error"]["message"]

        run()
    assert not failures, "\n".join(failures[:20])
    # The requests did reach the services: some were done, most were refused.
    assert sum(n for s, n in statuses.items() if s < 300) >= 50, statuses
    assert statuses[400] >= 150, statuses
