"""Writing mails to the outbox and sending them from it (by the send_mail job when a
job queue is configured, consult.jobs; else by `flask send-mail`)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import Flask, current_app, has_app_context, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from consult.accounts.models import User
from consult.accounts.tokens import unsubscribe_token
from consult.extensions import db
from consult.mail import NOTIFICATIONS, wanting, wants
from consult.mail.models import MailOutbox
from consult.sessions import kept_through_commits
from consult.timeutil import replaying, utcnow

log = logging.getLogger(__name__)

#: A mail that failed this many times stays in the outbox, marked, for a person to look at.
MAX_ATTEMPTS = 5


@contextmanager
def site_urls() -> Iterator[None]:
    """Where no request is being answered (a job, the command line), a request context
    in which url_for can make this site's addresses. A batch of mails opens one for all
    its links: one per link cost a quarter of a receipt's making."""
    if has_request_context():
        yield
    else:
        with current_app.test_request_context("/"):
            yield


def link(endpoint: str, **values) -> str:
    """An absolute address on this site (CONSULT_BASE_URL), also from the command line."""
    with site_urls():
        path = url_for(endpoint, **values)
    return current_app.config["BASE_URL"] + path


def mail_locale(user: User | None) -> str:
    """The language of a mail to `user`: their account's, else this request's."""
    from consult.i18n import current_locale, offered_locales

    chosen = getattr(user, "locale", None)
    return chosen if chosen in offered_locales() else current_locale()


def unsubscribe_link(user_id: int, kind: str) -> str:
    return link("accounts.unsubscribe", token=unsubscribe_token(user_id, kind))


def queue(
    user: User | None,
    kind: str,
    subject: str,
    template: str,
    *,
    to: str | None = None,
    dedup_key: str | None = None,
    in_reply_to: str | None = None,
    later: bool = False,
    **context,
) -> MailOutbox | None:
    """Write one mail to the outbox in the caller's transaction.

    A notification (a kind of NOTIFICATIONS) goes only to a user who has not turned
    it off, and carries its unsubscribe link. With `dedup_key`, a mail already
    queued under that key is not queued again. Returns the row, or None.

    With `later`, the row is written with an empty body (and `dedup_key` naming what it
    is about, new in this transaction, so not looked up): the subject and the body are
    made by render_waiting() before sending (RENDER_LATER[kind]), outside the request,
    which also sets aside a notification its recipient has turned off by then.
    """
    if replaying():
        return None  # the demo or an import replaying the past tells nobody
    notification = kind in NOTIFICATIONS
    # A mail made later is kept or set aside by the recipient's choice when it is made
    # (render_waiting, for its whole batch at once), not read here in the request.
    if notification and (user is None or (not later and not wants(user, kind))):
        return None
    if (
        dedup_key
        and not later
        and db.session.scalar(select(MailOutbox.id).where(MailOutbox.dedup_key == dedup_key))
    ):
        return None
    address = to or (user.email if user else None)
    if not address:
        return None
    if later:
        body = ""
    else:
        # In the recipient's language (their account's), else the language of the request
        # that sent it; the subject may be a lazy string, read here in that language.
        with force_locale(mail_locale(user)):
            body = _body(user, kind, template, context) + "\n"
            subject = str(subject)
    row = MailOutbox(
        user_id=user.id if user else None,
        to_email=address,
        kind=kind,
        subject=str(subject)[:300],
        body=body,  # empty: made later (render_waiting)
        dedup_key=dedup_key,
        in_reply_to=in_reply_to,
        created_at=utcnow(),
    )
    db.session.add(row)
    if not later:  # a row made later is nobody's to read in this transaction: written
        db.session.flush()  # with the transaction's next flush
    db.session.info["mail_pending"] = True
    return row


def _body(user: User | None, kind: str, template: str, context: dict) -> str:
    """A mail's text (in the locale the caller forces), with the unsubscribe line of a
    notification. Its times are also written in the recipient's own zone (their
    account's), never in the zone of whoever's request sent it."""
    from consult.web import reader_zone_as

    with reader_zone_as(getattr(user, "timezone", None)):
        body = render_template(
            f"mail/{template}.txt",
            user=user,
            link=link,
            site=current_app.config["BASE_URL"],
            **context,
        ).strip()
    if kind in NOTIFICATIONS and user is not None:
        body += "\n\n-- \n" + _(
            "You get this because of your choice on your account page: “%(choice)s”.\n"
            "Turn it off with one click: %(url)s",
            choice=NOTIFICATIONS[kind][0],
            url=unsubscribe_link(user.id, kind),
        )
        body += "\n"
    return body


