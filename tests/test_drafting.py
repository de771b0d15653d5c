"""The committee's side: committees and the policy, the version's life at its deadline,
editing a draft paragraph by paragraph with exact lineage, conflicts, taking up
suggestions, reviewing imported lineage and the change summary."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from consult.accounts import policy
from consult.consultation import services as cs
from consult.consultation.models import Comment, Response
from consult.consultation.takeup import effects_of, preview_take_up, take_up_suggestion
from consult.documents import drafting, splitter
from consult.documents import services as docs
from consult.documents.drafting import Correction, EditConflict
from consult.documents.models import LineageLink, Paragraph, ResponseEffect, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.record.models import Event
from consult.record.service import verify
from consult.timeutil import clock, utcnow
from consult.tracing.compare import Row, tally
from consult.tracing.summary import ChangeSummary, change_summary

from .conftest import count

TEXT = """# Charter

## Principles

Parliaments engage civil society openly. They do so in good faith and early.

Every submission receives a written answer.

## Mechanisms

- Public hearings on every bill.
- Written submissions by e-mail or on paper.
"""
OPENLY, ANSWER, HEARINGS, WRITTEN = 2, 3, 5, 6


def events(kind: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)))


def fresh(version: Version) -> Version:
    db.session.expire_all()
    return db.session.get(Version, version.id)


def snapshot(version: Version):
    """Everything drafting may change, to check that a refusal changed nothing."""
    v = fresh(version)
    links = db.session.execute(
        select(LineageLink.paragraph_id, LineageLink.predecessor_id, LineageLink.relation)
        .where(LineageLink.version_id == v.id)
        .order_by(LineageLink.id)
    ).all()
    paras = [(p.id, p.position, p.number, p.source, p.lineage, p.revision) for p in v.paragraphs]
    return v.state, paras, links, count(ResponseEffect)


def relations(version: Version) -> set[tuple[str | None, str | None, str]]:
    """(text in this version, text in the version before, relation) for every link."""
    rows = db.session.scalars(select(LineageLink).where(LineageLink.version_id == version.id))
    return {
        (
            lk.paragraph.text if lk.paragraph else None,
            lk.predecessor.text if lk.predecessor else None,
            lk.relation,
        )
        for lk in rows
    }


@pytest.fixture
def setup(make_document, make_user):
    """A closed version 1 and a draft version 2 copied from it; the committee: a chair and a
    drafter (accounts of the role "committee"), formed by the secretariat."""

    def make(text=TEXT):
        sec = make_user("secretariat")
        chair, drafter = make_user("committee"), make_user("committee")
        doc = make_document("closed", text=text, by=sec)
        docs.add_committee_member(doc, chair, role="chair", by=sec)
        docs.add_committee_member(doc, drafter, role="drafter", by=sec)
        v2 = docs.copy_version(doc, by=chair, label="Second draft")
        db.session.commit()
        return doc, doc.versions[0], v2, drafter

    return make


# ---------------------------------------------------------------- committees and policy


def test_the_creator_chairs_until_the_secretariat_forms_the_committee(make_user):
    sec = make_user("secretariat")
    doc = docs.create_document("charter", "Charter", by=sec)
    db.session.commit()
    assert [(m.user_id, m.role) for m in docs.committee_of(doc)] == [(sec.id, "chair")]
    assert events("committee.member_added") == []  # part of creating the document


def test_forming_a_committee_is_recorded(make_user):
    sec = make_user("secretariat")
    doc = docs.create_document("charter", "Charter", by=None)
    ana, ben = make_user("committee", name="Ana"), make_user("committee", name="Ben")
    docs.add_committee_member(doc, ana, role="chair", by=sec)
    docs.add_committee_member(doc, ben, by=sec)
    docs.add_committee_member(doc, ben, role="chair", by=sec)  # co-chair
    docs.add_committee_member(doc, ana, role="drafter", by=sec)
    docs.remove_committee_member(doc, ana, by=sec)
    db.session.commit()
    assert [(m.user.name, m.role) for m in docs.committee_of(doc)] == [("Ben", "chair")]
    added = [json.loads(e.payload) for e in events("committee.member_added")]
    assert added == [
        {"user": ana.id, "role": "chair", "previous_role": None},
        {"user": ben.id, "role": "drafter", "previous_role": None},
        {"user": ben.id, "role": "chair", "previous_role": "drafter"},
        {"user": ana.id, "role": "drafter", "previous_role": "chair"},
    ]
    removed = events("committee.member_removed")
    assert [(e.subject_type, e.subject_id, e.actor_id) for e in removed] == [
        ("document", doc.id, sec.id)
    ]
    assert json.loads(removed[0].payload) == {"user": ana.id, "role": "drafter"}
    assert verify().ok


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        ("add cso", ConsultError, "CSO account"),
        ("add again", Conflict, "already chair"),
        ("bad role", ConsultError, "committee role"),
        ("demote the only chair", Conflict, "needs a chair"),
        ("remove the only chair", Conflict, "needs a chair"),
        ("remove a stranger", NotFound, "not on this document's committee"),
    ],
)
def test_committee_refusals_change_nothing(make_user, action, error, message):
    sec = make_user("secretariat")
    doc = docs.create_document("charter", "Charter", by=sec)
    drafter = make_user("committee")
    docs.add_committee_member(doc, drafter, by=sec)
    cso = make_user("cso")  # made first: its organisation's verification is an event
    stranger = make_user("committee")
    db.session.commit()
    before = [(m.user_id, m.role) for m in docs.committee_of(doc)]
    events_before = count(Event)
    with pytest.raises(error, match=message) as refused:
        if action == "add cso":
            docs.add_committee_member(doc, cso, by=sec)
        elif action == "add again":
            docs.add_committee_member(doc, sec, role="chair", by=sec)
        elif action == "bad role":
            docs.add_committee_member(doc, drafter, role="rapporteur", by=sec)
        elif action == "demote the only chair":
            docs.add_committee_member(doc, sec, role="drafter", by=sec)
        elif action == "remove the only chair":
            docs.remove_committee_member(doc, sec, by=sec)
        else:
            docs.remove_committee_member(doc, stranger, by=sec)
    assert 400 <= refused.value.status < 500
    db.session.rollback()
    doc = docs.get_document("charter")
    assert [(m.user_id, m.role) for m in docs.committee_of(doc)] == before
    assert count(Event) == events_before


ROLES = ("anonymous", "cso", "outsider", "drafter", "chair", "secretariat", "admin")
# action (target) → who may, in the order of ROLES. Drafts are the committee's; the
# version's life is the chair's and the secretariat's; comments are the CSOs'.
TABLE = {
    ("document.view", "draft document"): "0001111",
    ("version.view", "draft"): "0001111",
    ("version.view", "public"): "1111111",
    ("document.create", None): "0000011",
    ("committee.manage", "document"): "0000011",
    ("version.create", "document"): "0001111",
    ("version.edit", "draft"): "0001101",
    ("version.publish", "draft"): "0000111",
    ("version.close", "public"): "0000111",
    ("version.finalize", "public"): "0000111",
    ("comment.create", "public"): "0100000",
    ("comment.enter_on_behalf", "public"): "0000011",
    ("response.create", "comment"): "0001111",
    ("response.create", None): "0000011",
    # Only members of the commenting organisation (none of these roles) reply to answers.
    ("response.feedback", "comment"): "0000000",
    # The comment's author edits and withdraws it (the secretariat, for one it entered).
    ("comment.edit", "comment"): "0000000",
    ("comment.withdraw", "comment"): "0000000",
    # Members of another organisation co-sign; members and the committee reply.
    ("comment.cosign", "comment"): "0100000",
    # Only members of an organisation that co-signs it (none here) withdraw the support.
    ("comment.cosign_withdraw", "comment"): "0000000",
    ("comment.reply", "comment"): "0101111",
    ("comment.flag", "comment"): "0111111",
    ("comment.moderate", None): "0000011",
    # Anyone signed in registers an organisation; its admins and the secretariat edit it.
    ("organisation.create", None): "0111111",
    ("organisation.edit", "organisation"): "0000011",
    ("organisation.verify", "organisation"): "0000011",
    ("organisation.act_for", "organisation"): "0100000",
    ("membership.request", "organisation"): "0100000",
    ("membership.decide", "organisation"): "0000011",
    ("notifications.manage", None): "0111111",
    ("account.settings", None): "0111111",
    ("user.create", None): "0000001",
    ("api.token", None): "0111111",
    # Form-letter groups and themes: the secretariat and the document's committee.
    ("analysis.view", "public"): "0001111",
    ("theme.manage", "document"): "0001111",
    ("comment.tag", "comment"): "0001111",
    ("group.take_out", "comment"): "0001111",
    # Translations of the text and of answers: the committee and the secretariat.
    ("translation.manage", "document"): "0001111",
    ("response.translate", "comment"): "0001111",
    # Individuals (none of these roles) withhold their name and sign campaigns; this
    # comment is no campaign, so nobody signs it; nobody owns a missing signature.
    ("comment.withhold_name", "public"): "0000000",
    ("campaign.sign", "comment"): "0000000",
    ("campaign.withdraw_signature", None): "0000000",
    # Withheld names and personal data are the secretariat's to see and review.
    ("comment.see_withheld", None): "0000011",
    ("comment.review_personal_data", None): "0000011",
}


def test_the_policy_table_for_every_role(make_document, make_user):
    sec = make_user("secretariat")
    public_doc = make_document("consultation", by=sec)
    draft_doc = make_document("draft", by=sec)
    users = {
        "anonymous": AnonymousUserMixin(),
        "cso": make_user("cso"),
        "outsider": make_user("committee"),  # on no committee
        "drafter": make_user("committee"),
        "chair": make_user("committee"),
        "secretariat": make_user("secretariat"),  # not on these committees
        "admin": make_user("admin"),
    }
    for doc in (public_doc, draft_doc):
        docs.add_committee_member(doc, users["drafter"], by=sec)
        docs.add_committee_member(doc, users["chair"], role="chair", by=sec)
        docs.remove_committee_member(doc, sec, by=sec)
    member = make_user("cso")
    comment = cs.post_comment(
        version=public_doc.latest,
        paragraph=public_doc.latest.paragraphs[2],
        organisation=member.organisation,
        kind="comment",
        body="Say when.",
        by=member,
    )
    db.session.commit()
    targets = {
        "draft document": draft_doc,
        "draft": draft_doc.latest,
        "public": public_doc.latest,
        "document": public_doc,
        "comment": comment,
        "organisation": users["cso"].organisation,
        None: None,
    }
    assert {action for action, _ in TABLE} == set(policy.POLICY), "every action is in the table"
    for (action, target), allowed in TABLE.items():
        got = "".join(
            "1" if policy.can(users[role], action, targets[target]) else "0" for role in ROLES
        )
        assert got == allowed, f"{action} on {target}: {got} != {allowed} ({', '.join(ROLES)})"


def test_a_committee_member_sees_and_edits_only_their_own_drafts(make_document, make_user):
    sec = make_user("secretariat")
    ours, theirs = make_document("draft", by=sec), make_document("draft", by=sec)
    drafter = make_user("committee")
    docs.add_committee_member(ours, drafter, by=sec)
    db.session.commit()
    assert policy.can(drafter, "version.edit", ours.latest.paragraphs[2])
    assert not policy.can(drafter, "version.view", theirs.latest)
    with pytest.raises(ConsultError) as refused:
        policy.require(drafter, "version.edit", theirs.latest)
    assert refused.value.status == 403


# ---------------------------------------------------------------- the deadline


def test_a_consultation_closes_by_itself_at_its_deadline(make_document, make_user):
    doc = make_document("consultation", days=3)
    v = doc.latest
    deadline = v.closes_at
    assert docs.refresh_state(v) is False and v.state == "consultation"
    with clock(deadline + timedelta(minutes=1)):
        assert not docs.accepting_comments(v)
        assert docs.refresh_state(v) is True
        assert docs.refresh_state(v) is False  # once only
    db.session.commit()
    v = fresh(v)
    assert (v.state, v.closed_at, v.close_reason) == ("closed", deadline, "deadline")
    [event] = [e for e in events("version.state_changed") if e.subject_id == v.id]
    assert event.actor_id is None
    assert json.loads(event.payload) == {
        "state": "closed",
        "reason": "deadline",
        "closed_at": deadline.isoformat(),
    }
    assert verify().ok


def test_close_expired_closes_only_what_is_due(make_document):
    soon, later = make_document("consultation", days=1), make_document("consultation", days=9)
    draft = make_document("draft")
    with clock(utcnow() + timedelta(days=2)):
        closed = docs.close_expired()
        assert docs.close_expired() == []
    db.session.commit()
    assert [v.id for v in closed] == [soon.latest.id]
    assert [fresh(d.latest).state for d in (soon, later, draft)] == [
        "closed",
        "consultation",
        "draft",
    ]


def test_early_close_keeps_its_reason(make_document, make_user):
    doc = make_document("consultation")
    chair = make_user("committee")
    v = doc.latest
    assert docs.closes_early(v)
    docs.close(v, by=chair, reason="  The framework is needed for the General Assembly.  ")
    db.session.commit()
    v = fresh(v)
    assert (
        v.state == "closed"
        and v.close_reason == "The framework is needed for the General Assembly."
    )
    event = events("version.state_changed")[-1]
    assert json.loads(event.payload)["reason"] == v.close_reason
    assert event.actor_id == chair.id


def test_closing_after_the_deadline_is_the_deadline_close(make_document, make_user):
    doc = make_document("consultation", days=1)
    v = doc.latest
    with clock(v.closes_at + timedelta(hours=1)):
        assert not docs.closes_early(v)
        docs.close(v, by=make_user("secretariat"), reason="")
    db.session.commit()
    assert fresh(v).close_reason == "deadline"
    assert len(events("version.state_changed")) == 1


def test_a_version_past_its_deadline_can_be_made_final(make_document):
    doc = make_document("consultation", days=1)
    v = doc.latest
    with clock(v.closes_at + timedelta(days=1)):
        docs.finalize(v, by=None)
    db.session.commit()
    assert fresh(v).state == "final"
    assert [json.loads(e.payload)["state"] for e in events("version.state_changed")] == [
        "closed",
        "final",
    ]


# ---------------------------------------------------------------- paragraph by paragraph


def test_editing_a_paragraph_keeps_its_lineage(setup):
    doc, v1, v2, drafter = setup()
    p = v2.paragraphs[OPENLY]
    new = "Parliaments engage civil society openly, early and in good faith."
    [same] = drafting.edit_paragraph(p, new, 1, by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    p = v2.paragraphs[OPENLY]
    assert (p.id, p.source, p.revision, p.number) == (same.id, new, 2, "1.1")
    assert p.lineage == v1.paragraphs[OPENLY].lineage
    link = db.session.scalar(select(LineageLink).where(LineageLink.paragraph_id == p.id))
    assert (link.relation, link.method, link.predecessor_id) == (
        "edited",
        "copy",
        v1.paragraphs[OPENLY].id,
    )
    assert 0.5 < link.similarity < 1
    assert new in docs.to_markdown(v2)
    # Back to the old words: unchanged again.
    drafting.edit_paragraph(p, v1.paragraphs[OPENLY].source, 2, by=drafter)
    db.session.commit()
    assert {r for _, _, r in relations(v2)} == {"unchanged"}


def test_insert_delete_and_renumber(setup):
    doc, v1, v2, drafter = setup()
    [new] = drafting.insert_after(v2.paragraphs[ANSWER], "Answers are published.", by=drafter)
    drafting.delete_paragraph(fresh(v2).paragraphs[HEARINGS + 1], by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    assert [(p.number, p.text) for p in v2.paragraphs] == [
        ("", "Charter"),
        ("1", "Principles"),
        ("1.1", v1.paragraphs[OPENLY].text),
        ("1.2", "Every submission receives a written answer."),
        ("1.3", "Answers are published."),
        ("2", "Mechanisms"),
        ("2.1", "Written submissions by e-mail or on paper."),
    ]
    assert [p.position for p in v2.paragraphs] == list(range(7))
    assert new.lineage not in {p.lineage for p in v1.paragraphs}
    assert ("Answers are published.", None, "added") in relations(v2)
    assert (None, "Public hearings on every bill.", "removed") in relations(v2)
    assert docs.to_markdown(v2).endswith(
        "Every submission receives a written answer.\n\nAnswers are published.\n\n## Mechanisms\n\n"
        "- Written submissions by e-mail or on paper.\n"
    )


def test_moving_paragraphs(setup):
    doc, v1, v2, drafter = setup()
    drafting.move_up(v2.paragraphs[ANSWER], by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    assert [p.text[:5] for p in v2.paragraphs[2:4]] == ["Every", "Parli"]
    assert [p.number for p in v2.paragraphs[2:4]] == ["1.1", "1.2"]
    moved = {(a, r) for a, _, r in relations(v2) if r != "unchanged"}
    assert len(moved) == 1 and moved.pop()[1] == "moved"
    drafting.move_down(v2.paragraphs[2], by=drafter)
    db.session.commit()
    assert {r for _, _, r in relations(fresh(v2))} == {"unchanged"}
    before = snapshot(v2)
    with pytest.raises(ConsultError, match="already the first"):
        drafting.move_up(fresh(v2).paragraphs[0], by=drafter)
    with pytest.raises(ConsultError, match="already the last"):
        drafting.move_down(fresh(v2).paragraphs[-1], by=drafter)
    db.session.rollback()
    assert snapshot(v2) == before


def test_split_keeps_the_lineage_in_the_first_part(setup):
    doc, v1, v2, drafter = setup()
    p = v2.paragraphs[OPENLY]
    first, second = drafting.split_paragraph(p, p.source.index("They"), by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    assert [(q.number, q.source) for q in v2.paragraphs[2:5]] == [
        ("1.1", "Parliaments engage civil society openly."),
        ("1.2", "They do so in good faith and early."),
        ("1.3", "Every submission receives a written answer."),
    ]
    old = v1.paragraphs[OPENLY]
    assert v2.paragraphs[2].lineage == old.lineage
    assert v2.paragraphs[3].lineage not in {q.lineage for q in v1.paragraphs}
    links = db.session.scalars(
        select(LineageLink).where(LineageLink.predecessor_id == old.id)
    ).all()
    assert {(lk.paragraph_id, lk.relation) for lk in links} == {
        (first.id, "split"),
        (second.id, "split"),
    }
    assert all(lk.similarity == 1.0 for lk in links)  # the words are all there
    assert docs.successors(old) == [first, second]
    # A list item splits into two list items.
    item = v2.paragraphs[6]
    a, b = drafting.split_paragraph(item, item.source.index("on every"), by=drafter)
    assert (a.source, b.source, b.kind) == ("- Public hearings", "- on every bill.", "list_item")


def test_merge_with_next_takes_both_predecessors(setup):
    doc, v1, v2, drafter = setup()
    merged = drafting.merge_with_next(v2.paragraphs[OPENLY], by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    assert len(v2.paragraphs) == 6
    assert merged.source == (
        "Parliaments engage civil society openly. They do so in good faith and early. "
        "Every submission receives a written answer."
    )
    assert (merged.number, merged.lineage) == ("1.1", v1.paragraphs[OPENLY].lineage)
    assert {(o, r) for n, o, r in relations(v2) if n == merged.text} == {
        (v1.paragraphs[OPENLY].text, "merged"),
        (v1.paragraphs[ANSWER].text, "merged"),
    }
    assert not any(r == "removed" for _, _, r in relations(v2))
    items = drafting.merge_with_next(v2.paragraphs[4], by=drafter)
    assert (
        items.source
        == "- Public hearings on every bill. Written submissions by e-mail or on paper."
    )
    with pytest.raises(ConsultError, match="last paragraph"):
        drafting.merge_with_next(fresh(v2).paragraphs[-1], by=drafter)


def test_split_then_merge_back_is_unchanged(setup):
    doc, v1, v2, drafter = setup()
    p = v2.paragraphs[OPENLY]
    drafting.split_paragraph(p, p.source.index("They"), by=drafter)
    drafting.merge_with_next(fresh(v2).paragraphs[OPENLY], by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    assert docs.to_markdown(v2) == TEXT
    assert {r for _, _, r in relations(v2)} == {"unchanged"}
    assert [p.lineage for p in v2.paragraphs] == [p.lineage for p in v1.paragraphs]


def test_text_typed_as_two_paragraphs_becomes_two(setup):
    doc, v1, v2, drafter = setup()
    out = drafting.edit_paragraph(
        v2.paragraphs[ANSWER],
        "Every submission receives a written answer.\n\nThe answer gives reasons.",
        1,
        by=drafter,
    )
    db.session.commit()
    assert [p.number for p in out] == ["1.2", "1.3"]
    assert {(n, r) for n, o, r in relations(fresh(v2)) if o == v1.paragraphs[ANSWER].text} == {
        ("Every submission receives a written answer.", "split"),
        ("The answer gives reasons.", "split"),
    }


def test_a_heading_edited_into_a_paragraph_renumbers_the_sections(setup):
    doc, v1, v2, drafter = setup()
    drafting.edit_paragraph(v2.paragraphs[4], "Mechanisms follow.", 1, by=drafter)
    db.session.commit()
    numbers = [p.number for p in fresh(v2).paragraphs]
    assert numbers == ["", "1", "1.1", "1.2", "1.3", "1.4", "1.5"]


OPERATIONS = {
    "edit": lambda p, by: drafting.edit_paragraph(p, "New words.", p.revision, by=by),
    "insert": lambda p, by: drafting.insert_after(p, "New words.", by=by),
    "insert first": lambda p, by: drafting.insert_first(p.version, "New words.", by=by),
    "delete": lambda p, by: drafting.delete_paragraph(p, by=by),
    "move up": lambda p, by: drafting.move_up(p, by=by),
    "move down": lambda p, by: drafting.move_down(p, by=by),
    "split": lambda p, by: drafting.split_paragraph(p, 11, by=by),
    "merge": lambda p, by: drafting.merge_with_next(p, by=by),
    "replace text": lambda p, by: docs.replace_text(p.version, "# Other\n", by=by),
    "confirm links": lambda p, by: drafting.confirm_links(p.version, [], by=by),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("state", ["consultation", "closed", "final"])
def test_a_published_text_is_frozen_for_every_operation(setup, operation, state):
    doc, v1, v2, drafter = setup()
    if state != "closed":
        docs.publish(v2, by=None, closes_at=utcnow() + timedelta(days=5))
    else:
        docs.publish(v2, by=None)
    if state == "final":
        docs.close(v2, by=None, reason="Done.")
        docs.finalize(v2, by=None)
    db.session.commit()
    before = snapshot(v2)
    with pytest.raises(Conflict, match="frozen") as refused:
        OPERATIONS[operation](fresh(v2).paragraphs[OPENLY], drafter)
    assert refused.value.status == 409
    db.session.rollback()
    assert snapshot(v2) == before


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (lambda p, by: drafting.edit_paragraph(p, "  \n", 1, by=by), "empty"),
        (lambda p, by: drafting.insert_after(p, "", by=by), "empty"),
        (lambda p, by: drafting.split_paragraph(p, 0, by=by), "inside"),
        (lambda p, by: drafting.split_paragraph(p, len(p.source), by=by), "inside"),
        (lambda p, by: drafting.split_paragraph(p, 10, expected_revision=7, by=by), "changed"),
    ],
)
def test_bad_drafting_input_changes_nothing(setup, operation, message):
    doc, v1, v2, drafter = setup()
    before = snapshot(v2)
    with pytest.raises(ConsultError, match=message) as refused:
        operation(fresh(v2).paragraphs[OPENLY], drafter)
    assert 400 <= refused.value.status < 500
    db.session.rollback()
    assert snapshot(v2) == before


def test_the_last_paragraph_cannot_be_deleted(make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("draft", text="Only this.\n", by=sec)
    with pytest.raises(ConsultError, match="at least one paragraph"):
        drafting.delete_paragraph(doc.latest.paragraphs[0], by=sec)


def test_a_first_draft_is_edited_without_lineage_links(make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("draft", text=TEXT, by=sec)
    v1 = doc.latest
    drafting.insert_first(v1, "Preamble text.", by=sec)
    drafting.merge_with_next(fresh(v1).paragraphs[3], by=sec)
    db.session.commit()
    v1 = fresh(v1)
    # Above the title, the preamble turns the title into section 1.
    assert [(p.number, p.text[:10]) for p in v1.paragraphs] == [
        ("0.1", "Preamble t"),
        ("1", "Charter"),
        ("1.1", "Principles"),
        ("1.1.1", "Parliament"),
        ("1.2", "Mechanisms"),
        ("1.2.1", "Public hea"),
        ("1.2.2", "Written su"),
    ]
    assert count(LineageLink) == 0


# ---------------------------------------------------------------- two drafters, one paragraph


def test_the_second_save_gets_a_conflict_with_both_texts(setup, make_user):
    doc, v1, v2, ana = setup()
    ben = make_user("committee")
    docs.add_committee_member(doc, ben, by=None)
    p = v2.paragraphs[ANSWER]
    base, seen = p.source, p.revision
    # Ben saves first.
    theirs = "Every submission receives a written answer within sixty days."
    drafting.edit_paragraph(p, theirs, seen, by=ben)
    db.session.commit()
    # Ana saves over the revision she saw.
    yours = "Every single submission receives a written answer."
    with pytest.raises(EditConflict) as conflict:
        drafting.save_paragraph(v2, p.id, yours, seen, by=ana, base_source=base)
    e = conflict.value
    assert (e.status, e.code) == (409, "edit_conflict")
    assert (e.theirs, e.yours, e.revision) == (theirs, yours, 2)
    assert e.merged == "Every single submission receives a written answer within sixty days."
    db.session.rollback()
    assert fresh(v2).paragraphs[ANSWER].source == theirs  # never a silent overwrite
    # Ana saves the merge over the revision she has now seen.
    drafting.save_paragraph(v2, p.id, e.merged, e.revision, by=ana)
    db.session.commit()
    assert (fresh(v2).paragraphs[ANSWER].source, fresh(v2).paragraphs[ANSWER].revision) == (
        e.merged,
        3,
    )


def test_overlapping_edits_are_merged_by_hand(setup):
    doc, v1, v2, drafter = setup()
    p = v2.paragraphs[ANSWER]
    base = p.source
    drafting.edit_paragraph(p, "Every submission receives an answer in writing.", 1, by=drafter)
    with pytest.raises(EditConflict) as conflict:
        drafting.edit_paragraph(
            p, "Every submission receives a reasoned answer.", 1, by=drafter, base_source=base
        )
    assert conflict.value.merged is None
    assert conflict.value.yours == "Every submission receives a reasoned answer."


def test_a_paragraph_deleted_meanwhile_keeps_the_typed_text(setup):
    doc, v1, v2, drafter = setup()
    p = v2.paragraphs[ANSWER]
    pid = p.id
    drafting.delete_paragraph(p, by=drafter)
    db.session.commit()
    with pytest.raises(EditConflict) as conflict:
        drafting.save_paragraph(fresh(v2), pid, "My careful words.", 1, by=drafter)
    assert conflict.value.theirs is None and conflict.value.yours == "My careful words."
    assert "deleted" in conflict.value.message


def test_merge_texts():
    base = "The committee answers every comment."
    assert drafting.merge_texts(base, base, "The committee answers each comment.") == (
        "The committee answers each comment."
    )
    assert (
        drafting.merge_texts(
            base,
            "The drafting committee answers every comment.",
            "The committee answers every comment in writing.",
        )
        == "The drafting committee answers every comment in writing."
    )
    assert (
        drafting.merge_texts(
            base, "The committee replies to every comment.", "The committee answers no comment."
        )
        is None
    )


# ---------------------------------------------------------------- taking up suggestions


@pytest.fixture
def suggestions(make_document, make_user):
    """Version 1 closed with three suggestions (one quoting a span) and a question;
    version 2 a draft copied from it; the committee's drafter."""

    def make():
        sec = make_user("secretariat")
        doc = make_document("consultation", text=TEXT, by=sec)
        v1 = doc.latest
        member = make_user("cso")
        org = member.organisation

        def post(i, kind="suggestion", **kw):
            return cs.post_comment(
                version=v1,
                paragraph=v1.paragraphs[i],
                organisation=org,
                kind=kind,
                body="Please change this.",
                by=member,
                **kw,
            )

        whole = post(
            ANSWER, suggested_text="Every submission receives a written answer within 60 days."
        )
        quoted = post(
            OPENLY, suggested_text="early and in plain language", quote="in good faith and early"
        )
        item = post(HEARINGS, suggested_text="Public hearings on every bill and budget.")
        question = post(ANSWER, kind="question")
        docs.close(v1, by=sec, reason="Closed for the test.")
        drafter = make_user("committee")
        docs.add_committee_member(doc, drafter, by=sec)
        v2 = docs.copy_version(doc, by=drafter)
        db.session.commit()
        return doc, v1, v2, drafter, whole, quoted, item, question

    return make


