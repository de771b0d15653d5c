"""The OpenAPI 3.1 description of API v1, served at /api/v1/openapi.json and generated:
the paths from the API blueprint's routes, each operation from the contract its view
declares with `@operation` (consult/api/contract.py), every schema from the pydantic
models of consult/api/schemas.py, which are also what requests are validated against.
A route without a declared contract makes the description fail to build, so the
description cannot drift from the code.
"""

from __future__ import annotations

import re
import types
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import IntegerConverter, Rule

from consult.api import schemas
from consult.api.contract import OPERATIONS, Operation, operation
from consult.api.routes import bp

JSON = dict[str, Any]
PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
TAGS = (
    "documents",
    "comments",
    "moderation",
    "responses",
    "drafting",
    "search",
    "organisations",
    "analysis",
    "intake",
    "record",
    "meta",
)
ERRORS = {
    400: "Bad input: the message says what to change ('field' names where)",
    401: "No valid API token",
    403: "The token's account may not do this",
    404: "Not found, or not visible to the reader",
    409: "The thing is in a state that does not allow this (e.g. the deadline passed)",
    413: "Too large (a file or message over the configured limit)",
    415: "Not a type taken (attachments: PDF, DOCX or ODT)",
    429: "Too many requests: slow down",
}
PATH_PARAMETERS = {
    "comment_id": "The comment's id (not its tracking number).",
    "slug": "The slug of the document (or organisation).",
    "number": "The version's number: 1, 2, 3…",
    "paragraph_id": "The paragraph's id.",
    "a": "The number of the older version.",
    "b": "The number of the newer version.",
}


def _models(answer: Any) -> list[type[BaseModel]]:
    """The models an answer declares: one, or each of a union."""
    if isinstance(answer, types.UnionType):
        return list(answer.__args__)
    return [answer] if answer is not None else []


def _schema_of(answer: Any, refs: dict[type[BaseModel], JSON]) -> JSON:
    found = [refs[m] for m in _models(answer)]
    return found[0] if len(found) == 1 else {"oneOf": found}


def _content(schema: JSON, description: str) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])


def _path_parameters(rule: Rule) -> list[JSON]:
    out = []
    for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule):
        converter = getattr(rule, "_converters", {}).get(name)
        schema: JSON = {"type": "string"}
        if isinstance(converter, IntegerConverter):
            low = converter.min if converter.min is not None else 0
            schema = {"type": "integer", "minimum": low}
            if converter.max is not None:
                schema["maximum"] = converter.max
        out.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema,
                "description": PATH_PARAMETERS.get(name, ""),
            }
        )
    return out


def _query_parameters(model: type[BaseModel] | None) -> list[JSON]:
    if model is None:
        return []
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        param: JSON = {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": prop.pop("description", ""),
            "schema": {k: v for k, v in prop.items() if k != "title"},
        }
        if prop.get("type") == "array":
            param |= {"style": "form", "explode": True}
        out.append(param)
    return out


def _operation(rule: Rule, method: str, op: Operation, refs: dict[type[BaseModel], JSON]) -> JSON:
    write = method != "get"
    codes = set(op.errors)
    if op.body is not None or op.query is not None or op.form is not None:
        codes.add(400)
    codes.add(401)  # a header that is not a valid token is refused on every endpoint
    if write:
        codes.add(429)
    responses: JSON = {
        str(op.status): _content(_schema_of(op.answer, refs), "OK" if op.status == 200 else "Done")
    }
    for status, (model, words) in op.also.items():
        responses[str(status)] = _content(_schema_of(model, refs), words)
    for status in sorted(codes):
        responses[str(status)] = _content(refs[schemas.Error], ERRORS[status])
    out: JSON = {
        "operationId": rule.endpoint.removeprefix("api."),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _path_parameters(rule) + _query_parameters(op.query),
        "security": [{"bearer": []}] if (op.auth or write) else [{}, {"bearer": []}],
        "responses": responses,
    }
    if op.description:
        out["description"] = op.description
    if op.body is not None:
        out["requestBody"] = {
            "required": not op.empty_ok,
            "description": "A JSON object." + ("" if not op.empty_ok else " No body at all is {}."),
            "content": {"application/json": {"schema": refs[op.body]}},
        }
    if op.form is not None:
        form = op.form.model_json_schema(by_alias=True)
        form.pop("title", None)
        for name in op.files:
            form.setdefault("properties", {})[name] = {"type": "string", "format": "binary"}
            form.setdefault("required", []).append(name)
        body = out.setdefault("requestBody", {"required": True, "content": {}})
        body["description"] = (
            body.get("description", "") + " Or a multipart/form-data upload."
        ).strip()
        body["content"]["multipart/form-data"] = {"schema": form}
    return out


def _api_rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith(f"{bp.name}.")),
        key=lambda r: r.rule,
    )


def spec(app: Flask | None = None) -> JSON:
    """The whole description, as a JSON-able dict, from the routes of `app` (the current
    app by default) and the contracts their views declare."""
    app = app or current_app
    found: list[tuple[Rule, Operation]] = []
    for rule in _api_rules(app):
        name = rule.endpoint.removeprefix(f"{bp.name}.")
        if name not in OPERATIONS:
            raise LookupError(f"API route {rule.rule} ({name}) declares no @operation contract")
        found.append((rule, OPERATIONS[name]))
    inputs = {m for _, op in found for m in (op.body,) if m is not None}
    outputs = {schemas.Error}
    for _, op in found:
        outputs.update(_models(op.answer))
        for model, _words in op.also.values():
            outputs.update(_models(model))
    keyed = [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
    keyed += [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
    by_key, top = models_json_schema(keyed, ref_template=REF)
    refs = {model: schema for (model, _mode), schema in by_key.items()}
    paths: JSON = {}
    for rule, op in found:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(_path(rule), {})[method.lower()] = _operation(
                rule, method.lower(), op, refs
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Consult API",
            "version": "1",
            "description": (
                "Consultations on policy texts, traceable from every comment to the final "
                "text. Anyone may read what is public; writing needs an API token sent as "
                "'Authorization: Bearer <token>' (`flask create-token`). Every request is "
                "checked against the schemas below before anything is done: unknown fields, "
                "wrong types, values out of range and JSON nested deeper than "
                "16 levels are refused with a 400. Every error is "
                '{"error": {"code", "message", ...}}.'
            ),
        },
        "servers": [{"url": PREFIX}],
        "tags": [{"name": n} for n in TAGS],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
@operation(summary="This description", tag="meta", answer=schemas.Description)
def openapi() -> ResponseReturnValue:
    return jsonify(spec())
