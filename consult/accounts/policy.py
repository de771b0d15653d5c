"""The one place that answers "may this user do this (to that)?".

Permissions are data: each action maps to alternatives, small predicates on
(user, target); the action is allowed when any of them holds. Views, the API
and the command line all ask `can()` or `require()`. State rules (a frozen
version cannot be edited, a closed consultation takes no comments) are the
services' guards, not permissions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consult.errors import NotAllowed

Predicate = Callable[[Any, Any], bool]


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_admin(user, target=None) -> bool:
    return _signed_in(user) and user.role == "admin"


def is_secretariat(user, target=None) -> bool:
    return _signed_in(user) and user.role in ("secretariat", "admin")


def is_cso_member(user, target=None) -> bool:
    return _signed_in(user) and user.role == "cso" and bool(user.memberships)


def anyone(user, target=None) -> bool:
    return True


def version_is_public(user, version) -> bool:
    return version is not None and version.state != "draft"


def document_is_public(user, document) -> bool:
    """A document is public once one of its versions has left draft."""
    return document is not None and any(v.state != "draft" for v in document.versions)


def signed_in(user, target=None) -> bool:
    return _signed_in(user)


POLICY: dict[str, tuple[Predicate, ...]] = {
    "document.view": (document_is_public, is_secretariat),
    "version.view": (version_is_public, is_secretariat),
    "document.create": (is_secretariat,),
    "version.create": (is_secretariat,),
    "version.edit": (is_secretariat,),
    "version.publish": (is_secretariat,),
    "version.close": (is_secretariat,),
    "version.finalize": (is_secretariat,),
    "comment.create": (is_cso_member,),
    "comment.enter_on_behalf": (is_secretariat,),
    "response.create": (is_secretariat,),
    "organisation.create": (is_secretariat,),
    "user.create": (is_admin,),
    "api.token": (signed_in,),
}


def can(user, action: str, target: Any = None) -> bool:
    try:
        rules = POLICY[action]
    except KeyError:
        raise KeyError(f"unknown action {action!r}: add it to POLICY") from None
    return any(rule(user, target) for rule in rules)


def require(user, action: str, target: Any = None) -> None:
    """Raise NotAllowed with a readable message unless `can()` holds."""
    if not can(user, action, target):
        who = "You need to sign in" if not _signed_in(user) else "Your account may not do this"
        raise NotAllowed(f"{who} ({action.replace('.', ': ')}).")
