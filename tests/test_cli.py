"""Each command of `flask --app consult …`: what it prints, what it stores, how it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Organisation, User
from consult.accounts.services import user_for_token
from consult.consultation.models import Comment, Response
from consult.documents.models import Document, Version
from consult.extensions import db
from consult.record.models import Event
from consult.timeutil import utcnow

CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "corpus" / "us-https-only-standard-m-15-13"
)


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_org(runner):
    r = runner.invoke(
        args=[
            "create-org",
            "mcvn",
            "Mekong Civic Voices",
            "--country",
            "TH",
            "--country",
            "la",
            "--kind",
            "network",
        ]
    )
    assert r.exit_code == 0, r.output
    org = db.session.scalar(select(Organisation))
    assert (org.slug, org.countries, org.kind) == ("mcvn", ["TH", "LA"], "network")


def test_create_org_refuses_bad_input(runner, make_org):
    make_org("taken")
    for args, message in [
        (["create-org", "taken", "Again", "--country", "TH"], "already exists"),
        (["create-org", "new-org", "X", "--country", "Thailand"], "two-letter ISO codes"),
        (["create-org", "new-org", "X", "--country", "TH", "--kind", "club"], "Unknown kind"),
    ]:
        r = runner.invoke(args=args)
        assert r.exit_code == 1
        assert message in r.output
    assert _count(Organisation) == 1


def test_create_user_with_password_on_stdin(runner, make_org, app):
    make_org("ab")
    r = runner.invoke(
        args=["create-user", "ana@example.org", "--role", "cso", "--org", "ab"],
        input="a long password\n",
    )
    assert r.exit_code == 0, r.output
    assert "Password:" not in r.output
    client = app.test_client()
    resp = client.post("/sign-in", data={"email": "ana@example.org", "password": "a long password"})
    assert resp.status_code == 302


def test_create_user_generates_and_prints_a_password(runner):
    r = runner.invoke(args=["create-user", "sec@example.org", "--role", "secretariat"], input="")
    assert r.exit_code == 0, r.output
    assert "Password: " in r.output
    assert db.session.scalar(select(User.role)) == "secretariat"


def test_create_user_refusals(runner):
    r = runner.invoke(
        args=["create-user", "x@example.org", "--role", "cso"], input="long enough pw\n"
    )
    assert r.exit_code == 1 and "belongs to an organisation" in r.output
    r = runner.invoke(
        args=["create-user", "x@example.org", "--role", "cso", "--org", "nope"],
        input="long enough pw\n",
    )
    assert r.exit_code == 1 and "no organisation 'nope'" in r.output
    r = runner.invoke(
        args=["create-user", "not-an-email", "--role", "admin"], input="long enough pw\n"
    )
    assert r.exit_code == 1 and "not an e-mail address" in r.output
    assert _count(User) == 0


def test_create_token(runner, make_user):
    user = make_user("secretariat", email="s@example.org")
    r = runner.invoke(args=["create-token", "s@example.org"])
    assert r.exit_code == 0
    assert user_for_token(r.output.strip()).id == user.id
    r = runner.invoke(args=["create-token", "nobody@example.org"])
    assert r.exit_code == 1 and "no account" in r.output


def test_import_version_states(runner, tmp_path):
    r = runner.invoke(
        args=[
            "import-version",
            "https-only",
            str(CORPUS / "v1.md"),
            "--title",
            "HTTPS-Only Standard",
            "--label",
            "Proposed",
        ]
    )
    assert r.exit_code == 0, r.output
    assert "version 1 (closed)" in r.output
    doc = db.session.scalar(select(Document))
    assert doc.title == "HTTPS-Only Standard"
    r = runner.invoke(
        args=["import-version", "https-only", str(CORPUS / "v2.md"), "--open-until", "2099-01-31"]
    )
    assert r.exit_code == 0, r.output
    assert "version 2 (open for comments)" in r.output
    # Refused while the previous version is open for comments.
    r = runner.invoke(args=["import-version", "https-only", str(CORPUS / "v3.md"), "--draft"])
    assert r.exit_code == 1
    assert "still open for comments" in r.output
    assert _count(Version) == 2
    states = list(db.session.scalars(select(Version.state).order_by(Version.number)))
    assert states == ["closed", "consultation"]


def test_import_version_as_draft_and_bad_dates(runner, tmp_path):
    r = runner.invoke(args=["import-version", "doc-a", str(CORPUS / "v1.md"), "--draft"])
    assert r.exit_code == 0 and "(draft)" in r.output
    r = runner.invoke(
        args=["import-version", "doc-b", str(CORPUS / "v1.md"), "--open-until", "next week"]
    )
    assert r.exit_code == 1 and "not an ISO date" in r.output
    r = runner.invoke(
        args=["import-version", "doc-c", str(CORPUS / "v1.md"), "--open-until", "2001-01-01"]
    )
    assert r.exit_code == 1 and "future" in r.output
    empty = tmp_path / "empty.md"
    empty.write_text("\n")
    r = runner.invoke(args=["import-version", "doc-d", str(empty)])
    assert r.exit_code == 1 and "empty" in r.output
    assert _count(Document) == 1  # only doc-a: refused imports leave nothing behind


def test_reindex_and_verify(runner, make_document):
    make_document("consultation")
    r = runner.invoke(args=["reindex"])
    assert r.exit_code == 0, r.output
    assert "Indexed 7 paragraphs and comments" in r.output
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 0 and r.output.startswith("OK: 2 events, 1 published versions")
    db.session.execute(db.text("UPDATE event SET kind = 'forged' WHERE seq = 1"))
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1 and "event 1" in r.output


def test_demo_loads_once(runner):
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0, r.output
    assert "3 versions" in r.output
    assert _count(Comment) >= 60
    # Every comment on a closed version has its answer; the open consultation's do not yet.
    closed = select(func.count(Comment.id)).join(Version).where(Version.state != "consultation")
    assert _count(Response) == db.session.scalar(closed) == 72
    assert _count(Organisation) >= 10
    assert len({c for o in db.session.scalars(select(Organisation)) for c in o.countries}) >= 5
    # Each organisation with members has one admin, who approves requests to join.
    for o in db.session.scalars(select(Organisation)):
        if o.memberships:
            assert [m.role for m in o.memberships].count("admin") == 1, o.slug
    framework = db.session.scalar(select(Document).where(Document.slug == "aipa-cso-framework"))
    assert [v.state for v in framework.versions] == ["closed", "closed", "final"]
    assert len(framework.versions[2].paragraphs) >= 30
    # A second document is open for comments, so a CSO member always has something to comment on.
    plan = db.session.scalar(select(Document).where(Document.slug == "aipa-outreach-plan"))
    assert plan.latest.state == "consultation" and plan.latest.closes_at > utcnow()
    events = _count(Event)
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 1 and "not empty" in r.output
    r = runner.invoke(args=["demo", "--if-empty"])
    assert r.exit_code == 0 and "not loaded" in r.output
    assert _count(Event) == events
    assert runner.invoke(args=["verify"]).exit_code == 0


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999", "0"])
def test_a_version_number_beyond_what_a_version_can_have_is_a_usage_error(runner, number):
    r = runner.invoke(args=["close-version", "no-such-document", number])
    assert r.exit_code == 2
    assert "is not in the range" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