#: kind → a function of the row, and of what LOAD_LATER[kind] loaded for its batch (None
#: without one), giving (subject, template, context) for a mail queued with later=True
#: (registered by the part that queues it: consult.mail.notify).
RENDER_LATER: dict = {}
#: kind → a function of a batch's rows of that kind, run once before they are made: what
#: every row's mail reads, loaded with a few queries for the whole batch instead of a few
#: for each row. Its answer is given to RENDER_LATER[kind] with each row.
LOAD_LATER: dict = {}
#: kind → a function run once before the mails of that kind are made (before this
#: transaction writes anything): the receipts have their entries placed in the record's
#: tree and a head signed, so that each mail can carry its inclusion proof.
PREPARE_LATER: dict = {}


def render_waiting(limit: int = 500) -> int:
    """Make the subject and body of the mails queued with later=True, in the caller's
    transaction (the send_mail job, before sending), in the recipient's language. A
    maker that answers None leaves its mail for a later run. A notification whose
    recipient has turned it off is set aside, marked, never sent. Returns how many rows
    were made or set aside. When some kind needs preparing, the caller's transaction is
    committed after it, so that what the preparation wrote (in its own transaction) is
    seen."""
    waiting = (
        MailOutbox.sent_at.is_(None),
        MailOutbox.body == "",
        MailOutbox.attempts < MAX_ATTEMPTS,
    )
    kinds = set(db.session.scalars(select(MailOutbox.kind).where(*waiting).distinct()))
    if kinds & set(PREPARE_LATER):
        for kind in sorted(kinds & set(PREPARE_LATER)):
            PREPARE_LATER[kind]()
        db.session.commit()
    rows = list(
        db.session.scalars(select(MailOutbox).where(*waiting).order_by(MailOutbox.id).limit(limit))
    )
    # Made without writing (the queries of one mail would otherwise write the ones made
    # before it, and the batch's reads the rows set aside), then written at once: on
    # SQLite a write holds the whole database until the commit, and making 500 receipts
    # held it 1-4 s against the requests' comments (benchmarks/load.py).
    with db.session.no_autoflush, site_urls():
        # Kept for the batch: the session's identity map holds its rows only while
        # something else does, and a mail's recipient is often the next one's.
        users = {
            u.id: u
            for u in db.session.scalars(
                select(User).where(User.id.in_({r.user_id for r in rows if r.user_id}))
            )
        }
        turned_off = _turned_off(rows)
        rows = [r for r in rows if r not in turned_off]
        loaded = {
            kind: load([r for r in rows if r.kind == kind])
            for kind, load in LOAD_LATER.items()
            if any(r.kind == kind for r in rows)
        }
        made_count = len(turned_off)
        for row in rows:
            make = RENDER_LATER.get(row.kind)
            if make is None:
                continue
            user = users.get(row.user_id)
            with force_locale(mail_locale(user)):
                made = make(row, loaded.get(row.kind))
                if made is None:  # not ready yet: the next run makes it
                    continue
                subject, template, context = made
                row.subject = str(subject)[:300]
                row.body = _body(user, row.kind, template, context) + "\n"
                made_count += 1
    db.session.flush()
    return made_count


def _turned_off(rows: list[MailOutbox]) -> set[MailOutbox]:
    """The notifications of a batch whose recipients have turned them off, marked as not
    to be sent (as a closing-soon notice is when comments close early)."""
    off = set()
    for kind in {r.kind for r in rows if r.kind in NOTIFICATIONS}:
        of_kind = [r for r in rows if r.kind == kind and r.user_id is not None]
        keen = wanting({r.user_id for r in of_kind}, kind)
        off.update(r for r in of_kind if r.user_id not in keen)
    for row in off:
        row.attempts = MAX_ATTEMPTS
        row.last_error = "Not sent: the recipient turned this notification off."
    return off


def _after_commit(session: Session) -> None:
    """With a job queue, a commit that queued mail asks the worker to send it; inline,
    mail waits for `flask send-mail` (cron), as a request never talks to SMTP."""
    if not session.info.pop("mail_pending", False) or not has_app_context():
        return
    from consult import jobs

    app = current_app._get_current_object()
    if jobs.queued(app):
        jobs.poke("send_mail", app)


def _after_rollback(session: Session, previous_transaction=None) -> None:
    session.info.pop("mail_pending", None)


if not event.contains(Session, "after_commit", _after_commit):
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


class SendingPolicy(EmailPolicy):
    """Python's default mail policy, but a header value of plain ASCII on one line is kept
    as given instead of parsed into a structured header when it is set. Most of Consult's
    headers are such (addresses, dates, identifiers, links), and parsing them was a fifth
    of a receipt's making; written out, it reads the same: a short ASCII value is
    written as is either way. Any other value (non-ASCII, or a line break, which is
    refused) goes through the default's parsing, encoding and checks."""

    def header_store_parse(self, name, value):
        if isinstance(value, str) and value.isascii() and "\r" not in value and "\n" not in value:
            return (name, value)
        return super().header_store_parse(name, value)


#: No folding below the SMTP limit: a folded List-Unsubscribe address would be encoded and
#: mail programs could no longer read it.
SENDING = SendingPolicy(max_line_length=998)


