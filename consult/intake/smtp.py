"""The mail-in receiver: a small SMTP (or LMTP) server built on aiosmtpd.

It takes mail for the consultations' addresses (<document slug>@CONSULT_MAIL_IN_DOMAIN,
or any address when no domain is set), refuses a message larger than
CONSULT_MAIL_IN_MAX_BYTES with 552 (told to clients in EHLO's SIZE, checked again on
the data), and queues each message for the secretariat (consult.intake.service.receive)
before it answers 250, so a message accepted is a message stored. A failure to store
answers 451: the sending server keeps the message and tries again later.

Run it behind the site's mail server (which checks SPF and DKIM and writes
Authentication-Results) or as the MX of a subdomain:
`flask --app consult mail-in --host 127.0.0.1 --port 8025`.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from flask import Flask

from consult.extensions import db
from consult.intake.service import TooManyMessages

log = logging.getLogger(__name__)


class IntakeHandler:
    """aiosmtpd handler: RCPT checks the domain, DATA queues the message."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        domain = self.app.config["MAIL_IN_DOMAIN"]
        if domain and address.rpartition("@")[2].lower() != domain:
            return f"550 5.1.1 Not a consultation address: mail for @{domain} only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        limit = self.app.config["MAIL_IN_MAX_BYTES"]
        if len(raw) > limit:
            return f"552 5.3.4 Message too big: at most {limit} bytes are taken"
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(
                None, self._store, raw, envelope.mail_from, list(envelope.rcpt_tos)
            )
        except TooManyMessages as e:
            log.info("mail-in: deferred: %s", e.message)
            return "450 4.7.1 Too many messages from this sender; try again later"
        except Exception:
            log.exception("mail-in: could not store a message")
            return "451 4.3.0 Could not store the message now; try again later"
        return f"250 2.0.0 {outcome}"

    def _store(self, raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> str:
        from consult.intake.service import receive

        with self.app.app_context():
            try:
                r = receive(raw, via="smtp", envelope_from=mail_from, envelope_to=rcpt_tos)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
            if r.dropped:
                return "Dropped: an automatic message is not taken as a comment"
            return "Queued for the secretariat" + (" (already received)" if r.duplicate else "")


class _LMTPController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def receiver(app: Flask, host: str = "127.0.0.1", port: int = 8025, *, lmtp: bool = False):
    """A started-when-you-call-start() server in a thread of its own (aiosmtpd's
    Controller): `.start()`, `.stop()`."""
    cls = _LMTPController if lmtp else Controller
    return cls(
        IntakeHandler(app),
        hostname=host,
        port=port,
        data_size_limit=app.config["MAIL_IN_MAX_BYTES"],
        server_hostname=app.config["MAIL_IN_DOMAIN"] or None,
        ident="Consult mail-in",
    )
