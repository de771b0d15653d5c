"""Commands of the record: `verify` (check the tree and everything the record covers,
name what changed), `sequence` (place waiting entries in the tree, sign heads) and
`seal-record` (cover what was published before the record covered content)."""

from __future__ import annotations

import os
import sys
import time

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import gettext as _

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
            click.echo(_("Changed: %(problem)s", problem=problem), err=True)
        if result.more:
            click.echo(_("… and %(more)s more.", more=result.more), err=True)
        click.echo(_("Error: the record is broken: %(problem)s", problem=result.problem), err=True)
        for note in result.not_covered:
            click.echo(_("Note: %(note)s.", note=note), err=True)
        sys.exit(1)
    click.echo(
        _(
            "OK: %(events)s events, %(versions)s published versions, "
            "%(covered)s content digests recomputed, %(heads)s signed "
            "tree heads match the tree; root %(head)s",
            events=result.events,
            versions=result.versions,
            covered=result.covered,
            heads=result.heads,
            head=result.head,
        )
    )
    if result.waiting:
        click.echo(
            _(
                "Note: %(waiting)s events are written and wait for the sequencer.",
                waiting=result.waiting,
            )
        )
    for note in result.not_covered:
        click.echo(_("Note: %(note)s.", note=note))


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
        click.echo(_("Error: %(message)s", message=e.message), err=True)
        sys.exit(1)
    db.session.commit()
    if added:
        click.echo(
            _(
                "Sealed: %(added)s event%(x)s added to the record.",
                added=added,
                x="s" if added != 1 else "",
            )
        )
    else:
        click.echo(_("Nothing to seal: the record already covers everything published."))


@click.command("sequence")
@click.option("--head", "force_head", is_flag=True, help="Sign a tree head now.")
@click.option(
    "--every",
    type=click.FloatRange(0.1, 3600),
    default=None,
    help="Keep running: sequence every this many seconds (until Ctrl-C).",
)
@with_appcontext
def sequence_cmd(force_head: bool, every: float | None):
    """Place the entries written since the last run in the record's Merkle tree and sign
    a tree head when one is due (the job queue does this after each commit and every
    minute; this command is for a shell, cron, or a dedicated loop with --every)."""
    from flask import current_app

    from consult.record.log import sequence

    app = current_app._get_current_object()
    while True:
        done = sequence(app, reason="command" if force_head else None, force_head=force_head)
        if done.head is not None:
            told = _(
                "Sequenced %(sequenced)s: the tree holds %(size)s; signed a head of %(head)s.",
                sequenced=done.sequenced,
                size=done.size,
                head=done.head.tree_size,
            )
        else:
            told = _(
                "Sequenced %(sequenced)s: the tree holds %(size)s.",
                sequenced=done.sequenced,
                size=done.size,
            )
        click.echo(told)
        if every is None:
            return
        force_head = False
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return


def register(app: Flask) -> None:
    app.cli.add_command(verify_cmd)
    app.cli.add_command(sequence_cmd)
    app.cli.add_command(seal_cmd)
    app.cli.add_command(rotate_key_cmd)


@click.command("rotate-record-key")
@with_appcontext
def rotate_key_cmd():
    """Replace the key that signs the record's tree heads. A last head is signed with the
    old key, which is then retired (still trusted for what it signed until now, for
    nothing after), and a first head with the new one; both keys are published."""
    from flask import current_app
    from flask_babel import gettext as _

    from consult.record import keys
    from consult.record.log import sequence

    app = current_app._get_current_object()
    old = keys.known_keys(app)[0]
    try:
        if os.environ.get("CONSULT_RECORD_KEY", "").strip():
            keys.rotate(app)  # refuses, saying what to do instead
        sequence(app, reason="rotation", about=f"key {old.key_id} retired", force_head=True)
        retired, new = keys.rotate(app)
    except keys.KeyError_ as e:
        click.echo(_("Error: %(why)s", why=str(e)), err=True)
        sys.exit(1)
    sequence(app, reason="rotation", about=f"key {new.key_id} in use", force_head=True)
    click.echo(
        _(
            "Rotated: key %(old)s retired at %(when)s; heads are now signed with key %(new)s.",
            old=retired.key_id,
            when=retired.as_json()["retired_at"],
            new=new.key_id,
        )
    )