def message(row: MailOutbox, app: Flask) -> EmailMessage:
    msg = EmailMessage(policy=SENDING)
    msg["From"] = app.config["MAIL_FROM"]
    msg["To"] = row.to_email
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = make_msgid(idstring=f"consult-{row.id}")
    # RFC 3834: every mail Consult sends is automatic, so that other robots do not answer
    # it (no vacation replies, no loops); an answer to a received message says so and
    # threads under it. X-Auto-Response-Suppress asks the same of Exchange.
    if row.in_reply_to:
        msg["Auto-Submitted"] = "auto-replied"
        msg["In-Reply-To"] = row.in_reply_to
        msg["References"] = row.in_reply_to
    else:
        msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    if row.kind in NOTIFICATIONS and row.user_id is not None:
        # RFC 8058: mail programs show an "unsubscribe" button that posts to this address.
        msg["List-Unsubscribe"] = f"<{unsubscribe_link(row.user_id, row.kind)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row.body)
    return msg


class Backend(ABC):
    """Where mails go: the console, files, or an SMTP server. Used as a context
    manager around a batch of sends (SMTP keeps one connection for the batch)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @abstractmethod
    def send(self, msg: EmailMessage) -> None:
        """Deliver one mail, or raise."""


class ConsoleBackend(Backend):
    """Development: print each mail to standard output."""

    def send(self, msg: EmailMessage) -> None:
        print(msg.as_string(), "\n" + "=" * 72, flush=True)


class FileBackend(Backend):
    """Development: one .eml file per mail in CONSULT_MAIL_DIR (instance/mail)."""

    def send(self, msg: EmailMessage) -> None:
        folder = Path(self.app.config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        ident = msg["Message-ID"].strip("<>").split("@")[0]
        (folder / f"{stamp}-{ident}.eml").write_bytes(msg.as_bytes())


class SMTPBackend(Backend):
    """One SMTP connection for a batch of mails."""

    def __enter__(self):
        c = self.app.config
        timeout = 30
        if c["SMTP_TLS"] == "ssl":
            self.smtp = smtplib.SMTP_SSL(
                c["SMTP_HOST"],
                c["SMTP_PORT"],
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            self.smtp = smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=timeout)
            if c["SMTP_TLS"] == "starttls":
                self.smtp.starttls(context=ssl.create_default_context())
        if c["SMTP_USER"]:
            self.smtp.login(c["SMTP_USER"], c["SMTP_PASSWORD"])
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.smtp.quit()
        except smtplib.SMTPException:
            self.smtp.close()

    def send(self, msg: EmailMessage) -> None:
        self.smtp.send_message(msg)


BACKENDS = {"console": ConsoleBackend, "file": FileBackend, "smtp": SMTPBackend}


@dataclass
class SendResult:
    sent: int
    failed: int
    left: int


def pending(limit: int | None = None) -> list[MailOutbox]:
    q = (
        select(MailOutbox)
        .where(MailOutbox.sent_at.is_(None), MailOutbox.attempts < MAX_ATTEMPTS)
        .order_by(MailOutbox.id)
    )
    if limit:
        q = q.limit(limit)
    return list(db.session.scalars(q))


def send_pending(app: Flask, *, limit: int = 500, now: datetime | None = None) -> SendResult:
    """Send what is waiting in the outbox. Each mail's result is committed at once, so
    a crash never sends a mail twice in a later run (at most the one in flight)."""
    if render_waiting(limit):
        db.session.commit()
    rows = [r for r in pending(limit) if r.body]
    sent = failed = 0
    if rows:
        with site_urls():
            messages = [message(row, app) for row in rows]
        # Each mail's result is committed by itself. Those commits leave the batch's rows
        # as they are (only this loop writes them): expiring the whole session at each one
        # cost more than sending the mail, and each expired row was then read again.
        try:
            backend = BACKENDS[app.config["MAIL_BACKEND"]](app)
            with kept_through_commits(), backend:
                for row, msg in zip(rows, messages, strict=True):
                    # Sent first, then written: nothing of the database is held while a
                    # mail server answers.
                    try:
                        backend.send(msg)
                    except (smtplib.SMTPException, OSError) as e:
                        row.last_error = _error(e)
                        failed += 1
                    else:
                        row.sent_at = now or utcnow()
                        sent += 1
                    row.attempts += 1
                    db.session.commit()
        except (smtplib.SMTPException, OSError) as e:
            # The server could not be reached at all: every mail stays queued.
            log.warning("mail server unavailable: %s", e)
            unsent = [r for r in rows if r.sent_at is None]
            for row in unsent:
                row.attempts += 1
                row.last_error = _error(e)
            db.session.commit()
            failed = len(unsent)
        finally:
            db.session.expire_all()
    return SendResult(sent, failed, len(pending()))


def _error(e: Exception) -> str:
    return f"{type(e).__name__}: {e}"[:2000]
