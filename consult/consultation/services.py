"""Posting comments and answering them. Services flush; the caller commits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from consult import signals
from consult.accounts.models import Organisation, User
from consult.consultation import languages, redaction, wording
from consult.consultation.models import (
    CHANNELS,
    DECISIONS,
    KINDS,
    MODERATION_ACTIONS,
    Comment,
    CommentRevision,
    CommentWithdrawal,
    CoSignature,
    CoSignatureWithdrawal,
    Flag,
    ModerationAction,
    Reply,
    Response,
)
from consult.documents.closing import closed_on
from consult.documents.models import Paragraph, Version
from consult.documents.services import accepting_comments
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.timeutil import utcnow

MAX_BODY = 10_000
MAX_SUGGESTION = 20_000
MAX_REPLY = 5_000
MAX_REASON = 2_000


def get_comment(comment_id: int) -> Comment:
    c = db.session.get(Comment, comment_id)
    if c is None:
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    return c


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Offsets of `quote` in `text`, found again if white space differs."""
    quote = quote.strip()
    if not quote:
        return None
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    pattern = r"\s+".join(re.escape(w) for w in quote.split())
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None


def comment_hash(c: Comment) -> str:
    return sha256(
        canonical(
            {
                "tracking": c.tracking,
                "version": c.version_id,
                "paragraph": c.paragraph_id,
                "organisation": c.organisation_id,
                "kind": c.kind,
                "body": c.body,
                "suggested_text": c.suggested_text,
                "quote": c.quote,
                "created_at": c.created_at.isoformat(),
            }
        )
    )


