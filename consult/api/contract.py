"""The API's contract, declared once: each operation names the pydantic models of its
request body, its query string and its answer with `@operation(...)`; the decorator
validates the request against them before the view (and so before any service) runs,
and consult/api/openapi.py builds /api/v1/openapi.json from the same declarations, so
the description cannot drift from the code.

Why pydantic v2 with this small layer, rather than a ready-made Flask generator
(compared for issue 17):

- spectree (pydantic) reads the body with ``request.get_json(silent=True) or {}``, so
  malformed JSON, ``[]`` or ``null`` pass as an empty object and ``[`` × 1,000 still
  recurses inside ``json.loads``; it answers 422 in its own shape, serves its own spec
  and documentation pages under its own prefix and describes paths with the full URL
  prefix. Each of these needs a hook or a rewrite to keep our JSON errors and URLs.
- flask-openapi3 (pydantic) replaces Flask's app and Blueprint classes and changes every
  view's signature: the most churn for the same result.
- apispec + marshmallow: marshmallow validates well, but apispec's Flask plugin reads
  each path's description from YAML in docstrings (a second declaration that can drift)
  and its schemas are OpenAPI 3.0 style (``nullable``), while ours is 3.1.
- pydantic v2 alone gives strict validation (no bool for an int, no number for a
  string), ``extra="forbid"``, ranges and lengths, and emits JSON Schema 2020-12, which
  *is* OpenAPI 3.1's schema dialect. What is left — parsing JSON safely, turning
  validation errors into our {"error": {"code", "message", "field"}} shape, and walking
  the blueprint's routes — is the hundred-odd lines below and in openapi.py.

Parsing is guarded before ``json.loads``: bodies nested deeper than MAX_DEPTH, text that
is not UTF-8, NaN/Infinity, lone UTF-16 surrogates (``"\\ud800"``) and NUL characters are
refused with a 400, never a 500; every string then passes through the app's text policy
(consult/textpolicy.py), as the forms' fields do.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from flask import g, request
from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from consult import textpolicy
from consult.errors import ConsultError, Unauthenticated

#: Deepest nesting of arrays and objects a request body may have; the deepest body the
#: API reads is {"corrections": [{"predecessors": [1]}]} (depth 4).
MAX_DEPTH = 16
#: Largest value of an INTEGER column (ids, numbers, revisions, offsets) on PostgreSQL.
INT32_MAX = 2**31 - 1


class InvalidInput(ConsultError):
    """A request the contract refuses; `field` names the part at fault, if one is."""

    def __init__(self, message: str, *, code: str = "invalid_field", field: str | None = None):
        super().__init__(message, code=code, status=400)
        self.field = field


# --- text -----------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: str) -> str:
    """`value` under the app's text policy (consult.textpolicy: NFC, control characters
    dropped, invisible-only text empty), refused when the database cannot store it (a
    lone surrogate or a NUL)."""
    if _SURROGATE.search(value):
        raise ValueError(
            "contains a lone UTF-16 surrogate (such as \\ud800), which is not a character"
        )
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000), which cannot be stored")
    return textpolicy.clean(value)


#: A string a person or client wrote, checked as `check_text` says.
Text = Annotated[str, AfterValidator(check_text)]
#: An id or number stored in an INTEGER column.
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]


class Body(BaseModel):
    """A JSON request body: strict types, no field outside the declared ones."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """A query string: values arrive as text, so numbers are read from it (not strict);
    no parameter outside the declared ones."""

    model_config = ConfigDict(extra="forbid")
    #: The error code for a bad value of a parameter, where clients rely on one.
    error_codes: ClassVar[dict[str, str]] = {}


# --- reading the JSON body ------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """How deep arrays and objects nest in JSON `text` (brackets inside strings do not
    count); computed without recursion, so any input is safe."""
    deepest = depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json(*, empty_ok: bool) -> Any:
    """The JSON value sent, parsed safely; no body at all is {} when `empty_ok`."""
    raw = request.get_data(cache=True)
    if not raw.strip() and empty_ok:
        return {}
    if not request.is_json:
        raise InvalidInput(
            _("Send a JSON object with the header 'Content-Type: application/json'."),
            code="invalid_json",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_("The body is not UTF-8 text."), code="invalid_json") from None
    if _depth(text) > MAX_DEPTH:
        raise InvalidInput(
            _(
                "The JSON is nested too deeply: at most %(MAX_DEPTH)s levels "
                "of arrays and objects.",
                MAX_DEPTH=MAX_DEPTH,
            ),
            code="invalid_json",
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as e:
        raise InvalidInput(
            _("The body is not valid JSON: %(plain)s.", plain=_plain(e)), code="invalid_json"
        ) from None


def _plain(e: Exception) -> str:
    return str(e).split("\n")[0].rstrip(".")


# --- validation errors in plain words -------------------------------------------------------


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_KINDS = {
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "dict_type": "must be an object",
}


def _message(err: dict[str, Any], model: type[BaseModel]) -> tuple[str, str]:
    """(code, message) for one pydantic error."""
    kind, where, ctx = err["type"], _where(err["loc"]), err.get("ctx") or {}
    if kind == "missing":
        return "field_required", f"'{where}' is required."
    if kind == "extra_forbidden":
        allowed = ", ".join(sorted(model.model_fields)) or "none"
        return "unknown_field", f"Unknown field '{where}'. Allowed: {allowed}."
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _bounds(model, err["loc"])
        return "invalid_field", f"'{where}' must be a whole number from {low} to {high:,}."
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        return "invalid_field", f"'{where}' has at most {limit:,} characters."
    if kind == "too_long":
        unit = "characters" if isinstance(err.get("input"), str) else "items"
        return "invalid_field", f"'{where}' has at most {ctx.get('max_length'):,} {unit}."
    if kind in ("literal_error", "enum"):
        got, expected = err.get("input"), ctx.get("expected", "")
        if isinstance(got, str) and len(got) <= 40:
            return "invalid_field", f"Unknown {where} {got!r}; use one of: {expected}."
        return "invalid_field", f"'{where}' must be one of: {expected}."
    if kind in _KINDS:
        return "invalid_field", f"'{where}' {_KINDS[kind]}."
    if kind == "value_error":
        return (
            "invalid_text",
            f"'{where}' {_plain(ValueError(err['msg'].removeprefix('Value error, ')))}.",
        )
    return "invalid_field", f"'{where}': {err['msg']}."


def _bounds(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[int, int]:
    """The declared range of the int at `loc` (defaults: an INTEGER column's)."""
    schema = model.model_json_schema()
    node: dict[str, Any] = schema
    for part in loc:
        node = _resolve(schema, node)
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    node = _resolve(schema, node)
    for option in node.get("anyOf", [node]):
        if "maximum" in option:
            return option.get("minimum", 0), option["maximum"]
    return 0, INT32_MAX


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        return schema.get("$defs", {}).get(ref.rsplit("/", 1)[-1], {})
    if "items" not in node and "properties" not in node and "anyOf" in node:
        for option in node["anyOf"]:
            if option.get("type") != "null":
                return _resolve(schema, option)
    return node


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    """`data` as `model`, or an InvalidInput saying plainly what is wrong (the first
    fault; `field` names where)."""
    if issubclass(model, Body) and not isinstance(data, dict):
        raise InvalidInput(
            _("Send a JSON object with the header 'Content-Type: application/json'."),
            code="invalid_json",
        )
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        code, message = _message(err, model)
        if code == "invalid_field" and err["loc"]:
            code = getattr(model, "error_codes", {}).get(err["loc"][0], code)
        raise InvalidInput(message, code=code, field=_where(err["loc"]) or None) from None


def _query_args(model: type[Query]) -> dict[str, Any]:
    """The query string as a dict: a list for each list field, else the last value."""
    out: dict[str, Any] = {}
    for name in request.args:
        values = request.args.getlist(name)
        info = model.model_fields.get(name)
        is_list = info is not None and getattr(info.annotation, "__origin__", None) is list
        out[name] = values if is_list else values[-1]
    return out


# --- declaring an operation -----------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What one view function declares: its inputs, its answers and how it is described."""

    summary: str
    tag: str
    answer: Any = None
    status: int = 200
    body: type[Body] | None = None
    query: type[Query] | None = None
    #: True: needs a bearer token (every write does).
    auth: bool = False
    #: True: no body at all is read as {} (actions that need nothing).
    empty_ok: bool = True
    errors: tuple[int, ...] = ()
    #: Other answers: status -> (model, description).
    also: dict[int, tuple[Any, str]] = field(default_factory=dict)
    description: str = ""
    #: A multipart/form-data request (an uploaded file): the model of its text fields
    #: (read like a query string); the view gets it as `form` and reads the files named
    #: in `files` from request.files. With `body` as well, either may be sent.
    form: type[Query] | None = None
    files: tuple[str, ...] = ()


#: Every declared operation, by its view function's name (the endpoint "api.<name>").
OPERATIONS: dict[str, Operation] = {}


def operation(**declared: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a view's contract (see Operation) and check requests against it before
    the view runs: first the token (401) where `auth`, then the query string and the
    body (400). The view gets the validated models as keyword arguments `body` and
    `query`."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(**declared)
        if not op.description and view.__doc__:
            object.__setattr__(op, "description", " ".join(view.__doc__.split()))
        OPERATIONS[view.__name__] = op

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if op.auth and g.get("api_actor") is None:
                raise Unauthenticated(
                    _("Writing needs an API token: 'Authorization: Bearer <token>'.")
                )
            if op.query is not None:
                kwargs["query"] = validate(op.query, _query_args(op.query))
            if op.form is not None and request.mimetype == "multipart/form-data":
                kwargs["form"] = validate(op.form, request.form.to_dict())
                if op.body is not None:
                    kwargs["body"] = None
            elif op.body is not None:
                kwargs["body"] = validate(op.body, read_json(empty_ok=op.empty_ok))
            return view(*args, **kwargs)

        return checked

    return wrap
