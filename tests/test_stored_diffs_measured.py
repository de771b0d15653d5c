"""Measuring a published version's uptake and provenance reads each suggestion's diff as
stored when it was written (the diff its readers are shown) instead of making it again,
and reads the suggestions in batches: at a million comments a version has a few hundred
thousand of them, and the word diff was most of the cost of measuring each."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from consult.consultation.models import Comment
from consult.extensions import db
from consult.tracing import stored, uptake, views
from consult.tracing.diff import word_diff
from consult.tracing.models import StoredUptake
from tests.tracing_case import WORDING_A, WORDING_B, build

PARAGRAPH = "Every submission receives a written answer."
WORDING = "Every submission receives a public, written answer within 30 days."


def _diffed(monkeypatch) -> list[tuple[str, str]]:
    """Every pair of texts word-diffed from now on by the measure."""
    made: list[tuple[str, str]] = []
    uptake.opcodes.cache_clear()
    monkeypatch.setattr(uptake, "word_diff", lambda a, b: made.append((a, b)) or word_diff(a, b))
    return made


def test_a_stored_diff_that_spells_both_texts_is_used_and_gives_the_same_opcodes(monkeypatch):
    diff = word_diff(PARAGRAPH, WORDING)
    fresh = uptake.opcodes(PARAGRAPH, WORDING)
    made = _diffed(monkeypatch)
    assert uptake.asked_opcodes(PARAGRAPH, WORDING, diff) == fresh
    assert made == []  # nothing diffed again
    assert uptake.asked_insertions(PARAGRAPH, WORDING, diff=diff) == [
        "public ,",
        "within 30 days",
    ]
    assert made == []


@pytest.mark.parametrize(
    "diff",
    [
        [("insert", "something else entirely")],  # spells neither text
        [("equal", PARAGRAPH)],  # spells the paragraph, not the wording
        None,
    ],
)
def test_a_stored_diff_of_other_texts_is_not_used(monkeypatch, diff):
    fresh = uptake.opcodes(PARAGRAPH, WORDING)
    made = _diffed(monkeypatch)
    assert uptake.asked_opcodes(PARAGRAPH, WORDING, diff) == fresh
    assert made == [(PARAGRAPH, WORDING)]


@pytest.fixture
def case(make_document, make_user, make_org):
    return build(make_document, make_user, make_org)


def _measured() -> dict[int, tuple]:
    return {
        u.comment_id: (u.score, u.label, u.verbatim, u.inputs_hash, u.evidence_json)
        for u in db.session.scalars(select(StoredUptake))
    }


def test_publishing_measures_with_the_stored_diffs_in_batches(case, monkeypatch):
    # One suggestion a batch: the batches' edges are crossed at every suggestion.
    monkeypatch.setattr(stored, "BATCH", 1)
    made = _diffed(monkeypatch)
    v2 = case.publish_v2()
    # B's wording was diffed against its paragraph when it was posted; publishing diffs
    # the paragraph against its successor (unchanged), not the wording again.
    assert (case.b.paragraph.text, WORDING_B) not in made
    assert (case.b.paragraph.text, case.b.paragraph.text) in made
    measured = _measured()
    assert {cid: row[1] for cid, row in measured.items()} == {
        case.a.id: "taken_up",
        case.b.id: "not_taken_up",
        case.c.id: "taken_up",
    }
    # The same measure as without the stored diffs: made again from scratch, every text
    # diffed, nothing is written (the inputs are the same) and nothing differs.
    db.session.execute(Comment.__table__.update().values(suggested_diff=None))
    db.session.execute(StoredUptake.__table__.delete())
    db.session.expire_all()
    assert stored.store_uptake(v2) == 3
    assert _measured() == measured


def test_a_stored_diff_that_does_not_fit_is_diffed_again(case, monkeypatch):
    """A diff stored for other texts (hand-made data, a row from an older import) is never
    trusted: the measure makes its own."""
    db.session.execute(
        Comment.__table__.update()
        .where(Comment.id == case.a.id)
        .values(suggested_diff=json.dumps([["insert", "not this paragraph at all"]]))
    )
    db.session.commit()
    db.session.expire_all()
    made = _diffed(monkeypatch)
    case.publish_v2()
    assert (case.a.paragraph.text, WORDING_A) in made
    a = db.session.scalar(select(StoredUptake).where(StoredUptake.comment_id == case.a.id))
    assert (a.score, a.label, a.verbatim) == (1.0, "taken_up", True)


def test_provenance_reads_the_credited_suggestions_in_batches(client, case, monkeypatch):
    monkeypatch.setattr(views, "CREDITED_BATCH", 1)
    case.publish_v2()
    db.session.execute(db.text("DELETE FROM kept_provenance"))
    db.session.commit()
    made = _diffed(monkeypatch)
    html = client.get(f"/documents/{case.doc.slug}/versions/2/provenance").get_data(as_text=True)
    # A's paragraph became A's wording: that step is diffed once, for the chain of texts;
    # the wording's own diff (what A asked to insert) is the one stored when it was posted.
    assert made.count((case.a.paragraph.text, WORDING_A)) == 1
    sources = html[html.index("<h2>Sources</h2>") :]
    # Both credited suggestions are there, each with the words it brought.
    assert case.a.tracking in sources and case.c.tracking in sources
    marks = dict(
        (m.group(2), m.group(1))
        for m in re.finditer(
            r'<mark class="prov prov-v2">(.*?)</mark><sup class="prov-ref"><a href="#src-(\d)"',
            html,
        )
    )
    assert sorted(re.sub(r'<span class="sr">.*?</span>', "", m) for m in marks.values()) == [
        "and budget",
        "within 30 days",
    ]


def test_a_publication_measures_each_suggestion_once(case, monkeypatch):
    """Both receivers of the publication ask for the uptake (the record covers it); the
    suggestions are read and measured once, not once for each."""
    seen = []
    inputs = stored._inputs
    monkeypatch.setattr(stored, "_inputs", lambda c, *a: seen.append(c.id) or inputs(c, *a))
    v2 = case.publish_v2()
    assert sorted(seen) == sorted([case.a.id, case.b.id, case.c.id])
    # A later transaction reads them again (and finds nothing to write).
    seen.clear()
    assert stored.store_uptake(v2) == 0
    assert sorted(seen) == sorted([case.a.id, case.b.id, case.c.id])
    db.session.rollback()
    seen.clear()
    assert stored.store_uptake(v2) == 0 and len(seen) == 3
