"""Command line: `flask --app consult COMMAND`. Each command commits once and exits
with status 1 and a readable message when refused."""

from __future__ import annotations

import secrets
import sys
from functools import wraps

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from consult import textpolicy
from consult.accounts.models import ROLES
from consult.converters import VERSION_NUMBER
from consult.documents.models import DOCUMENT_KINDS
from consult.errors import ConsultError
from consult.extensions import db


class _Text(click.ParamType):
    """People's writing given on the command line, under the text policy (NFC, controls
    dropped, invisible-only text empty; a NUL or a lone surrogate refused)."""

    name = "text"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return textpolicy.clean(value, what=f"'{param.human_readable_name}'" if param else "")
        except textpolicy.TextRefused as e:
            self.fail(e.message, param, ctx)


TEXT = _Text()


def _fail(message: str):
    click.echo(_("Error: %(message)s", message=message), err=True)
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
@click.option(
    "--if-empty", is_flag=True, help="Do nothing (and succeed) when there is already data."
)
@command
def demo_cmd(if_empty: bool):
    """Load the demo consultation into an empty database."""
    from consult.demo import is_empty, load_demo

    if not is_empty():
        if if_empty:
            click.echo(_("The database already has data; demo not loaded."))
            return
        raise ConsultError(
            _("The database is not empty; the demo loads only into an empty database.")
        )
    summary = load_demo()
    click.echo(summary)


@click.command("create-org")
@click.argument("slug")
@click.argument("name", type=TEXT)
@click.option(
    "--country", "countries", multiple=True, required=True, help="ISO code; repeat for several."
)
@click.option("--kind", default="ngo", show_default=True)
@click.option("--acronym", type=TEXT)
@click.option("--verified", is_flag=True)
@command
def create_org_cmd(slug, name, countries, kind, acronym, verified):
    """Create an organisation."""
    from consult.accounts.services import create_organisation

    org = create_organisation(
        slug, name, kind=kind, countries=list(countries), acronym=acronym, verified=verified
    )
    click.echo(_("Created organisation %(slug)s: %(name)s", slug=org.slug, name=org.name))


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--org", "org_slug", help="The organisation of a CSO member.")
@click.option("--name", default="", type=TEXT)
@click.option(
    "--email-confirmed",
    is_flag=True,
    help="The address is known to be the person's (else they confirm it by the link "
    "they ask for on their account page; individuals comment only once it is confirmed).",
)
@command
def create_user_cmd(email, role, org_slug, name, email_confirmed):
    """Create an account; the password is read from stdin, or generated and printed.
    --role individual: a member of the public, who comments in their own name where a
    consultation is open to everyone."""
    from consult.accounts.services import create_user, get_organisation

    org = get_organisation(org_slug) if org_slug else None
    password = ""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().strip()
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    user = create_user(email, password, role=role, name=name, organisation=org)
    if email_confirmed:
        from consult.timeutil import utcnow

        user.email_confirmed_at = utcnow()
    click.echo(_("Created %(role)s account %(email)s", role=user.role, email=user.email))
    if role == "individual" and not email_confirmed:
        click.echo(_("The e-mail address is to be confirmed before the account can comment."))
    if generated:
        click.echo(_("Password: %(password)s", password=password))


@click.command("create-token")
@click.argument("email")
@command
def create_token_cmd(email):
    """Print a new API token for the user (earlier tokens stop working)."""
    from consult.accounts.services import get_user_by_email, issue_token

    user = get_user_by_email(email)
    if user is None:
        raise ConsultError(_("There is no account for %(email)s.", email=email))
    click.echo(issue_token(user))


