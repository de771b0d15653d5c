"""Uptake of suggestions, measured on hand-made cases with known answers (DESIGN.md idea 3)."""

from __future__ import annotations

import pytest

from consult.tracing.uptake import (
    PARTLY,
    TAKEN_UP,
    NoChange,
    asks_change,
    disagreement,
    label_for,
    uptake,
)

HEARINGS = "Parliaments should consult civil society organisations on draft laws."
HEARINGS_DEADLINE = (
    "Parliaments should consult civil society organisations on draft laws "
    "within 30 days of their publication."
)


def test_identical_wording_is_taken_up_verbatim():
    up = uptake(HEARINGS, HEARINGS_DEADLINE, HEARINGS_DEADLINE)
    assert up.score == 1.0
    assert up.label == "taken_up"
    assert up.verbatim
    assert (up.asked_insert_words, up.matched_insert_words) == (6, 6)
    assert (up.asked_delete_words, up.matched_delete_words) == (0, 0)


def test_ignored_suggestion_scores_zero():
    up = uptake(HEARINGS, HEARINGS_DEADLINE, HEARINGS)
    assert up.score == 0.0
    assert up.label == "not_taken_up"
    assert not up.verbatim


def test_ignored_suggestion_scores_zero_even_when_the_paragraph_changed_otherwise():
    successor = "Parliaments shall consult civil society organisations on all draft laws."
    up = uptake(HEARINGS, HEARINGS_DEADLINE, successor)
    assert up.score == 0.0


def test_clause_moved_to_the_front_is_still_taken_up():
    # The six asked words arrive as one run, only at the start of the sentence: a clause
    # keeps its meaning wherever the committee puts it, so this is taken up — but it is
    # not the suggested wording word for word.
    successor = (
        "Within 30 days of their publication, parliaments should consult civil society "
        "organisations on draft laws."
    )
    up = uptake(HEARINGS, HEARINGS_DEADLINE, successor)
    assert up.score == 1.0
    assert up.label == "taken_up"
    assert not up.verbatim


def test_reordering_asked_for_but_not_made_is_not_taken_up():
    # The suggestion asks to move the clause to the front; the successor keeps the old
    # order. The clause's words are all in the successor, but only because they were
    # in the original: nothing asked for happened.
    suggested = (
        "Within 30 days of their publication, parliaments should consult civil society "
        "organisations on draft laws."
    )
    up = uptake(HEARINGS_DEADLINE, suggested, HEARINGS_DEADLINE)
    assert up.score == 0.0
    assert up.label == "not_taken_up"
    # Made as asked: taken up.
    assert uptake(HEARINGS_DEADLINE, suggested, suggested).label == "taken_up"


def test_partial_adoption_of_half_the_inserted_words():
    original = "The secretariat shall publish a summary of the submissions received."
    suggested = (
        "The secretariat shall publish a summary of the submissions received, "
        "in plain language, within thirty days."
    )
    successor = (
        "The secretariat shall publish a summary of the submissions received within thirty days."
    )
    up = uptake(original, suggested, successor)
    assert (up.asked_insert_words, up.matched_insert_words) == (6, 3)
    assert up.score == 0.5
    assert up.label == "partly"


def test_same_meaning_in_other_words_is_not_verbatim_uptake():
    original = "Parliaments should consider holding public hearings."
    suggested = "Parliaments shall hold public hearings on every draft law."
    successor = "Each parliament must organise open hearings on all bills."
    up = uptake(original, suggested, successor)
    # Of the words it asked for only "on" is there, where "on every draft law" was
    # asked; the successor keeps too few of the paragraph's words to judge deletions.
    assert up.label == "not_taken_up"
    assert up.score < 0.3
    assert up.matched_insert_words == 1
    assert up.matched_delete_words == 0
    assert up.evidence["deletions"] == "not_recognisable"
    assert up.evidence["missing"] == ["shall hold", "every draft law"]
    assert not up.verbatim


