"""Comments by e-mail: a message sent with smtplib to the running aiosmtpd receiver waits
in the intake queue, the secretariat confirms it through the API, and it ends as a
comment (channel email) with its PDF attached, listed with its sha256 and found by
search; automatic messages, oversized ones, unknown senders, forged senders, replies to
the "consultation opened" mail, and the IMAP fetch."""

from __future__ import annotations

import hashlib
import json
import smtplib
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.consultation.models import Comment
from consult.extensions import db
from consult.intake.models import IntakeMessage
from consult.mail.models import MailOutbox
from consult.record.models import Event

from .attachment_files import make_pdf
from .conftest import assert_error, bearer, count

DOMAIN = "consult.example"
PHRASE = "mangrove restoration needs village budgets"


@pytest.fixture
def mail_in(app, monkeypatch):
    """start() → the port of a receiver running in its own thread on 127.0.0.1, with the
    configuration as the test set it."""
    from consult.intake.smtp import receiver

    monkeypatch.setitem(app.config, "MAIL_IN_DOMAIN", DOMAIN)
    started = []

    def start() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = receiver(app, "127.0.0.1", port)
        server.start()
        started.append(server)
        return port

    yield start
    for server in started:
        server.stop()


def _message(
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    files: list[tuple[str, str, bytes]] = (),
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Someone <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{hashlib.sha256((subject + body).encode()).hexdigest()[:16]}@mua>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    for name, ctype, data in files:
        main, sub = ctype.split("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def _send(port: int, msg: EmailMessage, *, envelope_from: str | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(
            msg, from_addr=msg["From"].addresses[0].addr_spec if envelope_from is None else ""
        )


def _queued() -> list[IntakeMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(IntakeMessage).order_by(IntakeMessage.id)))


