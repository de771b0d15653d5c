"""Tables of the analysis part: form-letter groups and themes.

Groups are derived data (rebuilt by `regroup`), kept beside the comments they group:
each comment's MinHash signature and group, the band keys that find a new comment's
candidates in constant time, and the groups with their size kept as members arrive.
What people decided is kept apart and never rewritten: a variant taken out of its
group (GroupRemoval, also a record event), the themes of a document and the comments
tagged with them.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.consultation.models import Comment
from consult.documents.models import Document, Version
from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow


class LetterGroup(db.Model):
    """Comments that are copies or near-copies of one letter (DESIGN.md: Group)."""

    __tablename__ = "letter_group"
    #: A version's groups, largest first, page by page.
    __table_args__ = (Index("ix_letter_group_version_id_size", "version_id", "size", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    #: The first comment of the letter: the text the others are compared with.
    master_comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    #: Members, the master included; kept as members arrive or leave (no count query).
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    version: Mapped[Version] = relationship()
    master: Mapped[Comment] = relationship()


class CommentSignature(db.Model):
    """A comment's MinHash signature, its group (None: alone) and what it adds to its
    group's master. One row per comment, written by the grouping job."""

    __tablename__ = "comment_signature"
    __table_args__ = (
        # A group's members page by page.
        Index("ix_comment_signature_group_id_comment_id", "group_id", "comment_id"),
    )

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comment.id"), primary_key=True, autoincrement=False
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("letter_group.id"))
    #: nearcopies.NUM_PERM little-endian uint32 values.
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    #: JSON list of the sentences not in the master (nearcopies.unique_part); None for
    #: the master and for a comment alone.
    unique_json: Mapped[str | None] = mapped_column("unique_part", Text, default=None)
    #: Estimated similarity to the master when it joined (for review; None when alone).
    similarity: Mapped[float | None] = mapped_column(default=None)

    comment: Mapped[Comment] = relationship()
    group: Mapped[LetterGroup | None] = relationship()

    @property
    def unique_part(self) -> list[str]:
        return json.loads(self.unique_json) if self.unique_json else []


class LetterBand(db.Model):
    """One LSH band key of a comment that a later comment can be matched with (the
    first comment of each letter, and comments alone): a new comment looks up its
    nearcopies.BANDS keys here, whatever the number of comments."""

    __tablename__ = "letter_band"
    # With comment_id: a key's rows are read in order, and a lookup stops at its share.
    __table_args__ = (
        Index("ix_letter_band_version_id_key_comment_id", "version_id", "key", "comment_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    key: Mapped[int] = mapped_column(BigInteger)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))


class GroupingOutboxEntry(db.Model):
    """A comment waiting to be placed in a group: written in the transaction that posts
    it, taken by the grouping job after commit."""

    __tablename__ = "grouping_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GroupRemoval(db.Model):
    """The committee took a variant out of its group, to answer it alone: the comment
    stays out of every group from then on (a regrouping included)."""

    __tablename__ = "letter_group_removal"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"), index=True)
    #: The group's master when it was taken out (group ids change on a regrouping).
    master_comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship(foreign_keys=[comment_id])
    master: Mapped[Comment] = relationship(foreign_keys=[master_comment_id])
    user: Mapped[User] = relationship()


class Theme(db.Model):
    """A label of a document's own list ("funding", "language access") that analysts
    and the committee give comments. Retired rather than deleted, so tags stay readable."""

    __table_args__ = (UniqueConstraint("document_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship()


class CommentTheme(db.Model):
    """A comment tagged with a theme, by whom and when."""

    __tablename__ = "comment_theme"
    __table_args__ = (
        UniqueConstraint("comment_id", "theme_id"),
        # A theme's comments, and counts per theme.
        Index("ix_comment_theme_theme_id_comment_id", "theme_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    theme: Mapped[Theme] = relationship()
