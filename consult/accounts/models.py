"""Organisations, users and who belongs to which organisation."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.extensions import db
from consult.i18n import N_
from consult.timeutil import UTCDateTime, utcnow

#: admin: everything; secretariat: runs consultations, forms committees, answers comments;
#: committee: drafts the documents on whose committee it sits (documents.CommitteeMember),
#: nothing else; cso: comments for its organisation; individual: a member of the public,
#: who comments in their own name where a consultation is open to everyone.
ROLES = ("admin", "secretariat", "committee", "cso", "individual")
ORG_KINDS = {
    "ngo": N_("NGO"),
    "network": N_("Network or coalition"),
    "community": N_("Community-based organisation"),
    "academia": N_("Academia or think tank"),
    "union": N_("Trade union"),
    "professional": N_("Professional body"),
    "media": N_("Media"),
    "faith": N_("Faith-based organisation"),
    "other": N_("Other"),
}
#: A membership asked for on sign-up is "pending" until an organisation admin approves
#: it; only "approved" members act for the organisation. Refused requests are kept.
MEMBERSHIP_STATUSES = {
    "pending": N_("Waiting for approval"),
    "approved": N_("Member"),
    "refused": N_("Refused"),
}


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="ngo")
    #: ISO 3166-1 alpha-2 codes; a regional network works in several countries.
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    focus: Mapped[list[str]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    #: Set when the secretariat has checked that the organisation is real.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Public contact, as the organisation chooses to publish it (never an account's e-mail).
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    #: The secretariat member who verified the organisation (None for the system or demo).
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", order_by="Membership.id"
    )
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    @property
    def kind_label(self) -> str:
        return gettext(ORG_KINDS.get(self.kind, self.kind))

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def approved_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.status == "approved"]

    @property
    def pending_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.status == "pending"]

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="cso")
    #: sha256 of the API token; the token itself is shown once and never stored.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the owner of the address proved it by following the e-mailed link.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Carried by every session and "remember me" cookie of the account (see get_id);
    #: raised by sign-out, a password change or reset, which ends every copy of them.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The interface language the account chose (consult.i18n.LOCALES), which wins over
    #: the switcher's cookie and the browser's Accept-Language; none: those decide.
    locale: Mapped[str | None] = mapped_column(String(10))
    #: The account's own time zone (an IANA name, e.g. 'Asia/Yangon'): pages and mails
    #: add times in it beside the document's zone; none: the browser's (consult.web).
    timezone: Mapped[str | None] = mapped_column(String(64))

    #: In the order they were made, so that a user's first organisation (the one forms
    #: choose by default) does not depend on how the database returns rows.
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id", order_by="Membership.id"
    )

    def get_id(self) -> str:
        """What Flask-Login stores in the session and the remember cookie."""
        return f"{self.id}:{self.session_generation or 0}"

    @property
    def organisations(self) -> list[Organisation]:
        """The organisations the user acts for: approved memberships only."""
        return [m.organisation for m in self.memberships if m.status == "approved"]

    @property
    def pending_organisations(self) -> list[Organisation]:
        return [m.organisation for m in self.memberships if m.status == "pending"]

    def admin_of(self, organisation: Organisation) -> bool:
        return any(
            m.organisation_id == organisation.id and m.role == "admin" and m.status == "approved"
            for m in self.memberships
        )

    @property
    def organisation(self) -> Organisation | None:
        orgs = self.organisations
        return orgs[0] if orgs else None

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Membership(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: "member" or "admin" (an organisation admin approves members).
    role: Mapped[str] = mapped_column(String(20), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: One of MEMBERSHIP_STATUSES.
    status: Mapped[str] = mapped_column(String(20), default="approved", server_default="approved")
    #: The organisation admin (or secretariat member) who approved or refused the request.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def status_label(self) -> str:
        return gettext(MEMBERSHIP_STATUSES.get(self.status, self.status))


class NotificationSetting(db.Model):
    """A user's choice for one kind of notification (consult.mail.NOTIFICATIONS);
    without a row the kind's default holds."""

    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
