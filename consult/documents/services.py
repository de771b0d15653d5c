"""Documents and versions: creating, importing, copying, publishing, freezing,
closing at the deadline; the document's committee.

Services take the actor explicitly and only flush; the caller commits once.
Paragraph-by-paragraph drafting is in documents.drafting.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from consult import signals
from consult.documents import drafting, splitter
from consult.documents.models import (
    COMMITTEE_ROLES,
    DOCUMENT_KINDS,
    PARTICIPANTS,
    PERSONAL_DATA,
    CommitteeMember,
    Document,
    LineageLink,
    Paragraph,
    ResponseEffect,
    Version,
)
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import sha256
from consult.timeutil import utcnow
from consult.tracing.align import Link, align
from consult.tracing.compare import classify

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,118}[a-z0-9]$")


def new_lineage() -> str:
    return uuid.uuid4().hex


def get_document(slug: str) -> Document:
    doc = db.session.scalar(select(Document).where(Document.slug == slug))
    if doc is None:
        raise NotFound(_("There is no document '%(slug)s'.", slug=slug))
    return doc


def get_version(doc: Document, number: int) -> Version:
    v = db.session.scalar(
        select(Version).where(Version.document_id == doc.id, Version.number == number)
    )
    if v is None:
        raise NotFound(_("'%(title)s' has no version %(number)s.", title=doc.title, number=number))
    return v


def create_document(
    slug: str,
    title: str,
    *,
    by,
    committee: str = "",
    timezone: str = "UTC",
    kind: str = "resolution",
):
    """A new document without versions. Whoever creates it chairs its committee until the
    secretariat forms the committee (so that someone may edit its first draft). `kind` is
    one of DOCUMENT_KINDS (a resolution, a policy framework…)."""
    check_kind(kind)
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ConsultError(
            _("A slug is 3–120 lower-case letters, digits and hyphens, e.g. 'aipa-cso-framework'.")
        )
    if not title.strip():
        raise ConsultError(_("A document needs a title."))
    if db.session.scalar(select(Document.id).where(Document.slug == slug)):
        raise Conflict(_("A document with the slug '%(slug)s' already exists.", slug=slug))
    doc = Document(
        slug=slug, title=title.strip(), committee=committee.strip(), timezone=timezone, kind=kind
    )
    db.session.add(doc)
    if by is not None and getattr(by, "role", "cso") != "cso":
        # Part of creating the document, which is not itself an event of the record.
        db.session.add(CommitteeMember(document=doc, user_id=by.id, role="chair"))
    db.session.flush()
    return doc


def slug_from_title(title: str) -> str:
    """A free slug made from the title: letters and digits folded to ASCII, the rest
    hyphens, at most 80 characters; "-2", "-3"… when it is taken."""
    words = re.sub(r"[^\w]+", "-", title)  # apostrophes and dashes part words
    folded = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80].strip("-")
    if len(base) < 3:
        raise ConsultError(
            _(
                "No address can be made from this title: give a short name "
                "(slug) of lower-case letters, digits and hyphens."
            )
        )
    taken = set(
        db.session.scalars(
            select(Document.slug).where((Document.slug == base) | Document.slug.like(f"{base}-%"))
        )
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def check_kind(kind: str) -> str:
    if kind not in DOCUMENT_KINDS:
        raise ConsultError(
            _(
                "'%(kind)s' is not a kind of document; use one of: %(x)s.",
                kind=kind,
                x=", ".join(DOCUMENT_KINDS),
            )
        )
    return kind


# ---------------------------------------------------------------- the committee


def committee_of(doc: Document) -> list[CommitteeMember]:
    """The document's committee: chairs first, then drafters, each by name."""
    return sorted(
        doc.committee_members, key=lambda m: (m.role != "chair", m.user.display_name.lower())
    )


