"""The search tests' world: two documents (one published twice, one only a draft),
three organisations, four comments, two responses, on known dates; and the
`search_backend` fixture, parametrised over the backends this database can run.
Loaded for every test module by conftest (pytest_plugins)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from consult.search import backend
from consult.timeutil import clock

ON_POSTGRES = bool(os.environ.get("CONSULT_TEST_DATABASE_URL"))
BACKENDS = ["whoosh", "postgres"] if ON_POSTGRES else ["whoosh"]


def use_backend(app, name: str) -> None:
    app.config["SEARCH_BACKEND"] = name


@pytest.fixture(params=BACKENDS)
def search_backend(request, app):
    previous = app.config["SEARCH_BACKEND"]
    use_backend(app, request.param)
    yield backend.get(app)
    app.config["SEARCH_BACKEND"] = previous


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


V1 = """# Outreach Framework

## Principles

Parliaments engage civil society openly and in good faith.

Every submission receives a written answer.

## Mechanisms

- Public hearings on every bill.
- Written submissions by e-mail or on paper.
"""
V2 = V1.replace("a written answer.", "a written answer within thirty days.")
DRAFT = """# Zebra Protocol

Confidential drafting notes about the zebra crossing budget.
"""


@pytest.fixture
def world(search_backend, make_org, make_user):
    """Two documents (one published twice, one only a draft), three organisations,
    four comments, two responses, on known dates."""
    mcvn = make_org(
        "mcvn-network",
        "Mekong Civic Voices Network",
        acronym="MCVN",
        kind="network",
        countries=("TH", "VN"),
    )
    women = make_org("womens-voice", "Women's Voice Philippines", kind="ngo", countries=("PH",))
    youth = make_org("youth-forum", "Youth Forum Thailand", kind="community", countries=("TH",))
    members = {o.slug: make_user("cso", org=o) for o in (mcvn, women, youth)}
    sec = make_user("secretariat")
    with clock(at(1, 5)):
        doc = docs.create_document("framework", "Outreach Framework", by=sec)
        v1 = docs.import_version(doc, V1, by=sec, label="First draft")
        docs.publish(v1, by=sec, closes_at=at(2, 28))
        db.session.commit()
    p_answer = next(p for p in v1.paragraphs if p.text.startswith("Every submission"))
    p_hear = next(p for p in v1.paragraphs if p.text.startswith("Public hearings"))
    with clock(at(1, 10)):
        c1 = cs.post_comment(
            version=v1,
            paragraph=p_answer,
            organisation=mcvn,
            kind="suggestion",
            body="Answers should come within a fixed period.",
            suggested_text="Every submission receives a written answer within thirty days.",
            by=members["mcvn-network"],
        )
        db.session.commit()
    with clock(at(2, 3)):
        c2 = cs.post_comment(
            version=v1,
            paragraph=p_answer,
            organisation=women,
            kind="question",
            body="What about indigenous languages? <script>alert(1)</script>",
            by=members["womens-voice"],
        )
        c3 = cs.post_comment(
            version=v1,
            paragraph=p_hear,
            organisation=youth,
            kind="comment",
            body="Youth councils must be heard at public hearings.",
            quote="hearings",
            by=members["youth-forum"],
        )
        db.session.commit()
    with clock(at(3, 1)):
        docs.close(v1, by=sec)
        db.session.commit()
    with clock(at(3, 5)):
        cs.respond(c1, decision="accepted", reason="Taken up: thirty days.", by=sec)
        cs.respond(
            c2, decision="noted", reason="Translation is covered by the outreach plan.", by=sec
        )
        db.session.commit()
    with clock(at(4, 1)):
        v2 = docs.copy_version(doc, by=sec, label="Second draft")
        docs.replace_text(v2, V2, by=sec)
        docs.publish(v2, by=sec, closes_at=at(5, 31))
        db.session.commit()
    with clock(at(4, 10)):
        c4 = cs.post_comment(
            version=v2,
            paragraph=None,
            organisation=mcvn,
            kind="comment",
            body="Budget transparency needs a public dashboard.",
            by=members["mcvn-network"],
        )
        db.session.commit()
    drafter = make_user("committee")
    with clock(at(4, 20)):
        secret = docs.create_document("zebra", "Zebra Protocol", by=sec)
        draft = docs.import_version(secret, DRAFT, by=sec, label="Draft")
        docs.add_committee_member(secret, drafter, role="drafter", by=sec)
        db.session.commit()
    return SimpleNamespace(
        doc=doc,
        v1=v1,
        v2=v2,
        secret=secret,
        draft=draft,
        mcvn=mcvn,
        women=women,
        youth=youth,
        c1=c1,
        c2=c2,
        c3=c3,
        c4=c4,
        sec=sec,
        drafter=drafter,
        cso=members["mcvn-network"],
        be=search_backend,
    )
