"""Heavy exports made once and kept: a report of thousands of comments takes a minute
to typeset, so no reader may make it run once per request.

Each heavy file is made once per (format, version, state of the record) into
instance/exports/ and then served to every later reader with its sha256 as ETag. The
key holds the record's head hash, which moves with every comment, answer or
moderation, so a file is never older than what it shows. One process makes a given
file at a time (a lock file beside it); and at most EXPORT_SLOTS files are made at
once on the machine (lock files under .slots/), so a burst of requests for different
heavy files cannot take every worker: the ones over the cap get a 503 "being
prepared, try again in a minute".

A job queue (another issue) will make these files in the background; the stored
files and their keys stay as they are.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Response, current_app, request

from consult.documents.models import Version
from consult.errors_pages import unavailable
from consult.exports.formats import Format, filename
from consult.hashing import canonical, sha256
from consult.record.service import head_hash

#: Cheap to make on every request: bounded by the text, not by the comments.
LIGHT = frozenset({"md", "html", "akn"})
BUSY = (
    "This file is being prepared by another request, or the server is already making as "
    "many large files as it can. Please try again in a minute."
)
RETRY_AFTER = 60


def is_heavy(fmt: Format) -> bool:
    return fmt.name not in LIGHT


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Changes when the code or the templates change (a new release): files made by an
    older release are then made again rather than served."""
    root = Path(__file__).resolve().parents[2]
    parts = []
    for folder in ("consult", "templates"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".py", ".html", ".css", ".txt", ".xml") and path.is_file():
                st = path.stat()
                parts.append((str(path.relative_to(root)), st.st_size, st.st_mtime_ns))
    return sha256(canonical(parts))[:16]


def key(version: Version, fmt: Format) -> str:
    """What the file depends on: the format, the version and its state and text, the
    record's head (every comment, answer and moderation moves it) and the code."""
    return sha256(
        canonical(
            [
                fmt.name,
                version.document.slug,
                version.number,
                version.state,
                version.content_hash,
                head_hash(),
                code_fingerprint(),
            ]
        )
    )[:32]


def _folder() -> Path:
    folder = Path(current_app.config["EXPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prefix(version: Version, fmt: Format) -> str:
    return f"{fmt.name}--{version.document.slug}--v{version.number}--"


def path_for(version: Version, fmt: Format) -> Path:
    return _folder() / f"{_prefix(version, fmt)}{key(version, fmt)}.{fmt.extension}"


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `path` if nobody else (process or thread) holds it;
    yields whether it was got, never waits."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def generation_slot() -> Iterator[bool]:
    """One of the EXPORT_SLOTS places for making a heavy file on this machine; yields
    False when all are taken."""
    slots = _folder() / ".slots"
    slots.mkdir(exist_ok=True)
    for n in range(current_app.config["EXPORT_SLOTS"]):
        with _flock(slots / f"{n}.lock") as got:
            if got:
                yield True
                return
    yield False


def busy() -> Response:
    return unavailable(BUSY, title="Being prepared", code="busy", retry_after=RETRY_AFTER)


def _write(path: Path, body: bytes) -> None:
    """Write the file and its sha256 beside it; readers see the whole file or none."""
    digest = hashlib.sha256(body).hexdigest()
    for target, data in ((path.with_name(path.name + ".sha256"), digest.encode()), (path, body)):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)


def _remove_older(version: Version, fmt: Format, keep: Path) -> None:
    """Files of the same format and version made for an earlier state are not served
    again: remove them (a reader still downloading one keeps its open file)."""
    for old in keep.parent.glob(f"{_prefix(version, fmt)}*"):
        if not old.name.startswith(keep.name):
            old.unlink(missing_ok=True)


def _send(path: Path, version: Version, fmt: Format) -> Response:
    # Read whole (a few MB at most) rather than streamed: nothing stays open after.
    resp = Response(path.read_bytes(), mimetype=fmt.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename(version, fmt)}"'
    resp.set_etag(path.with_name(path.name + ".sha256").read_text().strip())
    resp.cache_control.no_cache = True  # kept by browsers, checked again with the ETag
    return resp.make_conditional(request)


def _download(body: bytes, version: Version, fmt: Format) -> Response:
    resp = Response(body, mimetype=fmt.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename(version, fmt)}"'
    return resp


def serve(version: Version, fmt: Format) -> Response:
    """The export as a download: stored and shared for heavy formats of published
    versions, made afresh (within the cap) for drafts, whose text still changes."""
    if not is_heavy(fmt):
        return _download(fmt.make(version), version, fmt)
    if version.state == "draft":
        with generation_slot() as got:
            return _download(fmt.make(version), version, fmt) if got else busy()
    path = path_for(version, fmt)
    if path.exists():
        return _send(path, version, fmt)
    with _flock(path.with_name(path.name + ".lock")) as mine:
        if not mine:
            return busy()  # another process is making this very file
        if not path.exists():  # made while we waited for the lock
            with generation_slot() as got:
                if not got:
                    return busy()
                _write(path, fmt.make(version))
            _remove_older(version, fmt, path)
    return _send(path, version, fmt)
