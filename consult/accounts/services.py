"""Accounts and organisations: creation, passwords, API tokens."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from consult.accounts.models import ORG_KINDS, ROLES, Membership, Organisation, User
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import sha256
from consult.timeutil import utcnow

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$")
MIN_PASSWORD = 10


def get_organisation(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"There is no organisation '{slug}'.")
    return org


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_organisation(
    slug: str,
    name: str,
    *,
    kind: str = "ngo",
    countries: list[str] | None = None,
    acronym: str | None = None,
    focus: list[str] | None = None,
    website: str | None = None,
    description: str | None = None,
    verified: bool = False,
) -> Organisation:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ConsultError("An organisation slug is 2–80 lower-case letters, digits and hyphens.")
    if kind not in ORG_KINDS:
        raise ConsultError(f"Unknown kind '{kind}'; use one of: {', '.join(ORG_KINDS)}.")
    countries = [c.strip().upper() for c in (countries or []) if c.strip()]
    bad = [c for c in countries if not COUNTRY.match(c)]
    if bad:
        raise ConsultError(
            f"Countries are two-letter ISO codes such as TH or PH, not {', '.join(bad)}."
        )
    if not name.strip():
        raise ConsultError("An organisation needs a name.")
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise Conflict(f"An organisation with the slug '{slug}' already exists.")
    org = Organisation(
        slug=slug,
        name=name.strip(),
        acronym=acronym,
        kind=kind,
        countries=countries,
        focus=focus or [],
        website=website,
        description=description,
        verified_at=utcnow() if verified else None,
    )
    db.session.add(org)
    db.session.flush()
    return org


def create_user(
    email: str,
    password: str,
    *,
    role: str = "cso",
    name: str = "",
    organisation: Organisation | None = None,
) -> User:
    email = email.strip()
    if not EMAIL.match(email):
        raise ConsultError(f"'{email}' is not an e-mail address.")
    if role not in ROLES:
        raise ConsultError(f"Unknown role '{role}'; use one of: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise ConsultError(f"A password has at least {MIN_PASSWORD} characters.")
    if role == "cso" and organisation is None:
        raise ConsultError("A CSO member belongs to an organisation; name it.")
    if get_user_by_email(email):
        raise Conflict(f"There is already an account for {email}.")
    user = User(
        email=email, name=name.strip(), role=role, password_hash=generate_password_hash(password)
    )
    db.session.add(user)
    if organisation is not None:
        db.session.add(Membership(user=user, organisation=organisation))
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = get_user_by_email(email or "")
    if user and check_password_hash(user.password_hash, password or ""):
        return user
    return None


def issue_token(user: User) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    token = secrets.token_urlsafe(32)
    user.api_token_hash = sha256(token)
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    return db.session.scalar(select(User).where(User.api_token_hash == sha256(token)))