@click.command("import-version")
@click.argument("document_slug")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--title", type=TEXT, help="Title of the document, when it is created by this import."
)
@click.option(
    "--label", default="", type=TEXT, help="Label of the version, e.g. 'Workshop 2 draft'."
)
@click.option(
    "--kind",
    type=click.Choice(DOCUMENT_KINDS),
    help="Kind of the document (named on PDF covers); resolution when it is created.",
)
@click.option("--open-until", help="Open for comments until this ISO date or datetime (UTC).")
@click.option("--draft", is_flag=True, help="Keep it as an editable draft.")
@command
def import_version_cmd(document_slug, file, title, label, kind, open_until, draft):
    """Add FILE (.md, or a Word .docx or OpenDocument .odt file) as the document's next
    version (published and closed by default)."""
    from consult.documents import services as docs
    from consult.errors import NotFound
    from consult.timeutil import parse_iso

    if open_until and draft:
        raise ConsultError(_("Choose either --open-until or --draft, not both."))
    closes_at = None
    if open_until:
        try:
            closes_at = parse_iso(open_until)
        except ValueError:
            raise ConsultError(
                _("'%(open_until)s' is not an ISO date such as 2026-12-31.", open_until=open_until)
            ) from None
    by = _system_user()
    try:
        doc = docs.get_document(document_slug)
    except NotFound:
        doc = docs.create_document(
            document_slug,
            title or document_slug.replace("-", " ").title(),
            by=by,
            kind=kind or "resolution",
        )
    else:
        if kind and kind != doc.kind:
            doc.kind = kind  # what the document is called, not part of any published text
    from consult.documents import word

    raw, warnings = file.read(), []
    if word.is_word_name(file.name):
        converted = word.convert(file.name, raw)
        text, warnings = converted.markdown, converted.warnings
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConsultError(_("The file %(name)s is not UTF-8 text.", name=file.name)) from None
    text = textpolicy.clean(text, what=_("The file %(name)s", name=file.name))
    version = docs.import_version(doc, text, by=by, label=label)
    for warning in warnings:
        click.echo(_("Warning: %(warning)s", warning=warning), err=True)
    if not draft:
        docs.publish(version, by=by, closes_at=closes_at)
    click.echo(
        _(
            "%(slug)s: version %(number)s (%(lower)s), %(n)s paragraphs",
            slug=doc.slug,
            number=version.number,
            lower=version.state_label.lower(),
            n=len(version.paragraphs),
        )
    )


@click.command("import-returned")
@click.argument("document_slug")
@click.argument("number", type=VERSION_NUMBER)
@click.argument("file", type=click.File("rb"))
@click.option("--org", "org_slug", required=True, help="The organisation that sent the file.")
@click.option("--dry-run", is_flag=True, help="Show what would be created; store nothing.")
@command
def import_returned_cmd(document_slug, number, file, org_slug, dry_run):
    """A marked-up Word FILE returned by an organisation becomes its comments: each
    paragraph's tracked changes one suggestion, each Word comment a comment."""
    from consult.accounts.services import get_organisation
    from consult.consultation import returned_word

    version = _version(document_slug, number)
    org = get_organisation(org_slug)
    blob = file.read()
    returned = returned_word.read(version, org, blob, file.name)
    how = "its embedded version hash" if returned.found_by == "hash" else "its text"
    click.echo(
        _(
            "%(name)s (sha256 %(sha256)s): version %(number)s, found by %(how)s.",
            name=file.name,
            sha256=returned.sha256,
            number=number,
            how=how,
        )
    )
    for p in returned.proposals:
        where = f"paragraph {p.paragraph.number}" if p.paragraph is not None else "the version"
        if p.paragraph is None and p.word_paragraph:
            where = f"Word paragraph {p.word_paragraph}"
        line = f"{p.kind} on {where}: {p.body}"
        if p.quote:
            line += f" [on “{p.quote}”]"
        if p.suggested_text:
            line += f" → {p.suggested_text}"
        click.echo(line)
        for e in p.errors:
            click.echo(_("  Error: %(e)s", e=e))
    if dry_run:
        if not returned.ok:
            raise ConsultError(_("Some comments or suggestions need correcting (see above)."))
        click.echo(_("Dry run: %(n)s would be created; nothing stored.", n=len(returned.proposals)))
        return
    by = _system_user()
    if by is None:
        raise ConsultError(_("Create an admin account first: comments are entered by someone."))
    made = returned_word.store(returned, blob, by=by)
    click.echo(f"Created {len(made)} for {org.slug}: " + ", ".join(c.tracking for c in made))


def _version(slug: str, number: int):
    from consult.documents import services as docs

    return docs.get_version(docs.get_document(slug), number)


def _when(version) -> str:
    return f"{version.closes_at:%Y-%m-%d %H:%M} UTC" if version.closes_at else ""