def post_comment(
    *,
    version: Version,
    paragraph: Paragraph | None,
    organisation: Organisation | None,
    kind: str,
    body: str,
    by: User,
    suggested_text: str | None = None,
    quote: str | None = None,
    channel: str = "web",
    on_behalf: bool = False,
    received_at: datetime | None = None,
    cosigners: Sequence[Organisation] = (),
    language: str | None = None,
    withhold_name: bool = False,
    campaign: bool = False,
) -> Comment:
    """Post a comment for `organisation`, or, with none, by `by` as an individual (a
    member of the public, where the version is open to everyone; `withhold_name` keeps
    their name off the public pages where the version allows it). `campaign` makes an
    organisation's comment a template for supporters to sign (consultation.campaigns).
    Personal data found in the text is held or masked (consultation.redaction).

    On the web the author must belong to the organisation and the consultation
    must be open. The secretariat may enter (on_behalf) a comment received by
    e-mail, on paper or at a workshop, also after closing, dated when received.
    `cosigners` makes it a joint submission: the other organisations that sign it
    from the start (on the web, organisations the author also belongs to).
    `language` is the code of the language it is written in; detected when not given.
    """
    try:
        language = languages.checked(language)
    except ValueError:
        raise ConsultError(
            _(
                "'%(code)s' is not a language of Consult (%(codes)s).",
                code=language,
                codes=", ".join(languages.LANGUAGES),
            ),
            code="invalid_language",
        ) from None
    if kind not in KINDS:
        raise ConsultError(
            _(
                "Unknown kind of comment '%(kind)s'; use one of: %(x)s.",
                kind=kind,
                x=", ".join(KINDS),
            )
        )
    if channel not in CHANNELS:
        raise ConsultError(
            _(
                "Unknown channel '%(channel)s'; use one of: %(x)s.",
                channel=channel,
                x=", ".join(CHANNELS),
            )
        )
    if paragraph is not None and paragraph.version_id != version.id:
        raise ConsultError(_("That paragraph is not in this version."))
    body, suggested_text, quote, span = checked_text(kind, paragraph, body, suggested_text, quote)
    created = utcnow()
    if on_behalf:
        if version.state not in ("consultation", "closed"):
            raise Conflict(
                _(
                    "Version %(number)s does not take comments (%(state_label)s).",
                    number=version.number,
                    state_label=version.state_label,
                )
            )
        if received_at is not None:
            if received_at > created:
                raise ConsultError(_("The date received cannot be in the future."))
            created = received_at
        if channel == "web":
            raise ConsultError(
                _("A comment entered for an organisation came by e-mail, paper or workshop.")
            )
    else:
        if not accepting_comments(version):
            raise Conflict(
                f"Version {version.number} is not open for comments"
                + (f": comments closed{closed_on(version)}." if version.closes_at else ".")
            )
        if organisation is not None and organisation not in by.organisations:
            raise ConsultError(
                _("You can only comment for an organisation you belong to."), status=403
            )
    if organisation is None:
        _check_individual(version, by, on_behalf=on_behalf, withhold_name=withhold_name)
        if cosigners or campaign:
            raise ConsultError(
                _("Only an organisation can be joined by others or run a campaign."),
                code="individual_not_organisation",
            )
    elif withhold_name:
        raise ConsultError(_("An organisation's name is always public."))
    joint = (
        _joint_organisations(organisation, cosigners, by=by, on_behalf=on_behalf)
        if organisation is not None
        else []
    )
    c = Comment(
        tracking="C-" + secrets.token_hex(5).upper(),
        version=version,
        version_id=version.id,
        paragraph=paragraph,
        paragraph_id=paragraph.id if paragraph else None,
        organisation=organisation,
        organisation_id=organisation.id if organisation is not None else None,
        withhold_name=withhold_name,
        campaign=campaign,
        author=None if on_behalf else by,
        entered_by=by if on_behalf else None,
        channel=channel,
        kind=kind,
        body=body,
        suggested_text=suggested_text,
        quote=quote,
        quote_start=span[0] if span else None,
        quote_end=span[1] if span else None,
        created_at=created,
        content_hash="",
        language=language or languages.detect(f"{body}\n{suggested_text or ''}"),
    )
    c.content_hash = comment_hash(c)
    db.session.add(c)
    db.session.flush()
    _known_empty(c)
    signals.emit(
        signals.comment_posted,
        c,
        by,
        tracking=c.tracking,
        content_hash=c.content_hash,
        organisation=organisation.slug if organisation is not None else None,
        individual=organisation is None,
        withhold_name=withhold_name,
        campaign=campaign,
        channel=channel,
    )
    for other in joint:
        _add_cosignature(c, other, by=by, joint=True)
    redaction.screen(c)
    return c


def _check_individual(version: Version, by: User, *, on_behalf: bool, withhold_name: bool):
    """An individual comments in their own name, where the version is open to everyone,
    once their e-mail address is confirmed (the permission itself is policy's)."""
    if on_behalf or by.role != "individual":
        raise ConsultError(
            _("Choose the organisation the comment is for."), code="organisation_required"
        )
    if version.participants != "everyone":
        raise ConsultError(
            _("This consultation takes comments from registered organisations only."),
            status=403,
            code="organisations_only",
        )
    if by.email_confirmed_at is None:
        raise ConsultError(
            _("Confirm your e-mail address before you comment (see the link we sent you)."),
            status=403,
            code="email_not_confirmed",
        )
    if withhold_name and not version.withheld_names:
        raise ConsultError(
            _("This consultation does not withhold names: comments are published with them."),
            code="withheld_names_not_allowed",
        )


#: What a comment has none of when it is posted (co-signatures are added after this).
_EMPTY_LISTS = ("responses", "cosignatures", "revisions", "replies", "moderation", "attachments")


def _known_empty(c: Comment) -> None:
    """A new comment has no answers, edits, replies, moderation or files: say so to the
    session, so that the answer to its POST (and the receivers of comment_posted) read
    none of them back from the database."""
    for name in _EMPTY_LISTS:
        if hasattr(Comment, name):  # attachments is added by consultation.attachments
            set_committed_value(c, name, [])
    set_committed_value(c, "withdrawal", None)


