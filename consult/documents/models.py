"""Document, Version, Paragraph, the lineage links between versions, the document's
committee and the responses that took effect in a draft's paragraphs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.extensions import db
from consult.i18n import N_
from consult.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from consult.accounts.models import User
    from consult.consultation.models import Response

STATES = ("draft", "consultation", "closed", "final")
STATE_LABELS = {
    "draft": N_("Draft"),
    "consultation": N_("Open for comments"),
    "closed": N_("Closed"),
    "final": N_("Final"),
}
#: "formatting": the same plain text in other Markdown (a link's address, emphasis).
RELATIONS = ("unchanged", "formatting", "edited", "moved", "split", "merged", "added", "removed")
#: How a lineage link was found: "copy" (known exactly: the version was copied and edited
#: paragraph by paragraph), "alignment" (computed for an imported text, to be reviewed),
#: "confirmed" (computed, then confirmed by the committee), "corrected" (set by the committee).
METHODS = ("copy", "alignment", "confirmed", "corrected")
COMMITTEE_ROLES = {"chair": "Chair", "drafter": "Drafter"}
#: Who may comment on an open version: members of registered organisations only (the
#: AIPA framework's default), or also individuals with a confirmed e-mail address.
PARTICIPANTS = ("organisations", "everyone")
#: What happens to a comment in which personal data is found before it is public.
PERSONAL_DATA = ("hold", "mask")
#: What kind of text a document is; PDF covers and the pages name it ("The policy
#: framework", not always "The resolution").
DOCUMENT_KINDS = ("resolution", "framework", "guidance", "plan", "strategy", "law", "other")


def kind_label(kind: str) -> str:
    """The kind in words, for a form's choices and a cover ("Policy framework")."""
    from flask_babel import gettext as _

    return {
        "resolution": _("Resolution"),
        "framework": _("Policy framework"),
        "guidance": _("Guidance"),
        "plan": _("Plan"),
        "strategy": _("Strategy"),
        "law": _("Law"),
        "other": _("Policy document"),
    }.get(kind, kind)


def final_heading(kind: str) -> str:
    """What a final version's cover says it is ("The policy framework")."""
    from flask_babel import gettext as _

    return {
        "resolution": _("The resolution"),
        "framework": _("The policy framework"),
        "guidance": _("The guidance"),
        "plan": _("The plan"),
        "strategy": _("The strategy"),
        "law": _("The law"),
        "other": _("The final text"),
    }.get(kind, _("The final text"))


class Document(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    committee: Mapped[str] = mapped_column(String(300), default="")
    #: One of DOCUMENT_KINDS: what kind of text this is (named on covers and pages).
    kind: Mapped[str] = mapped_column(String(20), default="resolution", server_default="resolution")
    #: The authoritative language of its text (a locale code); other languages are
    #: translations (consult.translations), aligned to it paragraph by paragraph.
    language: Mapped[str] = mapped_column(String(12), default="en", server_default="en")
    #: The document's home time zone, shown beside the reader's (IANA name).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[Version]] = relationship(
        back_populates="document", order_by="Version.number"
    )
    committee_members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="document", order_by="CommitteeMember.id"
    )

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def final_heading(self) -> str:
        return final_heading(self.kind)

    @property
    def latest_public(self) -> Version | None:
        public = [v for v in self.versions if v.state != "draft"]
        return public[-1] if public else None


