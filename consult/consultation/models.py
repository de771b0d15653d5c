"""Comments, the organisations that co-sign them, and the committee's responses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import Organisation, User
from consult.documents.models import Paragraph, Version
from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow

KINDS = {"comment": "Comment", "suggestion": "Suggestion", "question": "Question"}
CHANNELS = {"web": "Web", "email": "E-mail", "paper": "Paper", "workshop": "Workshop"}
DECISIONS = {
    "accepted": "Accepted",
    "partly_accepted": "Partly accepted",
    "noted": "Noted",
    "not_accepted": "Not accepted",
    "out_of_scope": "Out of scope",
}


class Comment(db.Model):
    """A comment on a paragraph (or a quoted span of it) or on a whole version.

    Never updated in place: corrections and withdrawals are new rows elsewhere.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public tracking number printed on the receipt, e.g. "C-2026-000123".
    tracking: Mapped[str] = mapped_column(String(32), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    #: None for a comment on the version as a whole.
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraph.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
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

    version: Mapped[Version] = relationship()
    paragraph: Mapped[Paragraph | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    responses: Mapped[list[Response]] = relationship(
        back_populates="comment", order_by="Response.id"
    )
    cosignatures: Mapped[list[CoSignature]] = relationship(
        back_populates="comment", order_by="CoSignature.id"
    )

    @property
    def response(self) -> Response | None:
        """The committee's current answer: the latest response row."""
        return self.responses[-1] if self.responses else None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def channel_label(self) -> str:
        return CHANNELS[self.channel]


class CoSignature(db.Model):
    __table_args__ = (UniqueConstraint("comment_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="cosignatures")
    organisation: Mapped[Organisation] = relationship()


class Response(db.Model):
    """The committee's answer to one comment. A new answer is a new row."""

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
        return DECISIONS[self.decision]