def test_an_email_to_the_receiver_ends_as_a_confirmed_comment_found_by_search(
    app, client, mail_in, make_document, make_user
):
    doc = make_document("consultation", slug="aipa-framework")
    v = doc.latest
    member = make_user("cso")
    org = member.organisation
    pdf = make_pdf(["Position paper of our network", f"We find that {PHRASE}."])
    port = mail_in()
    msg = _message(
        member.email,
        f"aipa-framework@{DOMAIN}",
        "Re ¶ 2.1: hearings",
        "Hearings should be held in the provinces too.\n\n-- \nOur network\n",
        files=[("position-paper.pdf", "application/pdf", pdf)],
    )
    _send(port, msg)

    [m] = _queued()
    assert m.status == "waiting" and m.via == "smtp"
    assert (m.version_id, m.paragraph.number, m.organisation_id) == (v.id, "2.1", org.id)
    assert m.flags == []
    assert m.body == "Hearings should be held in the provinces too."
    stored = Path(app.config["INTAKE_DIR"]) / m.sha256[:2] / m.sha256[2:]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == m.sha256
    assert b"Hearings should be held" in stored.read_bytes()
    assert count(Comment) == 0, "nothing received by mail is published directly"

    sec = bearer(make_user("secretariat"))
    waiting = client.get("/api/v1/intake", headers=sec).get_json()
    assert waiting["total"] == 1 and waiting["messages"][0]["paragraph"]["number"] == "2.1"
    assert waiting["messages"][0]["files"][0]["sha256"] == hashlib.sha256(pdf).hexdigest()

    resp = client.post(
        f"/api/v1/intake/{m.id}/confirm",
        json={"organisation": org.slug, "paragraph": m.paragraph_id},
        headers=sec,
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    c = resp.get_json()
    assert c["channel"] == "email" and c["organisation"]["slug"] == org.slug
    assert c["body"] == "Hearings should be held in the provinces too."
    [a] = c["attachments"]
    assert a["name"] == "position-paper.pdf" and a["type"] == "application/pdf"
    assert a["sha256"] == hashlib.sha256(pdf).hexdigest() and a["size"] == len(pdf)
    assert a["text"] == "text extracted"
    assert client.get(a["links"]["download"]).get_data() == pdf

    again = client.get(f"/api/v1/comments/{c['id']}").get_json()
    assert [x["sha256"] for x in again["attachments"]] == [a["sha256"]]

    found = client.get("/api/v1/search", query_string={"q": f'"{PHRASE}"'}).get_json()
    hits = [h for h in found["hits"] if h["type"] == "comment"]
    assert [h["id"] for h in hits] == [c["id"]]
    assert hits[0]["matched_in"] == "attachments"
    assert "<mark>" in hits[0]["snippet"]
    page = client.get("/search", query_string={"q": f'"{PHRASE}"'}).get_data(as_text=True)
    assert "found in an attached file" in page

    events = {
        e.kind: json.loads(e.payload) for e in db.session.scalars(select(Event).order_by(Event.seq))
    }
    assert events["intake.confirmed"]["message_sha256"] == m.sha256
    assert events["intake.confirmed"]["comment"] == c["tracking"]
    assert events["attachment.added"]["sha256"] == a["sha256"]
    assert events["comment.posted"]["channel"] == "email"
    [ack] = db.session.scalars(select(MailOutbox).where(MailOutbox.kind == "intake_ack")).all()
    assert ack.to_email == member.email and c["tracking"] in ack.body
    assert m.sha256 in ack.body and a["sha256"] in ack.body
    # The acknowledgment is an automatic answer to that message (RFC 3834), threaded under it.
    from consult.mail.outbox import message

    sent = message(ack, app)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == msg["Message-ID"] == sent["References"]
    assert sent["X-Auto-Response-Suppress"] == "All"

    # Confirmed once: a second decision is refused.
    assert_error(
        client.post(f"/api/v1/intake/{m.id}/reject", json={"reason": "dup"}, headers=sec), 409
    )


@pytest.mark.parametrize(
    "headers, envelope_from",
    [
        ({"Auto-Submitted": "auto-replied"}, None),
        ({"Precedence": "bulk"}, None),
        ({"Precedence": "list"}, None),
        ({}, ""),  # a bounce: empty return path
    ],
    ids=["auto-reply", "bulk", "list", "bounce"],
)
def test_automatic_messages_are_dropped_and_never_answered(
    mail_in, make_document, make_user, headers, envelope_from
):
    make_document("consultation", slug="loops")
    member = make_user("cso")
    port = mail_in()
    msg = _message(member.email, f"loops@{DOMAIN}", "Out of office", "I am away.", headers=headers)
    _send(port, msg, envelope_from=envelope_from)
    assert _queued() == []
    assert count(MailOutbox) == 0


def test_a_bounce_from_the_mailer_daemon_is_dropped(mail_in, make_document):
    make_document("consultation", slug="daemon")
    port = mail_in()
    _send(port, _message("MAILER-DAEMON@mx.example", f"daemon@{DOMAIN}", "Undelivered", "x"))
    assert _queued() == []


def test_an_oversized_message_is_refused_at_smtp_with_552(app, mail_in, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_IN_MAX_BYTES", 20_000)
    port = mail_in()
    big = _message(
        "a@example.org",
        f"x@{DOMAIN}",
        "Long",
        "text",
        files=[("big.pdf", "application/pdf", make_pdf(["x" * 80] * 400) + b"%" * 30_000)],
    )
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
        _send(port, big)
    assert refused.value.smtp_code == 552
    assert _queued() == []


def test_mail_for_another_domain_is_refused(mail_in):
    port = mail_in()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(port, _message("a@example.org", "someone@elsewhere.example", "Hi", "x"))
    assert next(iter(refused.value.recipients.values()))[0] == 550


def test_unknown_and_forged_senders_are_kept_for_the_secretariat_flagged(
    client, mail_in, make_document, make_user
):
    doc = make_document("consultation", slug="flags")
    member = make_user("cso")
    port = mail_in()
    _send(port, _message("stranger@elsewhere.org", f"flags@{DOMAIN}", "¶ 1.2", "Who answers?"))
    forged = _message(
        member.email,
        f"flags@{DOMAIN}",
        "paragraph 1.1",
        "Agree.",
        headers={
            "Authentication-Results": "mx.consult.example; spf=fail smtp.mailfrom=example.org; "
            "dkim=none"
        },
    )
    _send(port, forged)
    unknown, spoofed = _queued()
    assert unknown.flags == ["unknown_sender"] and unknown.organisation_id is None
    assert unknown.paragraph.number == "1.2" and unknown.version_id == doc.latest.id
    assert "spoofed" in spoofed.flags and spoofed.organisation_id == member.organisation.id

    sec = make_user("secretariat")
    from .conftest import PASSWORD  # noqa: F401 - signs in below through the session

    with client.session_transaction() as s:
        s["_user_id"] = sec.get_id()
    page = client.get("/intake").get_data(as_text=True)
    assert "unknown sender" in page and "may be forged" in page
    one = client.get(f"/intake/{unknown.id}").get_data(as_text=True)
    assert "Who answers?" in one and unknown.sha256 in one
    eml = client.get(f"/intake/{unknown.id}/original")
    assert eml.headers["Content-Type"] == "message/rfc822" and b"Who answers?" in eml.data

    # The secretariat rejects the unknown sender's message with a reason: nothing published.
    api = bearer(sec)
    assert_error(
        client.post(f"/api/v1/intake/{unknown.id}/reject", json={"reason": ""}, headers=api),
        400,
    )
    resp = client.post(
        f"/api/v1/intake/{unknown.id}/reject", json={"reason": "Not a CSO."}, headers=api
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "rejected"
    assert count(Comment) == 0 and count(MailOutbox) == 0
    ev = db.session.scalar(select(Event).where(Event.kind == "intake.rejected"))
    assert json.loads(ev.payload)["message_sha256"] == unknown.sha256


def test_the_paragraph_is_found_from_the_quoted_text(mail_in, make_document, make_user):
    make_document("consultation", slug="quoted")
    member = make_user("cso")
    port = mail_in()
    body = (
        "We would add 'and in writing'.\n\n"
        "On Mon, 1 Dec 2026, Consult wrote:\n"
        "> Every submission receives a written\n> answer.\n"
    )
    _send(port, _message(member.email, f"quoted@{DOMAIN}", "Our view", body))
    [m] = _queued()
    assert m.paragraph.number == "1.2" and m.body == "We would add 'and in writing'."


def test_a_reply_to_the_consultation_opened_mail_finds_its_consultation(
    app, mail_in, make_document, make_user
):
    from consult.mail import set_notification
    from consult.mail.outbox import message

    member = make_user("cso")
    set_notification(member, "consultation_opened", True)
    db.session.commit()
    doc = make_document("consultation", slug="replied")
    opened = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "consultation_opened"))
    original = message(opened, app)
    port = mail_in()
    reply = _message(
        member.email,
        f"consult@{DOMAIN}",
        "Re: " + opened.subject + " — re 2.2",
        "Paper submissions must stay free.",
        headers={"In-Reply-To": original["Message-ID"], "References": original["Message-ID"]},
    )
    _send(port, reply)
    [m] = _queued()
    assert m.version_id == doc.latest.id and m.paragraph.number == "2.2"


def test_only_the_secretariat_sees_and_decides_the_queue(client, mail_in, make_user):
    cso = bearer(make_user("cso"))
    assert_error(client.get("/api/v1/intake", headers=cso), 403)
    assert_error(client.get("/api/v1/intake"), 401)
    assert_error(
        client.post("/api/v1/intake/1/confirm", json={"organisation": "x"}, headers=cso), 403
    )


def test_confirming_needs_a_real_organisation_and_paragraph(
    client, mail_in, make_document, make_user
):
    make_document("consultation", slug="confirm-checks")
    port = mail_in()
    _send(port, _message("x@elsewhere.org", f"confirm-checks@{DOMAIN}", "hello", "A view."))
    [m] = _queued()
    sec = bearer(make_user("secretariat"))
    url = f"/api/v1/intake/{m.id}/confirm"
    assert_error(client.post(url, json={"organisation": "nobody"}, headers=sec), 400)
    org = make_user("cso").organisation
    assert_error(
        client.post(url, json={"organisation": org.slug, "paragraph": 999_999}, headers=sec), 400
    )
    assert_error(client.post(url, json={"paragraph": 1}, headers=sec), 400)
    assert count(Comment) == 0
    # Without a paragraph: a comment on the version as a whole.
    resp = client.post(url, json={"organisation": org.slug}, headers=sec)
    assert resp.status_code == 201 and resp.get_json()["paragraph"] is None


# --- IMAP ----------------------------------------------------------------------------------------


class FakeIMAP:
    """The part of imaplib.IMAP4's interface mail-fetch uses, over messages in memory."""

    def __init__(self, messages: dict[int, bytes]):
        self.messages = messages
        self.flags: dict[int, set[str]] = {uid: set() for uid in messages}
        self.selected = None
        self.logged_out = False

    def select(self, folder):
        self.selected = folder
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command, *args):
        if command == "SEARCH":
            found = [
                str(u).encode()
                for u in self.messages
                if "\\Seen" not in self.flags[u] and "$ConsultTooLarge" not in self.flags[u]
            ]
            return "OK", [b" ".join(found)]
        uid = int(args[0])
        if command == "FETCH" and "RFC822.SIZE" in args[1]:
            return "OK", [f"1 (UID {uid} RFC822.SIZE {len(self.messages[uid])})".encode()]
        if command == "FETCH":
            return "OK", [(f"1 (UID {uid} BODY[] {{n}}".encode(), self.messages[uid]), b")"]
        if command == "STORE":
            self.flags[uid].add(args[2].strip("()"))
            return "OK", [b""]
        raise AssertionError(command)

    def logout(self):
        self.logged_out = True
        return "BYE", [b""]