class Version(db.Model):
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    number: Mapped[int]
    label: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(20), default="draft")
    #: The committee's explanatory note: what changed and why.
    note: Mapped[str] = mapped_column(Text, default="")
    #: sha256 of the text, taken when the version leaves draft; re-checked on export.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why comments closed: "deadline" when the deadline passed, else the reason given
    #: for closing early (also in the record).
    close_reason: Mapped[str | None] = mapped_column(Text)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Who may comment while it is open (one of PARTICIPANTS), chosen when it is opened.
    participants: Mapped[str] = mapped_column(
        String(20), default="organisations", server_default="organisations"
    )
    #: Whether individuals may ask for their name to be withheld from the public pages.
    withheld_names: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    #: What happens to a comment in which personal data is found (one of PERSONAL_DATA):
    #: "hold" it for the secretariat's review, or publish it with the data "mask"ed.
    personal_data: Mapped[str] = mapped_column(String(10), default="hold", server_default="hold")

    document: Mapped[Document] = relationship(back_populates="versions")
    paragraphs: Mapped[list[Paragraph]] = relationship(
        back_populates="version", order_by="Paragraph.position"
    )

    @property
    def frozen(self) -> bool:
        return self.state != "draft"

    @property
    def state_label(self) -> str:
        return gettext(STATE_LABELS[self.state])

    def neighbour(self, step: int) -> Version | None:
        """The version `step` numbers away in the same document (-1: the one before it,
        1: the one after it), or None."""
        return db.session.scalar(
            select(Version).where(
                Version.document_id == self.document_id, Version.number == self.number + step
            )
        )

    @property
    def title(self) -> str:
        return f"Version {self.number}" + (f" — {self.label}" if self.label else "")


class Paragraph(db.Model):
    __table_args__ = (
        UniqueConstraint("version_id", "position"),
        Index("ix_paragraph_lineage", "lineage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    position: Mapped[int]
    #: Display number in its version, e.g. "2.3"; headings carry section numbers.
    number: Mapped[str] = mapped_column(String(40))
    #: heading, paragraph, list_item, blockquote, table, definition, code, rule, other
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(default=0)
    #: The exact Markdown lines of this block.
    source: Mapped[str] = mapped_column(Text)
    #: Plain text (no Markdown), used for diffs, alignment and search.
    text: Mapped[str] = mapped_column(Text)
    #: Blank lines before this block in the source, so the text round-trips exactly.
    blank_before: Mapped[int] = mapped_column(default=1)
    #: Identity of "the same paragraph" across versions.
    lineage: Mapped[str] = mapped_column(String(32))
    #: Raised by every change to the text of a draft's paragraph: a drafter saves with the
    #: revision they saw, so two drafters saving the same paragraph cannot overwrite each other.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")

    version: Mapped[Version] = relationship(back_populates="paragraphs")

    @property
    def is_heading(self) -> bool:
        return self.kind == "heading"


class LineageLink(db.Model):
    """How a paragraph of a version relates to paragraphs of the version before it.

    One row per (successor, predecessor) pair; `added` rows have no predecessor,
    `removed` rows have no successor.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraph.id"), index=True)
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("paragraph.id"), index=True)
    relation: Mapped[str] = mapped_column(String(20))
    #: Word similarity of the pair in [0, 1]; 1 for copies.
    similarity: Mapped[float] = mapped_column(default=1.0)
    #: One of METHODS: how the link was found.
    method: Mapped[str] = mapped_column(String(20), default="copy")

    paragraph: Mapped[Paragraph | None] = relationship(foreign_keys=[paragraph_id])
    predecessor: Mapped[Paragraph | None] = relationship(foreign_keys=[predecessor_id])


class CommitteeMember(db.Model):
    """A member of a document's drafting committee: a chair or a drafter.

    Only members edit the document's drafts (see accounts.policy). Membership is a
    working arrangement, not a published record: it is changed and removed in place;
    each change is an event in the record.
    """

    __table_args__ = (UniqueConstraint("document_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: "chair" or "drafter" (COMMITTEE_ROLES).
    role: Mapped[str] = mapped_column(String(20), default="drafter")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="committee_members")
    user: Mapped[User] = relationship()

    @property
    def role_label(self) -> str:
        return COMMITTEE_ROLES[self.role]


class ResponseEffect(db.Model):
    """A response that took effect in a paragraph of a later version: the committee took
    up the comment's suggested wording into that paragraph.

    Kept beside the paragraphs (not with the responses) because drafting moves it with
    its paragraph: a merge carries it to the merged paragraph, a deletion of the
    paragraph drops it (the draft was never public, so nothing published is lost).
    """

    __table_args__ = (UniqueConstraint("response_id", "paragraph_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    paragraph_id: Mapped[int] = mapped_column(ForeignKey("paragraph.id"), index=True)
    #: The version of the paragraph, so that a version's take-ups are one query away.
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    paragraph: Mapped[Paragraph] = relationship()
    response: Mapped[Response] = relationship()
