"""Traceability services on the database: uptake stored at publication, the API's
uptake and flag, grouped answers, the organisations' replies, the finalize guard."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from consult.consultation.models import Response
from consult.documents import services as docs
from consult.errors import Conflict, ConsultError, NotAllowed
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.record.models import Event
from consult.tracing import grouping
from consult.tracing.models import (
    FinalizeOverride,
    ResponseFeedback,
    ResponseGroup,
    ResponseGroupMember,
    StoredUptake,
)
from consult.tracing.stored import MEASURE_VERSION, store_uptake
from tests.tracing_case import V2, WORDING_A, build


@pytest.fixture
def case(make_document, make_user, make_org):
    return build(make_document, make_user, make_org)


def _stored(comment) -> StoredUptake | None:
    return db.session.scalar(select(StoredUptake).where(StoredUptake.comment_id == comment.id))


def test_uptake_is_stored_when_the_next_version_is_published(case):
    assert db.session.scalar(select(func.count(StoredUptake.id))) == 0
    v2 = case.publish_v2()
    a, b, c = _stored(case.a), _stored(case.b), _stored(case.c)
    assert (a.score, a.label, a.verbatim, a.version_id, a.relation) == (
        1.0,
        "taken_up",
        True,
        v2.id,
        "edited",
    )
    assert (b.score, b.label, b.relation) == (0.0, "not_taken_up", "unchanged")
    assert (c.score, c.label) == (1.0, "taken_up")
    assert _stored(case.q) is None  # a question asks for no wording
    # The inputs' hash is the sha256 of exactly what was measured: with the paragraphs
    # around the commented one (a wording may carry a neighbour along).
    commented = case.a.paragraph
    siblings = sorted(commented.version.paragraphs, key=lambda p: p.position)
    at = siblings.index(commented)
    around = [p.text for p in siblings[max(at - 1, 0) : at + 2] if p is not commented]
    expected = sha256(
        canonical(
            {
                "original": ["Every submission receives a written answer."],
                "part": None,
                "suggested": WORDING_A,
                "quote": None,
                "quote_start": None,
                "successor": [WORDING_A],
                "basis": "text",
                "around": around,
                "measure": MEASURE_VERSION,
            }
        )
    )
    assert a.inputs_hash == expected
    # The evidence says why: every asked-for word is in the successor.
    assert a.evidence["missing"] == []
    assert a.evidence["present"] == [{"words": "within 30 days", "where": "successor"}]
    assert a.evidence["relation"] == "edited"
    # Measuring again with the same inputs writes nothing.
    assert store_uptake(v2) == 0


def test_uptake_follows_a_merged_paragraph(case):
    merged = V2.replace(
        "Parliaments engage civil society openly and in good faith.\n\n"
        "Every submission receives a written answer within 30 days.",
        "Parliaments engage civil society openly and in good faith, and every submission "
        "receives a written answer within 30 days.",
    )
    case.publish_v2(merged)
    a = _stored(case.a)
    assert a.relation == "merged"
    assert a.label == "taken_up"  # "within 30 days" arrived in the merged paragraph
    b = _stored(case.b)
    assert b.label == "not_taken_up"  # "early" did not


def test_api_gives_uptake_and_flag(client, case):
    before = client.get(f"/api/v1/comments/{case.b.id}").get_json()
    assert before["uptake"] is None and before["flag"] is None
    case.publish_v2()
    a = client.get(f"/api/v1/comments/{case.a.id}").get_json()
    assert {k: a["uptake"][k] for k in ("score", "label", "version")} == {
        "score": 1.0,
        "label": "taken_up",
        "version": 2,
    }
    assert a["uptake"]["evidence"]["present"] == [{"words": "within 30 days", "where": "successor"}]
    assert a["uptake"]["evidence"]["missing"] == []
    assert a["flag"] is None
    b = client.get(f"/api/v1/comments/{case.b.id}").get_json()
    assert b["uptake"]["label"] == "not_taken_up" and b["flag"] == "accepted_not_in_text"
    c = client.get(f"/api/v1/comments/{case.c.id}").get_json()
    assert c["flag"] == "taken_up_without_credit"
    q = client.get(f"/api/v1/comments/{case.q.id}").get_json()
    assert q["uptake"] is None and q["flag"] is None


def test_a_new_answer_changes_the_flag(client, case):
    from consult.consultation import services as cs

    case.publish_v2()
    cs.respond(case.b, decision="not_accepted", reason="On reflection, no.", by=case.secretariat)
    db.session.commit()
    assert client.get(f"/api/v1/comments/{case.b.id}").get_json()["flag"] is None


# --- grouped answers -----------------------------------------------------------------------


def test_answer_together_gives_each_comment_its_response(make_document, make_user, make_org):
    case = build(make_document, make_user, make_org, answer=False)
    events = db.session.scalar(select(func.count(Event.id)))
    g = grouping.answer_together(
        case.v1,
        [case.a, case.b, case.a],  # a repeated comment counts once
        decision="partly_accepted",
        reason="Both ask for deadlines; see section 5.",
        by=case.secretariat,
    )
    db.session.commit()
    assert [m.comment_id for m in g.members] == sorted([case.a.id, case.b.id])
    for c in (case.a, case.b):
        db.session.refresh(c)
        assert c.response.decision == "partly_accepted"
        assert c.response.reason == "Both ask for deadlines; see section 5."
    assert db.session.scalar(select(func.count(Response.id))) == 2
    kinds = db.session.scalars(select(Event.kind).where(Event.id > 0).order_by(Event.seq)).all()
    assert kinds[events:] == ["response.given", "response.given", "responses.grouped"]
    payload = json.loads(
        db.session.scalar(select(Event.payload).where(Event.kind == "responses.grouped"))
    )
    assert payload["comments"] == [case.a.tracking, case.b.tracking]


@pytest.mark.parametrize(
    "pick, decision, reason, message",
    [
        ("one", "accepted", "Fine.", "at least two"),
        ("two", "maybe", "Fine.", "Unknown decision"),
        ("two", "accepted", "  ", "reason"),
    ],
)
def test_answer_together_refuses(
    make_document, make_user, make_org, pick, decision, reason, message
):
    case = build(make_document, make_user, make_org, answer=False)
    chosen = [case.a] if pick == "one" else [case.a, case.b]
    with pytest.raises(ConsultError, match=message):
        grouping.answer_together(
            case.v1, chosen, decision=decision, reason=reason, by=case.secretariat
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count(ResponseGroup.id))) == 0
    assert db.session.scalar(select(func.count(ResponseGroupMember.id))) == 0
    assert db.session.scalar(select(func.count(Response.id))) == 0


# --- the organisation's reply --------------------------------------------------------------


def test_feedback_once_per_answer_by_the_commenting_organisation(case):
    fb = grouping.give_feedback(case.a, satisfied=True, note="Thank you.", by=case.ilt_member)
    db.session.commit()
    assert (fb.satisfied, fb.note, fb.organisation_id) == (
        True,
        "Thank you.",
        case.a.organisation_id,
    )
    with pytest.raises(Conflict, match="already replied exactly"):
        grouping.give_feedback(case.a, satisfied=True, note="Thank you.", by=case.ilt_member)
    db.session.rollback()
    # A changed reply is a new row while the consultation goes on (issue 22).
    grouping.give_feedback(case.a, satisfied=False, note="", by=case.ilt_member)
    db.session.commit()
    with pytest.raises(NotAllowed):
        grouping.give_feedback(case.b, satisfied=True, note="", by=case.ilt_member)
    db.session.rollback()
    # A new answer can be replied to again.
    from consult.consultation import services as cs

    cs.respond(case.a, decision="partly_accepted", reason="Revised.", by=case.secretariat)
    grouping.give_feedback(case.a, satisfied=False, note="Less than agreed.", by=case.ilt_member)
    db.session.commit()
    assert db.session.scalar(select(func.count(ResponseFeedback.id))) == 3


def test_feedback_needs_an_answer(make_document, make_user, make_org):
    case = build(make_document, make_user, make_org, answer=False)
    with pytest.raises(Conflict, match="not answered"):
        grouping.give_feedback(case.a, satisfied=True, note="", by=case.ilt_member)


def test_feedback_api(client, case, make_user):
    from consult.accounts.services import issue_token

    token = issue_token(case.ilt_member)
    other = issue_token(case.mcvn_member)
    db.session.commit()
    url = f"/api/v1/comments/{case.a.id}/feedback"
    bad = client.post(url, json={"satisfied": "yes"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_field"
    refused = client.post(
        url, json={"satisfied": True}, headers={"Authorization": f"Bearer {other}"}
    )
    assert refused.status_code == 403
    ok = client.post(
        url,
        json={"satisfied": False, "note": "Too slow."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ok.status_code == 201
    assert ok.get_json()["feedback"]["satisfied"] is False
    same = {"satisfied": False, "note": "Too slow."}
    again = client.post(url, json=same, headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 409  # the same reply again; a changed one is a new row
    assert client.post(url, json={"satisfied": True}).status_code == 401
    shown = client.get(f"/api/v1/comments/{case.a.id}").get_json()["feedback"]
    assert shown["note"] == "Too slow." and shown["satisfied"] is False


# --- the finalize guard --------------------------------------------------------------------


def test_finalize_refused_while_comments_are_unanswered(make_document, make_user, make_org):
    case = build(make_document, make_user, make_org, answer=False)
    with pytest.raises(Conflict, match="4 comments are still unanswered"):
        docs.finalize(case.v1, by=case.secretariat)
    db.session.rollback()
    assert case.v1.state == "closed"
    v = docs.finalize(case.v1, by=case.secretariat, override_reason="  The Assembly meets now.  ")
    db.session.commit()
    assert v.state == "final"
    o = db.session.scalar(select(FinalizeOverride))
    assert (o.version_id, o.unanswered, o.reason, o.user_id) == (
        case.v1.id,
        4,
        "The Assembly meets now.",
        case.secretariat.id,
    )
    ev = db.session.scalar(select(Event).order_by(Event.seq.desc()).limit(1))
    assert json.loads(ev.payload)["override_reason"] == "The Assembly meets now."


def test_unanswered_comments_on_earlier_versions_block_too(make_document, make_user, make_org):
    case = build(make_document, make_user, make_org, answer=False)
    from consult.consultation import services as cs

    for c in (case.a, case.b, case.c):
        cs.respond(c, decision="noted", reason="Seen.", by=case.secretariat)
    v2 = case.publish_v2()
    with pytest.raises(Conflict, match="1 comment is still unanswered"):
        docs.finalize(v2, by=case.secretariat)
    db.session.rollback()
    cs.respond(case.q, decision="noted", reason="Seen.", by=case.secretariat)
    db.session.commit()
    assert docs.finalize(v2, by=case.secretariat).state == "final"
    db.session.commit()
    assert db.session.scalar(select(func.count(FinalizeOverride.id))) == 0


def test_cli_finalize_override(runner, make_document, make_user, make_org):
    case = build(make_document, make_user, make_org, answer=False)
    slug = case.doc.slug
    r = runner.invoke(args=["finalize-version", slug, "1"])
    assert r.exit_code == 1 and "4 comments are still unanswered" in r.output
    r = runner.invoke(
        args=["finalize-version", slug, "1", "--override-reason", "Deadline of the Assembly."]
    )
    assert r.exit_code == 0, r.output
    db.session.expire_all()
    assert docs.get_version(docs.get_document(slug), 1).state == "final"
    assert db.session.scalar(select(FinalizeOverride.reason)) == "Deadline of the Assembly."
