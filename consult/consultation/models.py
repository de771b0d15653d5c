"""Comments, the organisations that co-sign them, and the committee's responses."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    false,
    text,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from consult.accounts.models import Organisation, User
from consult.documents.models import Paragraph, Version
from consult.extensions import db
from consult.i18n import N_
from consult.timeutil import UTCDateTime, utcnow

KINDS = {"comment": N_("Comment"), "suggestion": N_("Suggestion"), "question": N_("Question")}
#: "word": a marked-up Word file returned by the organisation (consultation.returned_word).
CHANNELS = {
    "web": N_("Web"),
    "email": N_("E-mail"),
    "paper": N_("Paper"),
    "workshop": N_("Workshop"),
    "word": N_("Word file"),
}
DECISIONS = {
    "accepted": N_("Accepted"),
    "partly_accepted": N_("Partly accepted"),
    "noted": N_("Noted"),
    "not_accepted": N_("Not accepted"),
    "out_of_scope": N_("Out of scope"),
}
#: What a moderator does to a comment or a reply; the latest action holds.
MODERATION_ACTIONS = {"hide": N_("Hidden"), "restore": N_("Shown again")}


class Moderated:
    """A comment or a reply: its `moderation` relationship lists the moderators' actions
    on it, oldest first, and the latest one holds."""

    @property
    def hidden_by(self) -> ModerationAction | None:
        """The moderators' decision that hides it, or None when it is shown."""
        last = self.moderation[-1] if self.moderation else None
        return last if last is not None and last.action == "hide" else None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_by is not None