def checked_text(
    kind: str,
    paragraph: Paragraph | None,
    body: str | None,
    suggested_text: str | None,
    quote: str | None,
) -> tuple[str, str | None, str | None, tuple[int, int] | None]:
    """The cleaned text of a comment (posted or edited) and its quote's offsets.

    The quote is anchored by its words and its offsets in the paragraph's plain
    text; pasted with other white space, it is found again and stored as it
    appears in the paragraph."""
    body = (body or "").strip()
    suggested_text = (suggested_text or "").strip() or None
    quote = (quote or "").strip() or None
    if not body:
        raise ConsultError(_("The comment is empty."))
    if len(body) > MAX_BODY:
        raise ConsultError(
            _(
                "A comment is at most %(MAX_BODY)s characters; this one has %(len)s.",
                MAX_BODY=format(MAX_BODY, ","),
                len=format(len(body), ","),
            )
        )
    if kind == "suggestion" and not suggested_text:
        raise ConsultError(_("A suggestion needs the wording you propose."))
    if kind != "suggestion" and suggested_text:
        raise ConsultError(
            _("Only a suggestion carries proposed wording; choose the kind 'suggestion'.")
        )
    if suggested_text and len(suggested_text) > MAX_SUGGESTION:
        raise ConsultError(
            _(
                "Proposed wording is at most %(MAX_SUGGESTION)s characters.",
                MAX_SUGGESTION=format(MAX_SUGGESTION, ","),
            )
        )
    if quote and paragraph is None:
        raise ConsultError(_("A quote needs a paragraph to quote from."))
    span = None
    if quote:
        span = find_quote(paragraph.text, quote)
        if span is None:
            raise ConsultError(
                _("The quoted words are not in this paragraph; copy them from its text.")
            )
        quote = paragraph.text[span[0] : span[1]]
    if (
        suggested_text
        and paragraph is not None
        and not wording.asks_change(paragraph.text, paragraph.source, suggested_text, quote)
    ):
        raise ConsultError(
            _(
                "The proposed wording is the same as the text it would "
                "replace (only white space or formatting that readers do not "
                "see differs), so it changes nothing. Write the wording you "
                "want instead."
            )
        )
    return body, suggested_text, quote, span


def _joint_organisations(
    organisation: Organisation, cosigners: Sequence[Organisation], *, by: User, on_behalf: bool
) -> list[Organisation]:
    out: list[Organisation] = []
    for other in cosigners:
        if other.id == organisation.id or other in out:
            continue
        if not on_behalf and other not in by.organisations:
            raise ConsultError(
                _(
                    "You can only sign jointly for organisations you belong to, not %(name)s.",
                    name=other.name,
                ),
                status=403,
            )
        out.append(other)
    return out


def respond(comment: Comment, *, decision: str, reason: str, by: User) -> Response:
    """The committee's answer. A second answer is a new row; the first stays readable."""
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise ConsultError(
            _(
                "Unknown decision '%(decision)s'; use one of: %(x)s.",
                decision=decision,
                x=", ".join(DECISIONS),
            )
        )
    if not reason:
        raise ConsultError(_("Every answer gives its reason."))
    if comment.version.state == "consultation" and accepting_comments(comment.version):
        raise Conflict(_("Comments are answered once the consultation has closed."))
    r = Response(
        comment=comment, decision=decision, reason=reason, responder=by, created_at=utcnow()
    )
    db.session.add(r)
    db.session.flush()
    signals.emit(
        signals.response_given,
        r,
        by,
        comment=comment.tracking,
        decision=decision,
        reason_hash=sha256(reason),
    )
    return r


def comments_for_version(version: Version) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment).where(Comment.version_id == version.id).order_by(Comment.created_at)
        )
    )


def _open_for_changes(comment: Comment, what: str) -> None:
    """Until the deadline a comment may change; after it, nothing does (409)."""
    v = comment.version
    if not accepting_comments(v):
        when = closed_on(v) if v.closes_at else ""
        raise Conflict(
            _(
                "The consultation on version %(number)s closed%(when)s: "
                "%(what)s is no longer possible.",
                number=v.number,
                when=when,
                what=what,
            )
        )


