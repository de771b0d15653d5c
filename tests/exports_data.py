"""A small consultation for the export tests: version 1 with comments and answers,
version 2 drafted from it (taking up one suggestion) and open for comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from consult.timeutil import utcnow

from .conftest import SAMPLE

V2 = (
    SAMPLE.replace("openly and in good faith", "openly, early and in good faith")
    .replace("receives a written answer", "receives a written, public answer")
    .rstrip("\n")
    + "\n- Online consultations on every draft.\n"
)
SUGGESTED = "Parliaments engage civil society openly, early and in good faith."


@dataclass
class Consultation:
    doc: object
    v1: object
    v2: object
    secretariat: object
    member: object
    orgs: list
    suggestion: object
    comment: object
    hidden: object


def build(make_document, make_user, make_org) -> Consultation:
    secretariat = make_user("secretariat", email="sec@example.org")
    ilt = make_org(
        "ilt",
        "Institute for Legislative Transparency",
        acronym="ILT",
        countries=("ID",),
        kind="academia",
        contact_email="office@ilt.example",
    )
    seadra = make_org("seadra", "Southeast Asia Disability Rights Alliance", countries=("TH", "MY"))
    member = make_user("cso", org=ilt, email="writer@ilt.example")
    doc = make_document("consultation", by=secretariat, slug="sample-framework")
    doc.committee = "Drafting Committee"
    v1 = doc.latest
    p = {x.number: x for x in v1.paragraphs}
    suggestion = cs.post_comment(
        version=v1,
        paragraph=p["1.1"],
        organisation=ilt,
        kind="suggestion",
        body="Say that engagement starts early.",
        suggested_text=SUGGESTED,
        by=member,
        cosigners=(),
    )
    comment = cs.post_comment(
        version=v1,
        paragraph=p["2.1"],
        organisation=seadra,
        kind="comment",
        body="Hearings must be accessible to persons with disabilities.",
        by=secretariat,
        channel="email",
        on_behalf=True,
    )
    hidden = cs.post_comment(
        version=v1,
        paragraph=None,
        organisation=ilt,
        kind="question",
        body="Secret insult that moderators hid.",
        by=member,
    )
    cs.moderate(hidden, action="hide", reason="Insulting language.", by=secretariat)
    docs.close(v1, by=secretariat, reason="Enough comments for the workshop.")
    cs.respond(suggestion, decision="accepted", reason="Early engagement matters.", by=secretariat)
    cs.respond(
        comment, decision="noted", reason="Covered by the accessibility plan.", by=secretariat
    )
    v2 = docs.import_version(doc, V2, by=secretariat, label="Second draft")
    docs.publish(v2, by=secretariat, closes_at=utcnow() + timedelta(days=10))
    db.session.commit()
    return Consultation(
        doc, v1, v2, secretariat, member, [ilt, seadra], suggestion, comment, hidden
    )
