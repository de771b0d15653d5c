"""Closing a consultation early: every message, page, mail, feed and export that says
when comments closed gives the actual time, never the planned deadline as the closing
date (issue 16, item 9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from flask import render_template
from sqlalchemy import select

from consult.documents import services as docs
from consult.documents.closing import closed_early, closing_sentence, utc_text
from consult.documents.models import Version
from consult.exports.pack import deadline_text
from consult.extensions import db
from consult.mail import set_notification
from consult.mail.models import MailOutbox
from consult.mail.notify import queue_closing_soon
from consult.mail.outbox import pending
from consult.timeutil import clock
from consult.web import format_dt

from .conftest import assert_error, bearer


def fresh(doc) -> Version:
    db.session.expire_all()
    return db.session.scalar(select(Version).where(Version.document_id == doc.id))


def outbox(kind: str) -> list[MailOutbox]:
    return list(
        db.session.scalars(
            select(MailOutbox).where(MailOutbox.kind == kind).order_by(MailOutbox.id)
        )
    )


def test_close_early_on_the_page_tells_the_actual_time_everywhere(
    client, as_user, make_document, make_user
):
    keen = make_user("cso", email="keen@example.org")
    set_notification(keen, "closing_soon", True)
    sec = make_user("secretariat")
    db.session.commit()
    doc = make_document("consultation", by=sec, days=1)
    planned = fresh(doc).closes_at
    # The "closes in 48 hours" notice is waiting in the outbox when the committee closes.
    assert queue_closing_soon() == 1
    db.session.commit()
    [soon] = outbox("closing_soon")
    assert format_dt(planned, doc.timezone) in soon.body

    as_user(sec)
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/close",
        data={"reason": "The summit moved.", "confirmed": "1"},
    )
    assert resp.status_code == 302
    v = fresh(doc)
    actual = v.closed_at
    assert v.state == "closed" and actual < planned and closed_early(v)

    # The version page: the actual closing time first, the deadline only as "planned".
    page = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    closed_row = page.split("<dt>Comments closed</dt>")[1].split("</dd>")[0]
    assert format_dt(actual, doc.timezone) in closed_row
    assert "early: The summit moved." in closed_row
    assert format_dt(planned, doc.timezone) not in closed_row
    assert "<dt>Planned deadline</dt>" in page and "<dt>Deadline</dt>" not in page

    # The mail: the waiting notice is not sent; subscribers hear the actual time.
    assert soon.id not in {m.id for m in pending()}
    [mail] = outbox("closing_soon")[1:]
    assert mail.subject.startswith("Closed early:")
    assert f"closed early: on {format_dt(actual, doc.timezone)}" in mail.body
    assert f"planned deadline of {format_dt(planned, doc.timezone)}" in mail.body
    assert "The committee's reason: The summit moved." in mail.body

    # The API: closed_at is the actual time, closes_at the planned deadline.
    data = client.get(f"/api/v1/documents/{doc.slug}/versions/1").get_json()
    assert datetime.fromisoformat(data["closed_at"]) == actual
    assert datetime.fromisoformat(data["closes_at"]) == planned

    # The feed of the document.
    feed = client.get(f"/documents/{doc.slug}/feed.atom")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    summaries = [e.findtext("a:summary", namespaces=ns) for e in ET.fromstring(feed.data)]  # noqa: S314
    summary = next(s for s in summaries if s and "Comments closed" in s)
    assert f"Comments closed on {utc_text(actual)}, early" in summary
    assert f"the planned deadline was {utc_text(planned)}" in summary
    assert "Open for comments until" not in summary


def test_close_early_through_the_api_and_the_messages_after_it(client, make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec, days=7)
    planned = fresh(doc).closes_at
    member = make_user("cso")
    url = f"/api/v1/documents/{doc.slug}/versions/1/close"
    closed = client.post(url, json={"reason": "Mandate ends."}, headers=bearer(sec))
    assert closed.status_code == 200
    actual = fresh(doc).closed_at
    assert datetime.fromisoformat(closed.get_json()["closed_at"]) == actual < planned

    # A comment that comes too late is told when comments actually closed.
    para = fresh(doc).paragraphs[2]
    resp = client.post(
        f"/api/v1/paragraphs/{para.id}/comments",
        json={"kind": "comment", "body": "Late."},
        headers=bearer(member),
    )
    message = assert_error(resp, 409, "conflict")["message"]
    assert f"comments closed on {utc_text(actual)}" in message
    assert f"early (the planned deadline was {utc_text(planned)})" in message
    assert "the deadline was" not in message

    # The exports: the title page of the PDFs, the consultation pack.
    title_page = render_template(
        "exports/_title_page.html",
        doc=doc,
        version=fresh(doc),
        heading="Consultation report",
        stamp=SimpleNamespace(content_hash="x", head_hash=None, head_seq=None),
    )
    closed_row = title_page.split("<dt>Comments closed</dt>")[1].split("</dd>")[0]
    assert closed_row.startswith(f"<dd>{format_dt(actual, doc.timezone)} — early")
    assert f"planned deadline {format_dt(planned, doc.timezone)}" in closed_row
    assert closed_row.endswith(": Mandate ends.")
    assert f"Comments closed on {format_dt(actual, doc.timezone)}" in deadline_text(fresh(doc))


def test_closing_words_for_each_state(make_document):
    doc = make_document("consultation", days=7)
    v = fresh(doc)
    assert closing_sentence(v) == f"Open for comments until {utc_text(v.closes_at)}."
    # Past the deadline but not yet marked closed: closed at the deadline.
    with clock(v.closes_at + timedelta(minutes=1)):
        assert closing_sentence(v) == f"Comments closed on {utc_text(v.closes_at)}."
        docs.refresh_state(v)
    v = fresh(doc)
    assert v.close_reason == "deadline" and not closed_early(v)
    assert closing_sentence(v) == f"Comments closed on {utc_text(v.closes_at)}."

    published_closed = make_document("draft")
    w = fresh(published_closed)
    docs.publish(w, by=None)
    assert closing_sentence(w) == ""  # never open for comments: nothing to say

    early = fresh(make_document("consultation", days=7))
    at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    early.closes_at, early.closed_at = at + timedelta(days=5), at
    early.state, early.close_reason = "closed", "Budget."
    assert closing_sentence(early) == (
        "Comments closed on 02 January 2030 03:04 UTC, early (the planned deadline was "
        "07 January 2030 03:04 UTC). Reason: Budget."
    )
    db.session.rollback()