def _still_standing(comment: Comment, what: str) -> None:
    if comment.withdrawn:
        raise Conflict(
            _(
                "Comment %(tracking)s was withdrawn: %(what)s is not possible.",
                tracking=comment.tracking,
                what=what,
            )
        )
    if comment.is_hidden:
        raise Conflict(
            _(
                "Comment %(tracking)s is hidden by the moderators: %(what)s is not possible.",
                tracking=comment.tracking,
                what=what,
            )
        )


def cosign(comment: Comment, organisation: Organisation, *, by: User | None) -> CoSignature:
    """Add an organisation's support to a comment, once per organisation, until the
    deadline. A CSO member signs only for an organisation they belong to."""
    _still_standing(comment, _("co-signing"))
    _open_for_changes(comment, _("co-signing"))
    if by is not None and by.role == "cso" and organisation not in by.organisations:
        raise ConsultError(_("You can only co-sign for an organisation you belong to."), status=403)
    return _add_cosignature(comment, organisation, by=by)


def withdraw_cosignature(
    comment: Comment, organisation: Organisation, *, by: User | None
) -> CoSignatureWithdrawal:
    """Take back an organisation's support for a comment, until the deadline. The
    co-signature stays (it was published); a withdrawal row and a record event say when."""
    _open_for_changes(comment, _("withdrawing a co-signature"))
    if by is not None and by.role == "cso" and organisation not in by.organisations:
        raise ConsultError(
            _("You can only withdraw the co-signature of an organisation you belong to."),
            status=403,
        )
    s = next((s for s in comment.cosignatures if s.organisation_id == organisation.id), None)
    if s is None:
        raise Conflict(_("%(name)s does not co-sign this comment.", name=organisation.name))
    if s.joint:
        raise Conflict(
            _(
                "%(name)s submitted this comment jointly: its name is part "
                "of the comment as sent, which cannot be changed.",
                name=organisation.name,
            )
        )
    w = CoSignatureWithdrawal(cosignature=s, user_id=by.id if by else None, created_at=utcnow())
    db.session.add(w)
    db.session.flush()
    db.session.expire(comment, ["cosignatures"])
    signals.emit(
        signals.cosignature_withdrawn,
        w,
        by,
        comment=comment.tracking,
        organisation=organisation.slug,
    )
    return w


def _add_cosignature(
    comment: Comment, organisation: Organisation, *, by: User | None, joint: bool = False
) -> CoSignature:
    if organisation.id == comment.organisation_id:
        raise ConsultError(_("An organisation cannot co-sign its own comment."))
    earlier = next(
        (s for s in comment.all_cosignatures if s.organisation_id == organisation.id), None
    )
    if earlier is not None and earlier.withdrawal is not None:
        raise Conflict(
            _(
                "%(name)s co-signed this comment and withdrew its "
                "co-signature; both stay in the record, so it cannot sign "
                "again.",
                name=organisation.name,
            )
        )
    if earlier is not None:
        raise Conflict(_("%(name)s has already co-signed this comment.", name=organisation.name))
    s = CoSignature(
        comment=comment,
        organisation=organisation,
        user_id=by.id if by else None,
        joint=joint,
        created_at=comment.created_at if joint else utcnow(),
    )
    db.session.add(s)
    db.session.flush()
    db.session.expire(comment, ["cosignatures"])  # read again, with the new one
    signals.emit(
        signals.comment_cosigned,
        s,
        by,
        comment=comment.tracking,
        organisation=organisation.slug,
        joint=joint,
    )
    return s


def revision_hash(c: Comment, r: CommentRevision) -> str:
    return sha256(
        canonical(
            {
                "tracking": c.tracking,
                "revision": r.number,
                "body": r.body,
                "suggested_text": r.suggested_text,
                "quote": r.quote,
                "created_at": r.created_at.isoformat(),
            }
        )
    )