def test_take_up_a_whole_suggestion_records_the_answer_and_the_link(suggestions):
    doc, v1, v2, drafter, whole, quoted, item, question = suggestions()
    preview = preview_take_up(whole, v2)
    assert preview.paragraph.id == v2.paragraphs[ANSWER].id and not preview.quoted
    assert ("insert", " within 60 days") in preview.diff
    assert count(Response) == 0 and fresh(v2).paragraphs[ANSWER].revision == 1  # nothing saved
    [effect] = take_up_suggestion(
        whole,
        v2,
        by=drafter,
        reason="A deadline makes the promise real.",
        expected_revision=preview.revision,
    )
    db.session.commit()
    v2 = fresh(v2)
    p = v2.paragraphs[ANSWER]
    assert p.source == preview.after == "Every submission receives a written answer within 60 days."
    assert p.lineage == v1.paragraphs[ANSWER].lineage
    response = db.session.get(Comment, whole.id).response
    assert (response.decision, response.reason, response.responder_id) == (
        "accepted",
        "A deadline makes the promise real.",
        drafter.id,
    )
    assert (effect.response_id, effect.paragraph_id, effect.version_id) == (
        response.id,
        p.id,
        v2.id,
    )
    assert effects_of(response) == [p]
    [event] = events("suggestion.taken_up")
    assert json.loads(event.payload) == {
        "comment": whole.tracking,
        "version": 2,
        "paragraphs": [p.id],
    }
    assert verify().ok


