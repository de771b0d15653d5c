"""Word diffs, comparison by lineage, and the first alignment of imported texts."""

from __future__ import annotations

import random
from pathlib import Path

from consult.documents.splitter import split
from consult.tracing.align import align, similarity, words
from consult.tracing.compare import Text, compare, tally
from consult.tracing.diff import diff_html, diff_stats, word_diff

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _rebuild(diff, side):
    keep = {"old": ("equal", "delete"), "new": ("equal", "insert")}[side]
    return "".join(t for op, t in diff if op in keep)


def test_word_diff_works_on_whole_words():
    diff = word_diff("Parliaments should consult CSOs.", "Parliaments shall consult all CSOs.")
    assert ("delete", "should") in diff and ("insert", "shall") in diff
    assert ("insert", "all ") in diff or ("insert", " all") in diff
    assert diff_stats(diff) == {"inserted": 2, "deleted": 1}


def test_word_diff_rebuilds_both_sides_on_real_text():
    d = CORPUS / "fr-code-civil-titre-v-mariage"
    old = [b.text for b in split((d / "v2.md").read_text(encoding="utf-8"))]
    new = [b.text for b in split((d / "v3.md").read_text(encoding="utf-8"))]
    for link in align(old, new):
        if link.old is not None and link.new is not None:
            diff = word_diff(old[link.old], new[link.new])
            assert _rebuild(diff, "old") == old[link.old]
            assert _rebuild(diff, "new") == new[link.new]


def test_word_diff_on_a_long_text_is_minimal():
    # Far beyond the default 1 s timeout territory for character diffs.
    rng = random.Random(4)
    vocab = [f"w{i}" for i in range(400)]
    a = " ".join(rng.choice(vocab) for _ in range(20_000))
    b = a.replace(" w7 ", " seven ", 3)
    diff = word_diff(a, b)
    assert diff_stats(diff) == {"inserted": 3, "deleted": 3}


def test_diff_html_marks_changes_for_screen_readers():
    html = diff_html(word_diff("a <b> c", "a <b> d"))
    assert '<del><span class="sr">[deleted: </span>c' in html
    assert '<ins><span class="sr">[inserted: </span>d' in html
    assert "&lt;b&gt;" in html


def test_compare_by_links():
    old = [Text(t, t) for t in ("one two", "three", "four", "five")]
    new = [Text(t, t) for t in ("one two three", "four", "three", "new")]
    rows = compare(old, new, [(0, 0), (1, 2), (2, 1)])
    assert [(r.relation, r.old, r.new) for r in rows] == [
        ("edited", 0, 0),
        ("unchanged", 2, 1),
        ("removed", 3, None),
        ("moved", 1, 2),
        ("added", None, 3),
    ]
    assert tally(rows) == {
        "unchanged": 1,
        "formatting": 0,
        "edited": 1,
        "moved": 1,
        "split": 0,
        "merged": 0,
        "added": 1,
        "removed": 1,
    }


def test_similarity():
    assert similarity(words("a b c d"), words("a b c d")) == 1.0
    assert similarity(words("a b"), words("c d")) == 0.0


def test_align_finds_edits_additions_removals_and_moves():
    old = [
        "Parliaments engage civil society openly and in good faith.",
        "Every submission receives a written answer within sixty days.",
        "Hearings are public unless security requires otherwise.",
        "This paragraph disappears in the next draft entirely.",
        "Annual reports describe how input was used by committees.",
    ]
    new = [
        "Annual reports describe how input was used by committees.",
        "Parliaments engage civil society openly, early and in good faith.",
        "Every submission receives a written answer within thirty days.",
        "A brand new paragraph about youth participation.",
        "Hearings are public unless security requires otherwise.",
    ]
    links = {(lk.old, lk.new): lk.relation for lk in align(old, new)}
    assert links[(1 - 1, 1)] == "edited"
    assert links[(1, 2)] == "edited"
    assert links[(2, 4)] == "unchanged"
    assert links[(4, 0)] == "moved"
    assert links[(3, None)] == "removed"
    assert links[(None, 3)] == "added"


def test_align_on_real_amendments_keeps_unchanged_articles():
    d = CORPUS / "fr-code-civil-titre-v-mariage"
    old = [b.text for b in split((d / "v4.md").read_text(encoding="utf-8"))]
    new = [b.text for b in split((d / "v5.md").read_text(encoding="utf-8"))]
    links = align(old, new)
    matched = [lk for lk in links if lk.old is not None and lk.new is not None]
    # Every paragraph whose text is identical is linked to its twin.
    for lk in matched:
        if lk.relation == "unchanged":
            assert old[lk.old] == new[lk.new]
    assert len(matched) >= 0.9 * min(len(old), len(new))
    assert sorted(lk.new for lk in links if lk.new is not None) == list(range(len(new)))
    assert sorted(lk.old for lk in links if lk.old is not None) == list(range(len(old)))
