"""`flask --app consult send-mail`: the mail worker."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from consult.extensions import db


@click.command("send-mail")
@click.option(
    "--limit",
    default=500,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Most mails sent in one pass.",
)
@click.option("--follow", is_flag=True, help="Keep running: a pass every --interval seconds.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@with_appcontext
def send_mail_cmd(limit: int, follow: bool, interval: float):
    """Queue "closing in 48 hours" notices, then send the mails waiting in the outbox
    (SMTP, or the console/file backend: CONSULT_MAIL_BACKEND). Run it from cron."""
    from consult.mail.notify import queue_closing_soon
    from consult.mail.outbox import send_pending

    app = current_app._get_current_object()
    while True:
        queued = queue_closing_soon()
        db.session.commit()
        result = send_pending(app, limit=limit)
        click.echo(
            f"Sent {result.sent} mail{'s' * (result.sent != 1)} ({app.config['MAIL_BACKEND']}); "
            f"{result.failed} failed, {result.left} waiting"
            + (f"; {queued} closing-soon notice{'s' * (queued != 1)} queued." if queued else ".")
        )
        if not follow:
            if result.failed and not result.sent:
                sys.exit(1)  # nothing got through: let cron (or the operator) see it
            return
        time.sleep(interval)