def test_take_up_a_quoted_span_replaces_only_the_span(suggestions):
    doc, v1, v2, drafter, whole, quoted, item, question = suggestions()
    cs.respond(quoted, decision="partly_accepted", reason="Plain language, yes.", by=drafter)
    preview = preview_take_up(quoted, v2)
    assert preview.quoted
    take_up_suggestion(quoted, v2, by=drafter)
    db.session.commit()
    assert fresh(v2).paragraphs[OPENLY].source == (
        "Parliaments engage civil society openly. They do so early and in plain language."
    )
    # A list item keeps its marker.
    take_up_suggestion(item, v2, by=drafter, reason="Budgets too.")
    assert fresh(v2).paragraphs[HEARINGS].source == "- Public hearings on every bill and budget."


def test_take_up_follows_the_paragraph_where_the_draft_moved_it(suggestions):
    doc, v1, v2, drafter, whole, quoted, item, question = suggestions()
    drafting.move_up(v2.paragraphs[ANSWER], by=drafter)
    drafting.split_paragraph(
        fresh(v2).paragraphs[3], fresh(v2).paragraphs[3].source.index("They"), by=drafter
    )
    take_up_suggestion(whole, v2, by=drafter, reason="Yes.")
    take_up_suggestion(quoted, v2, by=drafter, reason="Yes.")  # the quote is in the second piece
    db.session.commit()
    texts = [p.text for p in fresh(v2).paragraphs]
    assert texts[2] == "Every submission receives a written answer within 60 days."
    assert texts[4] == "They do so early and in plain language."


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("no answer, no reason", ConsultError, "no answer yet"),
        ("not accepted", Conflict, "Not accepted"),
        ("a question", ConsultError, "Only a suggestion"),
        ("quote gone", ConsultError, "no longer in the draft"),
        ("paragraph gone", Conflict, "no longer in version 2"),
        ("twice", Conflict, "already taken up"),
        ("stale preview", EditConflict, "Someone else saved"),
        ("into the same version", ConsultError, "later version"),
    ],
)
def test_take_up_refusals_change_nothing(suggestions, case, error, message):
    doc, v1, v2, drafter, whole, quoted, item, question = suggestions()
    comment, draft = whole, v2
    if case == "not accepted":
        cs.respond(whole, decision="not_accepted", reason="The rules set no deadline.", by=drafter)
    elif case == "a question":
        comment = question
    elif case == "quote gone":
        comment = quoted
        drafting.edit_paragraph(
            v2.paragraphs[OPENLY], "Parliaments engage civil society.", 1, by=drafter
        )
    elif case == "paragraph gone":
        drafting.delete_paragraph(v2.paragraphs[ANSWER], by=drafter)
    elif case == "twice":
        take_up_suggestion(whole, v2, by=drafter, reason="Yes.")
    elif case == "stale preview":
        stale = preview_take_up(whole, v2).revision
        drafting.edit_paragraph(
            fresh(v2).paragraphs[ANSWER], "Every submission is answered.", 1, by=drafter
        )
    elif case == "into the same version":
        draft = v1
    db.session.commit()
    before = snapshot(v2), count(Response), count(Event)
    with pytest.raises(error, match=message) as refused:
        take_up_suggestion(
            comment,
            fresh(draft),
            by=drafter,
            reason={"no answer, no reason": "", "not accepted": None}.get(case, "Yes."),
            expected_revision=stale if case == "stale preview" else None,
        )
    assert 400 <= refused.value.status < 500
    db.session.rollback()
    assert (snapshot(v2), count(Response), count(Event)) == before


