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

Where (PAGE_CACHE_URL, CONSULT_PAGE_CACHE_URL):
- ``memory``: in each process; at most SIZE answers, TOTAL_BYTES in all, the least
  recently used going first. Each of several workers then makes each page once per
  period (benchmarks/load.py: 4 workers made most paragraph pages again);
- ``redis://host:6379/0``: shared by every process and machine on that Redis, each
  answer expiring there after the period (its only bound: a few seconds of pages). The
  default when the job queue is on Redis (CONSULT_JOBS=redis://…), else ``memory``.
  Keys are named after the site's secret key, so sites sharing a Redis do not share
  pages; when Redis cannot be reached pages are made each time, and a warning logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from consult.i18n import current_locale
from consult.web import ZONE_COOKIE

log = logging.getLogger(__name__)

#: Answers kept per process (the memory store), the bytes they may hold in all, and the
#: largest kept (either store).
SIZE = 512
TOTAL_BYTES = 32_000_000
MAX_BYTES = 2_000_000
_DROPPED = ("Set-Cookie", "Content-Length", "Date")
#: The clocks of the two stores (module attributes, so that tests can move them): a
#: process's own for the memory store, the wall clock shared by machines for Redis.
_monotonic = time.monotonic
_wall = time.time


@dataclass
class _Kept:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    has_token: bool


class MemoryStore:
    """Answers kept in this process, least recently used first out."""

    def __init__(self) -> None:
        self.kept: OrderedDict[tuple, tuple[float, _Kept]] = OrderedDict()
        self.bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.kept)

    def get(self, key: tuple) -> _Kept | None:
        now = _monotonic()
        with self._lock:
            found = self.kept.get(key)
            if found is None:
                return None
            if found[0] <= now:
                self._drop(key)
                return None
            self.kept.move_to_end(key)
            return found[1]

    def put(self, key: tuple, kept: _Kept, seconds: int) -> None:
        with self._lock:
            if key in self.kept:
                self._drop(key)
            self.kept[key] = (_monotonic() + seconds, kept)
            self.bytes += len(kept.body)
            while len(self.kept) > SIZE or self.bytes > TOTAL_BYTES:
                self._drop(next(iter(self.kept)))

    def clear(self) -> None:
        with self._lock:
            self.kept.clear()
            self.bytes = 0

    def _drop(self, key: tuple) -> None:
        self.bytes -= len(self.kept.pop(key)[1].body)


class RedisStore:
    """Answers kept on Redis for every process: a key per answer, named `prefix` + a
    hash of what names the page, expiring after the period. A value is the length of
    a JSON header (4 bytes), the header (until, status, headers, token) and the body."""

    #: Seconds between two warnings that Redis cannot be reached, and for which it is
    #: then left alone (each try could cost a request its timeout).
    WARN_EVERY = 60
    RETRY_AFTER = 5

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self._client = None
        self._pid = 0
        self._warned: float | None = None
        self._down_until = 0.0

    def _redis(self):
        # One client per process: a connection pool must not cross a fork (gunicorn).
        if self._client is None or self._pid != os.getpid():
            import redis

            self._client = redis.Redis.from_url(
                self.url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            self._pid = os.getpid()
        return self._client

    def _name(self, key: tuple) -> str:
        return self.prefix + hashlib.sha256(repr(key).encode()).hexdigest()[:40]

    def _usable(self) -> bool:
        return _monotonic() >= self._down_until

    def _failed(self, e: Exception) -> None:
        now = _monotonic()
        self._down_until = now + self.RETRY_AFTER
        if self._warned is None or now - self._warned >= self.WARN_EVERY:
            self._warned = now
            log.warning(
                "Page cache: Redis at %s cannot be used (%s); pages are made each time "
                "until it can.",
                re.sub(r"//[^@/]*@", "//…@", self.url),  # never a password in the log
                e,
            )

    def get(self, key: tuple) -> _Kept | None:
        import redis

        if not self._usable():
            return None
        try:
            raw = self._redis().get(self._name(key))
        except redis.RedisError as e:
            self._failed(e)
            return None
        if raw is None:
            return None
        try:
            n = int.from_bytes(raw[:4], "big")
            head = json.loads(raw[4 : 4 + n])
            if head["u"] <= _wall():
                return None
            return _Kept(head["s"], [tuple(h) for h in head["h"]], raw[4 + n :], head["t"])
        except (ValueError, KeyError, TypeError) as e:  # not ours, or cut short
            log.warning("Page cache: an unreadable entry on Redis (%s); page made again.", e)
            return None

    def put(self, key: tuple, kept: _Kept, seconds: int) -> None:
        import redis

        if not self._usable():
            return
        head = json.dumps(
            {"u": _wall() + seconds, "s": kept.status, "h": kept.headers, "t": kept.has_token}
        ).encode()
        value = len(head).to_bytes(4, "big") + head + kept.body
        try:
            self._redis().set(self._name(key), value, px=seconds * 1000)
        except redis.RedisError as e:
            self._failed(e)

    def clear(self) -> None:
        import redis

        try:
            client = self._redis()
            for name in client.scan_iter(match=self.prefix + "*", count=500):
                client.delete(name)
        except redis.RedisError as e:
            self._failed(e)


@dataclass
class PageCache:
    """An app's page cache: where answers are kept, for how long, and the marker that
    stands for the CSRF token in them (the same in every process of the site)."""

    store: MemoryStore | RedisStore
    seconds: int
    marker: bytes


_caches: list[PageCache] = []  # every app's, for forget()


def _derived(secret: str | bytes, purpose: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"consult.pagecache {purpose}".encode(), hashlib.sha256).hexdigest()


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


def _cache() -> PageCache:
    return current_app.extensions["consult_pagecache"]


def _serve() -> Response | None:
    g.pop("page_cache_key", None)  # `g` may outlive a request (an app context around several)
    if request.method != "GET" or not _anonymous():
        return None
    key = _key()
    cache = _cache()
    kept = cache.store.get(key)
    if kept is None:
        g.page_cache_key = key  # made by the view, then kept by _keep
        return None
    body = kept.body
    if kept.has_token:
        body = body.replace(cache.marker, generate_csrf().encode())
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
    cache = _cache()
    token = g.get("csrf_token")
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), cache.marker)
    headers = [(k, v) for k, v in resp.headers.items() if k not in _DROPPED]
    cache.store.put(key, _Kept(resp.status_code, headers, body, has_token), cache.seconds)
    return resp


def forget() -> None:
    """Drop every kept answer (of every app of this process; on Redis, of their sites)."""
    for cache in _caches:
        cache.store.clear()


def init_app(app: Flask) -> None:
    """Register after every other before_request hook (the rate limits, the refusal of
    NUL characters, the language) so that a kept answer passes them all first."""
    seconds = app.config.get("PAGE_CACHE_SECONDS")
    if not seconds:
        return
    secret = app.config["SECRET_KEY"]
    url = app.config.get("PAGE_CACHE_URL") or "memory"
    if url == "memory":
        store: MemoryStore | RedisStore = MemoryStore()
    else:
        store = RedisStore(url, f"consult:page:{_derived(secret, 'keys')[:16]}:")
    cache = PageCache(store, seconds, f"csrf-{_derived(secret, 'marker')[:32]}".encode())
    app.extensions["consult_pagecache"] = cache
    _caches.append(cache)
    app.before_request(_serve)
    app.after_request(_keep)
