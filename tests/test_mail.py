"""Mail: what the outbox holds for each notification, one-click unsubscribe, the
"closing soon" notice, and sending through a real SMTP server (aiosmtpd) started by
the test, the file backend and a server that is down."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from consult.config import ConfigError, load
from consult.consultation import services as consultation
from consult.documents import services as docs
from consult.extensions import db
from consult.mail import set_notification, settings_of
from consult.mail.models import MailOutbox
from consult.mail.notify import queue_closing_soon
from consult.mail.outbox import render_waiting, send_pending


def outbox(**where) -> list[MailOutbox]:
    """The mails as they are sent: those made when sent (the receipt) are made first."""
    render_waiting()
    q = select(MailOutbox).order_by(MailOutbox.id)
    for k, v in where.items():
        q = q.where(getattr(MailOutbox, k) == v)
    return list(db.session.scalars(q))


def unsubscribe_path(body: str) -> str:
    m = re.search(r"https?://[^/\s]+(/unsubscribe/[^\s]+)", body)
    assert m, body
    return m.group(1)


def _post(doc, member, **kw):
    c = consultation.post_comment(
        version=doc.latest,
        paragraph=doc.latest.paragraphs[2],
        organisation=member.organisation,
        kind="comment",
        body=kw.pop("body", "Name a contact point."),
        by=member,
        **kw,
    )
    db.session.commit()
    return c


def test_receipt_response_and_unsubscribe(client, make_document, make_user):
    doc = make_document("consultation")
    member = make_user("cso", email="mali@example.org", name="Mali Srisuk")
    c = _post(doc, member)
    [receipt] = outbox(to_email="mali@example.org", kind="receipt")
    assert receipt.subject.startswith(f"Receipt {c.tracking}")
    assert c.content_hash in receipt.body and f"/comments/{c.id}" in receipt.body
    assert "Turn it off with one click" in receipt.body

    sec = make_user("secretariat")
    docs.close(doc.latest, by=sec)
    consultation.respond(c, decision="noted", reason="We keep it in mind.", by=sec)
    db.session.commit()
    [answer] = outbox(kind="response")
    assert answer.to_email == "mali@example.org"
    assert "Noted" in answer.subject and "We keep it in mind." in answer.body
    assert f"/organisations/{member.organisation.slug}/input" in answer.body

    # The link needs no sign-in: a page with one button, and mail programs post to it.
    path = unsubscribe_path(answer.body)
    page = client.get(path)
    assert page.status_code == 200 and "The committee answers a comment" in page.get_data(
        as_text=True
    )
    assert settings_of(member)["response"] is True  # looking does not unsubscribe
    assert client.post(path).status_code == 200
    assert settings_of(member)["response"] is False and settings_of(member)["receipt"] is True
    consultation.respond(c, decision="accepted", reason="On second thoughts, yes.", by=sec)
    db.session.commit()
    assert len(outbox(kind="response")) == 1  # nothing new queued
    assert client.get("/unsubscribe/forged-token").status_code == 400


def test_consultation_opened_goes_to_members_who_opted_in(make_document, make_user):
    keen = make_user("cso", email="keen@example.org")
    make_user("cso", email="quiet@example.org")
    set_notification(keen, "consultation_opened", True)
    db.session.commit()
    doc = make_document("consultation")
    mails = outbox(kind="consultation_opened")
    assert [m.to_email for m in mails] == ["keen@example.org"]
    assert f"/documents/{doc.slug}/versions/1" in mails[0].body


def test_closing_soon_is_queued_once_per_version_and_person(runner, make_document, make_user):
    keen = make_user("cso", email="keen@example.org")
    set_notification(keen, "closing_soon", True)
    db.session.commit()
    make_document("consultation", days=7)  # not yet
    soon = make_document("consultation", days=1)
    assert queue_closing_soon() == 1
    assert queue_closing_soon() == 0
    [mail] = outbox(kind="closing_soon")
    assert f"/documents/{soon.slug}/versions/1" in mail.body and "48 hours" in mail.body
    r = runner.invoke(args=["send-mail"])
    assert r.exit_code == 0, r.output
    assert "Sent" in r.output and "0 waiting" in r.output
    assert db.session.scalar(select(func.count()).where(MailOutbox.sent_at.is_(None))) == 0


class Sink:
    def __init__(self):
        self.envelopes = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    sink = Sink()

    def authenticate(server, session, envelope, mechanism, auth_data):
        sink.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield controller, sink
    controller.stop()


def test_send_mail_through_a_real_smtp_server(
    app, runner, monkeypatch, smtp_server, make_document, make_user
):
    controller, sink = smtp_server
    for key, value in {
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": controller.port,
        "SMTP_TLS": "none",
        "SMTP_USER": "consult",
        "SMTP_PASSWORD": "s3cret",
        "MAIL_FROM": "Consult <consult@example.org>",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    doc = make_document("consultation")
    member = make_user("cso", email="mali@example.org")
    c = _post(doc, member)
    r = runner.invoke(args=["send-mail"])
    assert r.exit_code == 0, r.output
    assert "Sent 1 mail (smtp); 0 failed, 0 waiting." in r.output
    assert sink.logins == [(b"consult", b"s3cret")]
    [env] = sink.envelopes
    assert env.rcpt_tos == ["mali@example.org"] and env.mail_from == "consult@example.org"
    msg = message_from_bytes(env.content, policy=default_policy)
    assert msg["Subject"].startswith(f"Receipt {c.tracking}")
    assert msg["From"] == "Consult <consult@example.org>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://\S+/unsubscribe/\S+>", msg["List-Unsubscribe"])
    assert b"=?utf-8?" not in env.content.split(b"\r\n\r\n")[0]  # headers readable as sent
    assert c.tracking in msg.get_content()
    [row] = outbox()
    assert row.sent_at is not None and row.attempts == 1
    # Sent mail is never sent again.
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    assert len(sink.envelopes) == 1


def test_a_mail_server_that_is_down_keeps_mail_queued(
    app, runner, monkeypatch, make_document, make_user
):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", _free_port())  # nobody listens there
    monkeypatch.setitem(app.config, "SMTP_TLS", "none")
    doc = make_document("consultation")
    _post(doc, make_user("cso"))
    r = runner.invoke(args=["send-mail"])
    assert r.exit_code == 1
    assert "Sent 0 mails (smtp); 1 failed, 1 waiting." in r.output
    [row] = outbox()
    assert row.sent_at is None and row.attempts == 1 and "ConnectionRefusedError" in row.last_error


def test_file_backend_writes_eml_files(app, monkeypatch, tmp_path, make_document, make_user):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    doc = make_document("consultation")
    c = _post(doc, make_user("cso", email="mali@example.org"))
    result = send_pending(app)
    assert (result.sent, result.failed, result.left) == (1, 0, 0)
    [eml] = list(tmp_path.glob("*.eml"))
    msg = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert msg["To"] == "mali@example.org" and c.tracking in msg["Subject"]


def test_account_page_saves_choices(client, login, make_user):
    user = login(make_user("cso"))
    page = client.get("/account").get_data(as_text=True)
    assert 'name="notify" value="consultation_opened"' in page
    resp = client.post("/account/notifications", data={"notify": ["consultation_opened", "reply"]})
    assert resp.status_code == 302
    chosen = settings_of(user)
    assert chosen["consultation_opened"] and chosen["reply"]
    assert not chosen["receipt"] and not chosen["response"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONSULT_MAIL_BACKEND": "pigeon"}, "CONSULT_MAIL_BACKEND='pigeon' is not known"),
        ({"CONSULT_MAIL_BACKEND": "smtp"}, "needs CONSULT_SMTP_HOST"),
        ({"CONSULT_SMTP_HOST": "mail.example.org", "CONSULT_SMTP_PORT": "x"}, "not a port"),
        ({"CONSULT_SMTP_HOST": "mail.example.org", "CONSULT_SMTP_TLS": "maybe"}, "starttls, ssl"),
    ],
)
def test_bad_mail_settings_say_what_to_fix(monkeypatch, tmp_path, env, message):
    for key in (
        "CONSULT_MAIL_BACKEND",
        "CONSULT_SMTP_HOST",
        "CONSULT_SMTP_PORT",
        "CONSULT_SMTP_TLS",
    ):
        monkeypatch.delenv(key, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(str(tmp_path))


def test_smtp_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSULT_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("CONSULT_SMTP_TLS", "ssl")
    monkeypatch.delenv("CONSULT_SMTP_PORT", raising=False)
    monkeypatch.delenv("CONSULT_MAIL_BACKEND", raising=False)
    conf = load(str(tmp_path))
    assert (conf["MAIL_BACKEND"], conf["SMTP_PORT"], conf["SMTP_TLS"]) == ("smtp", 465, "ssl")


def test_versions_drafted_do_not_notify(make_document, make_user):
    keen = make_user("cso")
    set_notification(keen, "consultation_opened", True)
    db.session.commit()
    make_document("draft")
    assert outbox(kind="consultation_opened") == []


def test_replaying_the_past_queues_no_mail(make_document, make_user):
    from consult.timeutil import clock, utcnow

    doc = make_document("consultation")
    member = make_user("cso")
    with clock(utcnow()):
        _post(doc, member)
    assert outbox() == []
    _post(doc, member, body="Now, live.")
    assert len(outbox(kind="receipt")) == 1


def test_a_reply_tells_the_comment_author_but_not_the_replier(make_document, make_user):
    doc = make_document("consultation")
    author = make_user("cso", email="mali@example.org")
    c = _post(doc, author)
    consultation.post_reply(c, body="We agree with this.", by=make_user("cso"))
    consultation.post_reply(c, body="Thank you.", by=author)
    db.session.commit()
    mails = outbox(kind="reply")
    assert [m.to_email for m in mails] == ["mali@example.org"]
    assert c.tracking in mails[0].subject and f"/comments/{c.id}" in mails[0].body


def test_the_mail_job_holds_no_write_while_it_makes_or_sends_mails(
    app, make_document, make_user, monkeypatch
):
    """On SQLite a write holds the whole database until the commit: the receipts are made
    before anything is written, and each mail is sent before its row is written."""
    from sqlalchemy import event

    from consult.mail import outbox as mail_outbox

    doc = make_document("consultation")
    members = [make_user("cso", email=f"m{n}@example.org") for n in range(3)]
    for member in members:
        _post(doc, member, body=f"A comment from {member.email}.")
    # One who turned receipts off after posting: set aside in the same batch, also
    # without a write until the receipts are made.
    quiet = make_user("cso", email="quiet@example.org")
    _post(doc, quiet, body="No receipt for me.")
    set_notification(quiet, "receipt", False)
    db.session.commit()
    steps: list[str] = []

    def on_execute(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            steps.append("write")

    receipt = mail_outbox.RENDER_LATER["receipt"]

    def making(row, batch):
        steps.append("make")
        return receipt(row, batch)

    class Watching(mail_outbox.Backend):
        def send(self, msg):
            steps.append("send")

    monkeypatch.setitem(mail_outbox.RENDER_LATER, "receipt", making)
    monkeypatch.setitem(mail_outbox.BACKENDS, "watching", Watching)
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "watching")
    event.listen(db.engine, "before_cursor_execute", on_execute)
    with event_listening(db.engine, "commit", lambda conn: steps.append("commit")):
        try:
            result = send_pending(app)
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)
    assert result.sent == 3 and result.failed == 0
    # The three receipts made one after the other with nothing written in between (what
    # comes first, the record's entries placed in its tree, is committed before)…
    first_send = steps.index("send")
    making = steps[:first_send]
    first_make, last_make = making.index("make"), len(making) - 1 - making[::-1].index("make")
    assert making.count("make") == 3
    prepared = first_make - 1 - making[:first_make][::-1].index("commit")
    assert "write" not in making[prepared:last_make], making
    assert "write" in making[last_make + 1 :]  # then written at once, and committed
    assert making[-1] == "commit"
    # …then each mail sent with nothing written since the last commit.
    sending = steps[first_send:]
    while sending:
        assert sending[0] == "send", sending
        end = sending.index("commit") + 1
        sending = sending[end:]
    rows = db.session.scalars(select(MailOutbox).where(MailOutbox.kind == "receipt")).all()
    sent = [r for r in rows if r.to_email != "quiet@example.org"]
    assert {r.attempts for r in sent} == {1} and all(r.sent_at for r in sent)
    [aside] = [r for r in rows if r.to_email == "quiet@example.org"]
    assert aside.sent_at is None and "turned this notification off" in aside.last_error


class event_listening:
    """A SQLAlchemy event listener for the duration of a `with` block."""

    def __init__(self, target, name, fn):
        self.target, self.name, self.fn = target, name, fn

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.target, self.name, self.fn)

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.target, self.name, self.fn)


@pytest.mark.parametrize(
    "subject",
    ["Receipt AB12-CD34: your comment on the framework", "ใบรับความเห็น AB12-CD34: กรอบนโยบาย"],
)
def test_a_mail_is_written_as_the_default_policy_writes_it(app, monkeypatch, make_user, subject):
    """The sending policy keeps plain ASCII header values as given instead of parsing
    them: the mail's bytes are those Python's default policy makes, in any language."""
    from consult.mail import outbox as mail_outbox

    user = make_user("cso", email="mali@example.org")
    row = mail_outbox.queue(user, "account", subject, "password_reset", token="t0k3n")
    db.session.commit()
    monkeypatch.setattr(mail_outbox, "make_msgid", lambda idstring: f"<{idstring}@consult>")
    fast = mail_outbox.message(row, app).as_bytes()
    monkeypatch.setattr(mail_outbox, "SENDING", default_policy.clone(max_line_length=998))
    assert fast == mail_outbox.message(row, app).as_bytes()
    msg = message_from_bytes(fast, policy=default_policy)
    assert msg["Subject"] == subject and msg["To"] == "mali@example.org"
    assert msg["Message-ID"] == f"<consult-{row.id}@consult>"


def test_a_line_break_in_a_header_is_refused(app, make_user):
    from consult.mail import outbox as mail_outbox

    user = make_user("cso", email="mali@example.org")
    row = mail_outbox.queue(user, "account", "Reset", "password_reset", token="t0k3n")
    row.to_email = "mali@example.org\r\nBcc: everyone@example.org"
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        mail_outbox.message(row, app)
    db.session.rollback()


def test_a_receipt_turned_off_is_set_aside_when_it_is_made(app, make_document, make_user):
    """The request does not read the choice (the receipt is made by the mail job): the
    job reads it for its whole batch, so turning receipts off, even after posting,
    means no receipt is sent."""
    doc = make_document("consultation")
    quiet = make_user("cso", email="quiet@example.org")
    keen = make_user("cso", email="keen@example.org")
    set_notification(quiet, "receipt", False)
    db.session.commit()
    _post(doc, quiet, body="No receipt, please.")
    late = _post(doc, keen, body="I turn it off after posting.")
    _post(doc, keen, body="Posted before I turn it off, too.")
    set_notification(keen, "receipt", False)
    db.session.commit()
    keen_too = make_user("cso", email="keen2@example.org")
    kept = _post(doc, keen_too, body="I want mine.")

    result = send_pending(app)
    assert (result.sent, result.failed, result.left) == (1, 0, 0)
    rows = list(db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)))
    sent = [r for r in rows if r.sent_at is not None]
    assert [r.to_email for r in sent] == ["keen2@example.org"]
    assert kept.tracking in sent[0].subject and late.tracking not in sent[0].subject
    aside = [r for r in rows if r.sent_at is None]
    assert sorted(r.to_email for r in aside) == [
        "keen@example.org",
        "keen@example.org",
        "quiet@example.org",
    ]
    assert all("turned this notification off" in r.last_error for r in aside)
    assert send_pending(app).sent == 0  # set aside for good


def test_send_mail_refuses_a_limit_of_nothing(runner, make_document, make_user):
    doc = make_document("consultation")
    _post(doc, make_user("cso", email="mali@example.org"))
    r = runner.invoke(args=["send-mail", "--limit", "0"])
    assert r.exit_code != 0 and "0 is not in the range 1<=x<=10000" in r.output
    [row] = outbox()  # nothing lost: the receipt waits for a pass that sends it
    assert row.sent_at is None and row.attempts == 0
    assert runner.invoke(args=["send-mail", "--limit", "1"]).exit_code == 0
    assert outbox()[0].sent_at is not None
