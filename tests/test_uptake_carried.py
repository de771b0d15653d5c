"""A wording that carries a neighbouring paragraph along (two blocks written out as one,
as a proposed edit of a real text often is) asks nothing of the words it carries: they
stand where they stood. Pinned with the real wording of two proposals of the corpus
(../shared/corpus: the Digital Services Playbook, pull request 221; the open-data
metadata schema, pull request 61)."""

from __future__ import annotations

from consult.tracing.uptake import VersionWords, suggested_paragraph, uptake

HEADING = "Play 1: Understand what people need"
BODY = (
    "We must begin digital projects by exploring and pinpointing the needs of the people "
    "who will use the service, and the ways the service will fit into their lives. The "
    "needs of people — not constraints of government structures or silos — should inform "
    "technical and design decisions."
)
PROPOSED = (
    "Play 1: Understand what the service consumers need\n\n"
    "We must begin digital projects by exploring and pinpointing the needs of the consumers "
    "who will use the service, and the ways the service will fit into their lives. The "
    "needs of people — not constraints of government structures or silos — should inform "
    "technical and design decisions.\n\n"
    "Services are no longer limited to people. Many services will be consumed or utilized "
    "by another service or non-human."
)
# The next version: heading and body as they were; elsewhere, one more "the needs of".
NEXT = [
    ("1", HEADING),
    ("1.1", BODY),
    ("2.1", "Agencies should meet the needs of their staff with the same care."),
]


def _elsewhere() -> VersionWords:
    return VersionWords(NEXT, [HEADING, BODY])


def test_a_neighbouring_paragraph_carried_along_is_not_an_asked_insertion():
    # Posted on the heading, the wording holds the heading and the paragraph after it.
    # The body stands where it stood in the next version: that is no evidence that the
    # proposal (consumers instead of people, a new sentence) was taken up.
    up = uptake(HEADING, PROPOSED, HEADING, elsewhere=_elsewhere(), not_in=("1",), around=[BODY])
    assert up.label == "not_taken_up"
    assert up.evidence["present"] == []
    missing = " ".join(up.evidence["missing"])
    assert "consumers" in missing and "Services are no longer limited to people" in missing
    assert "pinpointing" not in missing  # the carried words are not asked for
    # Without knowing the neighbour, the body read as inserted and was "found" in ¶1.1.
    blind = uptake(HEADING, PROPOSED, HEADING, elsewhere=_elsewhere(), not_in=("1",))
    assert blind.label == "partly"
    assert {p["paragraph"] for p in blind.evidence["present"]} == {"1.1"}


def test_what_the_carried_wording_changes_is_still_asked():
    # The heading rewritten as proposed: that part came, the rest did not.
    renamed = "Play 1: Understand what the service consumers need"
    up = uptake(HEADING, PROPOSED, renamed, elsewhere=_elsewhere(), not_in=("1",), around=[BODY])
    assert up.label == "partly"
    assert {p["words"] for p in up.evidence["present"]} == {"the service consumers"}
    # A short neighbour (a one-word heading) is never "carried": its words are too few.
    short = uptake(
        "Usage Notes", "Usage Notes Example for every field", "Usage Notes", around=["Example"]
    )
    assert short.evidence["missing"] == ["Example for every field"]


TABLE = (
    "Field\ndistribution\nUsage Notes\nDistribution is a concatenation, as appropriate, of "
    "the following elements: download url, format, size. An example of this this model is:"
)
EXAMPLE = (
    '"distribution": [`{"accessURL": "http://data.mcc.gov/example_resource/data.json", '
    '"format":"JSON", "size":"22mb"}`]'
)
INTO_THE_TABLE = (
    "Field\ndistribution\nUsage Notes\nDistribution is a concatenation, as appropriate, of "
    "the following elements: download url, format, size.\nExample\n"
    '"distribution": [{"accessURL": "http://data.mcc.gov/example_resource/data.json", '
    '"format":"JSON", "size":"22mb"}]'
)


def test_a_wording_that_carries_the_next_merged_paragraph_replaces_both():
    # The proposal moves the example (its own paragraph) into the table row; the next
    # version merged the two paragraphs exactly so. Measured on the table alone, the
    # example looked inserted while the old example paragraph stayed in the suggestion,
    # so the example was never "new": not taken up (0.10). It replaces both.
    o, s = suggested_paragraph([TABLE, EXAMPLE], INTO_THE_TABLE, part=0)
    assert s == INTO_THE_TABLE
    up = uptake([TABLE, EXAMPLE], INTO_THE_TABLE, INTO_THE_TABLE, part=0)
    assert up.label == "taken_up" and up.verbatim
    # The successor that kept the old sentence and left the example apart: not taken up.
    apart = uptake([TABLE, EXAMPLE], INTO_THE_TABLE, TABLE + "\n\n" + EXAMPLE, part=0)
    assert apart.label == "not_taken_up"
    # A wording that does not carry the other part leaves it as it was.
    alone = TABLE.replace("download url", "download URL")
    assert suggested_paragraph([TABLE, EXAMPLE], alone, part=0)[1] == alone + "\n\n" + EXAMPLE
