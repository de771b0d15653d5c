"""Command line: `flask --app consult COMMAND`. Each command commits once and exits
with status 1 and a readable message when refused."""

from __future__ import annotations

import secrets
import sys
from functools import wraps

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from consult.errors import ConsultError
from consult.extensions import db


def _fail(message: str):
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def command(fn):
    """Run in an app context, commit on success, roll back and exit 1 on ConsultError."""

    @wraps(fn)
    @with_appcontext
    def wrapper(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except ConsultError as e:
            db.session.rollback()
            _fail(e.message)

    return wrapper


def _system_user():
    """The actor for command-line changes: the first admin, or none (the system)."""
    from sqlalchemy import select

    from consult.accounts.models import User

    return db.session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when there is already data.")
@command
def demo_cmd(if_empty: bool):
    """Load the demo consultation into an empty database."""
    from consult.demo import is_empty, load_demo

    if not is_empty():
        if if_empty:
            click.echo("The database already has data; demo not loaded.")
            return
        raise ConsultError("The database is not empty; the demo loads only into an empty database.")
    summary = load_demo()
    click.echo(summary)


@click.command("create-org")
@click.argument("slug")
@click.argument("name")
@click.option("--country", "countries", multiple=True, required=True, help="ISO code; repeat for several.")
@click.option("--kind", default="ngo", show_default=True)
@click.option("--acronym")
@click.option("--verified", is_flag=True)
@command
def create_org_cmd(slug, name, countries, kind, acronym, verified):
    """Create an organisation."""
    from consult.accounts.services import create_organisation

    org = create_organisation(
        slug, name, kind=kind, countries=list(countries), acronym=acronym, verified=verified
    )
    click.echo(f"Created organisation {org.slug}: {org.name}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "secretariat", "cso"]), required=True)
@click.option("--org", "org_slug", help="The organisation of a CSO member.")
@click.option("--name", default="")
@command
def create_user_cmd(email, role, org_slug, name):
    """Create an account; the password is read from stdin, or generated and printed."""
    from consult.accounts.services import create_user, get_organisation

    org = get_organisation(org_slug) if org_slug else None
    password = ""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().strip()
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    user = create_user(email, password, role=role, name=name, organisation=org)
    click.echo(f"Created {user.role} account {user.email}")
    if generated:
        click.echo(f"Password: {password}")


@click.command("create-token")
@click.argument("email")
@command
def create_token_cmd(email):
    """Print a new API token for the user (earlier tokens stop working)."""
    from consult.accounts.services import get_user_by_email, issue_token

    user = get_user_by_email(email)
    if user is None:
        raise ConsultError(f"There is no account for {email}.")
    click.echo(issue_token(user))


@click.command("import-version")
@click.argument("document_slug")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--title", help="Title of the document, when it is created by this import.")
@click.option("--label", default="", help="Label of the version, e.g. 'Workshop 2 draft'.")
@click.option("--open-until", help="Open for comments until this ISO date or datetime (UTC).")
@click.option("--draft", is_flag=True, help="Keep it as an editable draft.")
@command
def import_version_cmd(document_slug, file, title, label, open_until, draft):
    """Add FILE.md as the document's next version (published and closed by default)."""
    from consult.documents import services as docs
    from consult.errors import NotFound
    from consult.timeutil import parse_iso

    if open_until and draft:
        raise ConsultError("Choose either --open-until or --draft, not both.")
    closes_at = None
    if open_until:
        try:
            closes_at = parse_iso(open_until)
        except ValueError:
            raise ConsultError(f"'{open_until}' is not an ISO date such as 2026-12-31.") from None
    by = _system_user()
    try:
        doc = docs.get_document(document_slug)
    except NotFound:
        doc = docs.create_document(document_slug, title or document_slug.replace("-", " ").title(), by=by)
    version = docs.import_version(doc, file.read(), by=by, label=label)
    if not draft:
        docs.publish(version, by=by, closes_at=closes_at)
    click.echo(
        f"{doc.slug}: version {version.number} ({version.state_label.lower()}), "
        f"{len(version.paragraphs)} paragraphs"
    )


@click.command("reindex")
@with_appcontext
def reindex_cmd():
    """Rebuild the search index from the database."""
    from consult.search import backend

    with click.progressbar(length=1, label="Rebuilding the search index") as bar:
        n = backend.get(current_app).rebuild(db.session)
        bar.update(1)
    click.echo(f"Indexed {n} paragraphs and comments.")


@click.command("verify")
@with_appcontext
def verify_cmd():
    """Recompute the record's hash chain and every published version's hash."""
    from consult.record.service import verify

    result = verify()
    if not result.ok:
        _fail(f"the record is broken: {result.problem}")
    click.echo(f"OK: {result.events} events, {result.versions} published versions; head {result.head}")


def register(app: Flask) -> None:
    for cmd in (demo_cmd, create_org_cmd, create_user_cmd, create_token_cmd, import_version_cmd, reindex_cmd, verify_cmd):
        app.cli.add_command(cmd)
