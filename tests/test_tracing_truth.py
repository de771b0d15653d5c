"""Uptake on real drafting histories, through the product: each real proposed edit of
../shared/corpus (suggestions.jsonl) is posted as a suggestion through the API on the
imported version it was made against, answered, and measured when the next real
version is published; the labels read back through the API are compared with the
corpus's truth (benchmarks/tracing_truth.py, which also prints the figures).

Issue 16's Done-when asks label accuracy ≥ 0.95 where the truth is decidable, and no
"taken up" or "partly" on a suggestion whose inserted words are absent from the next
version. The second holds strictly. The first: 0.994 on the playbook (159/160), 0.975 on
the open-data schema (77/79), 0.987 in all (236/239), where an automatic truth label that
rests on regions the corpus's rule could not tell allows the two labels it cannot tell
apart (tracing_truth.truth_range); against every label as given, 0.969, 0.949 and 0.962.
The floors below guard what is reached, with a case or two of slack, and no suggestion
the truth says was not taken up may be called taken up. The figures and the wrong cases
are printed (pytest -s) for the issue note.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import tracing_truth  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DOCUMENTS = ("us-digital-services-playbook", "us-open-data-metadata-schema-v1")


@pytest.fixture(scope="module")
def results(app) -> dict[str, tracing_truth.DocResult]:
    """Both documents replayed once for the module (the tables are emptied after its
    first test, as after any test; the results are plain data)."""
    app.config["SEARCH_SYNC"] = False  # the search index is not the point: its outbox waits
    try:
        done = tracing_truth.run(app, [CORPUS / name for name in DOCUMENTS])
    finally:
        app.config["SEARCH_SYNC"] = True
    print("\n" + tracing_truth.report(done, wrong=10))
    return {r.folder: r for r in done}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_suggestion_is_posted_and_measured(results, name):
    r = results[name]
    assert len(r.cases) == len(tracing_truth.read_suggestions(CORPUS / name))
    # Every suggestion reached the product: it was measured or refused with a reason.
    unanswered = [(c.id, c.note) for c in r.cases if c.label == "none"]
    assert unanswered == []
    assert all(c.note for c in r.cases if c.label == "refused")


#: Reached: 0.994 and 0.975 per document, 0.987 in all (a case or two less still passes).
FLOOR = {"us-digital-services-playbook": 0.98, "us-open-data-metadata-schema-v1": 0.96}
FLOOR_ALL = 0.975
#: Against every decidable label taken as given: 0.969, 0.949, 0.962.
FLOOR_AS_GIVEN = 0.95


@pytest.mark.parametrize("name", DOCUMENTS)
def test_uptake_labels_agree_with_the_truth(results, name):
    r = results[name]
    wrong = [f"{c.id.split('#')[-1]} {c.truth}→{c.label}" for c in r.decidable if c.wrong]
    assert r.accuracy >= FLOOR[name], f"{len(wrong)} wrong: {', '.join(wrong)}"
    # Influence that did not happen is never credited in full.
    assert not [c.id for c in r.decidable if (c.truth, c.label) == ("not_taken_up", "taken_up")]


def test_uptake_labels_agree_with_the_truth_in_all(results):
    cases = [c for r in results.values() for c in r.decidable]
    right = sum(1 for c in cases if not c.wrong)
    assert right / len(cases) >= FLOOR_ALL, f"{right} of {len(cases)}"
    given = [c for r in results.values() for c in r.cases if c.truth in tracing_truth.DECIDABLE]
    right = sum(1 for c in given if not c.strictly_wrong)
    assert right / len(given) >= FLOOR_AS_GIVEN, f"{right} of {len(given)} as given"


def test_what_an_automatic_truth_label_allows():
    # The corpus's rule labels by the regions it could tell; "other" regions (neither
    # taken nor kept) leave the outcome open between two labels.
    def allowed(truth, states, hand=False):
        s = {"truth": truth, "region_states": states, "hand_checked": hand}
        return set(tracing_truth.truth_range(s))

    assert allowed("taken_up", ["taken", "taken"]) == {"taken_up"}
    assert allowed("partly", ["taken", "other"]) == {"taken_up", "partly"}
    assert allowed("not_taken_up", ["kept", "other"]) == {"not_taken_up", "partly"}
    assert allowed("partly", ["taken", "kept", "other"]) == {"partly"}
    assert allowed("partly", ["other", "other"], hand=True) == {"partly"}  # read by a person
    assert allowed("undecidable", ["other"]) == set()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_no_credit_for_words_absent_from_the_next_version(results, name):
    credited = [(c.id, c.label, c.inserted) for c in results[name].credited_absent]
    assert credited == []


def test_inserted_words_and_their_presence():
    # The harness's own yardstick, on plain data: markers, pipes, URLs and typographic
    # apostrophes do not count as inserted words.
    assert (
        tracing_truth.inserted_regions("- Who are your key users?", "- Who are your users?") == []
    )
    assert tracing_truth.inserted_regions("| a | [b](http://x.org) |", "| a | [b](/local) |") == []
    assert tracing_truth.inserted_regions(
        "it will meet peoples needs", "it will meet people’s real needs"
    ) == [["people's", "real"]]
    text = tracing_truth.Presence(tracing_truth.words("It will meet people's real needs."))
    assert text.region_present(["people's", "real"])
    assert not text.region_present(["real", "people's"])
    assert text.region_present(["needs"]) and not text.region_present(["wants"])
    listed = tracing_truth.Presence(tracing_truth.words('"Weekly","Monthly","Quarterly"'))
    assert listed.region_present(["monthly", "quarterly"])


def test_where_a_proposed_edit_goes():
    # Paragraph sources joined as the splitter joins them: a heading, a table, two items.
    sources = ["## Fields", "| a | b |\n|---|---|\n| c | d |", "- one", "- two"]
    joined = "\n\n".join(sources[:2]) + "\n\n" + "\n".join(sources[2:])
    spans, at = [], 0
    for s in sources:
        at = joined.find(s, at)
        spans.append((at, at + len(s)))

    def go(old: str, new: str):
        start, end = tracing_truth.locate(joined, joined, old, joined.find(old))
        return tracing_truth.plan(joined, spans, start, end, new)

    # One row of a table: the whole table with the row replaced.
    assert go("| c | d |", "| c | e |") == (1, "| a | b |\n|---|---|\n| c | e |")
    # A whole paragraph.
    assert go("- one", "- first") == (2, "- first")
    # Several blocks, the same at both ends: the first changed one.
    assert go("## Fields\n\n| a", "## Fields\n\n| z") == (1, "| z | b |\n|---|---|\n| c | d |")
    assert go("- one\n- two", "- uno\n- two") == (2, "- uno")
    # Blocks inserted after the edited text go to the paragraph before them.
    assert go("- one\n- two", "- one\n- two\n- three") == (3, "- two\n- three")
    assert go("- one\n- two", "- one\n- one and a half\n- two") == (2, "- one\n- one and a half")
    # A list renumbered around an inserted item: the items keep their identity.
    assert go("- one\n- two", "1. zero\n2. one\n3. two") == (2, "1. zero\n- one")
    assert go("- one\n- two", "1. one\n2. half\n3. two") == (2, "- one\n2. half")
    # White space that differs is still found; text that is not there is not.
    assert tracing_truth.locate(joined, joined.replace("- one\n", "- one  \n"), "- one\n- two", 0)
    assert tracing_truth.locate(joined, joined, "- three", 0) is None


def test_inserted_words_stop_where_a_sentence_ends():
    old = "- How long does it take to set up a local development environment?"
    new = (
        "- How long does it take to start developing?\n"
        "- Is setup of local development environments automated?"
    )
    regions = tracing_truth.inserted_regions(old, new)
    assert regions == [
        ["start", "developing"],
        ["Is", "setup", "of"],
        ["environments", "automated"],
    ]
    text = tracing_truth.Presence(tracing_truth.words("How long does it take to start developing?"))
    assert [text.region_present(r) for r in regions] == [True, False, False]
