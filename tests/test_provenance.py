"""Provenance ("blame") of a final text, on hand-made chains with known answers."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from consult.tracing.provenance import Contribution, Span, provenance

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from textgen import edit, paragraph  # noqa: E402


def table(spans: list[Span]) -> list[tuple[str, int, object]]:
    return [(s.text, s.version, s.contribution) for s in spans]


def test_unchanged_text_keeps_version_one():
    text = "Parliaments shall consult civil society organisations on draft laws."
    spans = provenance([text, text, text])
    assert table(spans) == [(text, 0, None)]
    assert (spans[0].start, spans[0].end) == (0, len(text))


def test_a_single_version_comes_wholly_from_it():
    assert table(provenance(["Members may comment."])) == [("Members may comment.", 0, None)]


def test_three_version_chain():
    v1 = "Parliaments shall consult civil society."
    v2 = "Parliaments shall regularly consult civil society."
    v3 = "Parliaments shall regularly consult civil society within 30 days of publication."
    spans = provenance(
        [v1, v2, v3],
        [None, [Contribution(41, "within 30 days of their publication")]],
    )
    assert table(spans) == [
        ("Parliaments shall", 0, None),
        ("regularly", 1, None),  # the committee's own drafting
        ("consult civil society", 0, None),
        # "their" was dropped; "publication" still belongs to the credited phrase.
        ("within 30 days of publication", 2, 41),
        (".", 0, None),
    ]


def test_insertion_credited_to_the_right_suggestion_among_two():
    v1 = "The secretariat shall publish a summary of submissions."
    v2 = "The secretariat shall publish in plain language a summary of all submissions received."
    contributions = [
        Contribution("deadline", "a summary of all submissions received within thirty days"),
        Contribution("language", "publish in plain language"),
    ]
    spans = provenance([v1, v2], [contributions])
    assert table(spans) == [
        ("The secretariat shall publish", 0, None),
        ("in plain language", 1, "language"),
        ("a summary of", 0, None),
        # The step's word diff (the one the paragraph history shows) rewrites
        # "submissions" into "all submissions received", so the three words are new here.
        ("all submissions received", 1, "deadline"),
        (".", 0, None),
    ]


def test_plain_tuples_work_as_contributions():
    v1 = "Members may comment."
    v2 = "Members may comment in writing or orally."
    spans = provenance([v1, v2], [[(7, "comment in writing or orally")]])
    assert ("in writing or orally", 1, 7) in table(spans)


def test_deletion_then_reinsertion_is_new_at_the_reinsertion():
    v1 = "The committee shall promptly answer every comment."
    v2 = "The committee shall answer every comment."
    v3 = "The committee shall promptly answer every comment."
    spans = provenance([v1, v2, v3], [None, [Contribution(5, "shall promptly answer")]])
    assert table(spans) == [
        ("The committee shall", 0, None),
        ("promptly", 2, 5),
        ("answer every comment.", 0, None),
    ]


def test_committee_words_not_in_any_wording_are_its_own():
    v1 = "Hearings are public."
    v2 = "Hearings are public and broadcast online."
    spans = provenance([v1, v2], [[Contribution(1, "Hearings are public and minuted.")]])
    # "and" alone is too common to prove anything: the committee wrote this clause.
    assert table(spans) == [
        ("Hearings are public", 0, None),
        ("and broadcast online", 1, None),
        (".", 0, None),
    ]


def test_one_word_insertion_held_by_the_wording_is_credited():
    v1 = "The secretariat shall publish a report."
    v2 = "The secretariat shall publish a yearly report."
    spans = provenance([v1, v2], [[Contribution(9, "a yearly report")]])
    assert ("yearly", 1, 9) in table(spans)


def test_a_later_step_can_rewrite_an_earlier_contribution():
    v1 = "Members may comment."
    v2 = "Members may comment in writing."
    v3 = "Members may comment in writing or orally."
    spans = provenance([v1, v2, v3], [[Contribution("a", "comment in writing")], None])
    assert table(spans) == [
        ("Members may comment", 0, None),
        ("in writing", 1, "a"),
        ("or orally", 2, None),
        (".", 0, None),
    ]


def test_spans_cover_every_word_and_match_the_text():
    rng = random.Random(3)
    for _ in range(30):
        texts = [paragraph(rng)]
        for _ in range(4):
            texts.append(edit(rng, texts[-1], 0.8))
        steps = [[Contribution(k, edit(rng, texts[k], 0.7))] for k in range(4)]
        spans = provenance(texts, steps)
        final = texts[-1]
        pos = 0
        for s in spans:
            assert final[s.start : s.end] == s.text
            assert s.text == s.text.strip() and s.text
            assert final[pos : s.start].strip() == ""
            assert 0 <= s.version <= 4
            pos = s.end
        assert final[pos:].strip() == ""


def test_at_least_one_version_is_needed():
    with pytest.raises(ValueError, match="at least one version"):
        provenance([])


def test_contributions_must_match_the_steps():
    with pytest.raises(ValueError, match="3 versions make 2 steps"):
        provenance(["a", "b", "c"], [None])
