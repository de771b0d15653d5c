"""Tables of the tracing part: measured uptake, grouped answers, the organisations'
replies to the committee's answers, and overrides of the finalize guard.

Measured uptake is derived data (recomputed when a version is published); the other
three are records of what people did, never changed in place.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import Organisation, User
from consult.consultation.models import Comment, Response
from consult.documents.models import Version
from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow


class StoredUptake(db.Model):
    """The uptake of one suggestion, measured against the version after the one it was
    made on, when that version was published (DESIGN.md, idea 3)."""

    __tablename__ = "uptake"
    __table_args__ = (
        UniqueConstraint("comment_id", "version_id"),
        # Labels counted per version measured against.
        Index("ix_uptake_version_id_label", "version_id", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    #: The version measured against: the published successor version.
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    score: Mapped[float]
    #: taken_up | partly | not_taken_up (uptake.label_for(score)).
    label: Mapped[str] = mapped_column(String(20))
    verbatim: Mapped[bool] = mapped_column(default=False)
    #: sha256 of the inputs: the suggested wording (and quote), the original paragraph
    #: text(s) and the successor paragraphs' text; anyone can recompute the measure.
    inputs_hash: Mapped[str] = mapped_column(String(64))
    #: How the successor was found: unchanged, edited, moved, split, merged, removed.
    relation: Mapped[str] = mapped_column(String(20), default="edited")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Why the label (JSON, uptake.Uptake.evidence): the asked-for phrases present (and
    #: where) or missing, the asked-for deletions made or not, and whether deletions
    #: could be judged. None for rows measured before evidence was kept.
    evidence_json: Mapped[str | None] = mapped_column("evidence", Text, default=None)

    comment: Mapped[Comment] = relationship()
    version: Mapped[Version] = relationship()

    @property
    def evidence(self) -> dict | None:
        return json.loads(self.evidence_json) if self.evidence_json else None


class ResponseGroup(db.Model):
    """One decision and reason given to several comments asking the same thing.

    Each comment still has its own Response row; this groups them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    responder_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    version: Mapped[Version] = relationship()
    responder: Mapped[User] = relationship()
    members: Mapped[list[ResponseGroupMember]] = relationship(
        back_populates="group", order_by="ResponseGroupMember.id"
    )


class ResponseGroupMember(db.Model):
    """A comment answered in a group, with the Response row made for it."""

    __table_args__ = (UniqueConstraint("response_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("response_group.id"), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))

    group: Mapped[ResponseGroup] = relationship(back_populates="members")
    comment: Mapped[Comment] = relationship()
    response: Mapped[Response] = relationship()


class ResponseFeedback(db.Model):
    """The commenting organisation's reply to the committee's answer: satisfied or
    not, with a note (the disposition-of-comments practice). A changed reply is a new
    row: the latest for a response is the one that counts, the earlier ones stay
    (and each is an event of the record)."""

    __table_args__ = (Index("ix_response_feedback_response_id_id", "response_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    satisfied: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    response: Mapped[Response] = relationship()
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()


class FinalizeOverride(db.Model):
    """A version made final while comments were unanswered: who overrode the guard,
    why, and how many comments were waiting. Shown on the version page."""

    __table_args__ = (UniqueConstraint("version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    reason: Mapped[str] = mapped_column(Text)
    unanswered: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User | None] = relationship()


class KeptProvenance(db.Model):
    """The provenance of a published version's text, computed once and kept (derived
    data, like measured uptake). `key` names what it was computed from beyond the
    frozen texts and links (consult.tracing.views.provenance_key); a row whose key no
    longer matches is computed again and replaced."""

    __tablename__ = "kept_provenance"

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    #: {paragraph id: [[start, end, step, suggestion id or null], ...]} as JSON.
    spans_json: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UptakeOutbox(db.Model):
    """A version whose publication left the measure of the suggestions made on the
    version before it to the job worker (more of them than a request should measure:
    UPTAKE_IN_REQUEST_MAX). The row goes when the measure is stored and recorded
    (event "uptake.measured"); until then the pages say the uptake is being measured."""

    __tablename__ = "uptake_outbox"

    #: The version measured against: the one just published.
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), primary_key=True)
    #: The version the suggestions were made on (the one before it).
    previous_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    #: How many suggestions wait to be measured, counted at publication.
    suggestions: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When a job took it on (None: none has): another job leaves it alone until the
    #: lease ends (stored.CLAIM_LEASE), so that a job killed halfway is done again.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