class Comment(Moderated, db.Model):
    """A comment on a paragraph (or a quoted span of it) or on a whole version.

    Never updated in place: corrections and withdrawals are new rows elsewhere.
    """

    __table_args__ = (
        # Counts per paragraph of a version, and a paragraph's comments page by page.
        Index("ix_comment_version_id_paragraph_id", "version_id", "paragraph_id"),
        # A page of the comments on a version as a whole, in order (migration 0031).
        Index(
            "ix_comment_whole_version_created_at",
            "version_id",
            "created_at",
            "id",
            postgresql_where=text("paragraph_id IS NULL"),
            sqlite_where=text("paragraph_id IS NULL"),
        ),
        Index("ix_comment_paragraph_id_created_at", "paragraph_id", "created_at", "id"),
        Index("ix_comment_version_id_organisation_id", "version_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public tracking number printed on the receipt, e.g. "C-2026-000123".
    tracking: Mapped[str] = mapped_column(String(32), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    #: None for a comment on the version as a whole.
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraph.id"), index=True)
    #: None for a comment by an individual (a member of the public, see author).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: An individual asked for their name to be withheld from the public pages (where the
    #: version allows it); the secretariat still sees it.
    withhold_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: A campaign: a template the organisation publishes for supporters to sign
    #: (consultation.campaigns).
    campaign: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The person who wrote it; None when the secretariat entered it for an organisation.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The secretariat member who entered a comment received off-line.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    channel: Mapped[str] = mapped_column(String(20), default="web")
    kind: Mapped[str] = mapped_column(String(20), default="comment")
    body: Mapped[str] = mapped_column(Text)
    #: Replacement wording for the paragraph, or for the quoted span when there is one.
    suggested_text: Mapped[str | None] = mapped_column(Text)
    #: The quoted span, with its character offsets in the paragraph's plain text.
    quote: Mapped[str | None] = mapped_column(Text)
    quote_start: Mapped[int | None]
    quote_end: Mapped[int | None]
    #: sha256 of the canonical content, printed on the receipt.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Derived, stored once: the suggested wording as a word diff against the paragraph
    #: (JSON [[op, text], ...], tracing.suggested), made when the text is written.
    suggested_diff: Mapped[str | None] = mapped_column(Text, default=None)
    #: The language it is written in (a code of consultation.languages.LANGUAGES), given
    #: by its author or detected when posted; None when it could not be told.
    language: Mapped[str | None] = mapped_column(String(8), default=None)

    version: Mapped[Version] = relationship()
    paragraph: Mapped[Paragraph | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    responses: Mapped[list[Response]] = relationship(
        back_populates="comment", order_by="Response.id"
    )
    #: The co-signatures standing: a withdrawn one (CoSignatureWithdrawal) stays in the
    #: table and in the record, and is left out here (all_cosignatures has them all).
    cosignatures: Mapped[list[CoSignature]] = relationship(
        primaryjoin=lambda: and_(
            Comment.id == foreign(CoSignature.comment_id),
            ~exists().where(CoSignatureWithdrawal.cosignature_id == CoSignature.id),
        ),
        order_by="CoSignature.id",
        viewonly=True,
    )
    all_cosignatures: Mapped[list[CoSignature]] = relationship(
        back_populates="comment", order_by="CoSignature.id"
    )
    revisions: Mapped[list[CommentRevision]] = relationship(
        back_populates="comment", order_by="CommentRevision.number"
    )
    withdrawal: Mapped[CommentWithdrawal | None] = relationship(back_populates="comment")
    replies: Mapped[list[Reply]] = relationship(back_populates="comment", order_by="Reply.id")
    #: Moderation of the comment itself (not of its replies), oldest first.
    moderation: Mapped[list[ModerationAction]] = relationship(
        primaryjoin=lambda: and_(
            Comment.id == foreign(ModerationAction.comment_id),
            ModerationAction.reply_id.is_(None),
        ),
        order_by="ModerationAction.id",
        viewonly=True,
    )

    @property
    def by_individual(self) -> bool:
        """Written by a member of the public, for no organisation."""
        return self.organisation_id is None

    @property
    def public_author(self) -> str:
        """Who the public pages name as its author: the organisation, or for an
        individual their name — "A member of the public" when withheld (or unknown: an
        account's e-mail address is never shown)."""
        from flask_babel import gettext as _

        if self.organisation is not None:
            return self.organisation.display_name
        if self.withhold_name or self.author is None or not self.author.name:
            return _("A member of the public")
        return self.author.name

    @property
    def supporter_count(self) -> int:
        """A campaign's standing signatures (an aggregate query); 0 for other comments."""
        if not self.campaign:
            return 0
        from consult.consultation.campaigns import supporter_count

        return supporter_count(self)

    @property
    def redaction(self):
        """The latest personal-data screening of the current text (consultation.redaction),
        or None when none was needed."""
        from consult.consultation.redaction import latest_redaction

        return latest_redaction(self)

    @property
    def held(self) -> bool:
        """Held for the secretariat's review of personal data: not public yet."""
        r = self.redaction
        return r is not None and r.state == "held"

    @property
    def shown(self):
        """The text the public reads: the current text, or its masked copy when personal
        data was found in it (None while it is held)."""
        r = self.redaction
        if r is None:
            return self.current
        return None if r.state == "held" else r

    @property
    def language_name(self) -> str | None:
        """The name of its language in that language ("ไทย"), or None."""
        from consult.consultation.languages import LANGUAGES

        return LANGUAGES.get(self.language or "")

    @property
    def current(self) -> Comment | CommentRevision:
        """The text as it stands: the latest revision, or the comment as first posted.
        Both carry body, suggested_text, quote, quote_start, quote_end, content_hash."""
        return self.revisions[-1] if self.revisions else self

    @property
    def edited(self) -> bool:
        return bool(self.revisions)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawal is not None

    @property
    def joint_organisations(self) -> list[Organisation]:
        """The organisations that submitted the comment jointly with its own."""
        return [s.organisation for s in self.cosignatures if s.joint]

    @property
    def supporters(self) -> list[Organisation]:
        """Organisations that co-signed it after it was posted."""
        return [s.organisation for s in self.cosignatures if not s.joint]

    @property
    def response(self) -> Response | None:
        """The committee's current answer: the latest response row."""
        return self.responses[-1] if self.responses else None

    @property
    def kind_label(self) -> str:
        return gettext(KINDS[self.kind])

    @property
    def channel_label(self) -> str:
        return gettext(CHANNELS[self.channel])


class CoSignature(db.Model):
    __table_args__ = (UniqueConstraint("comment_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: True for an organisation named at posting time (a joint submission); False for
    #: support added afterwards.
    joint: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="all_cosignatures")
    organisation: Mapped[Organisation] = relationship()
    withdrawal: Mapped[CoSignatureWithdrawal | None] = relationship(back_populates="cosignature")


class CoSignatureWithdrawal(db.Model):
    """An organisation took back its support for a comment, while the consultation was
    open. The co-signature stays (and its record event); this row says when and who."""

    id: Mapped[int] = mapped_column(primary_key=True)
    cosignature_id: Mapped[int] = mapped_column(ForeignKey("co_signature.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cosignature: Mapped[CoSignature] = relationship(back_populates="withdrawal")


class Response(db.Model):
    """The committee's answer to one comment. A new answer is a new row."""

    #: A comment's latest answer and its decision, read from the index alone.
    __table_args__ = (Index("ix_response_comment_id_decision", "comment_id", "id", "decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    responder_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="responses")
    responder: Mapped[User] = relationship()

    @property
    def decision_label(self) -> str:
        return gettext(DECISIONS[self.decision])


class CommentRevision(db.Model):
    """A later text of a comment, written by its author before the deadline.

    The comment's first text stays on the Comment row; each edit adds a revision
    numbered from 2, and the latest is the comment's current text.
    """

    __table_args__ = (UniqueConstraint("comment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    #: 2 for the first edit (the text as posted is text 1).
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    suggested_text: Mapped[str | None] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    quote_start: Mapped[int | None]
    quote_end: Mapped[int | None]
    #: sha256 of this text with the comment's tracking number and the revision number.
    content_hash: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: As Comment.suggested_diff, for this text.
    suggested_diff: Mapped[str | None] = mapped_column(Text, default=None)

    comment: Mapped[Comment] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()


class CommentWithdrawal(db.Model):
    """The author took the comment back. The comment stays readable, marked withdrawn."""

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="withdrawal")
    user: Mapped[User | None] = relationship()


class Reply(Moderated, db.Model):
    """A message in the thread under a comment, by a CSO member or the committee.

    Replies are a conversation; the committee's decision is a Response, never a reply.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: The organisation the member speaks for; None for the committee or secretariat.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="replies")
    author: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    moderation: Mapped[list[ModerationAction]] = relationship(
        back_populates="reply", order_by="ModerationAction.id"
    )


class Flag(db.Model):
    """Someone signed in asks the moderators to look at a comment or a reply."""

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    #: Set when the flag is about a reply in the comment's thread.
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship()
    reply: Mapped[Reply | None] = relationship()
    user: Mapped[User] = relationship()


class ModerationAction(db.Model):
    """A moderator hid (or showed again) a comment or a reply, with a public reason.

    Nothing is deleted: the latest action says whether the thing is hidden.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship()
    reply: Mapped[Reply | None] = relationship(back_populates="moderation")
    moderator: Mapped[User] = relationship()

    @property
    def action_label(self) -> str:
        return MODERATION_ACTIONS[self.action]
