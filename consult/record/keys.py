"""The instance's Ed25519 key, which signs the record's tree heads, and the keys it
replaced.

From CONSULT_RECORD_KEY (the 32-byte private key as 64 hex digits, or a PEM file's text),
else made once and kept in instance/record_key (like the secret key). Its public half is
shown on the record page and shipped in the open-data export; anyone checks heads with it.

A key is replaced (`flask rotate-record-key`, or a new CONSULT_RECORD_KEY) without
breaking anything signed before: the old public key stays trusted for the heads it signed
until its retirement, and for none after. Past keys are listed, with the time each was
retired, in instance/record_keys_past (written by the command) and in
CONSULT_RECORD_PAST_KEYS ("<public key hex>@<ISO 8601 time>", comma-separated), and are
published with the current key on the record page, in the API and in the open data.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from flask_babel import gettext as _

from consult.record.verify_standalone import key_id

#: The list of retired public keys the rotation command keeps, one "hex milliseconds" a line.
PAST_KEYS_FILE = "record_keys_past"


class KeyError_(RuntimeError):
    """CONSULT_RECORD_KEY cannot be read; the message says why."""


def _load(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyError_("CONSULT_RECORD_KEY holds a PEM key that is not an Ed25519 key.")
        return key
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise KeyError_(
            "CONSULT_RECORD_KEY must be an Ed25519 private key: 64 hex digits (make one with "
            "python -c 'import secrets; print(secrets.token_hex(32))') or a PEM file's text."
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def private_key(app: Flask | None = None) -> Ed25519PrivateKey:
    app = app or current_app
    env = os.environ.get("CONSULT_RECORD_KEY", "").strip()
    if env:
        key = app.extensions.get("consult_record_key")
        if key is None:
            key = app.extensions["consult_record_key"] = _load(env)
        return key
    # The instance's file: read again when it changes, so that every process (web
    # workers, the job worker) signs with the new key as soon as it is rotated.
    path = Path(app.instance_path) / "record_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"record_key.{os.getpid()}.new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # the first process to make one wins; the others read it
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    stamp = path.stat().st_mtime_ns
    cached = app.extensions.get("consult_record_key_file")
    if cached is None or cached[0] != stamp:
        cached = app.extensions["consult_record_key_file"] = (stamp, _load(path.read_text()))
    return cached[1]


def public_key_hex(app: Flask | None = None) -> str:
    return (
        private_key(app)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def sign(message: bytes, app: Flask | None = None) -> str:
    return private_key(app).sign(message).hex()


@dataclass(frozen=True)
class KnownKey:
    """A key whose signatures the record accepts: the one in use (retired_at None), or a
    past one, for the heads signed up to its retirement (milliseconds, as heads are)."""

    public_key: str
    retired_at: int | None = None

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    @property
    def retired(self) -> datetime | None:
        return (
            None if self.retired_at is None else datetime.fromtimestamp(self.retired_at / 1000, UTC)
        )

    def as_json(self) -> dict:
        retired = self.retired
        return {
            "key_id": self.key_id,
            "public_key": self.public_key,
            "retired_at": retired.isoformat().replace("+00:00", "Z") if retired else None,
        }


def _public_hex(text: str) -> str:
    text = text.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise KeyError_(
            f"A past record key must be an Ed25519 public key as 64 hex digits, not {text[:70]!r}."
        )
    return text


def _past_from_env() -> list[KnownKey]:
    out = []
    for item in os.environ.get("CONSULT_RECORD_PAST_KEYS", "").split(","):
        if not item.strip():
            continue
        key, sep, when = item.strip().partition("@")
        if not sep:
            raise KeyError_(
                "CONSULT_RECORD_PAST_KEYS lists each retired key as <public key hex>@<time it "
                "was retired, ISO 8601>, e.g. …@2026-12-01T00:00:00Z."
            )
        try:
            moment = datetime.fromisoformat(when.strip().replace("Z", "+00:00"))
        except ValueError as e:
            raise KeyError_(f"CONSULT_RECORD_PAST_KEYS: {when!r} is not an ISO 8601 time.") from e
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        out.append(KnownKey(_public_hex(key), int(moment.timestamp() * 1000)))
    return out


def _past_from_file(app: Flask) -> list[KnownKey]:
    path = Path(app.instance_path) / PAST_KEYS_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, stamp = line.split()
            out.append(KnownKey(_public_hex(key), int(stamp)))
    return out


def known_keys(app: Flask | None = None) -> list[KnownKey]:
    """The key in use first, then the past keys, most recently retired first."""
    app = app or current_app
    current = public_key_hex(app)
    past = {k.public_key: k for k in _past_from_file(app) + _past_from_env()}
    past.pop(current, None)
    return [KnownKey(current)] + sorted(past.values(), key=lambda k: -(k.retired_at or 0))


def key_problem(public_key: str, timestamp: int, known: list[KnownKey] | None = None) -> str | None:
    """Why a head signed by `public_key` at `timestamp` (ms) is not to be trusted, or None."""
    for k in known if known is not None else known_keys():
        if k.public_key == public_key:
            if k.retired_at is not None and timestamp > k.retired_at:
                return _(
                    "it is signed with the key %(key)s after that key was retired",
                    key=k.key_id,
                )
            return None
    return _(
        "it names the key %(key)s, which is not one of this record's keys", key=key_id(public_key)
    )


def rotate(app: Flask) -> tuple[KnownKey, KnownKey]:
    """Make a new key in instance/record_key and retire the old one now (its public half
    kept in instance/record_keys_past). Returns (retired, new). Refused when the key comes
    from CONSULT_RECORD_KEY: the deployment owns that key, and changes it there."""
    if os.environ.get("CONSULT_RECORD_KEY", "").strip():
        raise KeyError_(
            "The record's key comes from CONSULT_RECORD_KEY: put the new private key there, "
            "and add the old public key with the time it was retired to "
            "CONSULT_RECORD_PAST_KEYS (<public key hex>@<ISO 8601 time>)."
        )
    old = public_key_hex(app)
    retired = KnownKey(old, int(datetime.now(UTC).timestamp() * 1000))
    folder = Path(app.instance_path)
    with open(folder / PAST_KEYS_FILE, "a", encoding="utf-8") as f:
        f.write(f"{retired.public_key} {retired.retired_at}\n")
    path = folder / "record_key"
    tmp = folder / "record_key.new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    os.replace(tmp, path)
    app.extensions.pop("consult_record_key_file", None)
    return retired, KnownKey(public_key_hex(app))
