"""`mail-fetch`: read new messages from an IMAP mailbox (CONSULT_IMAP_URL) into the
intake queue, for deployments whose mail lands in a mailbox rather than at the receiver.

CONSULT_IMAP_URL is imaps://user:password@host[:port][/folder] (or imap:// with
STARTTLS); the folder defaults to INBOX. Each unseen message is read, queued and
committed, then marked seen, so a message is never lost between the two; one fetched
twice is stored once (same bytes). A message over CONSULT_MAIL_IN_MAX_BYTES is not
downloaded: it is left unseen, flagged, and reported.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from flask import Flask
from flask_babel import gettext as _

from consult.errors import ConsultError
from consult.extensions import db

log = logging.getLogger(__name__)
#: Flag set on a message too large to take, so that later runs skip it.
TOO_LARGE_FLAG = "$ConsultTooLarge"


@dataclass
class Fetched:
    queued: int = 0
    dropped: int = 0
    duplicates: int = 0
    too_large: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Mailbox:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str


def mailbox(url: str) -> Mailbox:
    """The parts of CONSULT_IMAP_URL, or a ConsultError saying what is wrong."""
    if not url:
        raise ConsultError(
            _("Set CONSULT_IMAP_URL, e.g. imaps://user:password@mail.example.org/INBOX.")
        )
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ConsultError(
            _(
                "CONSULT_IMAP_URL must look like "
                "imaps://user:password@host[:port][/folder] (or imap:// for "
                "STARTTLS)."
            )
        )
    if not parts.username:
        raise ConsultError(_("CONSULT_IMAP_URL names no user (imaps://user:password@host)."))
    secure = parts.scheme == "imaps"
    return Mailbox(
        secure=secure,
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def connect(box: Mailbox):
    """An imaplib connection, logged in (TLS from the start, or STARTTLS)."""
    context = ssl.create_default_context()
    if box.secure:
        conn = imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=60)
    else:
        conn = imaplib.IMAP4(box.host, box.port, timeout=60)
        conn.starttls(ssl_context=context)
    conn.login(box.user, box.password)
    return conn


_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def fetch(app: Flask, *, open_mailbox: Callable[[Mailbox], object] = connect, limit: int = 200):
    """Queue the unseen messages of the mailbox (at most `limit`); returns a Fetched.
    `open_mailbox` returns an imaplib.IMAP4-like object (tests pass a fake)."""
    from consult.intake.service import receive

    box = mailbox(app.config["IMAP_URL"])
    most = app.config["MAIL_IN_MAX_BYTES"]
    out = Fetched()
    conn = open_mailbox(box)
    try:
        typ, _data = conn.select(_quoted(box.folder))
        if typ != "OK":
            raise ConsultError(
                _("The IMAP folder '%(folder)s' cannot be opened.", folder=box.folder)
            )
        typ, data = conn.uid("SEARCH", None, f"UNSEEN UNKEYWORD {TOO_LARGE_FLAG}")
        uids = (data[0] or b"").split() if typ == "OK" else []
        for uid in uids[:limit]:
            uid_s = uid.decode()
            typ, meta = conn.uid("FETCH", uid_s, "(RFC822.SIZE)")
            m = _SIZE.search(_joined(meta)) if typ == "OK" else None
            size = int(m.group(1)) if m else 0
            if size > most:
                conn.uid("STORE", uid_s, "+FLAGS", f"({TOO_LARGE_FLAG})")
                out.too_large += 1
                out.notes.append(f"message {uid_s}: {size:,} bytes, over the {most:,} taken")
                continue
            typ, parts = conn.uid("FETCH", uid_s, "(BODY.PEEK[])")
            raw = _body(parts) if typ == "OK" else None
            if raw is None:
                out.failed += 1
                out.notes.append(f"message {uid_s}: could not be read")
                continue
            try:
                with app.app_context():
                    r = receive(raw, via="imap")
                    db.session.commit()
            except ConsultError as e:
                out.failed += 1
                out.notes.append(f"message {uid_s}: {e.message}")
                continue
            if r.dropped:
                out.dropped += 1
            elif r.duplicate:
                out.duplicates += 1
            else:
                out.queued += 1
            conn.uid("STORE", uid_s, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()
    return out


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _joined(data) -> bytes:
    out = b""
    for item in data or []:
        if isinstance(item, tuple):
            out += b" ".join(x for x in item if isinstance(x, bytes))
        elif isinstance(item, bytes):
            out += item
    return out


def _body(data) -> bytes | None:
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            return item[1]
    return None
