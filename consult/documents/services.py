"""Documents and versions: creating, importing, copying, publishing, freezing.

Services take the actor explicitly and only flush; the caller commits once.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import select

from consult import signals
from consult.documents import splitter
from consult.documents.models import Document, LineageLink, Paragraph, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.hashing import sha256
from consult.timeutil import utcnow
from consult.tracing.align import align

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,118}[a-z0-9]$")


def new_lineage() -> str:
    return uuid.uuid4().hex


def get_document(slug: str) -> Document:
    doc = db.session.scalar(select(Document).where(Document.slug == slug))
    if doc is None:
        raise NotFound(f"There is no document '{slug}'.")
    return doc


def get_version(doc: Document, number: int) -> Version:
    v = db.session.scalar(
        select(Version).where(Version.document_id == doc.id, Version.number == number)
    )
    if v is None:
        raise NotFound(f"'{doc.title}' has no version {number}.")
    return v


def create_document(slug: str, title: str, *, by, committee: str = "", timezone: str = "UTC"):
    slug = slug.strip().lower()
    if not SLUG.match(slug):
        raise ConsultError(
            "A slug is 3–120 lower-case letters, digits and hyphens, e.g. 'aipa-cso-framework'."
        )
    if not title.strip():
        raise ConsultError("A document needs a title.")
    if db.session.scalar(select(Document.id).where(Document.slug == slug)):
        raise Conflict(f"A document with the slug '{slug}' already exists.")
    doc = Document(slug=slug, title=title.strip(), committee=committee.strip(), timezone=timezone)
    db.session.add(doc)
    db.session.flush()
    return doc


def to_markdown(version: Version) -> str:
    return splitter.join([(p.source, p.blank_before) for p in version.paragraphs])


def compute_hash(version: Version) -> str:
    """sha256 of the version's Markdown text: anyone can recompute it from the export."""
    return sha256(to_markdown(version))


def _guard_new_version(doc: Document) -> int:
    latest = doc.latest
    if latest is not None and latest.state == "draft":
        raise Conflict(
            f"Version {latest.number} is still a draft; publish it or edit it instead of "
            "starting another."
        )
    if latest is not None and latest.state == "consultation":
        raise Conflict(
            f"Version {latest.number} is still open for comments; close it before adding "
            "the next version."
        )
    if latest is not None and latest.state == "final":
        raise Conflict(f"Version {latest.number} is final; the document takes no more versions.")
    return latest.number + 1 if latest else 1


def _fill(version: Version, blocks: list[splitter.Block], previous: Version | None) -> None:
    """Store blocks as the version's paragraphs, with lineage found by alignment."""
    old = previous.paragraphs if previous else []
    links = align([p.text for p in old], [b.text for b in blocks]) if old else []
    lineage_of: dict[int, str] = {}
    pred_of: dict[int, tuple[int, str, float]] = {}
    for lk in links:
        if lk.old is not None and lk.new is not None:
            lineage_of[lk.new] = old[lk.old].lineage
            pred_of[lk.new] = (old[lk.old].id, lk.relation, lk.similarity)
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
        pred = pred_of.get(pos)
        db.session.add(
            LineageLink(
                version_id=version.id,
                paragraph_id=p.id,
                predecessor_id=pred[0] if pred else None,
                relation=pred[1] if pred else "added",
                similarity=pred[2] if pred else 0.0,
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


def import_version(doc: Document, text: str, *, by, label: str = "") -> Version:
    """Add a whole Markdown text as the document's next version, a draft."""
    blocks = splitter.split(text)
    if not blocks:
        raise ConsultError("The text is empty: there is nothing to make a version of.")
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
        raise ConsultError("There is no version to copy yet; import a text first.")
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


def replace_text(version: Version, text: str, *, by) -> Version:
    """Replace a draft's whole text; lineage is re-aligned with the version before."""
    if version.frozen:
        raise Conflict(
            f"Version {version.number} is {version.state_label.lower()}: its text is frozen "
            "and cannot be edited. Start a new version instead."
        )
    blocks = splitter.split(text)
    if not blocks:
        raise ConsultError("The text is empty: a version needs at least one paragraph.")
    previous = _previous(version)
    # A draft's paragraphs were never public, so they are replaced, not kept.
    for link in db.session.scalars(select(LineageLink).where(LineageLink.version_id == version.id)):
        db.session.delete(link)
    for p in list(version.paragraphs):
        db.session.delete(p)
    db.session.flush()
    db.session.expire(version, ["paragraphs"])
    _fill(version, blocks, previous)
    db.session.expire(version, ["paragraphs"])
    return version


def _previous(version: Version) -> Version | None:
    return db.session.scalar(
        select(Version).where(
            Version.document_id == version.document_id, Version.number == version.number - 1
        )
    )


def publish(version: Version, *, by, closes_at: datetime | None = None) -> Version:
    """Leave draft, exactly once: open for comments until `closes_at`, or, without a
    deadline, publish as a closed text (an earlier text readable by all)."""
    if version.state != "draft":
        raise Conflict(f"Version {version.number} is already published ({version.state_label}).")
    now = utcnow()
    if closes_at is not None and closes_at <= now:
        raise ConsultError("The deadline for comments must be in the future.")
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
    )
    return version


def close(version: Version, *, by, reason: str = "") -> Version:
    if version.state != "consultation":
        raise Conflict(f"Only a version open for comments can be closed; this one is {version.state_label.lower()}.")
    version.state = "closed"
    version.closed_at = utcnow()
    db.session.flush()
    signals.emit(signals.version_state_changed, version, by, state="closed", reason=reason)
    return version


def finalize(version: Version, *, by) -> Version:
    doc = version.document
    if version.state != "closed":
        raise Conflict(f"Only a closed version can be made final; this one is {version.state_label.lower()}.")
    if doc.latest is not version:
        raise Conflict("Only the latest version can be made final.")
    if any(v.state == "final" for v in doc.versions):
        raise Conflict("This document already has a final version.")
    if compute_hash(version) != version.content_hash:
        raise Conflict("The version's text does not match the hash taken at publication.")
    version.state = "final"
    version.finalized_at = utcnow()
    db.session.flush()
    signals.emit(signals.version_state_changed, version, by, state="final", reason="")
    return version


def accepting_comments(version: Version, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return version.state == "consultation" and (version.closes_at is None or now < version.closes_at)


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
