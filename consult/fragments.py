"""Parts of pages made only of frozen things, rendered (or computed) once and kept in each
process.

A long published text rendered with its marks (the provenance of a version: thousands of
passages) costs hundreds of milliseconds to render and is the same for every reader of
one language. `remembered(key, make)` returns what `make()` returned for the same key
in this process, or calls it. The key must name everything the part is made from (a
hash of the inputs, such as consult.tracing.views.provenance_key); the database, the
reader's language and the site's address (links) are added here. At most SIZE parts are kept (the
least recently used goes first), so the memory a worker holds stays bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, has_request_context, request

from consult.i18n import current_locale

T = TypeVar("T")

#: Parts kept per process (a long text's part is one to two megabytes).
SIZE = 24

_kept: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()


def remembered(
    key: tuple[Hashable, ...] | None, make: Callable[[], T], *, rendered: bool = True
) -> T:
    """make() for `key` in the reader's language, computed once per process; with
    rendered=False, for data that holds no text of the interface and no link (the same
    in every language). No key (a part of a draft, which changes): make() each time."""
    if key is None:
        return make()
    root = request.script_root if has_request_context() else ""
    db_uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    full = (db_uri, *key, current_locale(), root) if rendered else (db_uri, *key)
    with _lock:
        if full in _kept:
            _kept.move_to_end(full)
            return _kept[full]  # type: ignore[return-value]
    value = make()  # outside the lock: two readers at once both make it, both the same
    with _lock:
        _kept[full] = value
        _kept.move_to_end(full)
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return value


def forget() -> None:
    """Drop every kept part (tests that change what a key does not name)."""
    with _lock:
        _kept.clear()