def test_an_added_clause_in_other_words_is_not_taken_up():
    original = "Parliaments should consult civil society organisations."
    suggested = "Parliaments should consult civil society organisations before adopting any law."
    successor = (
        "Parliaments should consult civil society organisations prior to passing legislation."
    )
    up = uptake(original, suggested, successor)
    assert up.score == 0.0
    assert up.label == "not_taken_up"


def test_insertion_only_single_word_at_its_place():
    original = "The secretariat shall publish a report on the consultation."
    suggested = "The secretariat shall publish a public report on the consultation."
    up = uptake(original, suggested, suggested)
    assert (up.asked_insert_words, up.asked_delete_words) == (1, 0)
    assert up.label == "taken_up"
    successor = "The secretariat shall publish a report on the consultation publicly."
    assert uptake(original, suggested, successor).score == 0.0


def test_replacement_taken_up_in_part():
    original = "The secretariat shall publish a report on the consultation."
    suggested = "The secretariat shall publish an annual report on the consultation."
    # Asked: "a" out, "an annual" in. The committee kept "a" and added "annual".
    successor = "The secretariat shall publish a annual report on the consultation."
    up = uptake(original, suggested, successor)
    assert (up.asked_insert_words, up.asked_delete_words) == (2, 1)
    assert (up.matched_insert_words, up.matched_delete_words) == (1, 0)
    # An inserted word weighs four times a deleted one: (1 + 0) / (2 + 0.25).
    assert up.score == pytest.approx(1 / 2.25, abs=1e-4)
    assert up.label == "partly"


def test_insertion_a_few_words_away_counts_when_it_is_exactly_the_asked_words():
    original = "Each parliament shall inform organisations of the outcome."
    suggested = "Each parliament shall promptly inform organisations of the outcome."
    successor = "Each parliament shall inform organisations promptly of the outcome."
    up = uptake(original, suggested, successor)
    assert up.score == 1.0
    assert not up.verbatim


def test_a_common_word_added_elsewhere_does_not_count():
    original = "The secretariat shall publish a report. Members may comment."
    suggested = "The secretariat shall publish the annual report. Members may comment."
    # "the" arrives, but in another sentence and another change.
    successor = "The secretariat shall publish a report. Members may comment on the website."
    up = uptake(original, suggested, successor)
    assert up.matched_insert_words == 0
    assert up.score == 0.0


def test_an_inserted_phrase_already_in_the_paragraph_proves_nothing():
    original = (
        "The committee shall meet civil society organisations twice a year. "
        "It shall publish its programme."
    )
    suggested = (
        "The committee shall meet civil society organisations twice a year. "
        "It shall publish its programme together with civil society organisations."
    )
    successor = (
        "The committee shall meet civil society organisations twice a year. "
        "It shall publish its annual programme."
    )
    up = uptake(original, suggested, successor)
    assert up.matched_insert_words == 0
    assert up.label == "not_taken_up"


INVITE = (
    "The committee shall, where appropriate, invite civil society organisations to its hearings."
)
INVITE_PLAIN = "The committee shall invite civil society organisations to its hearings."


def test_deletion_only_suggestion():
    original, suggested = INVITE, INVITE_PLAIN
    up = uptake(original, suggested, suggested)
    assert (up.asked_delete_words, up.matched_delete_words) == (2, 2)
    assert up.label == "taken_up"
    assert up.verbatim
    assert uptake(original, suggested, original).score == 0.0


def test_deleted_words_moved_elsewhere_are_not_deleted():
    original, suggested = INVITE, INVITE_PLAIN
    moved = (
        "Where appropriate, the committee shall invite civil society organisations to its hearings."
    )
    up = uptake(original, suggested, moved)
    assert up.matched_delete_words == 0
    assert up.label == "not_taken_up"


def test_a_deleted_word_counts_even_if_the_same_word_stays_elsewhere():
    original = "The secretariat shall publish the report and shall inform the committee."
    suggested = "The secretariat shall publish the report and inform the committee."
    # The first "shall" stays; the one asked to go is gone.
    up = uptake(original, suggested, suggested)
    assert (up.asked_delete_words, up.matched_delete_words) == (1, 1)
    assert up.score == 1.0


