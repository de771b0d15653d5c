"""Files kept by their sha256: attachments, messages received by e-mail, returned Word files.

Each kind of file has an *area*. By default an area is a folder under ``instance/``
(``ATTACHMENT_DIR``, ``INTAKE_DIR``, ``RETURNED_WORD_DIR``), a file named
``ab/cdef…`` after its sha256. With ``CONSULT_BLOB_STORE=s3://bucket/prefix`` every
area is a key prefix in an S3-compatible bucket instead (AWS, MinIO, Ceph, Garage…:
``CONSULT_S3_ENDPOINT_URL`` names the server, credentials come from the usual
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` variables), so that several machines
share them.

Whatever the store, the bytes read back are checked against their name: a file changed
behind Consult's back is refused, never served as if it were the one recorded.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from consult.errors import ConsultError

#: The areas and the configuration key of each one's folder in the local store.
AREAS = {
    "attachments": "ATTACHMENT_DIR",
    "intake": "INTAKE_DIR",
    "returned-word": "RETURNED_WORD_DIR",
    "returned-word-pending": "RETURNED_WORD_PENDING_DIR",
}
_SHA = re.compile(r"\A[0-9a-f]{64}\Z")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(digest: str) -> str:
    if not _SHA.match(digest or ""):
        raise ValueError("not a sha256")
    return f"{digest[:2]}/{digest[2:]}"


class Store(Protocol):
    def put(self, area: str, digest: str, data: bytes) -> None: ...
    def read(self, area: str, digest: str) -> bytes | None: ...
    def remove(self, area: str, digest: str) -> None: ...


class LocalStore:
    """Folders on this machine, one per area."""

    def __init__(self, folders: dict[str, str]):
        self.folders = folders

    def path(self, area: str, digest: str) -> Path:
        return Path(self.folders[area]) / _key(digest)

    def put(self, area: str, digest: str, data: bytes) -> None:
        path = self.path(area, digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and moved into place: no reader sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, area: str, digest: str) -> bytes | None:
        try:
            return self.path(area, digest).read_bytes()
        except FileNotFoundError:
            return None

    def remove(self, area: str, digest: str) -> None:
        self.path(area, digest).unlink(missing_ok=True)


class S3Store:
    """One bucket (and a prefix in it) of an S3-compatible server; an area is a prefix."""

    def __init__(self, url: str, endpoint_url: str | None = None, client=None):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"CONSULT_BLOB_STORE must look like s3://bucket/prefix, not {url!r}")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        if client is None:
            import boto3  # only needed when an S3 store is configured

            client = boto3.client("s3", endpoint_url=endpoint_url or None)
        self.client = client

    def key(self, area: str, digest: str) -> str:
        return "/".join(p for p in (self.prefix, area, _key(digest)) if p)

    def put(self, area: str, digest: str, data: bytes) -> None:
        import base64

        # S3 checks the bytes it receives against the sha256 we send: nothing half-sent
        # or changed on the way is kept.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(area, digest),
            Body=data,
            ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
        )

    def read(self, area: str, digest: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(area, digest))
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def remove(self, area: str, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(area, digest))


def store() -> Store:
    """The application's store, made once per application."""
    app = current_app
    found = app.extensions.get("consult_blobs")
    if found is None:
        url = app.config.get("BLOB_STORE") or ""
        if url:
            found = S3Store(url, app.config.get("S3_ENDPOINT_URL"))
        else:
            found = LocalStore({area: app.config[key] for area, key in AREAS.items()})
        app.extensions["consult_blobs"] = found
    return found


def put(area: str, data: bytes) -> str:
    """Keep `data` in `area` (once, however often it is put); returns its sha256."""
    digest = digest_of(data)
    store().put(area, digest, data)
    return digest


def get(area: str, digest: str) -> bytes:
    """The bytes kept under `digest`, checked against it."""
    data = store().read(area, digest)
    if data is None:
        raise ConsultError(
            _("The stored file is missing from the file store."), code="missing_file", status=500
        )
    if digest_of(data) != digest:
        raise ConsultError(
            _("The stored file does not match its recorded sha256; it was changed in the store."),
            code="changed_on_disk",
            status=500,
        )
    return data


def find(area: str, digest: str) -> bytes | None:
    """Like get(), but None when nothing (or something else) is kept under `digest`."""
    if not _SHA.match(digest or ""):
        return None
    data = store().read(area, digest)
    return data if data is not None and digest_of(data) == digest else None


def remove(area: str, digest: str) -> None:
    store().remove(area, digest)
