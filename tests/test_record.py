"""The hash-chained record: events are appended for every step and tampering is found."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from consult.record import log as tree_log
from consult.record.models import Event
from consult.record.service import verify
from consult.timeutil import utcnow


def _consultation(make_document, make_user):
    doc = make_document("consultation")
    member = make_user("cso")
    v = doc.latest
    c = cs.post_comment(
        version=v,
        paragraph=v.paragraphs[2],
        organisation=member.organisation,
        kind="comment",
        body="Please add a deadline for answers.",
        by=member,
    )
    db.session.commit()
    return doc, v, c


def test_every_step_is_an_event_in_a_valid_chain(make_document, make_user):
    doc, v, c = _consultation(make_document, make_user)
    sec = make_user("secretariat")
    docs.close(v, by=sec)
    cs.respond(c, decision="accepted", reason="Added in 2.3.", by=sec)
    db.session.commit()
    kinds = list(db.session.scalars(select(Event.kind).order_by(Event.seq)))
    assert kinds == [
        "version.created",
        "version.published",
        "organisation.verified",  # the commenter's organisation, verified when made
        "comment.posted",
        "version.state_changed",
        "response.given",
    ]
    result = verify()
    assert result.ok, result.problem
    assert result.events == 6
    # The head is the root of the Merkle tree of every event, as the sequencer stored it.
    assert result.head == tree_log.state()[1] and len(result.head) == 64


def test_tampering_with_a_comment_is_detected(make_document, make_user):
    _, _, c = _consultation(make_document, make_user)
    db.session.execute(
        text("UPDATE comment SET body = 'We never said that.' WHERE id = :i"), {"i": c.id}
    )
    db.session.commit()
    result = verify()
    assert not result.ok
    assert c.tracking in result.problem


def test_tampering_with_a_published_text_is_detected(make_document, make_user):
    doc, v, _ = _consultation(make_document, make_user)
    p = v.paragraphs[3]
    db.session.execute(text("UPDATE paragraph SET source = 'Changed.' WHERE id = :i"), {"i": p.id})
    db.session.commit()
    result = verify()
    assert not result.ok
    assert "version 1" in result.problem


def test_tampering_with_an_event_is_detected(make_document, make_user):
    _consultation(make_document, make_user)
    db.session.execute(text("UPDATE event SET payload = '{}' WHERE seq = 2"))
    db.session.commit()
    result = verify()
    assert not result.ok
    assert "event 2" in result.problem


def test_a_deleted_event_is_detected(make_document, make_user):
    _consultation(make_document, make_user)
    db.session.execute(text("DELETE FROM event WHERE seq = 2"))
    db.session.commit()
    assert "missing" in verify().problem


def test_failed_action_leaves_no_event(make_document):
    doc = make_document("consultation")
    before = db.session.scalar(select(db.func.count(Event.id)))
    try:
        docs.publish(doc.latest, by=None, closes_at=utcnow() + timedelta(days=1))
    except Exception:
        db.session.rollback()
    assert db.session.scalar(select(db.func.count(Event.id))) == before
