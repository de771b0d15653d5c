"""The version's life and the committee from the command line: same guards as the
services, "Error: …" and exit status 1 when refused, nothing changed then."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.documents import services as docs
from consult.documents.models import Version
from consult.extensions import db
from consult.record.models import Event
from consult.timeutil import clock, utcnow


def state_of(doc) -> tuple:
    db.session.expire_all()
    v = db.session.get(Version, doc.latest.id)
    return v.state, v.closes_at, v.closed_at, v.close_reason, v.finalized_at


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def refused(runner, args: list[str], message: str, doc=None) -> None:
    before = (state_of(doc) if doc else None, event_count())
    r = runner.invoke(args=args)
    assert r.exit_code == 1, r.output
    assert r.output.startswith("Error: ") and message in r.output, r.output
    assert (state_of(doc) if doc else None, event_count()) == before


def test_open_close_and_finalize(runner, make_document, make_user):
    make_user("admin")
    doc = make_document("draft", slug="charter")
    day = (utcnow() + timedelta(days=10)).date().isoformat()
    r = runner.invoke(args=["open-version", "charter", "1", "--until", day])
    assert r.exit_code == 0, r.output
    assert r.output == (
        f"charter: version 1 is open for comments until {day} 23:59 UTC.\n"
        "Comments from organisations; personal data found in a comment: hold.\n"
    )
    assert state_of(doc)[:2] == ("consultation", docs.get_version(doc, 1).closes_at)
    r = runner.invoke(args=["close-version", "charter", "1", "--reason", "The summit moved."])
    assert r.exit_code == 0, r.output
    assert "closed for comments (early)" in r.output
    state, _, closed_at, reason, _ = state_of(doc)
    assert (state, reason) == ("closed", "The summit moved.") and closed_at is not None
    r = runner.invoke(args=["finalize-version", "charter", "1"])
    assert r.exit_code == 0 and r.output == "charter: version 1 is the final text.\n"
    assert state_of(doc)[0] == "final"
    kinds = list(db.session.scalars(select(Event.kind).order_by(Event.seq)))
    assert kinds == [
        "version.created",
        "version.published",
        "version.state_changed",
        "version.state_changed",
    ]


def test_refusals(runner, make_document):
    draft = make_document("draft", slug="draft-doc")
    open_ = make_document("consultation", slug="open-doc")
    refused(runner, ["open-version", "nope", "1", "--until", "2099-01-01"], "no document 'nope'")
    refused(runner, ["open-version", "draft-doc", "2", "--until", "2099-01-01"], "has no version 2")
    refused(runner, ["open-version", "draft-doc", "1", "--until", "soon"], "not an ISO date", draft)
    refused(runner, ["open-version", "draft-doc", "1", "--until", "2001-01-01"], "future", draft)
    refused(
        runner,
        ["open-version", "open-doc", "1", "--until", "2099-01-01"],
        "already published",
        open_,
    )
    refused(
        runner, ["close-version", "draft-doc", "1", "--reason", "x"], "Only a version open", draft
    )
    refused(runner, ["close-version", "open-doc", "1"], "give the reason with --reason", open_)
    refused(runner, ["finalize-version", "open-doc", "1"], "Only a closed version", open_)
    refused(runner, ["finalize-version", "draft-doc", "1"], "Only a closed version", draft)
    r = runner.invoke(args=["open-version", "draft-doc", "1"])
    assert r.exit_code == 2 and "--until" in r.output  # click's own usage error


def test_only_the_latest_closed_version_is_made_final(runner, make_document):
    doc = make_document("closed", slug="charter")
    v2 = docs.copy_version(doc, by=None)
    docs.publish(v2, by=None)
    db.session.commit()
    refused(runner, ["finalize-version", "charter", "1"], "Only the latest version")
    assert runner.invoke(args=["finalize-version", "charter", "2"]).exit_code == 0
    refused(runner, ["finalize-version", "charter", "2"], "Only a closed version")


def test_close_version_after_the_deadline_needs_no_reason(runner, make_document):
    doc = make_document("consultation", slug="charter", days=1)
    with clock(utcnow() + timedelta(days=2)):
        r = runner.invoke(args=["close-version", "charter", "1"])
    assert r.exit_code == 0 and "(at its deadline)" in r.output
    assert state_of(doc)[3] == "deadline"


@pytest.mark.parametrize("runs", [1, 2])
def test_close_expired_for_cron(runner, make_document, runs):
    due = make_document("consultation", slug="due", days=1)
    later = make_document("consultation", slug="later", days=5)
    with clock(utcnow() + timedelta(days=2)):
        outputs = [runner.invoke(args=["close-expired"]) for _ in range(runs)]
    assert all(r.exit_code == 0 for r in outputs)
    assert outputs[0].output.startswith("due: version 1 closed at its deadline")
    assert outputs[0].output.endswith("1 consultation closed.\n")
    if runs == 2:
        assert outputs[1].output == "0 consultations closed.\n"
    assert state_of(due)[0] == "closed" and state_of(later)[0] == "consultation"
    changes = db.session.scalars(select(Event).where(Event.kind == "version.state_changed")).all()
    assert [json.loads(e.payload)["reason"] for e in changes] == ["deadline"]


def test_committee_commands(runner, make_document, make_user):
    doc = make_document("draft", slug="charter")
    make_user("committee", email="ana@example.org", name="Ana")
    make_user("cso", email="cso@example.org")
    r = runner.invoke(
        args=["add-committee-member", "charter", "ana@example.org", "--role", "chair"]
    )
    assert r.exit_code == 0 and r.output == "charter: Ana is chair of the committee.\n"
    refused(runner, ["add-committee-member", "charter", "cso@example.org"], "CSO account")
    refused(runner, ["add-committee-member", "charter", "who@example.org"], "no account")
    r = runner.invoke(args=["remove-committee-member", "charter", "ana@example.org"])
    assert r.exit_code == 0 and "Ana has left the committee" in r.output
    refused(runner, ["remove-committee-member", "charter", "ana@example.org"], "not on this")
    db.session.expire_all()
    # Left: the secretariat member who created the document, its first chair.
    assert [(m.user.role, m.role) for m in docs.get_document(doc.slug).committee_members] == [
        ("secretariat", "chair")
    ]
