"""What every answer costs on a slow connection: text compressed, static files cached.

- Pages, JSON, feeds, CSS and scripts are compressed (Brotli, else gzip) when the
  browser accepts it and the answer is worth it (Flask-Compress).
- Every link to a static file carries its fingerprint (`/static/style.css?v=<sha256
  prefix>`), so a browser keeps the file for a year and asks again only when it changes.
  A request with an old or missing fingerprint is answered with the current file and
  `no-cache` (checked again each time), never cached under the wrong name.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request
from flask_compress import Compress

compress = Compress()

#: A year: the longest lifetime browsers honour.
YEAR = 365 * 24 * 3600
TEXT_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/problem+json",
    "application/xml",
    "application/atom+xml",
    "image/svg+xml",
]


def fingerprint(app: Flask, filename: str) -> str:
    """The first 12 hex digits of the file's sha256, computed once per file (again when
    its modification time changes, so editing a stylesheet in development shows at once)."""
    path = os.path.join(app.static_folder or "", filename)
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return ""
    cache: dict[str, tuple[int, str]] = app.extensions.setdefault("consult_fingerprints", {})
    found = cache.get(filename)
    if found is None or found[0] != stamp:
        with open(path, "rb") as f:
            found = cache[filename] = (stamp, hashlib.sha256(f.read()).hexdigest()[:12])
    return found[1]


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIMETYPES", TEXT_TYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # fast enough per request; ~gzip -9 size
    compress.init_app(app)

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            v = fingerprint(app, values["filename"])
            if v:
                values["v"] = v

    # Registered after Flask-Compress's own hook, so it runs before it (Flask runs them
    # in reverse): a static file is handed over as bytes, which Compress can compress.
    @app.after_request
    def _static_cache(resp):
        if request.endpoint != "static" or resp.status_code not in (200, 304):
            return resp
        filename = (request.view_args or {}).get("filename", "")
        current = fingerprint(app, filename)
        if current and request.args.get("v") == current:
            resp.cache_control.no_cache = None
            resp.cache_control.public = True
            resp.cache_control.max_age = YEAR
            resp.cache_control.immutable = True
        else:
            resp.cache_control.max_age = 0
            resp.cache_control.no_cache = True
        if resp.status_code == 200 and resp.direct_passthrough:
            # Static files are small: read, close, and hand over as bytes to compress.
            body = b"".join(resp.response)
            if hasattr(resp.response, "close"):
                resp.response.close()
            resp.direct_passthrough = False
            resp.set_data(body)
        return resp