def add_committee_member(doc: Document, user, *, role: str = "drafter", by) -> CommitteeMember:
    """Name `user` chair or drafter of the document's committee, or change their role."""
    if role not in COMMITTEE_ROLES:
        raise ConsultError(_("A committee role is one of: %(x)s.", x=", ".join(COMMITTEE_ROLES)))
    if user is None:
        raise NotFound(_("There is no such account."))
    if user.role == "cso":
        raise ConsultError(
            _(
                "%(display_name)s has a CSO account: organisations comment "
                "on drafts and the committee answers them, so a CSO account "
                "cannot sit on a committee.",
                display_name=user.display_name,
            )
        )
    member = next((m for m in doc.committee_members if m.user_id == user.id), None)
    previous = member.role if member else None
    if previous == role:
        raise Conflict(
            _(
                "%(display_name)s is already %(x)s of this committee.",
                display_name=user.display_name,
                x=COMMITTEE_ROLES[role].lower(),
            )
        )
    if previous == "chair":
        _keep_a_chair(doc, member, staying=True)
    if member is None:
        member = CommitteeMember(document=doc, user=user, user_id=user.id, role=role)
        db.session.add(member)
    else:
        member.role = role
    db.session.flush()
    signals.emit(
        signals.committee_member_added, doc, by, user=user.id, role=role, previous_role=previous
    )
    return member


def remove_committee_member(doc: Document, user, *, by) -> None:
    """Take `user` off the document's committee. Membership is a working arrangement, not
    a published record, so the row goes; the record keeps the event."""
    member = next((m for m in doc.committee_members if user and m.user_id == user.id), None)
    if member is None:
        raise NotFound(_("That account is not on this document's committee."))
    if member.role == "chair":
        _keep_a_chair(doc, member, staying=False)
    role = member.role
    doc.committee_members.remove(member)
    db.session.delete(member)
    db.session.flush()
    signals.emit(signals.committee_member_removed, doc, by, user=user.id, role=role)


def _keep_a_chair(doc: Document, chair: CommitteeMember, *, staying: bool) -> None:
    """Refuse to leave a committee with members but no chair."""
    others = [m for m in doc.committee_members if m is not chair]
    if (staying or others) and not any(m.role == "chair" for m in others):
        raise Conflict(_("A committee with members needs a chair: name another chair first."))


def to_markdown(version: Version) -> str:
    return splitter.join([(p.source, p.blank_before) for p in version.paragraphs])


def compute_hash(version: Version) -> str:
    """sha256 of the version's Markdown text: anyone can recompute it from the export."""
    return sha256(to_markdown(version))


def _guard_new_version(doc: Document) -> int:
    latest = doc.latest
    if latest is not None and latest.state == "draft":
        raise Conflict(
            _(
                "Version %(number)s is still a draft; publish it or edit it "
                "instead of starting another.",
                number=latest.number,
            )
        )
    if latest is not None and latest.state == "consultation":
        raise Conflict(
            _(
                "Version %(number)s is still open for comments; close it "
                "before adding the next version.",
                number=latest.number,
            )
        )
    if latest is not None and latest.state == "final":
        raise Conflict(
            _(
                "Version %(number)s is final; the document takes no more versions.",
                number=latest.number,
            )
        )
    return latest.number + 1 if latest else 1


def _fill(version: Version, blocks: list[splitter.Block], previous: Version | None) -> None:
    """Store blocks as the version's paragraphs, with lineage found by alignment.

    A paragraph continues the lineage of its (first) old paragraph: the first piece of
    a split keeps it and the other pieces start new lineages; a merged paragraph takes
    the lineage of the first old one. Every (old, new) pair is a LineageLink.
    """
    old = previous.paragraphs if previous else []
    links = (
        align(
            [p.text for p in old],
            [b.text for b in blocks],
            [(p.kind, p.level) for p in old],
            [(b.kind, b.level) for b in blocks],
        )
        if old
        else []
    )
    pairs: dict[int, list[Link]] = defaultdict(list)
    for lk in links:
        if lk.old is not None and lk.new is not None:
            pairs[lk.new].append(lk)
    lineage_of: dict[int, str] = {}
    continued: set[str] = set()
    for j in sorted(pairs):
        lineage = old[min(lk.old for lk in pairs[j])].lineage
        if lineage not in continued:
            lineage_of[j] = lineage
            continued.add(lineage)
    paragraphs = []
    for pos, b in enumerate(blocks):
        p = Paragraph(
            version=version,
            position=pos,
            number=b.number,
            kind=b.kind,
            level=b.level,
            source=b.source,
            text=b.text,
            blank_before=b.blank_before,
            lineage=lineage_of.get(pos) or new_lineage(),
        )
        db.session.add(p)
        paragraphs.append(p)
    db.session.flush()
    if previous is None:
        return
    for pos, p in enumerate(paragraphs):
        for lk in sorted(pairs.get(pos, []), key=lambda lk: lk.old):
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    paragraph_id=p.id,
                    predecessor_id=old[lk.old].id,
                    relation=_relation(lk.relation, old[lk.old], p),
                    similarity=lk.similarity,
                    method="alignment",
                )
            )
        if pos not in pairs:
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    paragraph_id=p.id,
                    relation="added",
                    similarity=0.0,
                    method="alignment",
                )
            )
    for lk in links:
        if lk.new is None:
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    predecessor_id=old[lk.old].id,
                    relation="removed",
                    similarity=0.0,
                    method="alignment",
                )
            )
    db.session.flush()


