"""Times in the reader's own zone too (issue 22): the document's zone and UTC as before,
then the reader's time when their offset differs at that moment (their account's zone,
else the browser's `tz` cookie); one way of naming a zone everywhere, by its offset
("UTC+7", "UTC+6:30", "UTC−3"), never an abbreviation such as "WIB"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from consult.documents import services as docs
from consult.extensions import db
from consult.mail import set_notification
from consult.mail.models import MailOutbox
from consult.mail.outbox import render_waiting

from .conftest import post_comment
from .test_browser import browser, live_server  # noqa: F401  (fixtures)

#: 10:00 UTC is 17:00 in Bangkok (UTC+7) and 16:30 in Yangon (UTC+6:30).
DEADLINE = datetime(2030, 11, 26, 10, 0, tzinfo=UTC)


def _bangkok(make_document, zone="Asia/Bangkok"):
    doc = make_document("consultation")
    doc.timezone = zone
    doc.latest.closes_at = DEADLINE
    db.session.commit()
    return doc


def _deadline_line(html: str) -> str:
    m = re.search(r'<span class="deadline">(.*?)</span>', html, re.S)
    assert m, "no deadline on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m.group(1))).strip()


def test_a_reader_in_yangon_sees_the_deadline_in_their_own_time_too(client, make_document):
    doc = _bangkok(make_document)
    client.set_cookie("tz", "Asia/Yangon")
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert _deadline_line(html).endswith(
        "26 Nov 2030, 17:00 UTC+7 (26 Nov 2030, 10:00 UTC) (16:30 UTC+6:30, your time)"
    )
    # the document's page shows the same deadline the same way
    html = client.get(f"/documents/{doc.slug}").get_data(as_text=True)
    assert "(16:30 UTC+6:30, your time)" in _deadline_line(html)


def test_the_readers_date_is_written_when_their_day_differs(client, make_document):
    doc = _bangkok(make_document)
    client.set_cookie("tz", "Pacific/Kiritimati")  # UTC+14: already the next day
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert "(27 Nov 2030, 00:00 UTC+14, your time)" in _deadline_line(html)
    client.set_cookie("tz", "America/Sao_Paulo")  # west of UTC: a true minus sign
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert "(07:00 UTC\u22123, your time)" in _deadline_line(html)


def test_the_same_offset_is_not_repeated_and_utc_is_said_once(client, make_document):
    doc = _bangkok(make_document)
    client.set_cookie("tz", "Asia/Ho_Chi_Minh")  # UTC+7 as Bangkok
    line = _deadline_line(client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True))
    assert line.endswith("17:00 UTC+7 (26 Nov 2030, 10:00 UTC)") and "your time" not in line
    client.set_cookie("tz", "Europe/London")  # UTC+0 in November: the UTC time is theirs
    line = _deadline_line(client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True))
    assert line.endswith("17:00 UTC+7 (26 Nov 2030, 10:00 UTC, your time)")
    assert line.count("10:00") == 1


def test_an_unknown_cookie_is_ignored_and_without_one_pages_stay_as_before(client, make_document):
    doc = _bangkok(make_document)
    plain = _deadline_line(client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True))
    assert plain.endswith("26 Nov 2030, 17:00 UTC+7 (26 Nov 2030, 10:00 UTC)")
    for junk in ("Mars/Olympus_Mons", "../../etc/passwd", "WIB", "x" * 500):
        client.set_cookie("tz", junk)
        resp = client.get(f"/documents/{doc.slug}/versions/1")
        assert resp.status_code == 200
        assert _deadline_line(resp.get_data(as_text=True)) == plain


def test_the_accounts_zone_wins_over_the_browsers(client, as_user, make_document, make_user):
    doc = _bangkok(make_document)
    user = as_user(make_user("cso"))
    user.timezone = "Asia/Manila"
    db.session.commit()
    client.set_cookie("tz", "Asia/Yangon")
    line = _deadline_line(client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True))
    assert "(18:00 UTC+8, your time)" in line and "UTC+6:30" not in line


def test_the_account_page_saves_a_zone_and_refuses_an_unknown_one(client, as_user, make_user):
    user = as_user(make_user("cso"))
    page = client.get("/account").get_data(as_text=True)
    assert 'name="timezone"' in page and '<option value="Asia/Yangon">' in page
    resp = client.post("/account/timezone", data={"timezone": "Asia/Rangoon City"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "“Asia/Rangoon City” is not a time zone we know" in html
    assert 'aria-invalid="true"' in html and 'value="Asia/Rangoon City"' in html
    db.session.refresh(user)
    assert user.timezone is None
    resp = client.post("/account/timezone", data={"timezone": " Asia/Yangon "})
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.timezone == "Asia/Yangon"
    assert "times are also shown in Asia/Yangon" in client.get("/account").get_data(as_text=True)
    client.post("/account/timezone", data={"timezone": ""})
    db.session.refresh(user)
    assert user.timezone is None


def test_receipt_and_comment_page_say_when_it_was_received_in_the_readers_time(
    client, make_document, make_user
):
    doc = _bangkok(make_document)
    author = make_user("cso")
    c = post_comment(doc.latest, doc.latest.paragraphs[1], author)
    client.set_cookie("tz", "Asia/Yangon")
    for url in (f"/record/receipts/{c.tracking}", f"/comments/{c.id}"):
        html = client.get(url).get_data(as_text=True)
        received = re.search(r"<dt>Received</dt><dd>(.*?)</dd>", html, re.S)
        assert received, url
        assert "UTC+7" in received.group(1) and "UTC+6:30, your time" in received.group(1), url


def test_a_mail_carries_the_recipients_own_time(app, make_document, make_user):
    keen = make_user("cso", email="keen@example.org")
    keen.timezone = "Asia/Yangon"
    plain = make_user("cso", email="plain@example.org")
    for u in (keen, plain):
        set_notification(u, "consultation_opened", True)
    db.session.commit()
    doc = make_document("draft")
    doc.timezone = "Asia/Bangkok"
    secretariat = make_user("secretariat")
    db.session.commit()
    # published from the request of someone whose browser is in another zone: the
    # mails are in each recipient's zone, never the sender's
    with app.test_request_context(headers={"Cookie": "tz=Pacific/Kiritimati"}):
        docs.publish(doc.latest, by=secretariat, closes_at=DEADLINE)
        db.session.commit()
    render_waiting()
    mails = {
        m.to_email: m.body
        for m in db.session.scalars(
            select(MailOutbox).where(MailOutbox.kind == "consultation_opened")
        )
    }
    until = "until 26 Nov 2030, 17:00 UTC+7 (26 Nov 2030, 10:00 UTC) (16:30 UTC+6:30, your time)"
    assert until in mails["keen@example.org"]
    assert "your time" not in mails["plain@example.org"]
    assert "UTC+14" not in "".join(mails.values())
    assert "WIB" not in "".join(mails.values())


def test_the_receipt_mail_made_later_is_in_the_authors_time(make_document, make_user):
    doc = _bangkok(make_document)
    author = make_user("cso", email="author@example.org")
    author.timezone = "Asia/Manila"
    db.session.commit()
    c = post_comment(doc.latest, doc.latest.paragraphs[1], author)
    render_waiting()  # the receipt is made by the mail job, outside any request
    body = db.session.scalar(
        select(MailOutbox.body).where(MailOutbox.to_email == "author@example.org")
    )
    received = re.search(r"Received: (.*)", body).group(1)
    local = c.created_at.astimezone(UTC)
    assert received.startswith(local.strftime("%d %b %Y, %H:%M UTC"))
    assert received.endswith("UTC+8, your time)")


def test_no_abbreviation_names_a_zone(client, make_document):
    doc = _bangkok(make_document, zone="Asia/Jakarta")
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert "17:00 UTC+7" in html and "WIB" not in html


def test_every_page_loads_the_zone_script_from_a_file(client):
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<script src="/static/js/timezone\.js[^"]*" defer></script>', html)
    assert "<script>" not in html  # nothing inline: the CSP allows scripts from files only
    script = client.get("/static/js/timezone.js")
    assert script.status_code == 200
    assert b"resolvedOptions().timeZone" in script.data and b"tz=" in script.data


@pytest.mark.browser
def test_a_browser_in_yangon_tells_its_zone_and_then_sees_its_time(
    live_server,  # noqa: F811  (the fixtures of test_browser)
    browser,  # noqa: F811
    make_document,
):
    doc = _bangkok(make_document)
    context = browser.new_context(timezone_id="Asia/Yangon")
    page = context.new_page()
    url = f"{live_server}/documents/{doc.slug}/versions/1"
    page.goto(url)
    page.wait_for_load_state("load")
    # chromium's ICU may give the older name of the same zone (Asia/Rangoon): both known
    assert {c["name"]: c["value"] for c in context.cookies()}.get("tz") in (
        "Asia/Yangon",
        "Asia/Rangoon",
    )
    page.goto(url)
    assert "(16:30 UTC+6:30, your time)" in page.inner_text("span.deadline")
    context.close()
    # without JavaScript nothing is set, and the page shows the document's zone and UTC
    quiet = browser.new_context(timezone_id="Asia/Yangon", java_script_enabled=False)
    page = quiet.new_page()
    page.goto(url)
    page.goto(url)
    assert not quiet.cookies() or "tz" not in {c["name"] for c in quiet.cookies()}
    assert page.inner_text("span.deadline").endswith("17:00 UTC+7 (26 Nov 2030, 10:00 UTC)")
    quiet.close()