def test_replacement_by_other_words_is_partly_at_most():
    original = "The committee shall publish the report."
    suggested = "The secretariat shall publish the report."
    successor = "The chair shall publish the report."
    up = uptake(original, suggested, successor)
    # The asked deletion happened, the asked insertion did not: the words a suggestion
    # adds are its point, so without them nothing of it is in the text.
    assert (up.matched_delete_words, up.matched_insert_words) == (1, 0)
    assert up.score == 0.0
    assert up.label == "not_taken_up"
    assert up.evidence["missing"] == ["secretariat"]
    assert up.evidence["deleted"] == ["committee"]


def test_suggestion_on_a_quoted_span():
    original = (
        "Each parliament shall respond to every submission within 60 days and publish "
        "its responses."
    )
    successor = (
        "Each parliament shall respond to every submission within 30 days and publish "
        "its responses online."
    )
    up = uptake(original, "30 days", successor, quote="60 days")
    assert (up.asked_insert_words, up.asked_delete_words) == (1, 1)
    assert up.label == "taken_up"
    assert up.verbatim
    assert uptake(original, "30 days", original, quote="60 days").score == 0.0


def test_quoted_span_occurring_twice_uses_its_offset():
    original = "Members may comment on the draft. The committee answers on the draft."
    second = original.rindex("on the draft")
    suggested_second = "Members may comment on the draft. The committee answers on each comment."
    up = uptake(
        original, "on each comment", suggested_second, quote="on the draft", quote_start=second
    )
    assert up.score == 1.0
    # Without the offset the first occurrence is meant, which the successor did not change;
    # the same words at the other occurrence, a sentence away, do not count.
    assert uptake(original, "on each comment", suggested_second, quote="on the draft").score == 0


def test_quote_not_in_the_paragraph_is_an_error():
    with pytest.raises(ValueError, match="quoted span"):
        uptake("Parliaments shall consult.", "must", "Parliaments must consult.", quote="should")


def test_deleting_a_quoted_span():
    original = "The committee shall, where appropriate, invite civil society organisations."
    successor = "The committee shall invite civil society organisations."
    up = uptake(original, "", successor, quote=", where appropriate,")
    assert up.score == 1.0
    assert up.asked_insert_words == 0


def test_suggestion_on_a_paragraph_later_split_in_two():
    original = (
        "Parliaments shall publish a summary of submissions and shall respond to each "
        "within 60 days."
    )
    suggested = original.replace("60 days", "30 days")
    successor = [
        "Parliaments shall publish a summary of submissions.",
        "They shall respond to each within 30 days.",
    ]
    up = uptake(original, suggested, successor)
    assert up.label == "taken_up"
    not_taken = [successor[0], "They shall respond to each within 60 days."]
    assert uptake(original, suggested, not_taken).label == "not_taken_up"


def test_suggestion_on_a_paragraph_later_merged_with_its_neighbour():
    first = "Parliaments shall hold public hearings on draft laws."
    second = "Hearings shall be announced two weeks in advance."
    suggested = "Parliaments shall hold public hearings on draft laws and budgets."
    merged = (
        "Parliaments shall hold public hearings on draft laws and budgets, announced "
        "two weeks in advance."
    )
    up = uptake([first, second], suggested, merged, part=0)
    assert up.label == "taken_up"
    # The neighbour's words, new to the suggestion's paragraph, do not count for it.
    merged_without = (
        "Parliaments shall hold public hearings on draft laws, announced two weeks in advance."
    )
    assert uptake([first, second], suggested, merged_without, part=0).score == 0.0


def test_part_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="no paragraph 2"):
        uptake(["One.", "Two."], "Three.", "Three.", part=2)