def test_mail_fetch_reads_unseen_messages_from_an_imap_box(app, make_document, make_user):
    from consult.intake.imap import fetch

    app.config["IMAP_URL"] = "imaps://intake%40consult.example:secret@imap.example/Comments"
    app.config["MAIL_IN_DOMAIN"] = DOMAIN
    app.config["MAIL_IN_MAX_BYTES"] = 50_000
    try:
        make_document("consultation", slug="by-imap")
        member = make_user("cso")
        ok = _message(member.email, f"by-imap@{DOMAIN}", "¶ 1.1", "Agreed, with a caveat.")
        auto = _message(
            member.email,
            f"by-imap@{DOMAIN}",
            "Away",
            "x",
            headers={"Auto-Submitted": "auto-replied"},
        )
        big = _message(member.email, f"by-imap@{DOMAIN}", "Big", "y" * 60_000)
        box = FakeIMAP({1: ok.as_bytes(), 2: auto.as_bytes(), 3: big.as_bytes()})
        seen = []
        result = fetch(app, open_mailbox=lambda mb: seen.append(mb) or box)
        assert (result.queued, result.dropped, result.too_large) == (1, 1, 1)
        assert seen[0].user == "intake@consult.example" and seen[0].folder == "Comments"
        assert box.flags[1] == {"\\Seen"} and box.flags[3] == {"$ConsultTooLarge"}
        assert box.logged_out
        [m] = _queued()
        assert m.via == "imap" and m.paragraph.number == "1.1"
        # A second run finds nothing new; the same bytes again are stored once.
        assert fetch(app, open_mailbox=lambda mb: box).queued == 0
        again = FakeIMAP({7: ok.as_bytes()})
        assert fetch(app, open_mailbox=lambda mb: again).duplicates == 1
        assert len(_queued()) == 1
    finally:
        app.config["IMAP_URL"] = ""
        app.config["MAIL_IN_DOMAIN"] = ""
        app.config["MAIL_IN_MAX_BYTES"] = 15 * 1024 * 1024


