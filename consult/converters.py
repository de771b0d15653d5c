"""URL converters for every route of the app, pages and API alike.

- `int` accepts only what an id or number column holds (1 … 2**31 - 1, PostgreSQL's
  integer): a larger number in an address is simply not found (404), instead of an
  overflow in the database (SQLite raises on 2**63, PostgreSQL on 2**31).
- `default`/`string` and `path` never match a NUL character: `/documents/%00` is not
  found, instead of reaching PostgreSQL, which refuses NUL in text.

`parse_id` does the same for ids sent in forms and query strings.
"""

from __future__ import annotations

import click
from flask import Flask
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

#: The largest id or number a column holds (PostgreSQL's integer).
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to what an integer column holds."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own argument name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """`<name>` (one path segment) without NUL."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00]")


class NoNulPathConverter(PathConverter):
    """`<path:name>` without NUL."""

    part_isolating = False
    regex = "[^/\\x00][^\\x00]*?"


def parse_id(value: object) -> int | None:
    """An id sent as text ("42"), or None when it is not a whole number from 1 to MAX_ID."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= MAX_ID else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def init_app(app: Flask) -> None:
    """Install the converters; call before any blueprint is registered (rules take their
    converters when they are added)."""
    app.url_map.converters.update(
        int=BoundedIntConverter,
        default=TextConverter,
        string=TextConverter,
        path=NoNulPathConverter,
    )


#: A version number on the command line: what the column holds, or a clear usage error
#: instead of a database overflow.
VERSION_NUMBER = click.IntRange(1, MAX_ID)