@click.command("open-version")
@click.argument("document_slug")
@click.argument("number", type=VERSION_NUMBER)
@click.option("--until", "until", required=True, help="Deadline: an ISO date or datetime (UTC).")
@click.option(
    "--participants",
    type=click.Choice(("organisations", "everyone")),
    default="organisations",
    show_default=True,
    help="Who may comment: registered organisations only, or individuals too.",
)
@click.option(
    "--withheld-names",
    is_flag=True,
    help="Individuals may ask for their name to be withheld from the public pages.",
)
@click.option(
    "--personal-data",
    type=click.Choice(("hold", "mask")),
    default="hold",
    show_default=True,
    help="A comment with personal data is held for review, or published with it masked.",
)
@command
def open_version_cmd(document_slug, number, until, participants, withheld_names, personal_data):
    """Publish draft version NUMBER and open it for comments until the deadline."""
    from consult.documents import services as docs
    from consult.timeutil import parse_iso

    try:
        closes_at = parse_iso(until)
    except ValueError:
        raise ConsultError(
            _("'%(until)s' is not an ISO date such as 2026-12-31.", until=until)
        ) from None
    version = docs.publish(
        _version(document_slug, number),
        by=_system_user(),
        closes_at=closes_at,
        participants=participants,
        withheld_names=withheld_names,
        personal_data=personal_data,
    )
    click.echo(
        _(
            "%(document_slug)s: version %(number)s is open for comments until %(when)s.",
            document_slug=document_slug,
            number=number,
            when=_when(version),
        )
    )
    who = "individuals and organisations" if participants == "everyone" else "organisations"
    click.echo(
        f"Comments from {who}"
        + ("; individuals may withhold their names" if withheld_names else "")
        + f"; personal data found in a comment: {personal_data}."
    )


@click.command("close-version")
@click.argument("document_slug")
@click.argument("number", type=VERSION_NUMBER)
@click.option(
    "--reason",
    default="",
    type=TEXT,
    help="Why comments close before the deadline (recorded).",
)
@command
def close_version_cmd(document_slug, number, reason):
    """Close version NUMBER for comments (before its deadline: give --reason)."""
    from consult.documents import services as docs
    from consult.documents.closing import utc_text

    version = _version(document_slug, number)
    early = docs.closes_early(version)
    if early and not reason.strip():
        raise ConsultError(
            _(
                "Version %(number)s is open for comments until %(when)s; to "
                "close it early, give the reason with --reason (it is "
                "recorded).",
                number=number,
                when=_when(version),
            )
        )
    docs.close(version, by=_system_user(), reason=reason)
    if early:
        told = _(
            "%(document_slug)s: version %(number)s is closed for comments (early) on "
            "%(utc_text)s; the planned deadline was %(planned)s.",
            document_slug=document_slug,
            number=number,
            utc_text=utc_text(version.closed_at),
            planned=utc_text(version.closes_at),
        )
    else:
        told = _(
            "%(document_slug)s: version %(number)s is closed for comments (at its "
            "deadline) on %(utc_text)s.",
            document_slug=document_slug,
            number=number,
            utc_text=utc_text(version.closed_at),
        )
    click.echo(told)


@click.command("finalize-version")
@click.argument("document_slug")
@click.argument("number", type=VERSION_NUMBER)
@click.option(
    "--override-reason",
    default="",
    type=TEXT,
    help="Make it final although comments are unanswered, for this reason (shown publicly).",
)
@command
def finalize_version_cmd(document_slug, number, override_reason):
    """Make version NUMBER (the latest, closed) the document's final text."""
    from consult.documents import services as docs

    docs.finalize(
        _version(document_slug, number), by=_system_user(), override_reason=override_reason
    )
    click.echo(
        _(
            "%(document_slug)s: version %(number)s is the final text.",
            document_slug=document_slug,
            number=number,
        )
    )


@click.command("close-expired")
@command
def close_expired_cmd():
    """Close every consultation whose deadline has passed (run it from cron)."""
    from consult.documents import services as docs

    closed = docs.close_expired()
    for v in closed:
        click.echo(
            _(
                "%(slug)s: version %(number)s closed at its deadline, %(when)s.",
                slug=v.document.slug,
                number=v.number,
                when=_when(v),
            )
        )
    click.echo(
        ngettext("%(num)s consultation closed.", "%(num)s consultations closed.", len(closed))
    )


