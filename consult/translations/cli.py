"""`flask --app consult import-translation SLUG N LANG FILE`."""

from __future__ import annotations

import click
from flask import Flask
from flask_babel import gettext as _

from consult import textpolicy
from consult.cli import _system_user, command
from consult.converters import VERSION_NUMBER
from consult.errors import ConsultError


def read_text_file(name: str, raw: bytes) -> tuple[str, list[str]]:
    """Markdown text (and warnings) from a .md file or a Word/OpenDocument file."""
    from consult.documents import word

    if word.is_word_name(name):
        converted = word.convert(name, raw)
        return converted.markdown, list(converted.warnings)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConsultError(_("The file %(name)s is not UTF-8 text.", name=name)) from None
    return text, []


@click.command("import-translation")
@click.argument("document_slug")
@click.argument("number", type=VERSION_NUMBER)
@click.argument("language")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--draft", is_flag=True, help="Keep it for the drafters' review of its links; publish later."
)
@command
def import_translation_cmd(document_slug, number, language, file, draft):
    """Add FILE (.md, or a Word .docx or OpenDocument .odt file) as version NUMBER's text
    in LANGUAGE (en, id, ms, fil, th, vi, km, lo, my), aligned paragraph by paragraph
    to the authoritative text; published beside the version unless --draft."""
    from consult.documents import services as docs
    from consult.translations import services as tr

    doc = docs.get_document(document_slug)
    version = docs.get_version(doc, number)
    text, warnings = read_text_file(file.name, file.read())
    text = textpolicy.clean(text, what=_("The file %(name)s", name=file.name))
    by = _system_user()
    t = tr.import_translation(version, language, text, by=by)
    for warning in warnings:
        click.echo(_("Warning: %(warning)s", warning=warning), err=True)
    unlinked = sum(1 for p in t.paragraphs if p.paragraph_id is None)
    if not draft:
        tr.publish_translation(t, by=by)
    click.echo(
        _(
            "%(slug)s: version %(number)s in %(language)s, %(n)s "
            "paragraphs, %(unlinked)s linked, %(unlinked2)s not linked "
            "(%(x)s)",
            slug=doc.slug,
            number=version.number,
            language=t.language,
            n=len(t.paragraphs),
            unlinked=len(t.paragraphs) - unlinked,
            unlinked2=unlinked,
            x="published" if t.state == "published" else "draft, to review",
        )
    )


def register(app: Flask) -> None:
    app.cli.add_command(import_translation_cmd)
