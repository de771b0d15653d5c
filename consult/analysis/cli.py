"""flask commands of the analysis part: group a version's comments again, place what
waits in the grouping outbox."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask_babel import gettext as _

from consult.analysis import grouping
from consult.documents import services as documents
from consult.errors import ConsultError


@click.command("regroup")
@click.argument("slug")
@click.argument("number", type=int)
@click.option("--workers", default=1, show_default=True, help="Processes computing signatures.")
def regroup_cmd(slug: str, number: int, workers: int) -> None:
    """Group all the comments of version NUMBER of document SLUG again, from nothing
    (comments taken out of a group stay out)."""
    try:
        v = documents.get_version(documents.get_document(slug), number)
    except ConsultError as e:
        raise click.ClickException(e.message) from None
    start = time.perf_counter()
    counts = grouping.regroup(
        v,
        workers=max(1, workers),
        progress=lambda n: click.echo(_("%(n)s comments", n=format(n, ",")), err=True),
    )
    click.echo(
        _(
            "%(comments)s comments, %(groups)s groups holding "
            "%(grouped)s of them, in %(perf_counter)s s",
            comments=format(counts["comments"], ","),
            groups=format(counts["groups"], ","),
            grouped=format(counts["grouped"], ","),
            perf_counter=format(time.perf_counter() - start, ".1f"),
        )
    )


@click.command("group-drain")
def group_drain_cmd() -> None:
    """Place the comments waiting in the grouping outbox in their groups."""
    n = grouping.drain(current_app._get_current_object())
    click.echo(_("%(n)s comments placed", n=format(n, ",")))


def register(app: Flask) -> None:
    app.cli.add_command(regroup_cmd)
    app.cli.add_command(group_drain_cmd)