def test_suggestion_asking_no_change_is_never_measured():
    original = "The committee shall meet civil society organisations twice a year."
    with pytest.raises(NoChange):
        uptake(original, original, original)
    # Only white space differs: nothing was asked.
    with pytest.raises(NoChange):
        uptake(original, original + "  ", "The committee shall meet civil society organisations.")
    assert not asks_change(original, " " + original.replace(" ", "\n"))
    assert asks_change(original, original.replace("twice", "three times"))


def test_punctuation_only_suggestion_is_measured_on_its_marks():
    original = "Parliaments shall consult youth organisations women's groups and unions."
    suggested = "Parliaments shall consult youth organisations, women's groups and unions."
    assert uptake(original, suggested, suggested).score == 1.0
    up = uptake(original, suggested, original)
    assert up.score == 0.0
    assert up.asked_insert_words == 1  # the comma


def test_removed_paragraph_is_not_taken_up_unless_the_suggestion_asked_to_remove_it():
    original = "The committee shall publish the report."
    up = uptake(original, "The secretariat shall publish the report.", "")
    assert (up.matched_delete_words, up.matched_insert_words) == (0, 0)
    assert up.score == 0.0
    assert up.label == "not_taken_up"
    assert up.evidence["deletions"] == "paragraph_removed"
    # A suggestion to delete a few words of a paragraph that was then removed whole
    # asked for something else: not taken up (it was "taken up" before).
    up = uptake(
        "The committee shall, where possible, publish the report.",
        "The committee shall publish the report.",
        [],
    )
    assert up.label == "not_taken_up"
    # Asked to drop the whole paragraph, and it was dropped: taken up.
    assert uptake(original, "", []).score == 1.0
    assert uptake(original, "", []).label == "taken_up"


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (1.0, "taken_up"),
        (TAKEN_UP, "taken_up"),
        (0.79, "partly"),
        (PARTLY, "partly"),
        (0.29, "not_taken_up"),
        (0.0, "not_taken_up"),
    ],
)
def test_labels_follow_the_thresholds(score, label):
    assert label_for(score) == label


TAKEN = uptake(HEARINGS, HEARINGS_DEADLINE, HEARINGS_DEADLINE)
IGNORED = uptake(HEARINGS, HEARINGS_DEADLINE, HEARINGS)
HALF = uptake(
    "The secretariat shall publish a summary of the submissions received.",
    "The secretariat shall publish a summary of the submissions received, "
    "in plain language, within thirty days.",
    "The secretariat shall publish a summary of the submissions received within thirty days.",
)


@pytest.mark.parametrize(
    ("decision", "up", "flag"),
    [
        ("accepted", IGNORED, "accepted_not_in_text"),
        ("partly_accepted", IGNORED, "accepted_not_in_text"),
        ("accepted", HALF, None),
        ("accepted", TAKEN, None),
        ("not_accepted", TAKEN, "taken_up_without_credit"),
        ("noted", TAKEN, "taken_up_without_credit"),
        ("out_of_scope", TAKEN, "taken_up_without_credit"),
        ("not_accepted", HALF, None),
        ("not_accepted", IGNORED, None),
        ("noted", IGNORED, None),
    ],
)
def test_disagreement_flags(decision, up, flag):
    assert disagreement(decision, up) == flag


def test_disagreement_rejects_an_unknown_decision():
    with pytest.raises(ValueError, match="Unknown decision"):
        disagreement("rejected", TAKEN)


def test_a_kept_word_inside_the_asked_insertion_is_not_asked_for():
    # The word diff rewrites "hearings" into "public hearings with civil society …";
    # uptake looks through that: "hearings" was kept, and the asked words are the other 7.
    original = "Parliaments shall hold hearings."
    suggested = "Parliaments shall hold public hearings with civil society within 30 days."
    successor = "Parliaments shall hold hearings with civil society within 30 days."
    up = uptake(original, suggested, successor)
    assert (up.asked_insert_words, up.asked_delete_words) == (7, 0)
    assert up.matched_insert_words == 6
    assert up.label == "taken_up"