def test_taken_up_wording_stays_linked_through_merge_and_whole_text_edits(suggestions):
    doc, v1, v2, drafter, whole, quoted, item, question = suggestions()
    take_up_suggestion(whole, v2, by=drafter, reason="Yes.")
    response = db.session.get(Comment, whole.id).response
    merged = drafting.merge_with_next(fresh(v2).paragraphs[OPENLY], by=drafter)
    assert effects_of(response) == [merged]
    docs.replace_text(v2, docs.to_markdown(fresh(v2)).replace("60 days", "sixty days"), by=drafter)
    db.session.commit()
    [p] = effects_of(response)
    assert "sixty days" in p.text and p.version_id == v2.id
    drafting.delete_paragraph(p, by=drafter)
    assert effects_of(response) == []


def test_the_change_summary(suggestions):
    doc, v1, v2, drafter, whole, quoted, item, question = suggestions()
    take_up_suggestion(whole, v2, by=drafter, reason="Yes.")
    take_up_suggestion(quoted, v2, by=drafter, reason="Yes.")
    cs.respond(
        item, decision="not_accepted", reason="Budgets have their own procedure.", by=drafter
    )
    drafting.insert_after(fresh(v2).paragraphs[ANSWER], "Answers are published.", by=drafter)
    drafting.split_paragraph(fresh(v2).paragraphs[WRITTEN + 1], 12, by=drafter)
    drafting.delete_paragraph(fresh(v2).paragraphs[HEARINGS + 1], by=drafter)
    drafting.move_up(fresh(v2).paragraphs[1], by=drafter)
    db.session.commit()
    summary = change_summary(fresh(v2))
    assert summary == ChangeSummary(
        previous=1,
        unchanged=2,
        edited=2,
        moved=1,
        added=1,
        removed=1,
        split=1,
        comments=4,
        answered=3,
        suggestions=3,
        taken_up=2,
    )
    assert summary.phrases() == [
        "2 paragraphs edited",
        "1 paragraph added",
        "1 paragraph removed",
        "1 paragraph moved",
        "1 paragraph split",
        "3 of 4 comments answered",
        "2 of 3 suggestions taken up",
    ]
    assert change_summary(v1) == ChangeSummary(previous=None, added=7)


