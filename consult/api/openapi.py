"""The OpenAPI 3.1 description of API v1, written by hand beside the routes and served
at /api/v1/openapi.json. tests/test_openapi.py fails when a route of the API is not
described here (or a described path no longer exists), so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from consult.api.routes import bp
from consult.tracing.compare import RELATIONS

JSON = dict[str, Any]


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: JSON) -> JSON:
    return {"type": "array", "items": items}


def _json(schema: JSON, description: str) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> JSON:
    words = {
        400: "Bad input: the message says what to change",
        401: "No valid API token",
        403: "The token's account may not do this",
        404: "Not found, or not visible to the reader",
        409: "The thing is in a state that does not allow this (e.g. the deadline passed)",
        429: "Too many requests: slow down",
    }
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


def _path_param(name: str, kind: str = "string", description: str = "") -> JSON:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer" if kind == "int" else "string"},
        "description": description,
    }


def _query(name: str, description: str, *, array: bool = False, schema: JSON | None = None):
    s = schema or {"type": "string"}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": _array(s) if array else s,
        **({"style": "form", "explode": True} if array else {}),
    }


def _body(properties: JSON, required: list[str] | None = None, description: str = "") -> JSON:
    schema: JSON = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = required
    return {
        "required": True,
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _get(summary: str, schema: JSON, *errors: int, params=(), tag: str) -> JSON:
    return {
        "get": {
            "summary": summary,
            "tags": [tag],
            "parameters": list(params),
            "security": [{}, {"bearer": []}],
            "responses": {"200": _json(schema, "OK"), **_errors(*errors)},
        }
    }


#: What a write may answer besides 401 and 429: bad input, not allowed, not found, and
#: a state that does not allow it.
WRITE_ERRORS = (400, 403, 404, 409)


def _write(
    method: str,
    summary: str,
    body: JSON | None,
    schema: JSON,
    *,
    errors: tuple[int, ...] = WRITE_ERRORS,
    status: int = 201,
    params=(),
    tag: str,
) -> JSON:
    op: JSON = {
        "summary": summary,
        "tags": [tag],
        "parameters": list(params),
        "security": [{"bearer": []}],
        "responses": {str(status): _json(schema, "Done"), **_errors(401, 429, *errors)},
    }
    if body is not None:
        op["requestBody"] = body
    return {method: op}


OBJ = {"type": "object"}
NOBJ = {"type": ["object", "null"]}
STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NINT = {"type": ["integer", "null"]}
BOOL = {"type": "boolean"}
DT = {"type": ["string", "null"], "format": "date-time"}
COMMENT_ID = _path_param("comment_id", "int", "The comment's id (not its tracking number).")
SLUG = _path_param("slug", description="The document's slug.")
NUMBER = _path_param("number", "int", "The version's number: 1, 2, 3…")
PARAGRAPH_ID = _path_param("paragraph_id", "int", "The paragraph's id.")

SCHEMAS: JSON = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": STR, "message": STR},
            }
        },
    },
    "Links": {"type": "object", "additionalProperties": STR},
    "VersionSummary": {
        "type": "object",
        "properties": {"number": INT, "label": STR, "state": STR, "links": _ref("Links")},
    },
    "DocumentSummary": {
        "type": "object",
        "properties": {
            "slug": STR,
            "title": STR,
            "committee": STR,
            "versions": _array(_ref("VersionSummary")),
            "links": _ref("Links"),
        },
    },
    "Document": {
        "type": "object",
        "properties": {
            "slug": STR,
            "title": STR,
            "committee": STR,
            "timezone": STR,
            "created_at": DT,
            "versions": _array(OBJ),
            "links": _ref("Links"),
        },
    },
    "Version": {
        "type": "object",
        "description": "A version with its paragraphs (id, number, kind, lineage, text, source).",
        "properties": {
            "document": STR,
            "number": INT,
            "label": STR,
            "state": {"enum": ["draft", "consultation", "closed", "final"]},
            "closes_at": DT,
            "accepting_comments": BOOL,
            "content_hash": NSTR,
            "paragraphs": _array(OBJ),
            "links": _ref("Links"),
        },
    },
    "ParagraphRef": {
        "type": "object",
        "properties": {"id": INT, "number": STR},
    },
    "ComparedRow": {
        "type": "object",
        "description": (
            "One paragraph of the comparison, or one group of paragraphs joined by a split "
            "(one old paragraph became several), a merge (several became one) or both. "
            "`olds` and `news` list the group's paragraphs in order; `old` and `new` are "
            "the first of each (null on the missing side of added and removed). `diff` is "
            "one word diff of the group: its old texts joined by a blank line to its new "
            "texts joined the same way (a space that became a paragraph break, or the "
            "reverse, is not marked as a change: the equal text is the newer side's)."
        ),
        "properties": {
            "relation": {"enum": list(RELATIONS)},
            "label": {
                "type": "string",
                "description": 'The relation in words, e.g. "formatting only", "split and merged".',
            },
            "old": {"oneOf": [_ref("ParagraphRef"), {"type": "null"}]},
            "new": {"oneOf": [_ref("ParagraphRef"), {"type": "null"}]},
            "olds": _array(_ref("ParagraphRef")),
            "news": _array(_ref("ParagraphRef")),
            "diff": _array(
                {
                    "type": "array",
                    "prefixItems": [{"enum": ["equal", "insert", "delete"]}, STR],
                    "minItems": 2,
                    "maxItems": 2,
                }
            ),
        },
    },
    "Comparison": {
        "type": "object",
        "properties": {
            "document": STR,
            "from": OBJ,
            "to": OBJ,
            "summary": {
                "type": "object",
                "description": (
                    "Paragraphs by what happened to them, counted the same way as the "
                    "change summary and the lineage review: unchanged, formatting (the same "
                    "words, other Markdown, e.g. a link's address), edited, moved, split "
                    "(old paragraphs that became several), merged (new paragraphs made of "
                    "several), added, removed."
                ),
                "additionalProperties": INT,
            },
            "paragraphs": _array(_ref("ComparedRow")),
        },
    },
    "Response": {
        "type": "object",
        "properties": {
            "id": INT,
            "decision": STR,
            "decision_label": STR,
            "reason": STR,
            "responder": NSTR,
            "created_at": DT,
        },
    },
    "Comment": {
        "type": "object",
        "description": "A comment as it stands, with the committee's current response.",
        "properties": {
            "id": INT,
            "tracking": STR,
            "kind": {"enum": ["comment", "suggestion", "question"]},
            "channel": STR,
            "body": NSTR,
            "suggested_text": NSTR,
            "quote": NOBJ,
            "organisation": OBJ,
            "cosigned_by": _array(OBJ),
            "document": STR,
            "version": INT,
            "paragraph": NOBJ,
            "created_at": DT,
            "content_hash": STR,
            "response": {"oneOf": [_ref("Response"), {"type": "null"}]},
            "responses": _array(_ref("Response")),
            "links": _ref("Links"),
        },
    },
    "Revisions": {"type": "object", "description": "A comment's texts, earliest first."},
    "Reply": {
        "type": "object",
        "properties": {
            "id": INT,
            "comment": STR,
            "author": NSTR,
            "organisation": NOBJ,
            "for_committee": BOOL,
            "body": NSTR,
            "hidden": NOBJ,
            "created_at": DT,
        },
    },
    "Replies": {
        "type": "object",
        "properties": {"comment": STR, "replies": _array(_ref("Reply"))},
    },
    "Flag": {
        "type": "object",
        "properties": {"id": INT, "comment": STR, "reply": NINT},
    },
    "SearchResults": {
        "type": "object",
        "properties": {
            "query": STR,
            "page": INT,
            "per_page": INT,
            "total": INT,
            "total_exact": BOOL,
            "facets": OBJ,
            "hits": _array(OBJ),
        },
    },
    "DraftAnswer": {
        "type": "object",
        "description": "The paragraphs an operation produced, and the whole draft after it.",
        "properties": {
            "paragraphs": _array(OBJ),
            "version": _ref("Version"),
        },
    },
    "Changes": {
        "type": "object",
        "properties": {
            "document": STR,
            "version": INT,
            "previous": NINT,
            "note": STR,
            "summary": {"type": "object", "additionalProperties": INT},
            "phrases": _array(STR),
        },
    },
    "Lineage": {
        "type": "object",
        "properties": {
            "version": INT,
            "unreviewed": INT,
            "counts": {
                "type": "object",
                "description": "Paragraphs by relation, counted as the comparison and the "
                "change summary count them (empty for version 1).",
                "additionalProperties": INT,
            },
            "links": _array(OBJ),
        },
    },
    "TakeUp": {
        "type": "object",
        "description": "With ?preview=1: the paragraph before and after, as a word diff; "
        "otherwise the comment with its new answer and the paragraphs changed.",
    },
    "OrganisationSummary": {
        "type": "object",
        "properties": {
            "slug": STR,
            "name": STR,
            "acronym": NSTR,
            "kind": STR,
            "kind_label": STR,
            "countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
            "verified": BOOL,
            "comment_count": INT,
            "links": _ref("Links"),
        },
    },
    "Outcome": {
        "type": "object",
        "description": "One of the organisation's comments (or one it co-signed) and what "
        "became of it.",
        "properties": {
            "id": INT,
            "tracking": STR,
            "kind": STR,
            "role": {"enum": ["own", "cosigned"]},
            "document": STR,
            "version": INT,
            "paragraph": NOBJ,
            "status": {"enum": ["open", "waiting", "answered", "withdrawn", "hidden"]},
            "decision": NSTR,
            "reason": NSTR,
            "uptake": {
                "type": ["object", "null"],
                "properties": {
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "label": {"enum": ["taken_up", "partly", "not_taken_up"]},
                },
            },
            "flag": NSTR,
            "next_version": NINT,
            "successors": _array(OBJ),
            "took_effect_in": _array(OBJ),
            "links": _ref("Links"),
        },
    },
    "Organisation": {
        "allOf": [
            _ref("OrganisationSummary"),
            {
                "type": "object",
                "properties": {
                    "focus": _array(STR),
                    "website": NSTR,
                    "description": NSTR,
                    "contact": OBJ,
                    "verified_at": DT,
                    "verified_by": NSTR,
                    "created_at": DT,
                    "comments": _array(_ref("Outcome")),
                    "cosigned": _array(_ref("Outcome")),
                },
            },
        ]
    },
}

COMMENT_BODY = {
    "kind": {"enum": ["comment", "suggestion", "question"]},
    "body": STR,
    "suggested_text": NSTR,
    "quote": NSTR,
    "organisation": {"type": ["string", "null"], "description": "Slug; needed with several."},
}


def spec() -> JSON:
    """The whole description, as a JSON-able dict."""
    paths: JSON = {
        "/documents": _get(
            "Documents with the versions the reader may see",
            {
                "type": "object",
                "properties": {"documents": _array(_ref("DocumentSummary"))},
            },
            tag="documents",
        ),
        "/documents/{slug}": _get(
            "One document", _ref("Document"), 404, params=[SLUG], tag="documents"
        ),
        "/documents/{slug}/versions/{number}": {
            **_get(
                "A version with its paragraphs",
                _ref("Version"),
                404,
                params=[SLUG, NUMBER],
                tag="documents",
            ),
            **_write(
                "patch",
                "Change a draft's explanatory note",
                _body({"note": STR}, ["note"]),
                _ref("Version"),
                status=200,
                params=[SLUG, NUMBER],
                tag="drafting",
            ),
        },
        "/documents/{slug}/compare/{a}/{b}": _get(
            "Word diff of two versions, paragraph by paragraph, with splits and merges as groups",
            _ref("Comparison"),
            404,
            params=[SLUG, _path_param("a", "int"), _path_param("b", "int")],
            tag="documents",
        ),
        "/documents/{slug}/versions/{number}/comments": _write(
            "post",
            "Comment on the version as a whole",
            _body(COMMENT_BODY, ["kind", "body"]),
            _ref("Comment"),
            params=[SLUG, NUMBER],
            tag="comments",
        ),
        "/paragraphs/{paragraph_id}/comments": _write(
            "post",
            "Comment on a paragraph, or on a quoted span of it",
            _body(COMMENT_BODY, ["kind", "body"]),
            _ref("Comment"),
            params=[PARAGRAPH_ID],
            tag="comments",
        ),
        "/comments/{comment_id}": {
            **_get(
                "One comment with its responses",
                _ref("Comment"),
                404,
                params=[COMMENT_ID],
                tag="comments",
            ),
            **_write(
                "patch",
                "Edit one's comment before the deadline (the earlier text is kept)",
                _body({"body": STR, "suggested_text": NSTR, "quote": NSTR}),
                _ref("Comment"),
                status=200,
                params=[COMMENT_ID],
                tag="comments",
            ),
        },
        "/comments/{comment_id}/revisions": _get(
            "Every text of an edited comment",
            _ref("Revisions"),
            404,
            params=[COMMENT_ID],
            tag="comments",
        ),
        "/comments/{comment_id}/withdraw": _write(
            "post",
            "Withdraw one's comment before the deadline (kept, shown as withdrawn)",
            _body({"reason": NSTR}),
            _ref("Comment"),
            status=200,
            params=[COMMENT_ID],
            tag="comments",
        ),
        "/comments/{comment_id}/cosign": _write(
            "post",
            "Add one's organisation's support to a comment (once per organisation)",
            _body({"organisation": NSTR}),
            _ref("Comment"),
            params=[COMMENT_ID],
            tag="comments",
        ),
        "/comments/{comment_id}/replies": {
            **_get(
                "The replies in a comment's thread",
                _ref("Replies"),
                404,
                params=[COMMENT_ID],
                tag="comments",
            ),
            **_write(
                "post",
                "Reply in a comment's thread",
                _body({"body": STR, "organisation": NSTR}, ["body"]),
                _ref("Reply"),
                params=[COMMENT_ID],
                tag="comments",
            ),
        },
        "/comments/{comment_id}/flags": _write(
            "post",
            "Ask the moderators to look at a comment or one of its replies",
            _body({"reason": NSTR, "reply": NINT}),
            _ref("Flag"),
            params=[COMMENT_ID],
            tag="moderation",
        ),
        "/comments/{comment_id}/moderation": _write(
            "post",
            "Moderators: hide (with a public reason) or restore a comment or a reply",
            _body(
                {
                    "action": {"enum": ["hide", "restore"]},
                    "reason": NSTR,
                    "reply": NINT,
                },
                ["action"],
            ),
            {"oneOf": [_ref("Comment"), _ref("Reply")]},
            params=[COMMENT_ID],
            tag="moderation",
        ),
        "/comments/{comment_id}/response": _write(
            "post",
            "The committee's answer to a comment (a new answer is a new row)",
            _body(
                {
                    "decision": {
                        "enum": [
                            "accepted",
                            "partly_accepted",
                            "noted",
                            "not_accepted",
                            "out_of_scope",
                        ]
                    },
                    "reason": STR,
                },
                ["decision", "reason"],
            ),
            _ref("Response"),
            params=[COMMENT_ID],
            tag="responses",
        ),
        "/comments/{comment_id}/feedback": _write(
            "post",
            "The commenting organisation's reply to the committee's answer (once per answer)",
            _body({"satisfied": BOOL, "note": STR}, ["satisfied"]),
            _ref("Comment"),
            params=[COMMENT_ID],
            tag="responses",
        ),
        # --- drafting (committee) ---
        "/documents/{slug}/versions": _write(
            "post",
            "Start the next version: a copy of the latest (default) or an imported text",
            _body({"source": {"enum": ["copy", "import"]}, "label": STR, "text": NSTR}),
            _ref("Version"),
            params=[SLUG],
            tag="drafting",
        ),
        "/documents/{slug}/versions/{number}/changes": _get(
            "The generated change summary against the version before, and the note",
            _ref("Changes"),
            404,
            params=[SLUG, NUMBER],
            tag="drafting",
        ),
        "/documents/{slug}/versions/{number}/publish": _write(
            "post",
            "Publish a draft; with closes_at it opens for comments until then",
            _body({"closes_at": {"type": ["string", "null"], "format": "date-time"}}),
            _ref("Version"),
            status=200,
            params=[SLUG, NUMBER],
            tag="drafting",
        ),
        "/documents/{slug}/versions/{number}/close": _write(
            "post",
            "Close for comments (before the deadline, with a reason)",
            _body({"reason": NSTR}),
            _ref("Version"),
            status=200,
            params=[SLUG, NUMBER],
            tag="drafting",
        ),
        "/documents/{slug}/versions/{number}/finalize": _write(
            "post",
            "Make the closed latest version the final text",
            _body({}),
            _ref("Version"),
            status=200,
            params=[SLUG, NUMBER],
            tag="drafting",
        ),
        "/documents/{slug}/versions/{number}/insert-first": _write(
            "post",
            "Insert a paragraph at the start of a draft",
            _body({"source": STR}, ["source"]),
            _ref("DraftAnswer"),
            params=[SLUG, NUMBER],
            tag="drafting",
        ),
        "/documents/{slug}/versions/{number}/lineage": {
            **_write(
                "get",
                "The lineage links of a draft to the version before, for review",
                None,
                _ref("Lineage"),
                errors=(403, 404),
                status=200,
                params=[SLUG, NUMBER],
                tag="drafting",
            ),
            **_write(
                "post",
                "Confirm the proposed lineage links, with corrections",
                _body(
                    {
                        "corrections": _array(
                            {
                                "type": "object",
                                "properties": {"paragraph": INT, "predecessors": _array(INT)},
                            }
                        )
                    }
                ),
                _ref("Lineage"),
                status=200,
                params=[SLUG, NUMBER],
                tag="drafting",
            ),
        },
        "/paragraphs/{paragraph_id}": _write(
            "patch",
            "Change a draft paragraph's Markdown (with the revision seen, to avoid overwrites)",
            _body({"source": STR, "revision": INT, "base_source": NSTR}, ["source"]),
            _ref("DraftAnswer"),
            status=200,
            params=[PARAGRAPH_ID],
            tag="drafting",
        ),
        **{
            f"/paragraphs/{{paragraph_id}}/{op}": _write(
                "post",
                summary,
                _body(props),
                _ref("DraftAnswer"),
                status=200,
                params=[PARAGRAPH_ID],
                tag="drafting",
            )
            for op, summary, props in (
                ("insert-after", "Insert a paragraph after this one", {"source": STR}),
                ("delete", "Delete a draft paragraph", {"revision": INT}),
                ("move", "Move a paragraph up or down", {"direction": {"enum": ["up", "down"]}}),
                (
                    "split",
                    "Split a paragraph at an offset of its source",
                    {"offset": INT, "revision": INT},
                ),
                ("merge", "Merge a paragraph with the next one", {"revision": INT}),
            )
        },
        "/comments/{comment_id}/take-up": _write(
            "post",
            "Put a suggestion's wording into the draft (?preview=1: show it, save nothing)",
            _body(
                {
                    "version": INT,
                    "reason": NSTR,
                    "decision": {"enum": ["accepted", "partly_accepted"]},
                    "revision": INT,
                }
            ),
            _ref("TakeUp"),
            params=[COMMENT_ID, _query("preview", "1: preview only, nothing is saved.")],
            tag="drafting",
        ),
        "/search": _get(
            "Search paragraphs, comments, responses, organisations and documents",
            _ref("SearchResults"),
            400,
            params=[
                _query("q", "The words to look for (quotes for a phrase, -word to exclude)."),
                *(
                    _query(name, f"Filter by {name}; repeat for several.", array=True)
                    for name in (
                        "type",
                        "kind",
                        "decision",
                        "org",
                        "orgkind",
                        "country",
                        "document",
                        "version",
                    )
                ),
                _query(
                    "from",
                    "From this date (YYYY-MM-DD).",
                    schema={"type": "string", "format": "date"},
                ),
                _query(
                    "to",
                    "Up to this date (YYYY-MM-DD).",
                    schema={"type": "string", "format": "date"},
                ),
                _query("sort", "relevance (default), newest or oldest."),
                _query("latest", "1: only the latest version of each document."),
                _query("page", "Page number from 1.", schema={"type": "integer", "minimum": 1}),
            ],
            tag="search",
        ),
        "/organisations": _get(
            "The organisation registry",
            {
                "type": "object",
                "properties": {"organisations": _array(_ref("OrganisationSummary"))},
            },
            400,
            params=[
                _query("country", "ISO 3166-1 alpha-2 code, e.g. TH."),
                _query(
                    "kind",
                    "ngo, network, community, academia, union, professional, media, faith, other.",
                ),
                _query("verified", "yes or no.", schema={"enum": ["yes", "no"]}),
            ],
            tag="organisations",
        ),
        "/organisations/{slug}": _get(
            "An organisation's profile with its comments and their outcomes",
            _ref("Organisation"),
            404,
            params=[_path_param("slug", description="The organisation's slug.")],
            tag="organisations",
        ),
        "/openapi.json": _get("This description", OBJ, tag="meta"),
    }
    # The take-up preview saves nothing: 200, not 201.
    preview = paths["/comments/{comment_id}/take-up"]["post"]["responses"]
    preview["200"] = _json(_ref("TakeUp"), "Preview only (?preview=1): nothing saved")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Consult API",
            "version": "1",
            "description": (
                "Consultations on policy texts, traceable from every comment to the final "
                "text. Anyone may read what is public; writing needs an API token sent as "
                "'Authorization: Bearer <token>' (`flask create-token`). Every error is "
                '{"error": {"code", "message"}}.'
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": n}
            for n in (
                "documents",
                "comments",
                "moderation",
                "responses",
                "drafting",
                "search",
                "organisations",
                "meta",
            )
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(spec())
