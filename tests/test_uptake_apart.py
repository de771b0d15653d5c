"""Asked words that came, but not together as asked: the successor put other words
between them. Pinned with the real wording of a proposal of the corpus
(../shared/corpus: the Digital Services Playbook, pull request 53, a key question)."""

from __future__ import annotations

from consult.tracing.uptake import uptake

ORIGINAL = "How long in days are the iterations/sprints?"
PROPOSED = "How many days or weeks are in each sprint?"


def test_an_asked_phrase_found_only_in_pieces_is_partly_taken_up():
    # The next version asks "… in each iteration/sprint?": the question form came, but
    # "each sprint" came as "each iteration/sprint", keeping the word the proposal dropped.
    up = uptake(ORIGINAL, PROPOSED, "How many days or weeks are in each iteration/sprint?")
    assert up.label == "partly"
    # Every asked word is there: the score stays high; the label says what was not made.
    assert up.score >= 0.8
    # Made as asked, it is taken up.
    assert uptake(ORIGINAL, PROPOSED, PROPOSED).label == "taken_up"
    # Punctuation between the asked words does not separate them.
    assert uptake(ORIGINAL, PROPOSED, "How many days or weeks are in each, sprint?").label == (
        "taken_up"
    )