def test_tally_counts_splits_and_merges_once():
    rows = [
        Row("split", [0], [0, 1], pairs=[(0, 0), (0, 1)]),
        Row("unchanged", [1], [2], pairs=[(1, 2)]),
        Row("merged", [2, 3], [3], pairs=[(2, 3), (3, 3)]),
        # Old 4 became 4 and 5, and 5 is also made of old 5: one split and one merge.
        Row("split_merged", [4, 5], [4, 5], pairs=[(4, 4), (4, 5), (5, 5)]),
        Row("removed", [6], []),
        Row("added", [], [6]),
        Row("formatting", [7], [7], pairs=[(7, 7)]),
    ]
    assert tally(rows) == {
        "unchanged": 1,
        "formatting": 1,
        "edited": 0,
        "moved": 0,
        "split": 2,
        "merged": 2,
        "added": 1,
        "removed": 1,
    }
    assert ChangeSummary(previous=1, formatting=1).changed
    assert not ChangeSummary(previous=1, unchanged=3).changed
    assert ChangeSummary(previous=1, formatting=2).phrases() == [
        "2 paragraphs changed in formatting only"
    ]


# ---------------------------------------------------------------- imported texts


LONG = """# Charter

## Principles

Parliaments engage civil society organisations openly and in good faith,
at every stage of the law making process, from the first idea to the evaluation of the law.

Every submission receives a written answer from the committee
that explains what was done with it and why.

## Mechanisms

Committees hold public hearings on every bill and publish the list of speakers a week before.

Organisations may send written submissions by e-mail, on paper or through the online platform.

The secretariat keeps a public register of all submissions
and of the answers given to them.
"""
# Version 2: the first principle split in two, two mechanisms merged into one.
LONG_2 = LONG.replace(
    "openly and in good faith,\nat every stage of the law making process, ",
    "openly and in good faith.\n\nThey do so at every stage of the law making process, ",
).replace(
    "through the online platform.\n\nThe secretariat keeps",
    "through the online platform, and the secretariat keeps",
)


