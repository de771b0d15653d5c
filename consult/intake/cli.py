"""`flask --app consult mail-in` (the SMTP receiver) and `mail-fetch` (an IMAP box)."""

from __future__ import annotations

import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from consult.errors import ConsultError


@click.command("mail-in")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=click.IntRange(1, 65535))
@click.option("--lmtp", is_flag=True, help="Speak LMTP (behind Postfix or Dovecot) instead.")
@with_appcontext
def mail_in_cmd(host: str, port: int, lmtp: bool):
    """Receive comments by e-mail: mail to <document slug>@CONSULT_MAIL_IN_DOMAIN waits
    in the intake queue for the secretariat. Runs until stopped (Ctrl-C)."""
    from consult.intake.smtp import receiver

    app = current_app._get_current_object()
    server = receiver(app, host, port, lmtp=lmtp)
    try:
        server.start()
    except (OSError, RuntimeError) as e:
        click.echo(
            _("Error: cannot listen on %(host)s:%(port)s: %(e)s", host=host, port=port, e=e),
            err=True,
        )
        sys.exit(1)
    domain = app.config["MAIL_IN_DOMAIN"]
    click.echo(
        f"Receiving {'LMTP' if lmtp else 'SMTP'} on {host}:{port} for "
        + (f"<document slug>@{domain}" if domain else "any address (CONSULT_MAIL_IN_DOMAIN unset)")
        + f"; messages over {app.config['MAIL_IN_MAX_BYTES']:,} bytes are refused (552)."
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@click.command("mail-fetch")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def mail_fetch_cmd(limit: int):
    """Read unseen messages from the IMAP mailbox of CONSULT_IMAP_URL into the intake
    queue (run it from cron)."""
    from consult.intake.imap import fetch

    app = current_app._get_current_object()
    try:
        r = fetch(app, limit=limit)
    except ConsultError as e:
        click.echo(_("Error: %(message)s", message=e.message), err=True)
        sys.exit(1)
    except OSError as e:
        click.echo(_("Error: the IMAP server cannot be reached: %(e)s", e=e), err=True)
        sys.exit(1)
    except Exception as e:  # imaplib.IMAP4.error: a refused login or command
        click.echo(_("Error: the IMAP server refused: %(e)s", e=e), err=True)
        sys.exit(1)
    click.echo(
        _(
            "Queued %(queued)s; dropped %(dropped)s automatic; "
            "%(duplicates)s already received; %(too_large)s too large; "
            "%(failed)s failed.",
            queued=r.queued,
            dropped=r.dropped,
            duplicates=r.duplicates,
            too_large=r.too_large,
            failed=r.failed,
        )
    )
    for note in r.notes:
        click.echo(f"  {note}")
    if r.failed and not r.queued:
        sys.exit(1)


def register(app) -> None:
    app.cli.add_command(mail_in_cmd)
    app.cli.add_command(mail_fetch_cmd)
