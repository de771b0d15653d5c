"""Commands of the exports part: `export` (any format to a file) and `import-opendata`."""

from __future__ import annotations

import click
from flask import Flask
from flask_babel import gettext as _

from consult.cli import command
from consult.converters import VERSION_NUMBER
from consult.exports.formats import FORMATS


@click.command("export")
@click.argument("document_slug")
@click.argument("version", type=VERSION_NUMBER)
@click.option(
    "--format", "fmt", required=True, type=click.Choice(list(FORMATS)), help="What to export."
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="File."
)
@command
def export_cmd(document_slug: str, version: int, fmt: str, out: str):
    """Export a version (its text, the changes since the version before, the consultation
    report, the offline pack) or the document's open data to a file."""
    from consult.documents.services import get_document, get_version
    from consult.exports.formats import export

    v = get_version(get_document(document_slug), version)
    body, f = export(v, fmt)
    with open(out, "wb") as fh:
        fh.write(body)
    click.echo(
        _(
            "Wrote %(out)s: %(label)s (%(fmt)s), %(len)s bytes.",
            out=out,
            label=f.label,
            fmt=fmt,
            len=format(len(body), ","),
        )
    )


@click.command("import-opendata")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@command
def import_opendata_cmd(file: str):
    """Load an open data zip (from `export … --format opendata`) into an empty instance."""
    from consult.exports.opendata import import_opendata

    with open(file, "rb") as fh:
        doc = import_opendata(fh.read())
    click.echo(
        _(
            "Imported '%(slug)s': %(n)s versions. Run `flask --app "
            "consult reindex` to make it searchable.",
            slug=doc.slug,
            n=len(doc.versions),
        )
    )


def register(app: Flask) -> None:
    app.cli.add_command(export_cmd)
    app.cli.add_command(import_opendata_cmd)