def test_an_imported_text_stores_splits_and_merges(make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("closed", text=LONG, by=sec)
    v1 = doc.latest
    v2 = docs.import_version(doc, LONG_2, by=sec)
    db.session.commit()
    old, new = v1.paragraphs, v2.paragraphs
    assert len(new) == len(old)
    rel = {
        (lk.paragraph_id, lk.predecessor_id): lk.relation
        for lk in db.session.scalars(select(LineageLink).where(LineageLink.version_id == v2.id))
    }
    assert rel[(new[2].id, old[2].id)] == rel[(new[3].id, old[2].id)] == "split"
    assert rel[(new[7].id, old[6].id)] == rel[(new[7].id, old[7].id)] == "merged"
    assert new[2].lineage == old[2].lineage and new[3].lineage not in {p.lineage for p in old}
    assert new[7].lineage == old[6].lineage
    assert set(rel.values()) == {"unchanged", "split", "merged"}


def test_the_committee_confirms_and_corrects_the_lineage(make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("closed", text=LONG, by=sec)
    v1 = doc.latest
    drafter = make_user("committee")
    docs.add_committee_member(doc, drafter, by=sec)
    # The register paragraph is rewritten beyond recognition: alignment calls it new.
    text = LONG.replace(
        "The secretariat keeps a public register of all submissions\n"
        "and of the answers given to them.",
        "A register lists what was received and answered; anyone may consult it.",
    )
    v2 = docs.import_version(doc, text, by=sec)
    db.session.commit()
    rows = drafting.review_links(v2)
    assert [(r.relation, r.method) for r in rows[-2:]] == [
        ("added", "alignment"),
        ("removed", "alignment"),
    ]
    register, old_register = v2.paragraphs[7], v1.paragraphs[7]
    assert register.lineage != old_register.lineage
    drafting.confirm_links(v2, [Correction(register.id, (old_register.id,))], by=drafter)
    db.session.commit()
    v2 = fresh(v2)
    assert v2.paragraphs[7].lineage == old_register.lineage
    link = db.session.scalar(select(LineageLink).where(LineageLink.paragraph_id == register.id))
    assert (link.predecessor_id, link.relation, link.method) == (
        old_register.id,
        "edited",
        "corrected",
    )
    methods = {
        lk.method
        for lk in db.session.scalars(select(LineageLink).where(LineageLink.version_id == v2.id))
    }
    assert methods == {"confirmed", "corrected"}
    assert not any(r.relation == "removed" for r in drafting.review_links(v2))
    # The correction is kept: the lineage now runs through both versions.
    assert [p.version.number for p in docs.lineage_history(v2.paragraphs[7])] == [1, 2]
    # Correcting it back to new.
    drafting.confirm_links(v2, [Correction(register.id, ())], by=drafter)
    db.session.commit()
    assert fresh(v2).paragraphs[7].lineage != old_register.lineage
    assert "removed" in {r.relation for r in drafting.review_links(fresh(v2))}


def test_bad_corrections_change_nothing(make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("closed", text=LONG, by=sec)
    v2 = docs.import_version(doc, LONG_2, by=sec)
    other = make_document("closed", text=LONG, by=sec).latest
    db.session.commit()
    before = snapshot(v2)
    for corrections, message in [
        ([Correction(other.paragraphs[1].id, ())], "not in version 2"),
        ([Correction(v2.paragraphs[1].id, (other.paragraphs[1].id,))], "predecessor must be"),
        ([Correction(v2.paragraphs[1].id, ()), Correction(v2.paragraphs[1].id, ())], "twice"),
    ]:
        with pytest.raises(ConsultError, match=message):
            drafting.confirm_links(v2, corrections, by=sec)
        db.session.rollback()
        assert snapshot(v2) == before
    with pytest.raises(ConsultError, match="no version before"):
        drafting.confirm_links(make_document("draft", by=sec).latest, [], by=sec)


def test_a_save_made_elsewhere_is_seen_even_by_a_stale_page(setup):
    """Drafter A's request loaded the paragraph at revision 1; drafter B's request (another
    connection) saved revision 2 meanwhile. A's save must see B's, not overwrite it."""
    doc, v1, v2, drafter = setup()
    p = v2.paragraphs[ANSWER]
    assert p.revision == 1  # loaded in A's session
    with db.engine.begin() as other:  # B, elsewhere
        other.execute(
            Paragraph.__table__.update()
            .where(Paragraph.__table__.c.id == p.id)
            .values(source="B's words.", text="B's words.", revision=2)
        )
    with pytest.raises(EditConflict) as conflict:
        drafting.edit_paragraph(p, "A's words.", 1, by=drafter)
    assert (conflict.value.theirs, conflict.value.yours) == ("B's words.", "A's words.")
    db.session.rollback()
    assert fresh(v2).paragraphs[ANSWER].source == "B's words."


def test_two_requests_closing_at_the_deadline_close_once(make_document):
    doc = make_document("consultation", days=1)
    v = doc.latest
    assert v.state == "consultation"  # loaded in this request
    with db.engine.begin() as other:  # another request closed it first
        other.execute(
            Version.__table__.update()
            .where(Version.__table__.c.id == v.id)
            .values(state="closed", close_reason="deadline", closed_at=v.closes_at)
        )
    with clock(v.closes_at + timedelta(minutes=5)):
        assert docs.refresh_state(v) is False
    assert v.state == "closed"
    assert events("version.state_changed") == []


def test_whole_text_edits_do_not_overwrite_each_other(setup):
    doc, v1, v2, drafter = setup()
    base = docs.to_markdown(v2)
    drafting.edit_paragraph(v2.paragraphs[ANSWER], "Every submission is answered.", 1, by=drafter)
    db.session.commit()
    yours = base.replace("openly.", "openly and early.")
    with pytest.raises(EditConflict, match="saved this text") as conflict:
        docs.replace_text(fresh(v2), yours, by=drafter, base_text=base)
    e = conflict.value
    assert e.yours == yours and "Every submission is answered." in e.theirs
    assert e.merged == e.theirs.replace("openly.", "openly and early.")
    db.session.rollback()
    docs.replace_text(fresh(v2), e.merged, by=drafter, base_text=e.theirs)
    db.session.commit()
    assert docs.to_markdown(fresh(v2)) == e.merged


def test_random_drafting_keeps_every_invariant(setup):
    """Sixty random operations; after each, the draft is consistent: positions and numbers,
    the Markdown round trip, and lineage links that account for every paragraph."""
    doc, v1, v2, drafter = setup()
    rng = random.Random(3)
    old_ids = {p.id for p in v1.paragraphs}
    old_lineage = {p.id: p.lineage for p in v1.paragraphs}
    for step in range(60):
        paras = fresh(v2).paragraphs
        p = rng.choice(paras)
        op = rng.choice(["edit", "insert", "delete", "up", "down", "split", "merge", "two"])
        try:
            if op == "edit":
                drafting.edit_paragraph(p, p.source + f" Step {step}.", p.revision, by=drafter)
            elif op == "two":
                drafting.edit_paragraph(
                    p, f"{p.source}\n\nAdded at {step}.", p.revision, by=drafter
                )
            elif op == "insert":
                drafting.insert_after(
                    p, f"- Item {step}" if rng.random() < 0.3 else f"New {step}.", by=drafter
                )
            elif op == "delete":
                drafting.delete_paragraph(p, by=drafter)
            elif op == "up":
                drafting.move_up(p, by=drafter)
            elif op == "down":
                drafting.move_down(p, by=drafter)
            elif op == "split":
                spaces = [i for i, ch in enumerate(p.source) if ch == " " and i > 3]
                drafting.split_paragraph(p, rng.choice(spaces) if spaces else 1, by=drafter)
            else:
                drafting.merge_with_next(p, by=drafter)
        except ConsultError:
            db.session.rollback()
            continue
        db.session.commit()
        v = fresh(v2)
        paras = v.paragraphs
        assert [q.position for q in paras] == list(range(len(paras)))
        blocks = [splitter.Block(q.kind, q.source, q.text, q.level, q.blank_before) for q in paras]
        assert [q.number for q in paras] == [b.number for b in splitter.number(blocks)]
        assert [b.source for b in splitter.split(docs.to_markdown(v))] == [q.source for q in paras]
        assert len({q.lineage for q in paras}) == len(paras), "a lineage is held once per version"
        links = db.session.scalars(select(LineageLink).where(LineageLink.version_id == v.id)).all()
        preds = {q.id: set() for q in paras}
        succs = {i: set() for i in old_ids}
        for lk in links:
            if lk.paragraph_id and lk.predecessor_id:
                preds[lk.paragraph_id].add(lk.predecessor_id)
                succs[lk.predecessor_id].add(lk.paragraph_id)
        for lk in links:
            if lk.paragraph_id is None:
                assert lk.relation == "removed" and not succs[lk.predecessor_id]
            elif lk.predecessor_id is None:
                assert lk.relation == "added" and not preds[lk.paragraph_id]
            elif len(preds[lk.paragraph_id]) > 1:
                assert lk.relation == "merged"
            elif len(succs[lk.predecessor_id]) > 1:
                assert lk.relation == "split"
            else:
                assert lk.relation in ("unchanged", "edited", "moved")
        # Each paragraph is accounted for once; each old one is continued or removed.
        assert sorted(
            lk.paragraph_id for lk in links if lk.paragraph_id and not lk.predecessor_id
        ) == sorted(q.id for q in paras if not preds[q.id])
        assert {lk.predecessor_id for lk in links if lk.paragraph_id is None} == {
            i for i in old_ids if not succs[i]
        }
        for q in paras:  # a paragraph continues one of its predecessors' lineage, or its own
            own = {old_lineage[i] for i in preds[q.id]}
            assert q.lineage in own or q.lineage not in old_lineage.values()
    assert fresh(v2).paragraphs, "the draft still has text"
