"""A hand-made consultation with known answers, shared by the tracing tests.

Version 1 is SAMPLE (tests/conftest.py). Four suggestions are made on it and
answered; version 2 then takes up some of them and not others:

- A (ILT, accepted): "Every submission receives a written answer within 30 days."
  Version 2 has exactly that wording: uptake 1.0, taken up, no flag.
- B (MCVN, accepted): "openly, early and in good faith". Version 2 leaves the
  paragraph as it was: uptake 0.0, not taken up, flagged "accepted_not_in_text".
- C (MCVN, not accepted): the quoted "every bill" → "every bill and budget".
  Version 2 has it anyway: taken up, flagged "taken_up_without_credit".
- Q (ILT, a question on the version as a whole): not a suggestion, no uptake.
"""

from __future__ import annotations

from dataclasses import dataclass

from consult.consultation import services as cs
from consult.documents import services as docs
from consult.extensions import db
from tests.conftest import SAMPLE

V2 = SAMPLE.replace(
    "Every submission receives a written answer.",
    "Every submission receives a written answer within 30 days.",
).replace("- Public hearings on every bill.", "- Public hearings on every bill and budget.")

WORDING_A = "Every submission receives a written answer within 30 days."
WORDING_B = "Parliaments engage civil society openly, early and in good faith."


@dataclass
class Case:
    doc: object
    v1: object
    secretariat: object
    ilt_member: object
    mcvn_member: object
    a: object
    b: object
    c: object
    q: object

    def publish_v2(self, text: str = V2):
        v2 = docs.import_version(self.doc, text, by=self.secretariat, label="Second draft")
        docs.publish(v2, by=self.secretariat)  # no deadline: published as a closed text
        db.session.commit()
        return v2


def build(make_document, make_user, make_org, *, answer: bool = True) -> Case:
    sec = make_user("secretariat")
    ilt = make_org("ilt", "Institute for Legislative Transparency", kind="ngo", countries=["ID"])
    mcvn = make_org("mcvn", "Mekong Civic Voices Network", kind="network", countries=["KH", "TH"])
    ilt_member = make_user("cso", org=ilt)
    mcvn_member = make_user("cso", org=mcvn)
    doc = make_document("consultation", by=sec)
    v1 = doc.latest
    p = v1.paragraphs
    a = cs.post_comment(
        version=v1,
        paragraph=p[3],
        organisation=ilt,
        kind="suggestion",
        body="Say when the answer comes.",
        suggested_text=WORDING_A,
        by=ilt_member,
    )
    b = cs.post_comment(
        version=v1,
        paragraph=p[2],
        organisation=mcvn,
        kind="suggestion",
        body="Engagement must start early.",
        suggested_text=WORDING_B,
        by=mcvn_member,
    )
    c = cs.post_comment(
        version=v1,
        paragraph=p[5],
        organisation=mcvn,
        kind="suggestion",
        body="Budgets matter as much as bills.",
        suggested_text="every bill and budget",
        quote="every bill",
        by=mcvn_member,
    )
    cs.cosign(c, ilt, by=ilt_member)
    q = cs.post_comment(
        version=v1,
        paragraph=None,
        organisation=ilt,
        kind="question",
        body="Will the answers be published?",
        by=ilt_member,
    )
    docs.close(v1, by=sec)
    if answer:
        cs.respond(a, decision="accepted", reason="Agreed: thirty days.", by=sec)
        cs.respond(b, decision="accepted", reason="Agreed in principle.", by=sec)
        cs.respond(c, decision="not_accepted", reason="Budgets are out of this text.", by=sec)
        cs.respond(q, decision="noted", reason="Yes, all of them.", by=sec)
    db.session.commit()
    return Case(doc, v1, sec, ilt_member, mcvn_member, a, b, c, q)
