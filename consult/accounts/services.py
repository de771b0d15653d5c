"""Accounts and organisations: creation, joining, verification, passwords, API tokens."""

from __future__ import annotations

import re
import secrets
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from consult import signals
from consult.accounts.models import ORG_KINDS, ROLES, Membership, Organisation, User
from consult.consultation.models import Comment
from consult.errors import Conflict, ConsultError, NotAllowed, NotFound
from consult.extensions import db
from consult.hashing import sha256
from consult.timeutil import utcnow

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,40}$")
WEBSITE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_DESCRIPTION = 2_000
MAX_FOCUS = 12
COUNTRY = re.compile(r"^[A-Z]{2}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$")
MIN_PASSWORD = 10


def get_organisation(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(_("There is no organisation '%(slug)s'.", slug=slug))
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
    contact_email: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ConsultError(
            _("An organisation slug is 2–80 lower-case letters, digits and hyphens.")
        )
    fields = _profile_fields(
        name=name,
        acronym=acronym,
        kind=kind,
        countries=countries or [],
        focus=focus or [],
        website=website,
        description=description,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise Conflict(_("An organisation with the slug '%(slug)s' already exists.", slug=slug))
    org = Organisation(slug=slug, verified_at=utcnow() if verified else None, **fields)
    db.session.add(org)
    db.session.flush()
    if verified:
        # Verified from the start (the registry, the demo): the record covers it as it
        # covers a verification made later, so a badge set by hand is noticed.
        signals.emit(signals.organisation_verified, org, None, slug=org.slug)
    return org


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _profile_fields(
    *,
    name: str,
    acronym: str | None,
    kind: str,
    countries: list[str],
    focus: list[str],
    website: str | None,
    description: str | None,
    contact_email: str | None,
    contact_phone: str | None,
) -> dict:
    """The public profile of an organisation, checked and tidied; ConsultError says what
    is wrong with the first bad field."""
    if not (name or "").strip():
        raise ConsultError(_("An organisation needs a name."))
    if len(name.strip()) > 200:
        raise ConsultError(_("An organisation's name is at most 200 characters."))
    if kind not in ORG_KINDS:
        raise ConsultError(
            _("Unknown kind '%(kind)s'; use one of: %(x)s.", kind=kind, x=", ".join(ORG_KINDS))
        )
    countries = list(dict.fromkeys(c.strip().upper() for c in countries if c.strip()))
    bad = [c for c in countries if not COUNTRY.match(c)]
    if bad:
        raise ConsultError(
            _("Countries are two-letter ISO codes such as TH or PH, not %(x)s.", x=", ".join(bad))
        )
    focus = list(dict.fromkeys(f.strip() for f in focus if f.strip()))
    if len(focus) > MAX_FOCUS or any(len(f) > 60 for f in focus):
        raise ConsultError(
            _(
                "Name at most %(MAX_FOCUS)s focus areas of up to 60 characters each.",
                MAX_FOCUS=MAX_FOCUS,
            )
        )
    acronym, website = _clean(acronym), _clean(website)
    description = _clean(description)
    contact_email, contact_phone = _clean(contact_email), _clean(contact_phone)
    if acronym and len(acronym) > 40:
        raise ConsultError(_("An acronym is at most 40 characters."))
    if website and (len(website) > 300 or not WEBSITE.match(website)):
        raise ConsultError(
            _(
                "'%(website)s' is not a web address starting with https:// or http://.",
                website=website,
            )
        )
    if description and len(description) > MAX_DESCRIPTION:
        raise ConsultError(
            _(
                "The description is at most %(MAX_DESCRIPTION)s characters.",
                MAX_DESCRIPTION=format(MAX_DESCRIPTION, ","),
            )
        )
    if contact_email and (len(contact_email) > 254 or not EMAIL.match(contact_email)):
        raise ConsultError(
            _("'%(contact_email)s' is not an e-mail address.", contact_email=contact_email)
        )
    if contact_phone and not PHONE.match(contact_phone):
        raise ConsultError(
            _("'%(contact_phone)s' is not a telephone number.", contact_phone=contact_phone)
        )
    return {
        "name": name.strip(),
        "acronym": acronym,
        "kind": kind,
        "countries": countries,
        "focus": focus,
        "website": website,
        "description": description,
        "contact_email": contact_email,
        "contact_phone": contact_phone,
    }


PROFILE_FIELDS = (
    "name",
    "acronym",
    "kind",
    "countries",
    "focus",
    "website",
    "description",
    "contact_email",
    "contact_phone",
)


def update_organisation(org: Organisation, *, by: User, **changes) -> list[str]:
    """Change the public profile; returns the names of the fields that changed.

    A profile is a working description, not a published record: it is changed in
    place, and the record keeps which fields changed, when and by whom.
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ConsultError(_("Unknown field(s): %(x)s.", x=", ".join(sorted(unknown))))
    current = {f: getattr(org, f) for f in PROFILE_FIELDS}
    fields = _profile_fields(**{**current, **changes})
    changed = [f for f in PROFILE_FIELDS if fields[f] != current[f]]
    for f in changed:
        setattr(org, f, fields[f])
    if changed:
        db.session.flush()
        signals.emit(signals.organisation_updated, org, by, slug=org.slug, fields=changed)
    return changed


def register_organisation(org: Organisation, *, by: User) -> Membership | None:
    """Record that `by` registered the organisation; a CSO account becomes its first
    admin (the secretariat registering one for others does not)."""
    m = None
    if by.role == "cso":
        m = next((m for m in by.memberships if m.organisation_id == org.id), None)
        if m is None:
            m = Membership(user=by, organisation=org)
            db.session.add(m)
        m.role, m.status, m.decided_at = "admin", "approved", utcnow()
    db.session.flush()
    signals.emit(
        signals.organisation_created,
        org,
        by,
        slug=org.slug,
        kind=org.kind,
        countries=list(org.countries),
    )
    return m


def verify_organisation(org: Organisation, *, by: User) -> Organisation:
    """The secretariat has checked that the organisation is real: the badge, who and when."""
    if org.verified_at is not None:
        raise Conflict(_("%(name)s is already verified.", name=org.name))
    org.verified_at = utcnow()
    org.verified_by = by
    db.session.flush()
    signals.emit(signals.organisation_verified, org, by, slug=org.slug)
    return org


def request_membership(user: User, org: Organisation) -> Membership:
    """Ask to join an organisation; an admin of it approves or refuses the request.
    A refused request may be asked again (the same row goes back to pending)."""
    m = next((m for m in user.memberships if m.organisation_id == org.id), None)
    if m is not None and m.status == "approved":
        raise Conflict(_("You are already a member of %(name)s.", name=org.name))
    if m is not None and m.status == "pending":
        raise Conflict(_("Your request to join %(name)s is waiting for its admins.", name=org.name))
    if m is None:
        m = Membership(user=user, organisation=org, status="pending")
        db.session.add(m)
    else:
        m.status, m.decided_by, m.decided_at = "pending", None, None
    db.session.flush()
    signals.emit(signals.membership_requested, m, user, organisation=org.slug)
    return m


def get_membership(membership_id: int) -> Membership:
    m = db.session.get(Membership, membership_id)
    if m is None:
        raise NotFound(
            _("There is no membership request %(membership_id)s.", membership_id=membership_id)
        )
    return m


def decide_membership(m: Membership, *, approve: bool, by: User) -> Membership:
    """Approve or refuse a pending request; only pending requests are decided."""
    if m.status != "pending":
        raise Conflict(
            _("This request was already decided (%(lower)s).", lower=m.status_label.lower())
        )
    if m.user_id == by.id:
        raise NotAllowed(_("Another admin of the organisation decides on your own request."))
    m.status = "approved" if approve else "refused"
    m.decided_by, m.decided_at = by, utcnow()
    db.session.flush()
    signals.emit(
        signals.membership_decided, m, by, organisation=m.organisation.slug, status=m.status
    )
    return m


def _password_hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def set_password(user: User, password: str) -> None:
    """A new password; it ends every session of the account (a thief's copy included),
    so a caller keeping the person signed in here signs them in again."""
    if len(password) < MIN_PASSWORD:
        raise ConsultError(
            _("A password has at least %(MIN_PASSWORD)s characters.", MIN_PASSWORD=MIN_PASSWORD)
        )
    user.password_hash = _password_hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Sign the account out everywhere: every session and "remember me" cookie carries
    the account's session generation, and one carrying an older value is refused."""
    user.session_generation = (user.session_generation or 0) + 1
    db.session.flush()


def change_password(user: User, current: str, new: str) -> None:
    """The signed-in person changes their password, proving they know the current one."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ConsultError(_("The current password is wrong."))
    set_password(user, new)


def confirm_email(user: User, email: str) -> bool:
    """Mark the address confirmed when it is still the account's; False when it
    changed since the link was sent."""
    if user.email.lower() != email.lower():
        return False
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()
    return True


def create_user(
    email: str,
    password: str,
    *,
    role: str = "cso",
    name: str = "",
    organisation: Organisation | None = None,
    membership_status: str = "approved",
) -> User:
    email = email.strip()
    if not EMAIL.match(email):
        raise ConsultError(_("'%(email)s' is not an e-mail address.", email=email))
    if role not in ROLES:
        raise ConsultError(
            _("Unknown role '%(role)s'; use one of: %(x)s.", role=role, x=", ".join(ROLES))
        )
    if len(password) < MIN_PASSWORD:
        raise ConsultError(
            _("A password has at least %(MIN_PASSWORD)s characters.", MIN_PASSWORD=MIN_PASSWORD)
        )
    if role == "cso" and organisation is None:
        raise ConsultError(_("A CSO member belongs to an organisation; name it."))
    if role == "individual" and organisation is not None:
        raise ConsultError(_("An individual comments in their own name, for no organisation."))
    if get_user_by_email(email):
        raise Conflict(_("There is already an account for %(email)s.", email=email))
    user = User(email=email, name=name.strip(), role=role, password_hash=_password_hash(password))
    db.session.add(user)
    if organisation is not None:
        db.session.add(Membership(user=user, organisation=organisation, status=membership_status))
    db.session.flush()
    return user


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash made with the configured method, checked when no account has the address,
    so that a wrong address costs as long as a wrong password."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _dummy_hashes[method]


def authenticate(email: str, password: str) -> User | None:
    user = get_user_by_email(email or "")
    if user is None:
        # Spend the same time as for a real account, then refuse: the time taken must
        # not tell which addresses have accounts.
        check_password_hash(_dummy_hash(), password or "")
        return None
    if check_password_hash(user.password_hash, password or ""):
        return user
    return None


def issue_token(user: User) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    token = secrets.token_urlsafe(32)
    user.api_token_hash = sha256(token)
    db.session.flush()
    return token


@cache
def _user_by_token_hash():
    # Built once: every API request asks it, and building the statement and its cache key
    # cost as much as running it.
    return (
        select(User)
        .where(User.api_token_hash == bindparam("token_hash"))
        .options(joinedload(User.memberships).joinedload(Membership.organisation))
    )


def user_for_token(token: str) -> User | None:
    """The user of an API token, with their memberships and organisations (which every
    write's policy check reads) in the same query."""
    if not token:
        return None
    return db.session.scalars(_user_by_token_hash(), {"token_hash": sha256(token)}).unique().first()


def sign_up(
    email: str,
    password: str,
    *,
    name: str,
    organisation: Organisation | None = None,
    new_organisation: dict | None = None,
) -> tuple[User, Membership]:
    """A person makes an account and either registers a new organisation (becoming its
    admin) or asks to join an existing one (pending until an admin approves)."""
    if (organisation is None) == (new_organisation is None):
        raise ConsultError(_("Either choose an existing organisation or name a new one."))
    if new_organisation is not None:
        org = create_organisation(**new_organisation)
        user = create_user(email, password, name=name, organisation=org)
        return user, register_organisation(org, by=user)
    user = create_user(
        email, password, name=name, organisation=organisation, membership_status="pending"
    )
    m = user.memberships[0]
    signals.emit(signals.membership_requested, m, user, organisation=organisation.slug)
    return user, m


def open_to_individuals() -> bool:
    """Some consultation is open now to individuals (participants "everyone")."""
    from consult.documents.models import Version

    return (
        db.session.scalar(
            select(Version.id)
            .where(Version.state == "consultation", Version.participants == "everyone")
            .limit(1)
        )
        is not None
    )


def sign_up_individual(email: str, password: str, *, name: str) -> User:
    """A member of the public makes an account of their own, where a consultation is open
    to individuals; they comment once they have confirmed their e-mail address."""
    if not open_to_individuals():
        raise ConsultError(
            _(
                "No consultation takes comments from individuals now: only "
                "organisations may sign up."
            ),
            status=403,
        )
    return create_user(email, password, role="individual", name=name)


def all_organisations() -> list[Organisation]:
    """Every organisation by name, for the forms that choose one."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def list_organisations(country: str = "", kind: str = "", verified: str = "") -> list:
    """Organisations matching the filters, by name, with their number of comments."""
    q = select(Organisation).order_by(func.lower(Organisation.name))
    if kind:
        q = q.where(Organisation.kind == kind)
    if verified == "yes":
        q = q.where(Organisation.verified_at.is_not(None))
    elif verified == "no":
        q = q.where(Organisation.verified_at.is_(None))
    orgs = list(db.session.scalars(q))
    if country:
        # Countries are a JSON list: filtered here, the same on SQLite and PostgreSQL.
        orgs = [o for o in orgs if country in o.countries]
    counts = dict(
        db.session.execute(
            select(Comment.organisation_id, func.count(Comment.id)).group_by(
                Comment.organisation_id
            )
        ).all()
    )
    return [(o, counts.get(o.id, 0)) for o in orgs]