def edit_comment(
    comment: Comment,
    *,
    body: str | None,
    suggested_text: str | None,
    quote: str | None,
    by: User,
) -> CommentRevision:
    """A new text for the comment, until the deadline. The earlier texts stay readable:
    the comment row keeps the first one and every edit is a new revision."""
    _still_standing(comment, _("editing"))
    _open_for_changes(comment, _("editing"))
    body, suggested_text, quote, span = checked_text(
        comment.kind, comment.paragraph, body, suggested_text, quote
    )
    now = comment.current
    if (body, suggested_text, quote) == (now.body, now.suggested_text, now.quote):
        raise ConsultError(_("Nothing changed: the text is the same as the current one."))
    r = CommentRevision(
        comment=comment,
        number=len(comment.revisions) + 2,
        body=body,
        suggested_text=suggested_text,
        quote=quote,
        quote_start=span[0] if span else None,
        quote_end=span[1] if span else None,
        author=by,
        created_at=utcnow(),
        content_hash="",
    )
    r.content_hash = revision_hash(comment, r)
    db.session.add(r)
    db.session.flush()
    signals.emit(
        signals.comment_edited,
        r,
        by,
        comment=comment.tracking,
        revision=r.number,
        content_hash=r.content_hash,
    )
    redaction.screen(comment)
    return r


def withdraw_comment(comment: Comment, *, by: User, reason: str | None = None) -> CommentWithdrawal:
    """The author takes the comment back, until the deadline. It stays readable, marked
    withdrawn, and is no longer waiting for an answer."""
    if comment.withdrawn:
        raise Conflict(_("Comment %(tracking)s is already withdrawn.", tracking=comment.tracking))
    _open_for_changes(comment, _("withdrawing"))
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise ConsultError(
            _("A reason is at most %(MAX_REASON)s characters.", MAX_REASON=format(MAX_REASON, ","))
        )
    w = CommentWithdrawal(comment=comment, user=by, reason=reason, created_at=utcnow())
    db.session.add(w)
    db.session.flush()
    signals.emit(signals.comment_withdrawn, w, by, comment=comment.tracking)
    return w


def post_reply(
    comment: Comment, *, body: str | None, by: User, organisation: Organisation | None = None
) -> Reply:
    """A message in the comment's thread, while the consultation is open.

    A CSO member speaks for one of their organisations (the first when none is
    named); the committee and the secretariat speak for the committee."""
    body = (body or "").strip()
    if not body:
        raise ConsultError(_("The reply is empty."))
    if len(body) > MAX_REPLY:
        raise ConsultError(
            _(
                "A reply is at most %(MAX_REPLY)s characters; this one has %(len)s.",
                MAX_REPLY=format(MAX_REPLY, ","),
                len=format(len(body), ","),
            )
        )
    _still_standing(comment, _("replying"))
    _open_for_changes(comment, _("replying"))
    if by.role == "cso":
        organisation = organisation or by.organisation
        if organisation is None or organisation not in by.organisations:
            raise ConsultError(
                _("You can only reply for an organisation you belong to."), status=403
            )
    else:
        organisation = None
    r = Reply(comment=comment, author=by, organisation=organisation, body=body, created_at=utcnow())
    db.session.add(r)
    db.session.flush()
    signals.emit(signals.reply_posted, r, by, comment=comment.tracking)
    return r


def get_reply(comment: Comment, reply_id: int | None) -> Reply | None:
    if reply_id is None:
        return None
    r = db.session.get(Reply, reply_id)
    if r is None or r.comment_id != comment.id:
        raise NotFound(
            _(
                "Comment %(tracking)s has no reply %(reply_id)s.",
                tracking=comment.tracking,
                reply_id=reply_id,
            )
        )
    return r