@click.command("add-committee-member")
@click.argument("document_slug")
@click.argument("email")
@click.option(
    "--role", type=click.Choice(["chair", "drafter"]), default="drafter", show_default=True
)
@command
def add_committee_member_cmd(document_slug, email, role):
    """Name the account EMAIL chair or drafter of the document's committee."""
    from consult.accounts.services import get_user_by_email
    from consult.documents import services as docs

    doc = docs.get_document(document_slug)
    user = get_user_by_email(email)
    if user is None:
        raise ConsultError(_("There is no account for %(email)s.", email=email))
    docs.add_committee_member(doc, user, role=role, by=_system_user())
    click.echo(
        _(
            "%(document_slug)s: %(display_name)s is %(role)s of the committee.",
            document_slug=document_slug,
            display_name=user.display_name,
            role=role,
        )
    )


@click.command("remove-committee-member")
@click.argument("document_slug")
@click.argument("email")
@command
def remove_committee_member_cmd(document_slug, email):
    """Take the account EMAIL off the document's committee."""
    from consult.accounts.services import get_user_by_email
    from consult.documents import services as docs

    doc = docs.get_document(document_slug)
    user = get_user_by_email(email)
    if user is None:
        raise ConsultError(_("There is no account for %(email)s.", email=email))
    docs.remove_committee_member(doc, user, by=_system_user())
    click.echo(
        _(
            "%(document_slug)s: %(display_name)s has left the committee.",
            document_slug=document_slug,
            display_name=user.display_name,
        )
    )


@click.command("reindex")
@with_appcontext
def reindex_cmd():
    """Rebuild the search index from the database (readers keep the old one until done)."""
    from consult.search import entries, outbox
    from consult.search.base import IndexBusy

    app = current_app._get_current_object()
    total = sum(entries.count_all(db.session).values())
    db.session.rollback()  # the rebuild reads in its own transaction, holding the writer
    try:
        with click.progressbar(length=total, label="Rebuilding the search index") as bar:
            counts = outbox.rebuild(app, progress=bar.update)
    except IndexBusy as e:
        _fail(f"{e}; try again when it is done.")
    docs, orgs = counts["document"], counts["organisation"]
    click.echo(
        _(
            "Indexed %(x)s paragraphs and comments, %(docs)s "
            "document%(x2)s and %(orgs)s organisation%(x3)s (%(x4)s).",
            x=counts["paragraph"] + counts["comment"],
            docs=docs,
            x2="s" * (docs != 1),
            orgs=orgs,
            x3="s" * (orgs != 1),
            x4=app.config["SEARCH_BACKEND"],
        )
    )


@click.command("index-drain")
@click.option("--follow", is_flag=True, help="Keep running: drain again every --interval seconds.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between drains.")
@click.option(
    "--wait",
    default=30.0,
    show_default=True,
    help="Seconds to wait for another process writing the index.",
)
@with_appcontext
def index_drain_cmd(follow: bool, interval: float, wait: float):
    """Apply pending search outbox rows to the index (for a separate indexing worker)."""
    import time

    from consult.search import outbox
    from consult.search.base import IndexBusy

    app = current_app._get_current_object()
    while True:
        try:
            done = outbox.drain(app, wait=wait)
            if done or not follow:
                click.echo(
                    _(
                        "Applied %(done)s outbox rows; %(pending)s pending.",
                        done=done,
                        pending=outbox.pending(app),
                    )
                )
        except IndexBusy as e:
            click.echo(
                _(
                    "%(e)s; %(pending)s rows left for the next drain.",
                    e=e,
                    pending=outbox.pending(app),
                )
            )
        if not follow:
            return
        time.sleep(interval)


def register(app: Flask) -> None:
    from consult.analysis.cli import register as register_analysis
    from consult.exports.cli import register as register_exports
    from consult.intake.cli import register as register_intake
    from consult.jobs.cli import register as register_jobs
    from consult.mail.cli import send_mail_cmd
    from consult.record.cli import register as register_record
    from consult.translations.cli import register as register_translations

    app.cli.add_command(send_mail_cmd)
    register_exports(app)
    register_intake(app)
    register_jobs(app)
    register_analysis(app)
    for cmd in (
        demo_cmd,
        create_org_cmd,
        create_user_cmd,
        create_token_cmd,
        import_version_cmd,
        import_returned_cmd,
        open_version_cmd,
        close_version_cmd,
        finalize_version_cmd,
        close_expired_cmd,
        add_committee_member_cmd,
        remove_committee_member_cmd,
        reindex_cmd,
        index_drain_cmd,
    ):
        app.cli.add_command(cmd)
    register_record(app)
    register_translations(app)
