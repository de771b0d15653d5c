"""The one place that answers "may this user do this (to that)?".

Permissions are data: each action maps to alternatives, small predicates on
(user, target); the action is allowed when any of them holds. Views, the API
and the command line all ask `can()` or `require()`. State rules (a frozen
version cannot be edited, a closed consultation takes no comments) are the
services' guards, not permissions.

Who drafts: each document has a committee (a chair and drafters, see
documents.models.CommitteeMember), formed by the secretariat ("committee.manage")
from accounts with the role "committee" (members of parliament and their staff,
who have no other powers), "secretariat" or "admin" — never "cso".
Only committee members edit the document's drafts — paragraph by paragraph, as
a whole text, taking up suggestions, confirming lineage — and an administrator
may step in ("version.edit"). Members see the drafts and may start the next
version and answer comments on their document. The version's life is the
chair's call, shared with the secretariat that runs the consultation:
publishing (opening for comments), closing early (with a reason, which the
pages and the command line ask for and the record keeps) and making a version
final ("version.publish", "version.close", "version.finalize"). The
secretariat keeps these so that a consultation never depends on one person
being available; drafters cannot do them alone.
Closing at the deadline needs nobody: the system does it.

A committee predicate looks the document up from its target: a Document, a
Version, a Paragraph, a Comment or a Response. With no target it does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from consult.errors import NotAllowed

Predicate = Callable[[Any, Any], bool]


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_admin(user, target=None) -> bool:
    return _signed_in(user) and user.role == "admin"


def is_secretariat(user, target=None) -> bool:
    return _signed_in(user) and user.role in ("secretariat", "admin")


def is_cso_member(user, target=None) -> bool:
    """A CSO account with at least one approved membership: a pending request to join
    does not let anyone act for an organisation."""
    return (
        _signed_in(user)
        and user.role == "cso"
        and any(m.status == "approved" for m in user.memberships)
    )


def is_individual(user, target=None) -> bool:
    """A member of the public with an account of their own (no organisation)."""
    return _signed_in(user) and user.role == "individual"


def _version_of(target):
    """The Version a target is or belongs to (a Version, Paragraph or Comment)."""
    if target is not None and hasattr(target, "participants"):
        return target
    return getattr(target, "version", None)


def is_individual_where_open(user, target) -> bool:
    """An individual, on a version opened to everyone (the services also ask for a
    confirmed e-mail address, and say so when it is not)."""
    version = _version_of(target)
    return is_individual(user) and version is not None and version.participants == "everyone"


def may_withhold_name(user, target) -> bool:
    """The version lets individuals keep their name off the public pages."""
    version = _version_of(target)
    return is_individual(user) and version is not None and bool(version.withheld_names)


def is_campaign_supporter(user, target) -> bool:
    """A member of the public who may comment on the campaign's version, or a CSO member
    of an organisation other than the campaign's."""
    if target is None or not getattr(target, "campaign", False):
        return False
    return is_individual_where_open(user, target) or is_cso_member_elsewhere(user, target)


def is_signature_owner(user, signature) -> bool:
    """Who signed: the individual, or an approved member of the signing organisation."""
    if signature is None or not _signed_in(user):
        return False
    if signature.organisation_id is not None:
        return is_approved_member(user, signature.organisation)
    return signature.user_id == user.id


def is_cso_account(user, target=None) -> bool:
    return _signed_in(user) and user.role == "cso"


def _organisation_of(target):
    """The Organisation a target belongs to (an Organisation, or a Membership or Comment
    of one)."""
    return getattr(target, "organisation", None) or target


def is_approved_member(user, target) -> bool:
    """An approved member of the target organisation (acts for it: comments, co-signs)."""
    org = _organisation_of(target)
    return (
        org is not None
        and _signed_in(user)
        and any(m.organisation_id == org.id and m.status == "approved" for m in user.memberships)
    )


def is_organisation_admin(user, target) -> bool:
    org = _organisation_of(target)
    return org is not None and _signed_in(user) and user.admin_of(org)


def anyone(user, target=None) -> bool:
    return True


def version_is_public(user, version) -> bool:
    return version is not None and version.state != "draft"


def document_is_public(user, document) -> bool:
    """A document is public once one of its versions has left draft."""
    return document is not None and any(v.state != "draft" for v in document.versions)


def signed_in(user, target=None) -> bool:
    return _signed_in(user)


def _document_of(target):
    """The Document a target belongs to (Document, Version, Paragraph, Comment, Response)."""
    for _step in range(4):
        if target is None or hasattr(target, "committee_members"):
            return target
        target = (
            getattr(target, "document", None)
            or getattr(target, "version", None)
            or getattr(target, "comment", None)
        )
    return None


def committee_role(user, target) -> str | None:
    """The user's role ("chair", "drafter") in the committee of the target's document."""
    doc = _document_of(target)
    if doc is None or not _signed_in(user):
        return None
    # The document's members load once per request (identity map), however many checks.
    return next((m.role for m in doc.committee_members if m.user_id == user.id), None)