def _relation(aligned: str, old: Paragraph, new: Paragraph) -> str:
    """The stored relation of an aligned pair: alignment compares plain texts, so a
    pair it calls unchanged or edited is named by compare.classify, which tells a change
    of Markdown only (a link's address) from an edit of the words."""
    if aligned not in ("unchanged", "edited"):
        return aligned
    return classify(aligned, old.source == new.source, old.text == new.text)


def import_version(doc: Document, text: str, *, by, label: str = "") -> Version:
    """Add a whole Markdown text as the document's next version, a draft."""
    blocks = splitter.split(text)
    if not blocks:
        raise ConsultError(_("The text is empty: there is nothing to make a version of."))
    number = _guard_new_version(doc)
    previous = doc.latest
    version = Version(document=doc, number=number, label=label.strip(), state="draft")
    db.session.add(version)
    db.session.flush()
    _fill(version, blocks, previous)
    signals.emit(signals.version_created, version, by, method="import", number=number)
    return version


def copy_version(doc: Document, *, by, label: str = "") -> Version:
    """Start the next version as an exact copy of the latest: lineage known exactly."""
    previous = doc.latest
    if previous is None:
        raise ConsultError(_("There is no version to copy yet; import a text first."))
    number = _guard_new_version(doc)
    version = Version(document=doc, number=number, label=label.strip(), state="draft")
    db.session.add(version)
    for p in previous.paragraphs:
        copy = Paragraph(
            version=version,
            position=p.position,
            number=p.number,
            kind=p.kind,
            level=p.level,
            source=p.source,
            text=p.text,
            blank_before=p.blank_before,
            lineage=p.lineage,
        )
        db.session.add(copy)
        db.session.flush()
        db.session.add(
            LineageLink(
                version_id=version.id,
                paragraph_id=copy.id,
                predecessor_id=p.id,
                relation="unchanged",
                similarity=1.0,
                method="copy",
            )
        )
    db.session.flush()
    signals.emit(signals.version_created, version, by, method="copy", number=number)
    return version


def replace_text(version: Version, text: str, *, by, base_text: str | None = None) -> Version:
    """Replace a draft's whole text; lineage is re-aligned with the version before.

    `base_text`, the text the drafter started from, guards against overwriting what
    someone else saved meanwhile: drafting.EditConflict with both texts (and their
    merge when the changes do not overlap).
    """
    drafting.refuse_frozen(version)
    blocks = splitter.split(text)
    if not blocks:
        raise ConsultError(_("The text is empty: a version needs at least one paragraph."))
    drafting.lock_draft(version)
    drafting.refuse_frozen(version)
    if base_text is not None:
        current, base = to_markdown(version), splitter.normalise(base_text)
        if current != base:
            raise drafting.EditConflict(
                paragraph=None,
                theirs=current,
                yours=text,
                revision=None,
                merged=drafting.merge_texts(base, current, text),
                what="text",
            )
    previous = version.neighbour(-1)
    # Suggestions taken up stay with their paragraph when it keeps its lineage.
    effects = db.session.execute(
        select(ResponseEffect.response_id, Paragraph.lineage)
        .join(Paragraph, Paragraph.id == ResponseEffect.paragraph_id)
        .where(ResponseEffect.version_id == version.id)
    ).all()
    db.session.execute(
        ResponseEffect.__table__.delete().where(ResponseEffect.version_id == version.id)
    )
    # A draft's paragraphs were never public, so they are replaced, not kept.
    for link in db.session.scalars(select(LineageLink).where(LineageLink.version_id == version.id)):
        db.session.delete(link)
    for p in list(version.paragraphs):
        db.session.delete(p)
    db.session.flush()
    db.session.expire(version, ["paragraphs"])
    _fill(version, blocks, previous)
    db.session.expire(version, ["paragraphs"])
    by_lineage = {p.lineage: p for p in version.paragraphs}
    for response_id, lineage in effects:
        if lineage in by_lineage:
            db.session.add(
                ResponseEffect(
                    response_id=response_id, paragraph=by_lineage[lineage], version_id=version.id
                )
            )
    db.session.flush()
    return version