def test_mail_fetch_without_a_mailbox_says_what_to_set(runner):
    result = runner.invoke(args=["mail-fetch"])
    assert result.exit_code == 1 and "CONSULT_IMAP_URL" in result.output


# --- reading a message (pure functions) ----------------------------------------------------------


@pytest.mark.parametrize(
    "subject, number",
    [
        ("Re ¶ 2.3: hearings", "2.3"),
        ("¶2.3", "2.3"),
        ("Comment on paragraph 4", "4"),
        ("para. 1.2.1 is unclear", "1.2.1"),
        ("Re: re 2.3", "2.3"),
        ("§ 3.1", "3.1"),
        ("Re: Open for comments: Framework, Version 2", None),
        ("Our 2 cents on paragraphs", None),
    ],
)
def test_the_paragraph_number_in_a_subject(subject, number):
    from consult.intake.parse import paragraph_number

    assert paragraph_number(subject) == number


def test_what_makes_a_message_automatic_or_forged():
    from consult.intake.parse import parse

    def raw(**headers):
        return _message("a@example.org", "x@y.example", "s", "b", headers=headers).as_bytes()

    assert parse(raw()).loop is None and parse(raw()).auth_failure is None
    assert parse(raw(**{"Auto-Submitted": "no"})).loop is None
    assert parse(raw(**{"Auto-Submitted": "auto-generated"})).loop
    assert parse(raw(**{"Precedence": "junk"})).loop
    assert parse(raw(**{"List-Id": "<cso.lists.example>"})).loop
    assert parse(raw(), envelope_from="").loop == "a bounce (empty return path)"
    dkim = {"Authentication-Results": "mx.example; spf=pass smtp.mailfrom=a; dkim=fail"}
    assert parse(raw(**dkim)).auth_failure == "dkim=fail"
    assert parse(raw(**{"Received-SPF": "Fail (domain does not designate)"})).auth_failure
    assert parse(raw(**{"Authentication-Results": "mx; spf=pass; dkim=pass"})).auth_failure is None