def is_committee_member(user, target) -> bool:
    return committee_role(user, target) is not None


def is_committee_chair(user, target) -> bool:
    return committee_role(user, target) == "chair"


def is_comment_author(user, comment) -> bool:
    """The person who wrote the comment; for a comment the secretariat entered for an
    organisation, the secretariat (it holds the paper or the e-mail)."""
    if comment is None or not _signed_in(user):
        return False
    if comment.author_id is not None:
        return comment.author_id == user.id
    return is_secretariat(user)


def is_cosigning_member(user, comment) -> bool:
    """A CSO member of an organisation that co-signs the comment (after it was sent)."""
    if not is_cso_member(user):
        return False
    mine = {m.organisation_id for m in user.memberships if m.status == "approved"}
    return any(
        s.organisation_id in mine and not s.joint for s in getattr(comment, "cosignatures", [])
    )


def is_cso_member_elsewhere(user, comment) -> bool:
    """A CSO member with an organisation other than the comment's own."""
    return is_cso_member(user) and any(
        m.organisation_id != getattr(comment, "organisation_id", None) and m.status == "approved"
        for m in user.memberships
    )


POLICY: dict[str, tuple[Predicate, ...]] = {
    "document.view": (document_is_public, is_secretariat, is_committee_member),
    "version.view": (version_is_public, is_secretariat, is_committee_member),
    "document.create": (is_secretariat,),
    "committee.manage": (is_secretariat,),
    "version.create": (is_secretariat, is_committee_member),
    "version.edit": (is_committee_member, is_admin),
    "version.publish": (is_committee_chair, is_secretariat),
    "version.close": (is_committee_chair, is_secretariat),
    "version.finalize": (is_committee_chair, is_secretariat),
    "comment.create": (is_cso_member, is_individual_where_open),
    # An individual asks for their name to be withheld from the public pages.
    "comment.withhold_name": (may_withhold_name,),
    # Who reads a withheld name, and a comment held for review of personal data.
    "comment.see_withheld": (is_secretariat,),
    "comment.review_personal_data": (is_secretariat,),
    # Campaigns: an organisation posts a template (comment.create for it), supporters sign.
    "campaign.sign": (is_campaign_supporter,),
    "campaign.withdraw_signature": (is_signature_owner,),
    "comment.enter_on_behalf": (is_secretariat,),
    "comment.edit": (is_comment_author,),
    "comment.withdraw": (is_comment_author,),
    "comment.cosign": (is_cso_member_elsewhere,),
    "comment.cosign_withdraw": (is_cosigning_member,),
    "comment.reply": (is_cso_member, is_committee_member, is_secretariat),
    "comment.flag": (signed_in,),
    "comment.moderate": (is_secretariat,),
    "response.create": (is_secretariat, is_committee_member),
    # Translations of a version's text and of the committee's answers.
    "translation.manage": (is_committee_member, is_secretariat),
    "response.translate": (is_secretariat, is_committee_member),
    "response.feedback": (is_approved_member,),  # of the commenting organisation
    # Form-letter groups and themes (consult.analysis): the secretariat's analysts and
    # the document's committee.
    "analysis.view": (is_secretariat, is_committee_member),
    "theme.manage": (is_secretariat, is_committee_member),
    "comment.tag": (is_secretariat, is_committee_member),
    "group.take_out": (is_secretariat, is_committee_member),
    # Anyone signed in may register an organisation and becomes its admin; the
    # secretariat verifies it later.
    "organisation.create": (is_secretariat, signed_in),
    "organisation.edit": (is_organisation_admin, is_secretariat),
    "organisation.verify": (is_secretariat,),
    "organisation.act_for": (is_approved_member,),
    "membership.request": (is_cso_account,),
    "membership.decide": (is_organisation_admin, is_secretariat),
    "notifications.manage": (signed_in,),
    "account.settings": (signed_in,),
    "user.create": (is_admin,),
    "api.token": (signed_in,),
}


def can(user, action: str, target: Any = None) -> bool:
    try:
        rules = POLICY[action]
    except KeyError:
        raise KeyError(f"unknown action {action!r}: add it to POLICY") from None
    return any(rule(user, target) for rule in rules)


def versions_seen_by(user, document) -> list:
    """The versions of `document` that `user` may read ("version.view"), in order."""
    return [v for v in document.versions if can(user, "version.view", v)]


def require(user, action: str, target: Any = None) -> None:
    """Raise NotAllowed with a readable message unless `can()` holds."""
    if not can(user, action, target):
        # The action's name (as in the policy table) goes with it, for the API's readers
        # and for whoever asks the secretariat for the right to do it.
        raise NotAllowed(
            _("You need to sign in to do this.")
            if not _signed_in(user)
            else _("Your account may not do this."),
            action=action,
        )
