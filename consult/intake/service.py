"""Receiving messages into the intake queue, and the secretariat's decisions on them.

Services flush; the caller commits (the receiver and mail-fetch commit each message).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from consult import blobs, signals
from consult.accounts.models import Organisation, User
from consult.consultation import attachments as files
from consult.consultation.models import KINDS, Comment
from consult.consultation.services import MAX_BODY, MAX_REASON, post_comment
from consult.documents.models import Document, Paragraph, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import sha256 as text_sha256
from consult.intake import parse
from consult.intake.models import IntakeMessage
from consult.timeutil import utcnow

log = logging.getLogger(__name__)


class MessageTooLarge(ConsultError):
    status = 413
    code = "message_too_large"


class TooManyMessages(ConsultError):
    """More messages from one sender in the last hour than MAIL_IN_PER_SENDER_HOUR: the
    receiver answers 450 (the sending server tries again later), mail-fetch leaves the
    message unread for the next run. Nothing is lost, and a loop cannot fill the queue."""

    status = 429
    code = "too_many_messages"


@dataclass
class Received:
    """What became of one incoming message."""

    #: The queued message (None when it was dropped).
    message: IntakeMessage | None
    #: Why it was dropped (an automatic message), or None.
    dropped: str | None = None
    #: True when the same message (Message-ID and bytes) was queued before.
    duplicate: bool = False


def receive(raw: bytes, *, via: str, envelope_from: str | None = None, envelope_to=()) -> Received:
    """Read one message and queue it for the secretariat: the raw bytes are stored
    (content-addressed, by sha256), the consultation, paragraph and organisation are
    guessed and flagged where unsure. Automatic messages (auto-replies, bounces, lists)
    are dropped and never answered. Nothing is published."""
    limit = current_app.config["MAIL_IN_MAX_BYTES"]
    if len(raw) > limit:
        raise MessageTooLarge(
            _(
                "The message is %(human_size)s; at most %(human_size2)s is taken.",
                human_size=files.human_size(len(raw)),
                human_size2=files.human_size(limit),
            )
        )
    p = parse.parse(raw, envelope_from=envelope_from, envelope_to=envelope_to)
    if p.loop:
        log.info("mail-in: dropped %s from %s: %s", p.message_id, p.sender, p.loop)
        return Received(None, dropped=p.loop)
    digest = blobs.digest_of(raw)
    same = db.session.scalar(select(IntakeMessage).where(IntakeMessage.sha256 == digest).limit(1))
    if same is not None:
        return Received(same, duplicate=True)
    _within_rate(p.sender or (envelope_from or "")[:254])
    blobs.put("intake", raw)
    flags: list[str] = []
    version, recipient = _consultation(p)
    if version is None:
        flags.append("no_consultation")
    elif version.state != "consultation":
        flags.append("not_open")
    user, organisation = _sender(p.sender)
    if user is None and organisation is None:
        flags.append("unknown_sender")
    if p.auth_failure:
        flags.append("spoofed")
    paragraph = _paragraph(version, p) if version is not None else None
    if paragraph is None:
        flags.append("no_paragraph")
    kept = _keep_files(p.files)
    if any(f.get("refused") for f in kept):
        flags.append("attachment_refused")
    m = IntakeMessage(
        received_at=utcnow(),
        via=via,
        sha256=digest,
        size=len(raw),
        message_id=p.message_id or None,
        sender=p.sender or (envelope_from or "")[:254],
        sender_name=p.sender_name,
        recipient=(recipient or (p.recipients[0] if p.recipients else ""))[:254],
        subject=p.subject,
        body=p.body,
        quoted=p.quoted,
        version=version,
        paragraph=paragraph,
        organisation=organisation,
        sender_user=user,
        flags=flags,
        files=kept,
        status="waiting",
    )
    db.session.add(m)
    db.session.flush()
    return Received(m)


def _within_rate(sender: str) -> None:
    most = current_app.config["MAIL_IN_PER_SENDER_HOUR"]
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count())
        .select_from(IntakeMessage)
        .where(IntakeMessage.sender == sender, IntakeMessage.received_at >= since)
    )
    if recent >= most:
        raise TooManyMessages(
            _(
                "%(sender)s has sent %(count)d messages in the last hour, the most taken; "
                "the message is not lost: it is taken when sent again later.",
                sender=sender or _("An unknown sender"),
                count=recent,
            )
        )


def _consultation(p: parse.Parsed) -> tuple[Version | None, str | None]:
    """The version the message is for: from the address <slug>@CONSULT_MAIL_IN_DOMAIN
    (the version open for comments, else the latest published one), or from the
    "consultation opened" mail it replies to."""
    found = parse.consultation_slug(p.recipients, current_app.config["MAIL_IN_DOMAIN"])
    if found is not None:
        doc = db.session.scalar(select(Document).where(Document.slug == found[0]))
        if doc is not None:
            public = [v for v in doc.versions if v.state != "draft"]
            open_ = [v for v in public if v.state == "consultation"]
            if open_ or public:
                return (open_ or public)[-1], found[1]
    from consult.mail.models import MailOutbox

    for row_id in parse.outbox_ids(p.replies_to):
        row = db.session.get(MailOutbox, row_id)
        key = (row.dedup_key or "") if row is not None else ""
        if row is not None and row.kind == "consultation_opened" and key.startswith("opened:"):
            version = db.session.get(Version, int(key.split(":")[1]))
            if version is not None:
                return version, found[1] if found else None
    return None, found[1] if found else None


def _sender(address: str) -> tuple[User | None, Organisation | None]:
    """The account of the sender's address and its organisation (when it has exactly
    one), or an organisation whose public contact address it is."""
    if not address:
        return None, None
    user = db.session.scalar(select(User).where(func.lower(User.email) == address.lower()))
    if user is not None:
        orgs = user.organisations
        if orgs:
            return user, orgs[0] if len(orgs) == 1 else None
    org = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.contact_email) == address.lower())
    )
    if org is not None:
        return user, org
    return None, None


def _paragraph(version: Version, p: parse.Parsed) -> Paragraph | None:
    number = parse.paragraph_number(p.subject)
    if number:
        found = db.session.scalar(
            select(Paragraph).where(Paragraph.version_id == version.id, Paragraph.number == number)
        )
        if found is not None:
            return found
    if p.quoted:
        rows = db.session.execute(
            select(Paragraph.id, Paragraph.text).where(Paragraph.version_id == version.id)
        ).all()
        pid = parse.best_quoted(p.quoted, [(r.id, r.text) for r in rows])
        if pid is not None:
            return db.session.get(Paragraph, pid)
    return None


def _keep_files(found: list[parse.File]) -> list[dict]:
    """Store the files that can become attachments; the others are listed as refused."""
    most = current_app.config["ATTACHMENT_MAX_COUNT"]
    out: list[dict] = []
    taken = 0
    for f in found:
        entry: dict = {"name": f.name[:255], "size": len(f.data)}
        try:
            ctype = files.check_file(f.data, f.name)
        except ConsultError as e:
            out.append(entry | {"type": f.content_type[:100], "refused": e.message})
            continue
        if taken >= most:
            out.append(
                entry | {"type": ctype, "refused": f"A comment carries at most {most} attachments."}
            )
            continue
        digest = blobs.put("attachments", f.data)
        out.append(entry | {"type": ctype, "sha256": digest})
        taken += 1
    return out


# --- the secretariat's decisions -----------------------------------------------------------------


def get_message(message_id: int) -> IntakeMessage:
    m = db.session.get(IntakeMessage, message_id)
    if m is None:
        raise NotFound(
            _("There is no message %(message_id)s in the intake queue.", message_id=message_id)
        )
    return m


def _waiting(m: IntakeMessage) -> None:
    if m.status != "waiting":
        raise Conflict(
            f"Message {m.id} was already {m.status}"
            + (f" (comment {m.comment.tracking})." if m.comment is not None else ".")
        )


def organisation_by_slug(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == (slug or "").strip()))
    if org is None:
        raise ConsultError(
            _(
                "There is no organisation '%(slug)s'; give the slug of a registered organisation.",
                slug=slug,
            ),
            code="unknown_organisation",
        )
    return org


def comment_body(m: IntakeMessage) -> str:
    """The comment's text: the message's own words (its subject when it has none), cut
    to a comment's length with a pointer to the kept original."""
    body = m.body.strip() or m.subject.strip()
    if not body and m.files:
        body = "See the attached file" + ("s" if len(m.files) > 1 else "") + "."
    if len(body) > MAX_BODY:
        note = f"\n\n[Cut here: the whole message is kept, sha256 {m.sha256}.]"
        body = body[: MAX_BODY - len(note)].rstrip() + note
    return body