def _checked_reason(reason: str | None, missing: str) -> str:
    """A reason that must be given (`missing` says so), within MAX_REASON."""
    reason = (reason or "").strip()
    if not reason:
        raise ConsultError(missing)
    if len(reason) > MAX_REASON:
        raise ConsultError(
            _("A reason is at most %(MAX_REASON)s characters.", MAX_REASON=format(MAX_REASON, ","))
        )
    return reason


def _in_thread(comment: Comment, reply: Reply | None) -> None:
    if reply is not None and reply.comment_id != comment.id:
        raise ConsultError(_("That reply is not in this comment's thread."))


def flag(comment: Comment, *, reason: str | None, by: User, reply: Reply | None = None) -> Flag:
    """Ask the moderators to look at a comment or one of its replies, once per person."""
    reason = _checked_reason(reason, "Say why the moderators should look at it.")
    _in_thread(comment, reply)
    already = db.session.scalar(
        select(Flag.id).where(
            Flag.comment_id == comment.id,
            Flag.reply_id.is_(None) if reply is None else Flag.reply_id == reply.id,
            Flag.user_id == by.id,
        )
    )
    if already is not None:
        raise Conflict(_("You have already flagged this; the moderators will look at it."))
    f = Flag(comment=comment, reply=reply, user=by, reason=reason, created_at=utcnow())
    db.session.add(f)
    db.session.flush()
    signals.emit(
        signals.comment_flagged,
        f,
        by,
        comment=comment.tracking,
        reply=reply.id if reply else None,
        reason_hash=sha256(reason),
    )
    return f


def moderate(
    comment: Comment, *, action: str, reason: str | None, by: User, reply: Reply | None = None
) -> ModerationAction:
    """Hide a comment or a reply with a public reason, or show it again. Nothing is
    deleted: the action is a new row and its reason is shown in the thing's place."""
    if action not in MODERATION_ACTIONS:
        raise ConsultError(
            _(
                "Unknown moderation action '%(action)s'; use one of: %(x)s.",
                action=action,
                x=", ".join(MODERATION_ACTIONS),
            )
        )
    reason = _checked_reason(reason, "Give the public reason for the moderation.")
    _in_thread(comment, reply)
    target = reply if reply is not None else comment
    if action == "hide" and target.is_hidden:
        raise Conflict(
            _("The reply is already hidden.")
            if reply is not None
            else _("Comment %(tracking)s is already hidden.", tracking=comment.tracking)
        )
    if action == "restore" and not target.is_hidden:
        raise Conflict(
            _("The reply is not hidden.")
            if reply is not None
            else _("Comment %(tracking)s is not hidden.", tracking=comment.tracking)
        )
    m = ModerationAction(
        comment=comment,
        comment_id=comment.id,
        reply=reply,
        action=action,
        reason=reason,
        moderator=by,
        created_at=utcnow(),
    )
    db.session.add(m)
    db.session.flush()
    # The relationship on Comment is read-only; refresh it so the new state shows.
    db.session.expire(comment, ["moderation"])
    signals.emit(
        signals.comment_moderated,
        m,
        by,
        comment=comment.tracking,
        reply=reply.id if reply else None,
        action=action,
        reason=reason,
    )
    return m


def open_flags(comments: Sequence[Comment]) -> dict[int, int]:
    """Flags made since each comment's latest moderation action, by comment id."""
    ids = [c.id for c in comments]
    if not ids:
        return {}
    out: dict[int, int] = {}
    last_action = {
        cid: at
        for cid, at in db.session.execute(
            select(ModerationAction.comment_id, db.func.max(ModerationAction.created_at))
            .where(ModerationAction.comment_id.in_(ids))
            .group_by(ModerationAction.comment_id)
        )
    }
    for cid, at in db.session.execute(
        select(Flag.comment_id, Flag.created_at).where(Flag.comment_id.in_(ids))
    ):
        if cid not in last_action or at > last_action[cid]:
            out[cid] = out.get(cid, 0) + 1
    return out
