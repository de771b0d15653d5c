"""What each event of the record says happened, in words, with a link to the thing it
concerns ("Answer to C-1A2B3C4D5E: partly accepted", "Version 3 of … published"),
for the public record page. Internal ids stay out of the words.

A page of events is described with a fixed number of queries (versions and their
documents, organisations), whatever the page holds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from consult.accounts.models import Organisation
from consult.consultation.models import DECISIONS
from consult.documents.models import Document, Version
from consult.extensions import db
from consult.record.models import Event


@dataclass(frozen=True)
class Described:
    text: str
    url: str | None = None


def _data(e: Event) -> dict:
    try:
        data = json.loads(e.payload or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def describe(events: Sequence[Event]) -> dict[int, Described]:
    """Each event's description by event id."""
    datas = {e.id: _data(e) for e in events}
    version_ids = {e.subject_id for e in events if e.subject_type == "version"}
    versions = {
        v.id: v
        for v in db.session.scalars(select(Version).where(Version.id.in_(version_ids or [-1])))
    }
    doc_ids = {e.subject_id for e in events if e.subject_type == "document"}
    doc_ids |= {v.document_id for v in versions.values()}
    docs = {
        d.id: d
        for d in db.session.scalars(select(Document).where(Document.id.in_(doc_ids or [-1])))
    }
    slugs = {d.get("organisation") or d.get("slug") for d in datas.values()} - {None}
    orgs = {
        o.slug: o
        for o in db.session.scalars(
            select(Organisation).where(Organisation.slug.in_(slugs or ["-"]))
        )
    }
    return {e.id: _one(e, datas[e.id], versions, docs, orgs) for e in events}


def _org(slug: str | None, orgs: dict) -> str:
    o = orgs.get(slug or "")
    return o.name if o is not None else (slug or _("an organisation"))


def _one(e: Event, d: dict, versions: dict, docs: dict, orgs: dict) -> Described:
    tracking = d.get("tracking") or d.get("comment")
    receipt = url_for("record.receipt", tracking=tracking) if tracking else None
    kind = e.kind
    if kind == "comment.posted":
        return Described(
            _(
                "Comment %(tracking)s sent for %(org)s",
                tracking=tracking,
                org=_org(d.get("organisation"), orgs),
            ),
            url_for("consultation.comment", comment_id=e.subject_id),
        )
    if kind == "comment.cosigned":
        return Described(
            _(
                "%(org)s co-signed %(tracking)s",
                org=_org(d.get("organisation"), orgs),
                tracking=tracking,
            ),
            receipt,
        )
    if kind == "comment.cosignature_withdrawn":
        return Described(
            _(
                "%(org)s withdrew its co-signature of %(tracking)s",
                org=_org(d.get("organisation"), orgs),
                tracking=tracking,
            ),
            receipt,
        )
    if kind == "comment.edited":
        return Described(
            _("Comment %(tracking)s changed by its author", tracking=tracking), receipt
        )
    if kind == "comment.withdrawn":
        return Described(_("Comment %(tracking)s withdrawn", tracking=tracking), receipt)
    if kind == "comment.moderated":
        return Described(_("Moderation of %(tracking)s", tracking=tracking), receipt)
    if kind == "comment.flagged":
        return Described(_("%(tracking)s flagged to the moderators", tracking=tracking), receipt)
    if kind == "reply.posted":
        return Described(_("Reply under %(tracking)s", tracking=tracking), receipt)
    if kind == "response.given":
        decision = DECISIONS.get(d.get("decision", ""), d.get("decision", ""))
        return Described(
            _("Answer to %(tracking)s: %(decision)s", tracking=tracking, decision=decision.lower()),
            receipt,
        )
    if kind == "response.feedback_given":
        return Described(
            _("Reply of the organisation to the answer to %(tracking)s", tracking=tracking), receipt
        )
    if kind == "translation.published" and d.get("document") and d.get("version"):
        from consult.i18n import LOCALES

        return Described(
            _(
                "Translation of version %(n)s of %(doc)s into %(language)s published",
                n=d["version"],
                doc=d["document"],
                language=LOCALES.get(d.get("language", ""), d.get("language", "")),
            ),
            url_for(
                "documents.version", slug=d["document"], number=d["version"], lang=d.get("language")
            ),
        )
    if e.subject_type == "version" and e.subject_id in versions:
        v = versions[e.subject_id]
        doc = docs.get(v.document_id)
        url = url_for("documents.version", slug=doc.slug, number=v.number) if doc else None
        title = doc.title if doc else ""
        if kind == "version.published":
            return Described(_("Version %(n)s of %(doc)s published", n=v.number, doc=title), url)
        if kind == "uptake.measured":
            before = d.get("suggestions_on", v.number - 1)  # the report of that version
            return Described(
                _(
                    "Version %(n)s of %(doc)s: uptake of the suggestions on version "
                    "%(before)s measured",
                    n=v.number,
                    doc=title,
                    before=before,
                ),
                url_for("tracing.report", slug=doc.slug, number=before) if doc else url,
            )
        if kind == "version.created":
            return Described(_("Version %(n)s of %(doc)s started", n=v.number, doc=title), url)
        if kind == "version.state_changed":
            state = {"closed": _("closed for comments"), "final": _("made the final text")}.get(
                d.get("state", ""), d.get("state", "")
            )
            return Described(
                _("Version %(n)s of %(doc)s %(state)s", n=v.number, doc=title, state=state), url
            )
        return Described(
            _("Version %(n)s of %(doc)s: %(kind)s", n=v.number, doc=title, kind=kind), url
        )
    if kind.startswith("committee.") and e.subject_id in docs:
        doc = docs[e.subject_id]
        what = _("member added") if kind.endswith("added") else _("member removed")
        return Described(
            _("Committee of %(doc)s: %(what)s", doc=doc.title, what=what),
            url_for("documents.document", slug=doc.slug),
        )
    if e.subject_type == "organisation" or kind.startswith("organisation."):
        slug = d.get("slug") or d.get("organisation")
        name = _org(slug, orgs)
        url = url_for("organisations.profile", slug=slug) if slug in orgs else None
        if kind == "organisation.verified":
            return Described(_("%(org)s verified by the secretariat", org=name), url)
        return Described(_("%(org)s: %(kind)s", org=name, kind=kind), url)
    if e.subject_type == "responsegroup":
        return Described(
            _("One answer given to a group of comments"),
            url_for("tracing.group", group_id=e.subject_id),
        )
    if tracking:
        return Described(_("%(kind)s: %(tracking)s", kind=kind, tracking=tracking), receipt)
    return Described(kind)