def confirm(
    m: IntakeMessage,
    *,
    organisation: Organisation,
    paragraph: Paragraph | None,
    by: User,
    kind: str = "comment",
) -> Comment:
    """The message becomes a comment entered on behalf of `organisation` (channel
    e-mail, dated when received), on `paragraph` or — with none — on the message's
    version as a whole; its files become the comment's attachments; the message's sha256
    goes into the record; the sender gets an acknowledgment with the tracking number."""
    _waiting(m)
    if kind not in KINDS or kind == "suggestion":
        raise ConsultError(_("An e-mailed comment is entered as a comment or a question."))
    version = paragraph.version if paragraph is not None else m.version
    if version is None:
        raise ConsultError(
            _("No consultation was found for this message: name the paragraph it is about."),
            code="paragraph_required",
        )
    body = comment_body(m)
    if not body:
        raise ConsultError(_("The message has no text and no file: reject it instead."))
    c = post_comment(
        version=version,
        paragraph=paragraph,
        organisation=organisation,
        kind=kind,
        body=body,
        by=by,
        channel="email",
        on_behalf=True,
        received_at=m.received_at,
    )
    for f in m.files:
        if f.get("sha256"):
            data = blobs.get("attachments", f["sha256"])
            files.attach(c, data, f["name"], by=None, intake_id=m.id, message_sha256=m.sha256)
    m.status, m.comment, m.decided_by, m.decided_at = "confirmed", c, by, utcnow()
    db.session.flush()
    signals.emit(
        signals.intake_confirmed,
        m,
        by,
        comment=c.tracking,
        message_sha256=m.sha256,
        organisation=organisation.slug,
        paragraph=paragraph.id if paragraph is not None else None,
    )
    _acknowledge(m, c)
    return c


