"""Campaigns: an organisation publishes a template (a comment marked as a campaign) that
supporters sign — individuals where the version is open to everyone, or member
organisations. The campaign is shown as one comment with N supporters, and the list of
those who agreed to be named. Signing and withdrawing are record events; nothing is
deleted (a withdrawal is a row of its own).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Boolean, ForeignKey, Index, and_, exists, false, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult import signals
from consult.accounts.models import Organisation, User
from consult.consultation.models import Comment
from consult.documents.services import accepting_comments
from consult.errors import Conflict, ConsultError
from consult.extensions import db
from consult.timeutil import UTCDateTime, utcnow

#: Named supporters shown on one page.
SUPPORTERS_PAGE = 100


class CampaignSignature(db.Model):
    """A supporter signed a campaign: an individual (user_id, no organisation) or an
    organisation (organisation_id, signed by one of its members, user_id)."""

    __table_args__ = (Index("ix_campaign_signature_comment_id_id", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: The supporter agreed to be named on the public pages.
    named: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship()
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def public_name(self) -> str:
        if self.organisation is not None:
            return self.organisation.display_name
        return self.user.display_name if self.named else _("A member of the public")


class CampaignSignatureWithdrawal(db.Model):
    """A supporter took their signature back. The signature stays (and its event)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("campaign_signature.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    signature: Mapped[CampaignSignature] = relationship()


def _standing() -> object:
    return ~exists().where(CampaignSignatureWithdrawal.signature_id == CampaignSignature.id)


def standing_signature(
    campaign: Comment, user: User, organisation: Organisation | None
) -> CampaignSignature | None:
    """The signature that stands for this supporter (the individual, or the organisation)."""
    who = (
        CampaignSignature.organisation_id == organisation.id
        if organisation is not None
        else and_(CampaignSignature.user_id == user.id, CampaignSignature.organisation_id.is_(None))
    )
    return db.session.scalar(
        select(CampaignSignature).where(
            CampaignSignature.comment_id == campaign.id, who, _standing()
        )
    )


def sign(
    campaign: Comment, *, by: User, organisation: Organisation | None = None, named: bool = False
) -> CampaignSignature:
    """`by` signs the campaign, for `organisation` (one they belong to) or in their own
    name. Permission is asked before (policy "campaign.sign")."""
    if not campaign.campaign:
        raise ConsultError(_("This comment is not a campaign."), status=409)
    if not accepting_comments(campaign.version):
        raise Conflict(_("The consultation is closed: the campaign takes no more signatures."))
    if organisation is not None:
        if organisation not in by.organisations:
            raise ConsultError(
                _("You can only sign for an organisation you belong to."), status=403
            )
        if organisation.id == campaign.organisation_id:
            raise ConsultError(_("An organisation cannot sign its own campaign."), status=409)
        named = True  # organisations sign in their name
    elif by.role != "individual":
        raise ConsultError(_("Choose the organisation you sign for."))
    elif by.email_confirmed_at is None:
        raise ConsultError(
            _("Confirm your e-mail address before you sign (see the link we sent you)."),
            status=403,
            code="email_not_confirmed",
        )
    if standing_signature(campaign, by, organisation) is not None:
        raise Conflict(_("This campaign already has your signature."))
    s = CampaignSignature(
        comment=campaign,
        comment_id=campaign.id,
        user=by,
        user_id=by.id,
        organisation=organisation,
        organisation_id=organisation.id if organisation else None,
        named=named,
        created_at=utcnow(),
    )
    db.session.add(s)
    db.session.flush()
    signals.emit(
        signals.campaign_signed,
        s,
        by,
        tracking=campaign.tracking,
        organisation=organisation.slug if organisation else None,
        individual=organisation is None,
        named=named,
    )
    return s


def withdraw(signature: CampaignSignature, *, by: User) -> CampaignSignatureWithdrawal:
    if not accepting_comments(signature.comment.version):
        raise Conflict(_("The consultation is closed: signatures can no longer change."))
    if db.session.scalar(
        select(CampaignSignatureWithdrawal.id).where(
            CampaignSignatureWithdrawal.signature_id == signature.id
        )
    ):
        raise Conflict(_("This signature was already withdrawn."))
    w = CampaignSignatureWithdrawal(signature=signature, signature_id=signature.id, user_id=by.id)
    db.session.add(w)
    db.session.flush()
    signals.emit(
        signals.campaign_signature_withdrawn,
        signature,
        by,
        tracking=signature.comment.tracking,
        organisation=signature.organisation.slug if signature.organisation else None,
    )
    return w


def supporter_count(campaign: Comment) -> int:
    """How many standing signatures (one aggregate query)."""
    return (
        db.session.scalar(
            select(func.count(CampaignSignature.id)).where(
                CampaignSignature.comment_id == campaign.id, _standing()
            )
        )
        or 0
    )


def named_supporters(campaign: Comment, page: int = 1) -> list[CampaignSignature]:
    """The standing signatures of supporters who agreed to be named, a page of them."""
    return list(
        db.session.scalars(
            select(CampaignSignature)
            .where(
                CampaignSignature.comment_id == campaign.id,
                _standing(),
                or_(CampaignSignature.named, CampaignSignature.organisation_id.is_not(None)),
            )
            .order_by(CampaignSignature.id)
            .offset((page - 1) * SUPPORTERS_PAGE)
            .limit(SUPPORTERS_PAGE)
        )
    )