def test_a_flood_from_one_sender_is_deferred_with_450_and_nothing_is_lost(
    app, mail_in, make_document, monkeypatch
):
    make_document("consultation", slug="aipa-framework")
    monkeypatch.setitem(app.config, "MAIL_IN_PER_SENDER_HOUR", 3)
    port = mail_in()
    to = f"aipa-framework@{DOMAIN}"
    for i in range(3):
        _send(port, _message("loop@example.org", to, f"Note {i}", f"Point {i}"))
    # The fourth within the hour: the sending server is told to try again later.
    with pytest.raises(smtplib.SMTPDataError) as deferred:
        _send(port, _message("loop@example.org", to, "Note 3", "Point 3"))
    assert deferred.value.smtp_code == 450
    assert b"Too many messages" in deferred.value.smtp_error
    # Another sender is not held back by it.
    _send(port, _message("other@example.org", to, "Mine", "My point"))
    assert [m.subject for m in _queued()] == ["Note 0", "Note 1", "Note 2", "Mine"]
    # When the server tries again after the hour, the message is taken.
    monkeypatch.setitem(app.config, "MAIL_IN_PER_SENDER_HOUR", 30)
    _send(port, _message("loop@example.org", to, "Note 3", "Point 3"))
    assert [m.subject for m in _queued()][-1] == "Note 3"


def test_every_mail_consult_sends_says_it_is_automatic(app, make_user):
    from consult.mail.outbox import message, queue

    user = make_user("cso")
    row = queue(user, "account", "Reset", "password_reset", token="t0k3n")
    db.session.commit()
    sent = message(row, app)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["In-Reply-To"] is None
