"""Translation, TranslatedParagraph and ResponseTranslation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow

#: "draft": imported, its links under the drafters' review, visible to the committee only;
#: "published": public and frozen (a record event carries its content hash). A newer
#: translation of the same version and language supersedes an older one; none is deleted.
TRANSLATION_STATES = ("draft", "published")
#: How a translated paragraph's link was found (as LineageLink.method).
LINK_METHODS = ("alignment", "corrected")


class Translation(db.Model):
    """A version's whole text in one language other than its authoritative one."""

    __table_args__ = (Index("ix_translation_version_language", "version_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    #: A locale code (consult.i18n.LOCALES).
    language: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    #: sha256 of the translation's Markdown, taken at publication.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version = relationship("Version")
    paragraphs: Mapped[list[TranslatedParagraph]] = relationship(
        back_populates="translation", order_by="TranslatedParagraph.position"
    )


class TranslatedParagraph(db.Model):
    """One block of a translation and the authoritative paragraph it translates."""

    __table_args__ = (UniqueConstraint("translation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translation.id"))
    position: Mapped[int]
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    blank_before: Mapped[int] = mapped_column(default=1)
    #: The authoritative paragraph this block translates (None: not linked yet).
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraph.id"), index=True)
    #: sha256 of that paragraph's plain text when the link was made: a translation whose
    #: paragraph has changed since (a later version, or a draft edited) is out of date.
    original_hash: Mapped[str | None] = mapped_column(String(64))
    #: One of LINK_METHODS.
    method: Mapped[str] = mapped_column(String(20), default="alignment")
    #: How sure the alignment was, in [0, 1].
    score: Mapped[float] = mapped_column(default=1.0)

    translation: Mapped[Translation] = relationship(back_populates="paragraphs")
    paragraph = relationship("Paragraph")


class ResponseTranslation(db.Model):
    """The committee's answer to a comment in another language. The original answer is
    never changed; a newer translation into the same language is shown instead of an
    older one, which stays in the table."""

    __table_args__ = (Index("ix_response_translation_response", "response_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    language: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
