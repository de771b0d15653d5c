"""`flask recount`: rebuild the comment counts the pages read (tracing.counters)."""

from __future__ import annotations

import click
from flask_babel import ngettext

from consult.extensions import db


@click.command("recount")
def recount_cmd() -> None:
    """Rebuild the counts of comments kept per version (after a bulk import, or to check
    them): every version's counts are counted again from the comments."""
    from consult.tracing import counters

    n = counters.recount(db.session.connection())
    db.session.commit()
    click.echo(ngettext("Counted %(num)s comment again.", "Counted %(num)s comments again.", n))
