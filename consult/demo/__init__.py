"""The demo consultation: the AIPA Policy Framework on Parliament–CSO Engagement
and Outreach, three versions with the comments and answers of two rounds.

The texts and comments in data/ were written for this project. The loader
replays the consultation through the same services as the pages, with the
clock set to each historical moment, so the record, hashes and guards are
exactly as if it had happened live.
"""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources

from flask_babel import gettext as _
from sqlalchemy import select

from consult.accounts import services as accounts
from consult.consultation import services as consultation
from consult.documents import services as docs
from consult.documents.models import Document, Paragraph, Version
from consult.errors import ConsultError
from consult.extensions import db
from consult.timeutil import clock, parse_iso, utcnow

#: Every demo account signs in with this password (shown in the README).
DEMO_PASSWORD = "consult-demo-2026"  # noqa: S105 - public by design: demo data only


def is_empty() -> bool:
    return db.session.scalar(select(Document.id).limit(1)) is None


def _data() -> tuple[dict, dict[str, str]]:
    folder = resources.files("consult.demo") / "data"
    data = json.loads((folder / "data.json").read_text(encoding="utf-8"))
    texts = {v["file"]: (folder / v["file"]).read_text(encoding="utf-8") for v in data["versions"]}
    return data, texts


def _paragraph(version: Version, anchor: str) -> Paragraph:
    found = [p for p in version.paragraphs if anchor in p.text]
    if len(found) != 1:
        raise ConsultError(
            _(
                "demo data: '%(anchor)s' is in %(n)s paragraphs of version %(number)s",
                anchor=anchor,
                n=len(found),
                number=version.number,
            )
        )
    return found[0]


def _form_committee(doc: Document, spec: dict, users: dict, by) -> None:
    """The document's committee: members of parliament with accounts of the role
    "committee" (a chair and a drafter), beside the secretariat that created it."""
    for m in spec.get("committee_members", []):
        docs.add_committee_member(doc, users[m["email"]], role=m["role"], by=by)


def load_demo() -> str:
    data, texts = _data()
    first = min(parse_iso(v["published_at"]) for v in data["versions"]) - timedelta(days=14)
    with clock(first):
        orgs = {
            o["slug"]: accounts.create_organisation(
                o["slug"],
                o["name"],
                kind=o["kind"],
                countries=o["countries"],
                acronym=o.get("acronym"),
                focus=o.get("focus"),
                website=o.get("website"),
                description=o.get("description"),
                verified=o.get("verified", False),
            )
            for o in data["organisations"]
        }
        users = {
            u["email"]: accounts.create_user(
                u["email"],
                DEMO_PASSWORD,
                role=u["role"],
                name=u["name"],
                organisation=orgs[u["org"]] if u.get("org") else None,
            )
            for u in data["users"]
        }
        # The first member of each organisation is its admin: approves members, edits
        # the profile.
        admins: set[int] = set()
        for user in users.values():
            for m in user.memberships:
                if m.organisation_id not in admins:
                    m.role = "admin"
                    admins.add(m.organisation_id)
        d = data["document"]
        chair = next(u for u in users.values() if u.role == "secretariat")
        doc = docs.create_document(
            d["slug"],
            d["title"],
            by=chair,
            committee=d["committee"],
            timezone=d.get("timezone", "UTC"),
            kind=d.get("kind", "resolution"),
        )
        _form_committee(doc, d, users, chair)
    comments_by_version: dict[int, list[dict]] = {}
    for c in data["comments"]:
        comments_by_version.setdefault(c["version"], []).append(c)
    counts = {"comments": 0, "responses": 0}
    for vd in data["versions"]:
        published = parse_iso(vd["published_at"])
        closes = parse_iso(vd["closes_at"]) if vd.get("closes_at") else None
        with clock(published - timedelta(days=1)):
            version = docs.import_version(doc, texts[vd["file"]], by=chair, label=vd["label"])
            version.note = vd.get("note", "")
        with clock(published):
            docs.publish(version, by=chair, closes_at=closes)
        items = sorted(comments_by_version.get(vd["n"], []), key=lambda c: c["created_at"])
        posted = []
        for c in items:
            at = parse_iso(c["created_at"])
            para = _paragraph(version, c["anchor"]) if c.get("anchor") else None
            author = users.get(c.get("author") or "")
            with clock(at):
                comment = consultation.post_comment(
                    version=version,
                    paragraph=para,
                    organisation=orgs[c["org"]],
                    kind=c["kind"],
                    body=c["body"],
                    suggested_text=c.get("suggested_text"),
                    quote=c.get("quote"),
                    by=author or chair,
                    channel=c.get("channel", "web"),
                    on_behalf=author is None,
                    received_at=at if author is None else None,
                )
                for slug in c.get("cosigned_by") or []:
                    consultation.cosign(comment, orgs[slug], by=None)
            posted.append((comment, c))
            counts["comments"] += 1
        if closes is not None:
            with clock(closes):
                docs.close(version, by=chair, reason="The deadline for comments passed.")
        for comment, c in sorted(posted, key=lambda x: x[1]["response"]["at"]):
            r = c["response"]
            with clock(parse_iso(r["at"])):
                consultation.respond(
                    comment, decision=r["decision"], reason=r["reason"], by=users[r["by"]]
                )
            counts["responses"] += 1
        if vd.get("final"):
            with clock(published + timedelta(days=30)):
                docs.finalize(version, by=chair)
    opened = _load_open_consultation(data.get("open_consultation"), orgs, users, chair)
    from consult.translations.demo import load_translations

    translated = load_translations(
        doc, orgs, users, chair, (data.get("open_consultation") or {}).get("slug")
    )
    db.session.flush()
    return (
        f"Loaded '{doc.title}': {len(data['versions'])} versions, {len(orgs)} organisations, "
        f"{len(users)} accounts (password: {DEMO_PASSWORD}), {counts['comments']} comments, "
        f"{counts['responses']} responses."
        + (f" Open for comments: '{opened}'." if opened else "")
        + translated
    )


def _load_open_consultation(spec: dict | None, orgs: dict, users: dict, chair) -> str | None:
    """A second, short document open for comments from a few days ago until some weeks
    from now (relative to the day the demo is loaded), so that there is always
    something to comment on."""
    if not spec:
        return None
    now = utcnow()
    opened = now - timedelta(days=spec["opened_days_ago"])
    text = (resources.files("consult.demo") / "data" / spec["file"]).read_text(encoding="utf-8")
    with clock(opened - timedelta(hours=1)):
        doc = docs.create_document(
            spec["slug"],
            spec["title"],
            by=chair,
            committee=spec["committee"],
            timezone=spec.get("timezone", "UTC"),
            kind=spec.get("kind", "resolution"),
        )
        _form_committee(doc, spec, users, chair)
        version = docs.import_version(doc, text, by=chair, label=spec["label"])
        version.note = spec.get("note", "")
    with clock(opened):
        docs.publish(version, by=chair, closes_at=now + timedelta(days=spec["open_days"]))
    for c in spec.get("comments", []):
        author = next(u for u in users.values() if orgs[c["org"]] in u.organisations)
        with clock(now - timedelta(days=c["days_ago"])):
            consultation.post_comment(
                version=version,
                paragraph=_paragraph(version, c["anchor"]),
                organisation=orgs[c["org"]],
                kind=c["kind"],
                body=c["body"],
                suggested_text=c.get("suggested_text"),
                quote=c.get("quote"),
                by=author,
            )
    return doc.title