def check_publishable(version: Version, closes_at: datetime | None) -> None:
    """Refuse what publish() would refuse (also asked before its confirmation page)."""
    if version.state != "draft":
        raise Conflict(
            _(
                "Version %(number)s is already published (%(state_label)s).",
                number=version.number,
                state_label=version.state_label,
            )
        )
    if closes_at is not None and closes_at <= utcnow():
        raise ConsultError(_("The deadline for comments must be in the future."))


def check_opening(participants: str, personal_data: str) -> None:
    """Refuse settings of an opening that do not exist."""
    if participants not in PARTICIPANTS:
        raise ConsultError(
            _(
                "Unknown participants '%(participants)s'; use one of: %(x)s.",
                participants=participants,
                x=", ".join(PARTICIPANTS),
            )
        )
    if personal_data not in PERSONAL_DATA:
        raise ConsultError(
            _(
                "Unknown personal data setting '%(personal_data)s'; use one of: %(x)s.",
                personal_data=personal_data,
                x=", ".join(PERSONAL_DATA),
            )
        )


def publish(
    version: Version,
    *,
    by,
    closes_at: datetime | None = None,
    participants: str = "organisations",
    withheld_names: bool = False,
    personal_data: str = "hold",
) -> Version:
    """Leave draft, exactly once: open for comments until `closes_at`, or, without a
    deadline, publish as a closed text (an earlier text readable by all).

    The opening's settings (part of its record event): who may comment (`participants`:
    "organisations", or "everyone" with individuals), whether individuals may have their
    name withheld, and whether a comment with personal data is held for review ("hold")
    or published with the data masked ("mask")."""
    check_opening(participants, personal_data)
    if withheld_names and participants != "everyone":
        raise ConsultError(
            _("Names can be withheld only where individuals may comment (participants everyone).")
        )
    if version.state == "draft":
        # No drafter's change may slip in between the hash and the freeze.
        drafting.lock_draft(version)
    check_publishable(version, closes_at)
    version.participants = participants
    version.withheld_names = withheld_names
    version.personal_data = personal_data
    now = utcnow()
    version.content_hash = compute_hash(version)
    version.published_at = now
    if closes_at is not None:
        version.state = "consultation"
        version.closes_at = closes_at
    else:
        version.state = "closed"
        version.closed_at = now
    db.session.flush()
    signals.emit(
        signals.version_published,
        version,
        by,
        content_hash=version.content_hash,
        state=version.state,
        closes_at=closes_at.isoformat() if closes_at else None,
        participants=participants,
        withheld_names=withheld_names,
        personal_data=personal_data,
    )
    return version


def close(version: Version, *, by, reason: str = "") -> Version:
    """Close a consultation for comments. Before the deadline this is an early close:
    pages and the command line ask for the reason, which is kept on the version and in
    the record. After the deadline the reason is "deadline"."""
    if refresh_state(version):
        return version  # the deadline had passed: it is closed as at the deadline
    if version.state != "consultation":
        raise Conflict(
            _(
                "Only a version open for comments can be closed; this one is %(lower)s.",
                lower=version.state_label.lower(),
            )
        )
    now = utcnow()
    reason = (reason or "").strip()
    version.state = "closed"
    version.closed_at = now
    version.close_reason = reason or None
    db.session.flush()
    signals.emit(signals.version_state_changed, version, by, state="closed", reason=reason)
    return version


