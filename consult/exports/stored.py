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

With a job queue (CONSULT_JOBS, consult.jobs) no request makes a heavy file: the
first reader's request asks the make_export job for it and gets a status page (202)
that reloads itself every few seconds without JavaScript (meta refresh) and names the
file it waits for (`?job=<key>`); when the file is ready the same address serves it,
with its sha256, and every later reader gets the same stored file. The job's state is
kept beside the file, so every process of the machine sees it: `<file>.queued` (asked
for, not started), the lock held (being made), `<file>.failed` (the error), the file.
Inline (no queue) the request makes the file itself, as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flask import Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from consult import jobs
from consult.documents.models import Version
from consult.errors_pages import unavailable
from consult.exports.formats import Format, filename, get_format
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.i18n import current_locale
from consult.record.service import head_hash

log = logging.getLogger(__name__)

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
    record's head (every comment, answer and moderation moves it), the code, and the
    language it is written in (the reader's: its headings, labels and dates)."""
    return sha256(
        canonical(
            [
                fmt.name,
                current_locale(),
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
    """The start of the name of every stored file of this format and version in the
    current language (a file in Thai never replaces, nor is served as, one in Lao)."""
    return f"{fmt.name}--{version.document.slug}--v{version.number}--{current_locale()}--"


def path_for(version: Version, fmt: Format, file_key: str | None = None) -> Path:
    """The stored file for the record's current state, or for `file_key`."""
    k = file_key or key(version, fmt)
    return _folder() / f"{_prefix(version, fmt)}{k}.{fmt.extension}"


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
    return unavailable(BUSY, title=_("Being prepared"), code="busy", retry_after=RETRY_AFTER)


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
    digest = path.with_name(path.name + ".sha256").read_text().strip()
    resp.set_etag(digest)
    resp.headers["X-Content-SHA256"] = digest
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
    if jobs.queued():
        return _serve_by_job(version, fmt)
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


# --- made by a job ------------------------------------------------------------------------

#: Seconds between two reloads of the status page.
REFRESH = 3
#: A request for a file that no worker has started after this long is asked again (the
#: queue was emptied, or the worker lost it).
STALE_REQUEST = 600


def _marker(path: Path, what: str) -> Path:
    return path.with_name(f"{path.name}.{what}")


def job_state(path: Path) -> str:
    """'ready', 'making', 'queued', 'failed' or 'none' for the file at `path`."""
    if path.exists():
        return "ready"
    with _flock(_marker(path, "lock")) as free:
        if not free:
            return "making"
    if _marker(path, "failed").exists():
        return "failed"
    queued = _marker(path, "queued")
    if queued.exists() and time.time() - queued.stat().st_mtime < STALE_REQUEST:
        return "queued"
    return "none"


def request_job(version: Version, fmt: Format, file_key: str) -> bool:
    """Ask the make_export job for the file once: the first request writes the
    `.queued` mark (O_EXCL, so two requests at once ask once) and queues the job."""
    path = path_for(version, fmt, file_key)
    mark = _marker(path, "queued")
    if mark.exists() and time.time() - mark.stat().st_mtime >= STALE_REQUEST:
        mark.unlink(missing_ok=True)
    _marker(path, "failed").unlink(missing_ok=True)
    try:
        fd = os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    try:
        jobs.task("make_export")(version.id, fmt.name, file_key, current_locale())
    except Exception:
        mark.unlink(missing_ok=True)
        raise
    return True


def make_requested(version_id: int, fmt_name: str, file_key: str, locale: str = "en") -> str:
    """The make_export job: write the file asked for under `file_key`, in the language
    of the reader who asked (`locale`). It shows the record as it is when the job runs
    (as new as the key, or newer). Returns 'made', 'exists', 'busy' (no slot: the job
    tries again), 'failed' or 'gone'."""
    with force_locale(locale):
        return _make_requested(version_id, fmt_name, file_key)


def _make_requested(version_id: int, fmt_name: str, file_key: str) -> str:
    version = db.session.get(Version, version_id)
    fmt = get_format(fmt_name)
    if version is None:
        return "gone"
    path = path_for(version, fmt, file_key)
    try:
        with _flock(_marker(path, "lock")) as mine:
            if not mine or path.exists():
                return "exists"
            with generation_slot() as got:
                if not got:
                    return "busy"
                try:
                    body = fmt.make(version)
                except Exception as e:
                    # Shown on the status page; making it again would fail the same way,
                    # so the job is not retried (the reader may ask again).
                    log.exception("export %s of version %s failed", fmt.name, version_id)
                    _marker(path, "failed").write_text(f"{type(e).__name__}: {e}"[:500])
                    return "failed"
                _write(path, body)
            _remove_older(version, fmt, path)
            return "made"
    finally:
        db.session.rollback()
        _marker(path, "queued").unlink(missing_ok=True)


def _newest(version: Version, fmt: Format) -> Path | None:
    """The newest stored file of this format and version (the one a job finished last)."""
    files = [
        p
        for p in _folder().glob(f"{_prefix(version, fmt)}*.{fmt.extension}")
        if not p.name.startswith(".")
    ]
    return max(files, key=lambda p: p.stat().st_mtime, default=None)


def _serve_by_job(version: Version, fmt: Format) -> Response:
    """The stored file when it is ready, else the status of the job that makes it."""
    asked = request.args.get("job", "")
    if asked and not (len(asked) == 32 and all(c in "0123456789abcdef" for c in asked)):
        asked = ""  # not a key of ours: wait for the current file instead
    current = key(version, fmt)
    file_key = asked or current
    path = path_for(version, fmt, file_key)
    state = job_state(path)
    if state == "ready":
        return _send(path, version, fmt)
    if state == "failed" and request.args.get("retry") == "1":
        state = "none"  # the reader asks again (request_job clears the failure)
    if state == "none" and asked and asked != current:
        # A newer file replaced the one asked for while the reader waited: serve it.
        newest = _newest(version, fmt)
        if newest is not None:
            return _send(newest, version, fmt)
        file_key, path = current, path_for(version, fmt, current)
        state = job_state(path)
    if state == "none":
        try:
            request_job(version, fmt, file_key)
        except Exception:  # the queue cannot be reached: say so, as when every slot is taken
            log.exception("could not queue the %s export of version %s", fmt.name, version.id)
            return busy()
        state = "queued"
    failed = _marker(path, "failed")
    again = url_for(request.endpoint, **(request.view_args or {}), job=file_key, _external=False)
    resp = Response(
        render_template(
            "exports/job_status.html",
            version=version,
            doc=version.document,
            fmt=fmt,
            state=state,
            error=failed.read_text() if state == "failed" else None,
            again=again,
            retry=url_for(request.endpoint, **(request.view_args or {}), job=file_key, retry=1),
            refresh=REFRESH,
        ),
        status=500 if state == "failed" else 202,
        mimetype="text/html",
    )
    resp.headers["Retry-After"] = str(REFRESH)
    resp.headers["Cache-Control"] = "no-store"
    return resp
