"""Commands of the record: `verify` (check everything the record covers, name what
changed) and `seal-record` (cover what was published before the record covered
content)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from consult.errors import ConsultError


@click.command("verify")
@with_appcontext
def verify_cmd():
    """Recompute the record's hash chain, every published version's and comment's hash,
    and every content digest; name each thing that changed since it was recorded."""
    from consult.record.service import verify

    result = verify()
    if not result.ok:
        for problem in result.problems:
            click.echo(f"Changed: {problem}", err=True)
        if result.more:
            click.echo(f"… and {result.more} more.", err=True)
        click.echo(f"Error: the record is broken: {result.problem}", err=True)
        for note in result.not_covered:
            click.echo(f"Note: {note}.", err=True)
        sys.exit(1)
    click.echo(
        f"OK: {result.events} events, {result.versions} published versions, "
        f"{result.covered} content digests recomputed; head {result.head}"
    )
    for note in result.not_covered:
        click.echo(f"Note: {note}.")


@click.command("seal-record")
@with_appcontext
def seal_cmd():
    """Cover, with new events, what was published before the record covered content
    (earlier events are never rewritten). Refused while `verify` finds a change."""
    from consult.extensions import db
    from consult.record.service import seal

    try:
        added = seal()
    except ConsultError as e:
        db.session.rollback()
        click.echo(f"Error: {e.message}", err=True)
        sys.exit(1)
    db.session.commit()
    if added:
        click.echo(f"Sealed: {added} event{'s' if added != 1 else ''} added to the record.")
    else:
        click.echo("Nothing to seal: the record already covers everything published.")


def register(app: Flask) -> None:
    app.cli.add_command(verify_cmd)
    app.cli.add_command(seal_cmd)