def closes_early(version: Version, now: datetime | None = None) -> bool:
    """Closing now would cut the consultation short (so a reason should be given)."""
    now = now or utcnow()
    return (
        version.state == "consultation"
        and version.closes_at is not None
        and now < (version.closes_at)
    )


def refresh_state(version: Version, now: datetime | None = None) -> bool:
    """Close the version if its deadline has passed; True when it was closed now.

    Cheap when nothing is due (no query): pages call it when they load a version for
    reading or commenting, and commit. The `close-expired` command does the same for
    all versions, from cron. Both may race; the conditional update closes once.
    """
    now = now or utcnow()
    if version.state != "consultation" or version.closes_at is None or now < version.closes_at:
        return False
    result = db.session.execute(
        update(Version)
        .where(Version.id == version.id, Version.state == "consultation")
        .values(state="closed", closed_at=version.closes_at, close_reason="deadline")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # another request closed it first
        db.session.refresh(version)
        return False
    db.session.refresh(version)
    signals.emit(
        signals.version_state_changed,
        version,
        None,
        state="closed",
        reason="deadline",
        closed_at=version.closes_at.isoformat(),
    )
    return True


def close_expired(now: datetime | None = None) -> list[Version]:
    """Close every consultation whose deadline has passed; the versions closed now."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Version)
        .where(Version.state == "consultation", Version.closes_at <= now)
        .order_by(Version.closes_at, Version.id)
    ).all()
    return [v for v in due if refresh_state(v, now)]


def finalize(version: Version, *, by, override_reason: str | None = None) -> Version:
    """Make the latest, closed version the document's final text (once per document).

    Refused while comments on it or on the versions before it are unanswered, unless
    `override_reason` is given (the chair's or the secretariat's call: the caller
    checks "version.finalize"); the reason and the count of unanswered comments are
    recorded and shown publicly on the version page.
    """
    from consult.tracing.guard import unanswered_count  # reads comments: a later layer

    doc = version.document
    refresh_state(version)
    if version.state != "closed":
        raise Conflict(
            _(
                "Only a closed version can be made final; this one is %(lower)s.",
                lower=version.state_label.lower(),
            )
        )
    if doc.latest is not version:
        raise Conflict(_("Only the latest version can be made final."))
    if any(v.state == "final" for v in doc.versions):
        raise Conflict(_("This document already has a final version."))
    if compute_hash(version) != version.content_hash:
        raise Conflict(_("The version's text does not match the hash taken at publication."))
    override_reason = (override_reason or "").strip()
    waiting = unanswered_count(version)
    if waiting and not override_reason:
        raise Conflict(
            _(
                "%(waiting)s comment%(x)s still unanswered on this version "
                "or the versions before it. Answer them first, or make the "
                "version final anyway by giving the reason (it is shown "
                "publicly with the count).",
                waiting=waiting,
                x="s are" if waiting != 1 else " is",
            )
        )
    version.state = "final"
    version.finalized_at = utcnow()
    db.session.flush()
    extra = {"override_reason": override_reason, "unanswered": waiting} if waiting else {}
    signals.emit(signals.version_state_changed, version, by, state="final", reason="", **extra)
    return version


def accepting_comments(version: Version, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return version.state == "consultation" and (
        version.closes_at is None or now < version.closes_at
    )


def successors(paragraph: Paragraph) -> list[Paragraph]:
    """The paragraphs of the next version that came from this one."""
    return list(
        db.session.scalars(
            select(Paragraph)
            .join(LineageLink, LineageLink.paragraph_id == Paragraph.id)
            .where(LineageLink.predecessor_id == paragraph.id)
            .order_by(Paragraph.position)
        )
    )


def lineage_history(paragraph: Paragraph) -> list[Paragraph]:
    """The same paragraph in every version of its document, oldest first."""
    return list(
        db.session.scalars(
            select(Paragraph)
            .join(Version)
            .where(
                Paragraph.lineage == paragraph.lineage,
                Version.document_id == paragraph.version.document_id,
            )
            .order_by(Version.number)
        )
    )