def _message_id(value: str | None) -> str | None:
    """The received Message-ID as a header value (<…>), or None when it had none."""
    value = (value or "").strip()
    if not value or any(ch in value for ch in "\r\n"):
        return None
    return value if value.startswith("<") else f"<{value}>"


def _acknowledge(m: IntakeMessage, c: Comment) -> None:
    from consult.mail.outbox import queue

    if not m.sender:
        return
    queue(
        m.sender_user,
        "intake_ack",
        _l(
            "Received: your comment %(tracking)s on %(title)s",
            tracking=c.tracking,
            title=c.version.document.title,
        ),
        "intake_ack",
        to=m.sender,
        in_reply_to=_message_id(m.message_id),
        comment=c,
        message=m,
    )


def reject(m: IntakeMessage, *, reason: str | None, by: User) -> IntakeMessage:
    """The message does not become a comment (spam, not about the consultation, a
    duplicate…); the reason is kept and its hash goes into the record. No mail is sent."""
    _waiting(m)
    reason = (reason or "").strip()
    if not reason:
        raise ConsultError(_("Say why the message is rejected."), code="reason_required")
    if len(reason) > MAX_REASON:
        raise ConsultError(
            _("A reason is at most %(MAX_REASON)s characters.", MAX_REASON=format(MAX_REASON, ","))
        )
    m.status, m.reject_reason, m.decided_by, m.decided_at = "rejected", reason, by, utcnow()
    db.session.flush()
    signals.emit(
        signals.intake_rejected, m, by, message_sha256=m.sha256, reason_hash=text_sha256(reason)
    )
    return m


def queue_page(status: str = "waiting", page: int = 1, per_page: int = 50):
    """(messages, total) of one page of the queue, oldest first."""
    where = [] if status == "all" else [IntakeMessage.status == status]
    total = db.session.scalar(select(func.count(IntakeMessage.id)).where(*where)) or 0
    rows = db.session.scalars(
        select(IntakeMessage)
        .where(*where)
        .order_by(IntakeMessage.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def original(m: IntakeMessage) -> bytes:
    """The message as received, checked against its sha256."""
    return blobs.get("intake", m.sha256)
