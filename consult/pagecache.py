"""Public pages kept a few seconds for readers who are not signed in (micro-caching).

Most requests of a consultation are reads of the same public pages by people who are not
signed in: the document, its open version, a paragraph, the list of comments, the API's
version. Each answer is kept PAGE_CACHE_SECONDS (CONSULT_PAGE_CACHE_SECONDS, 5 by
default; 0 turns this off) in the process that made it, and the same request from any
other anonymous reader within that time gets it without the page being made again.
A public page is thus at most that many seconds behind; a signed-in person (an author,
the secretariat) always gets a page made for them.

What is kept, and for whom:
- GET requests from a reader who is not signed in (no account in the session, no
  "remember me" cookie, no API token), with no message waiting to be shown to them;
- answers 200 in HTML or JSON that set no cookie and do not forbid storing, up to
  MAX_BYTES;
- keyed by the site's address, the path and query, the reader's language and time zone
  (what a page may show differently to two anonymous readers).

The forms of a page (the language switcher) carry the reader's CSRF token: the kept copy
holds a marker where the token was, and each reader gets their own token in its place.
At most SIZE answers, TOTAL_BYTES in all, are kept per process, the least recently used
going first.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from consult.i18n import current_locale
from consult.web import ZONE_COOKIE

#: Answers kept per process, the bytes they may hold in all, and the largest kept.
SIZE = 512
TOTAL_BYTES = 32_000_000
MAX_BYTES = 2_000_000
#: What the kept copy holds where the CSRF token was (a different one in each process).
_MARKER = f"csrf-{secrets.token_hex(16)}"
_DROPPED = ("Set-Cookie", "Content-Length", "Date")


@dataclass
class _Kept:
    until: float
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    has_token: bool


_kept: OrderedDict[tuple, _Kept] = OrderedDict()
_bytes = 0  # of the bodies in _kept
_lock = threading.Lock()


def _anonymous() -> bool:
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return (
        "Authorization" not in request.headers
        and remember not in request.cookies
        and "_user_id" not in session
        and "_flashes" not in session
    )


def _key() -> tuple:
    return (
        request.host_url,
        request.script_root,
        request.full_path,
        current_locale(),
        request.cookies.get(ZONE_COOKIE, ""),
    )


def _serve() -> Response | None:
    g.pop("page_cache_key", None)  # `g` may outlive a request (an app context around several)
    if request.method != "GET" or not _anonymous():
        return None
    key = _key()
    now = time.monotonic()
    with _lock:
        kept = _kept.get(key)
        if kept is not None and kept.until <= now:
            _drop(key)
            kept = None
        if kept is not None:
            _kept.move_to_end(key)
    if kept is None:
        g.page_cache_key = key  # made by the view, then kept by _keep
        return None
    body = kept.body
    if kept.has_token:
        body = body.replace(_MARKER.encode(), generate_csrf().encode())
    return Response(body, status=kept.status, headers=kept.headers)


def _keep(resp: Response) -> Response:
    key = g.pop("page_cache_key", None)
    if (
        key is None
        or resp.status_code != 200
        or resp.is_streamed
        or resp.direct_passthrough
        or resp.mimetype not in ("text/html", "application/json")
        or "Set-Cookie" in resp.headers
        or "no-store" in (resp.headers.get("Cache-Control") or "")
        or "private" in (resp.headers.get("Cache-Control") or "")
    ):
        return resp
    body = resp.get_data()
    if len(body) > MAX_BYTES:
        return resp
    token = g.get("csrf_token")
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), _MARKER.encode())
    headers = [(k, v) for k, v in resp.headers.items() if k not in _DROPPED]
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    global _bytes
    with _lock:
        if key in _kept:
            _drop(key)
        _kept[key] = _Kept(time.monotonic() + seconds, resp.status_code, headers, body, has_token)
        _bytes += len(body)
        while len(_kept) > SIZE or _bytes > TOTAL_BYTES:
            _drop(next(iter(_kept)))  # the least recently used
    return resp


def _drop(key: tuple) -> None:
    """Forget one kept answer (under the lock)."""
    global _bytes
    _bytes -= len(_kept.pop(key).body)


def forget() -> None:
    """Drop every kept answer."""
    global _bytes
    with _lock:
        _kept.clear()
        _bytes = 0


def init_app(app: Flask) -> None:
    """Register after every other before_request hook (the rate limits, the refusal of
    NUL characters, the language) so that a kept answer passes them all first."""
    if not app.config.get("PAGE_CACHE_SECONDS"):
        return
    app.before_request(_serve)
    app.after_request(_keep)
