"""The instance's Ed25519 key, which signs the record's tree heads.

From CONSULT_RECORD_KEY (the 32-byte private key as 64 hex digits, or a PEM file's text),
else made once and kept in instance/record_key (like the secret key). Its public half is
shown on the record page and shipped in the open-data export; anyone checks heads with it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app


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
    key = app.extensions.get("consult_record_key")
    if key is None:
        env = os.environ.get("CONSULT_RECORD_KEY", "").strip()
        if env:
            key = _load(env)
        else:
            path = Path(app.instance_path) / "record_key"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_hex(32))
                path.chmod(0o600)
            key = _load(path.read_text())
        app.extensions["consult_record_key"] = key
    return key


def public_key_hex(app: Flask | None = None) -> str:
    return (
        private_key(app)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def sign(message: bytes, app: Flask | None = None) -> str:
    return private_key(app).sign(message).hex()
