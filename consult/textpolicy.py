"""One policy for everything people write, applied where it enters (forms, the API's
JSON, the command line), and its counterpart for what goes out (exports).

What comes in (`clean`):
- normalised to NFC, so that the same words are stored, hashed and searched alike;
- a NUL character is refused: no database stores it (PostgreSQL rejects it) and no
  one types it;
- a lone UTF-16 surrogate (possible in JSON, "\\ud800") is refused: it is no character;
- other control characters (C0 and C1) are dropped, except tab and newline; a carriage
  return, alone or before a newline, becomes a newline;
- text made only of invisible characters (zero-width spaces and joiners, the byte-order
  mark, other format characters, spaces, combining marks with nothing to combine with)
  is empty.

What goes out (`printable`): whatever is already stored, without the characters XML
cannot carry (Word, Excel and Akoma Ntoso files are XML), for the exports.

`spreadsheet_cell` keeps a CSV or Excel cell from being read as a formula.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Flask, abort, request
from flask_babel import gettext as _

from consult.errors import ConsultError

NUL = "\x00"
#: Control characters dropped from what people write: C0 (but tab and newline), DEL, C1.
_CONTROLS = re.compile("[\x01-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: What XML 1.0 cannot carry (besides surrogates): C0 but tab, newline and carriage return,
#: and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Letters that show nothing (Hangul fillers, the braille blank, the Mongolian vowel
#: separator): text made only of them is as empty as spaces.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
#: What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TextRefused(ConsultError):
    """Text that cannot be stored as written (a NUL or a lone surrogate)."""

    status = 400
    code = "invalid_text"


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LETTERS


def clean(value: str, *, what: str | None = None) -> str:
    """`value` under the text policy (see the module's docstring); TextRefused when it
    holds a NUL or a lone surrogate. `what` names the field in the message."""
    if NUL in value:
        raise TextRefused(
            _(
                "%(what)s contains a NUL character (code 0), which cannot be stored; remove it.",
                what=what or _("The text"),
            )
        )
    if _SURROGATE.search(value):
        raise TextRefused(
            _(
                "%(what)s contains a lone UTF-16 surrogate, which is not a "
                "character; send the text as valid Unicode.",
                what=what or _("The text"),
            )
        )
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROLS.sub("", unicodedata.normalize("NFC", value))
    if not any(_visible(ch) for ch in value):
        return ""
    return value


def clean_optional(value: str | None, *, what: str | None = None) -> str | None:
    """`clean` that lets None through (an optional field not sent)."""
    return None if value is None else clean(value, what=what)


def printable(value: str | None) -> str:
    """Stored text as an export can write it: without what XML cannot carry. Exports
    call it on whatever the database holds, which may predate this policy."""
    if not value:
        return ""
    return _NOT_XML.sub("", value)


def spreadsheet_cell(value):
    """A cell of a CSV or Excel export: text that a spreadsheet would read as a formula
    (it starts with =, +, -, @, a tab or a carriage return) gets a leading single quote,
    as OWASP advises; numbers and empty cells stay as they are. Nothing else changes, so
    that a reader can undo it (the open-data CSV files are checked against data.json)."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def init_app(app: Flask) -> None:
    """Refuse a NUL in any query or form value before a view runs (400, with the API's
    JSON error shape under /api/): it would reach the database (PostgreSQL refuses it,
    SQLite would store it) long before any field's own checks."""

    @app.before_request
    def _refuse_nul():
        sources = [request.args]
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sources.append(request.form)
        for values in sources:
            for key, value in values.items(multi=True):
                if NUL in key or NUL in value:
                    abort(
                        400,
                        description=_(
                            "The field '%(replace)s' contains a NUL character (code 0), "
                            "which cannot be stored; remove it.",
                            replace=key.replace(NUL, ""),
                        ),
                    )
