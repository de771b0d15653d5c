"""Version life: import, copy with lineage, publish, freeze, close, finalize."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.documents import services as docs
from consult.documents.models import LineageLink, Paragraph, Version
from consult.errors import Conflict, ConsultError
from consult.extensions import db
from consult.hashing import sha256
from consult.timeutil import utcnow

from .conftest import SAMPLE


def test_import_creates_a_draft_with_numbered_paragraphs(make_document):
    doc = make_document("draft")
    v = doc.latest
    assert v.state == "draft" and v.number == 1 and v.content_hash is None
    assert [p.number for p in v.paragraphs] == ["", "1", "1.1", "1.2", "2", "2.1", "2.2"]
    assert docs.to_markdown(v) == SAMPLE


def test_publish_freezes_and_hashes(make_document, make_user):
    doc = make_document("draft")
    v = doc.latest
    docs.publish(v, by=make_user("secretariat"), closes_at=utcnow() + timedelta(days=3))
    db.session.commit()
    assert v.state == "consultation"
    assert v.content_hash == sha256(SAMPLE)
    with pytest.raises(Conflict, match="frozen"):
        docs.replace_text(v, "# Changed\n", by=None)
    db.session.rollback()
    assert docs.to_markdown(db.session.get(Version, v.id)) == SAMPLE


def test_deadline_must_be_in_the_future(make_document):
    v = make_document("draft").latest
    with pytest.raises(ConsultError, match="future"):
        docs.publish(v, by=None, closes_at=utcnow() - timedelta(minutes=1))
    assert v.state == "draft"


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        ("draft", "close", "Only a version open for comments"),
        ("draft", "finalize", "Only a closed version"),
        ("consultation", "finalize", "Only a closed version"),
        ("consultation", "publish", "already published"),
        ("closed", "close", "Only a version open for comments"),
        ("final", "finalize", "Only a closed version"),
        ("final", "publish", "already published"),
    ],
)
def test_forbidden_transitions_change_nothing(make_document, state, action, message):
    doc = make_document(state)
    v = doc.latest
    before = (v.state, v.closed_at, v.finalized_at, v.content_hash)
    fn = {"close": docs.close, "finalize": docs.finalize, "publish": docs.publish}[action]
    with pytest.raises(Conflict, match=message):
        fn(v, by=None)
    db.session.rollback()
    v = db.session.get(Version, v.id)
    assert (v.state, v.closed_at, v.finalized_at, v.content_hash) == before


def test_only_the_latest_closed_version_can_be_final(make_document):
    doc = make_document("closed")
    v1 = doc.latest
    v2 = docs.copy_version(doc, by=None)
    docs.publish(v2, by=None)
    db.session.commit()
    with pytest.raises(Conflict, match="latest"):
        docs.finalize(v1, by=None)
    docs.finalize(v2, by=None)
    assert v2.state == "final"


def test_no_new_version_while_the_previous_is_open_or_draft(make_document):
    doc = make_document("consultation")
    with pytest.raises(Conflict, match="still open for comments"):
        docs.import_version(doc, "New text.\n", by=None)
    doc2 = make_document("draft")
    with pytest.raises(Conflict, match="still a draft"):
        docs.copy_version(doc2, by=None)


def test_copy_keeps_lineage_exactly(make_document):
    doc = make_document("closed")
    v1 = doc.latest
    v2 = docs.copy_version(doc, by=None, label="Second")
    db.session.commit()
    assert [p.lineage for p in v2.paragraphs] == [p.lineage for p in v1.paragraphs]
    links = db.session.scalars(select(LineageLink).where(LineageLink.version_id == v2.id)).all()
    assert {(lk.relation, lk.method) for lk in links} == {("unchanged", "copy")}
    assert docs.successors(v1.paragraphs[2]) == [v2.paragraphs[2]]


def test_import_aligns_lineage_with_the_previous_version(make_document):
    doc = make_document("closed")
    v1 = doc.latest
    text = SAMPLE.replace(
        "Every submission receives a written answer.",
        "Every submission receives a written and public answer.",
    )
    text = text.replace("- Public hearings on every bill.\n", "")
    text += "\n## Review\n\nThe framework is reviewed every three years.\n"
    v2 = docs.import_version(doc, text, by=None, label="Second")
    docs.publish(v2, by=None)
    db.session.commit()
    by_lineage = {p.lineage: p for p in v1.paragraphs}
    edited = next(p for p in v2.paragraphs if "public answer" in p.text)
    assert by_lineage[edited.lineage].text == "Every submission receives a written answer."
    relations = {
        lk.relation
        for lk in db.session.scalars(select(LineageLink).where(LineageLink.version_id == v2.id))
    }
    assert relations == {"unchanged", "edited", "added", "removed"}
    history = docs.lineage_history(edited)
    assert [p.version.number for p in history] == [1, 2]


def test_replace_text_of_a_draft_realigns(make_document):
    doc = make_document("closed")
    v2 = docs.copy_version(doc, by=None)
    db.session.commit()
    docs.replace_text(v2, SAMPLE.replace("openly", "openly and early"), by=None)
    db.session.commit()
    v2 = db.session.get(Version, v2.id)
    assert "openly and early" in docs.to_markdown(v2)
    assert [p.lineage for p in v2.paragraphs] == [p.lineage for p in doc.versions[0].paragraphs]
    assert db.session.scalar(select(Paragraph).where(Paragraph.version_id == v2.id).limit(1))


def test_empty_import_is_refused(make_document):
    doc = make_document("closed")
    with pytest.raises(ConsultError, match="empty"):
        docs.import_version(doc, "  \n", by=None)
    db.session.rollback()
    assert len(db.session.get(type(doc), doc.id).versions) == 1
