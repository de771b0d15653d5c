"""flask commands of the analysis part: group a version's comments again, place what
waits in the grouping outbox."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app

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
        v, workers=max(1, workers), progress=lambda n: click.echo(f"{n:,} comments", err=True)
    )
    click.echo(
        f"{counts['comments']:,} comments, {counts['groups']:,} groups holding "
        f"{counts['grouped']:,} of them, in {time.perf_counter() - start:.1f} s"
    )


@click.command("group-drain")
def group_drain_cmd() -> None:
    """Place the comments waiting in the grouping outbox in their groups."""
    n = grouping.drain(current_app._get_current_object())
    click.echo(f"{n:,} comments placed")


def register(app: Flask) -> None:
    app.cli.add_command(regroup_cmd)
    app.cli.add_command(group_drain_cmd)
