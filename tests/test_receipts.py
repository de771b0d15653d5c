"""Receipts anyone can check, and the public record page: a tampered comment or
event shows up as a mismatch."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from consult.consultation.models import Comment
from consult.extensions import db
from consult.record import log as tree_log
from consult.record.models import Event
from tests.tracing_case import build


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_receipt_matches_and_shows_the_place_in_the_record(
    client, make_document, make_user, make_org
):
    case = build(make_document, make_user, make_org)
    c = case.a
    ev = db.session.scalar(
        select(Event).where(Event.kind == "comment.posted", Event.subject_id == c.id)
    )
    html = client.get(f"/record/receipts/{c.tracking}").get_data(as_text=True)
    text = text_of(html)
    assert "The comment matches its receipt." in text
    assert c.content_hash in text and "does not match" not in text
    assert f"event {ev.seq} ( comment.posted )" in text and ev.leaf_hash in text  # kind as code
    assert f"leaf index {ev.seq - 1}" in text and "leads from the leaf to the signed root" in text
    # Lower case works too; the comment page links to the receipt.
    assert client.get(f"/record/receipts/{c.tracking.lower()}").status_code == 200
    assert f"/record/receipts/{c.tracking}" in client.get(f"/comments/{c.id}").get_data(True)
    assert client.get("/record/receipts/C-NOPE").status_code == 404


def test_a_tampered_comment_does_not_match_its_receipt(client, make_document, make_user, make_org):
    case = build(make_document, make_user, make_org)
    c = case.b
    db.session.execute(
        update(Comment).where(Comment.id == c.id).values(body="We never asked for anything.")
    )
    db.session.commit()
    text = text_of(client.get(f"/record/receipts/{c.tracking}").get_data(as_text=True))
    assert "The comment does not match its receipt." in text
    assert "it was altered" in text
    assert "does not match" in text[text.index("Content hash (now)") :]
    # The record page reports the break too.
    record = text_of(client.get("/record/").get_data(as_text=True))
    assert "Broken" in record and f"comment {c.tracking} was altered" in record


def test_record_page_lists_events_with_their_hashes(client, make_document, make_user, make_org):
    build(make_document, make_user, make_org)
    events = db.session.scalars(select(Event).order_by(Event.seq.desc())).all()
    html = client.get("/record/").get_data(as_text=True)
    text = text_of(html)
    assert f"Events {len(events)}" in text
    assert "Intact" in text
    assert tree_log.state()[1] in text  # the root of the tree
    assert all(e.leaf_hash in html for e in events[: min(50, len(events))])


def test_record_page_pages_and_a_tampered_event(client, make_document, make_user, make_org):
    build(make_document, make_user, make_org)
    from consult.record import routes

    total = db.session.query(Event).count()
    old = routes.PER_PAGE
    routes.PER_PAGE = 5
    try:
        first = client.get("/record/").get_data(as_text=True)
        assert "Page 1 of" in first and 'rel="next"' in first
        last_page = -(-total // 5)
        last = client.get(f"/record/?page={last_page}").get_data(as_text=True)
        seq1 = db.session.scalar(select(Event.leaf_hash).where(Event.seq == 1))
        assert seq1 in last and 'rel="next"' not in last
    finally:
        routes.PER_PAGE = old
    db.session.execute(update(Event).where(Event.seq == 3).values(payload='{"forged":true}'))
    db.session.commit()
    text = text_of(client.get("/record/").get_data(as_text=True))
    assert "Broken" in text and "event 3" in text
