"""How often the aligner is right: on generated edits with known truth, and on real
laws with known amendments (../shared/corpus).

A link is an (old paragraph, new paragraph) pair; a split or a merge is one link
per pair. Precision: share of the links found that are true; recall: share of the
true links found. The figures are printed (pytest -s) for the issue note.
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from consult.documents.splitter import Block, split
from consult.tracing.align import align

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from textgen import revise, text  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def pairs(links) -> set[tuple[int, int]]:
    return {(lk.old, lk.new) for lk in links if lk.old is not None and lk.new is not None}


def scores(found: set, truth: set) -> tuple[float, float]:
    hit = len(found & truth)
    return hit / max(len(found), 1), hit / max(len(truth), 1)


def split_and_merge_pairs(truth: set[tuple[int, int]]) -> set[tuple[int, int]]:
    olds = Counter(i for i, _ in truth)
    news = Counter(j for _, j in truth)
    return {(i, j) for i, j in truth if olds[i] > 1 or news[j] > 1}


# ---------------------------------------------------------------- generated edits


@pytest.mark.parametrize(
    ("keep", "share"),
    [
        (0.5, 0.02),  # each edited word survives with probability ½ (≥ half the words kept)
        (0.6, 0.02),
        (0.6, 0.08),  # many splits and merges
        (0.8, 0.05),
    ],
)
def test_generated_edits_with_known_truth(keep, share):
    found_all, truth_all = set(), set()
    for seed in range(3):
        rng = random.Random(seed)
        old = text(rng, 800)
        new, truth = revise(rng, old, keep=keep, split_share=share, merge_share=share)
        links = align(old, new)
        # Every paragraph appears in the result, linked or added/removed.
        assert {lk.new for lk in links if lk.new is not None} == set(range(len(new)))
        assert {lk.old for lk in links if lk.old is not None} == set(range(len(old)))
        found_all |= {(seed, *p) for p in pairs(links)}
        truth_all |= {(seed, *p) for p in truth}
        sm_found = {(seed, lk.old, lk.new) for lk in links if lk.relation in ("split", "merged")}
        sm_truth = {(seed, *p) for p in split_and_merge_pairs(truth)}
        if seed == 0:
            sm_found_all, sm_truth_all = sm_found, sm_truth
        else:
            sm_found_all |= sm_found
            sm_truth_all |= sm_truth
    precision, recall = scores(found_all, truth_all)
    sm_precision, sm_recall = scores(sm_found_all, sm_truth_all)
    print(
        f"\nkeep {keep}, splits/merges {share:.0%}: links P {precision:.3f} R {recall:.3f}; "
        f"split/merge links P {sm_precision:.3f} R {sm_recall:.3f} ({len(sm_truth_all)} true)"
    )
    assert precision >= 0.95 and recall >= 0.95
    assert sm_precision >= 0.95 and sm_recall >= 0.85


def test_pure_splits_and_merges_are_found_with_their_relation():
    old = [
        "Parliaments publish the draft agenda of every committee meeting two weeks ahead, "
        "with the papers, and take written comments from the public until the meeting.",
        "The secretariat answers each comment in writing and publishes the answers.",
        "Hearings are open to the public, streamed online and recorded for the archive.",
        "Recordings stay online for at least ten years and can be downloaded freely.",
    ]
    new = [
        "Parliaments publish the draft agenda of every committee meeting two weeks ahead, "
        "with the papers.",
        "They take written comments from the public until the meeting.",
        "The secretariat answers each comment in writing and publishes the answers.",
        "Hearings are open to the public, streamed online and recorded for the archive; "
        "recordings stay online for at least ten years and can be downloaded freely.",
    ]
    links = {(lk.old, lk.new): lk for lk in align(old, new)}
    assert {k: lk.relation for k, lk in links.items()} == {
        (0, 0): "split",
        (0, 1): "split",
        (1, 2): "unchanged",
        (2, 3): "merged",
        (3, 3): "merged",
    }
    assert links[(0, 0)].similarity == links[(0, 1)].similarity > 0.9


# ---------------------------------------------------------------- real laws


def blocks(folder: str, n: int) -> list[Block]:
    return split((CORPUS / folder / f"v{n}.md").read_text(encoding="utf-8"))


def sections(bs: list[Block], strip_number: bool = False) -> list[str]:
    """The heading each paragraph stands under (for a law: its article)."""
    out, current = [], ""
    for b in bs:
        if b.kind == "heading":
            current = re.sub(r"^§\s*\d+\w*\s*", "", b.text) if strip_number else b.text
        out.append(current)
    return out


def index(bs: list[Block], heading: str, nth: int = 1) -> int:
    """Position of the nth paragraph under a heading (0: the heading itself)."""
    at = next(i for i, b in enumerate(bs) if b.kind == "heading" and b.text == heading)
    return at + nth


CIVIL_CODE = "fr-code-civil-titre-v-mariage"


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_civil_code_links_stay_within_their_article(n):
    """Articles keep their numbers across amendments: a link between two articles is wrong."""
    old, new = blocks(CIVIL_CODE, n), blocks(CIVIL_CODE, n + 1)
    links = pairs(align([b.text for b in old], [b.text for b in new]))
    so, sn = sections(old), sections(new)
    wrong = [(so[i], sn[j]) for i, j in links if so[i] != sn[j]]
    print(f"\ncode civil v{n}→v{n + 1}: {len(links)} links, {len(wrong)} across articles")
    assert wrong == []
    # Every article present in both versions keeps its heading's link.
    shared = {b.text for b in old if b.kind == "heading"} & {
        b.text for b in new if b.kind == "heading"
    }
    for title in shared:
        assert (index(old, title, 0), index(new, title, 0)) in links


def test_known_amendments_of_the_civil_code():
    v1, v2, v3, v4 = (blocks(CIVIL_CODE, n) for n in (1, 2, 3, 4))

    def links(a, b):
        return {
            (lk.old, lk.new): lk.relation for lk in align([x.text for x in a], [x.text for x in b])
        }

    # 2013: article 143 (marriage of two persons of different or the same sex) is new …
    l12 = links(v1, v2)
    assert l12[(None, index(v2, "Article 143"))] == "added"
    # … and article 144 carries over.
    assert l12[(index(v1, "Article 144"), index(v2, "Article 144"))] == "unchanged"
    # 2006: the same minimum age for both spouses (article 144 edited).
    l23 = links(v2, v3)
    assert l23[(index(v2, "Article 144"), index(v3, "Article 144"))] == "edited"
    assert "dix-huit ans" in v3[index(v3, "Article 144")].text
    # 2006: the first paragraph of article 176 is split in two.
    assert l23[(index(v2, "Article 176"), index(v3, "Article 176", 1))] == "split"
    assert l23[(index(v2, "Article 176"), index(v3, "Article 176", 2))] == "split"
    assert v3[index(v3, "Article 176", 2)].text.startswith("Les prescriptions mentionnées")
    # 2013: article 144 reworded without "l'homme et la femme".
    l34 = links(v3, v4)
    assert l34[(index(v3, "Article 144"), index(v4, "Article 144"))] == "edited"


HTTPS = "us-https-only-standard-m-15-13"


def test_known_changes_of_the_https_standard():
    v2, v3, v4 = (blocks(HTTPS, n) for n in (2, 3, 4))
    texts = [b.text for b in v3]

    def at(bs, start):
        return next(i for i, b in enumerate(bs) if b.text.startswith(start))

    # v2 → v3: the "Technical Assistance" section of the proposal is dropped.
    l23 = {(lk.old, lk.new): lk.relation for lk in align([b.text for b in v2], texts)}
    assert l23[(at(v2, "Technical Assistance"), None)] == "removed"
    # v3 → v4 (final memorandum): two paragraphs on HTTPS's limits become one …
    l34 = {(lk.old, lk.new): lk.relation for lk in align(texts, [b.text for b in v4])}
    limits = at(v4, "HTTPS has several important limitations.")
    assert l34[(at(v3, "HTTPS has several important limitations."), limits)] == "merged"
    assert l34[(at(v3, "IP addresses and destination domain names"), limits)] == "merged"
    # … the background joins two paragraphs on unencrypted HTTP …
    http = at(v4, "The unencrypted HTTP protocol")
    assert l34[(at(v3, "The unencrypted HTTP protocol"), http)] == "merged"
    assert l34[(at(v3, "The majority of Federal websites use HTTP"), http)] == "merged"
    # … and the call for feedback on the proposal goes.
    assert l34[(at(v3, "We encourage your feedback"), None)] == "removed"
    # Sections stay sections: no link crosses a heading of the standard.
    so, sn = sections(v3), sections(v4)
    assert all(so[i] == sn[j] for i, j in l34 if i is not None and j is not None)


def test_consumer_information_act_links_stay_within_their_section():
    """The 2012 reform renumbered the sections (§ 1 became § 2 …) and renamed one; titles
    otherwise stay."""
    folder = "de-vig-verbraucherinformationsgesetz"
    renamed = {("Antragsverfahren", "Entscheidung über den Antrag")}
    for n in (1, 2, 3):
        old, new = blocks(folder, n), blocks(folder, n + 1)
        so, sn = sections(old, strip_number=True), sections(new, strip_number=True)
        links = pairs(align([b.text for b in old], [b.text for b in new]))
        wrong = [
            (so[i], sn[j]) for i, j in links if so[i] != sn[j] and (so[i], sn[j]) not in renamed
        ]
        assert wrong == [], f"v{n}→v{n + 1}"


# ---------------------------------------------------------------- structure as evidence


def test_a_requirement_reworded_under_its_heading_keeps_its_lineage():
    """Half the words change, but the paragraph stays between the same matched
    neighbours, under the same heading, with its rare words (issue 16, item 4)."""
    old = [
        "Authentication",
        "Agency staff sign in with their agency account and a second factor.",
        "Remote staff require the use of one of two kinds of devices issued under FIPS 201 "
        "to reach the case management system: a PIV card, or else a derived PIV credential "
        "stored on a mobile phone that the agency manages.",
        "Sessions end after 15 minutes without activity.",
        "Logging",
        "Every sign-in is logged with its time and address.",
    ]
    new = [
        "Authentication",
        "Agency staff sign in with their agency account and a second factor.",
        "Remote access SHALL use one of a combination of FIPS 201 devices.",
        "Sessions end after 15 minutes without activity.",
        "Logging",
        "Every sign-in is logged with its time and address.",
    ]
    info = [("heading", 2), ("paragraph", 0), ("paragraph", 0), ("paragraph", 0)]
    info += [("heading", 2), ("paragraph", 0)]
    links = {(lk.old, lk.new): lk.relation for lk in align(old, new, info, info)}
    assert links[(2, 2)] == "edited"
    assert (2, None) not in links and (None, 2) not in links


def test_a_removed_paragraph_facing_unrelated_new_text_stays_removed():
    old = [
        "Scope",
        "This standard applies to every public website of the agency.",
        "Comments on this proposal are welcome until the end of March.",
        "Timeline",
        "Existing websites comply within two years.",
    ]
    new = [
        "Scope",
        "This standard applies to every public website of the agency.",
        "A public dashboard at pulse.example.gov shows each agency's progress.",
        "Timeline",
        "Existing websites comply within two years.",
    ]
    info = [("heading", 2), ("paragraph", 0), ("paragraph", 0), ("heading", 2), ("paragraph", 0)]
    links = {(lk.old, lk.new): lk.relation for lk in align(old, new, info, info)}
    assert links[(2, None)] == "removed" and links[(None, 2)] == "added"


def test_a_heading_links_only_to_a_heading():
    """A list item and a heading with nearly the same words are not one paragraph; nor
    does a heading become a piece of a split list item."""
    old = [
        "Key questions",
        "Who are the primary users of the service and what do they need?",
        "Publish the data dictionary of every dataset with the dataset itself",
        "Checklist",
        "Ship a working service early and improve it with its users.",
    ]
    new = [
        "Key questions",
        "Who are the primary users of the service and what do they need?",
        "Publish the data dictionary of every dataset",
        "Checklist",
        "Ship a working service early and improve it with its users.",
    ]
    old_info = [("heading", 3), ("list_item", 0), ("list_item", 0), ("heading", 3)]
    old_info += [("list_item", 0)]
    new_info = [("heading", 3), ("list_item", 0), ("heading", 2), ("heading", 3)]
    new_info += [("list_item", 0)]
    links = {(lk.old, lk.new): lk.relation for lk in align(old, new, old_info, new_info)}
    assert (2, 2) not in links
    assert links[(2, None)] == "removed" and links[(None, 2)] == "added"
    # Without the kinds, the words alone link them.
    assert (2, 2) in {(lk.old, lk.new) for lk in align(old, new)}


def test_a_renamed_heading_follows_its_section():
    old = [
        "§ 4 Antragsverfahren",
        "(1) Der Antrag ist in der Regel innerhalb einer Frist von einem Monat zu bescheiden.",
        "(2) Bei gleichförmigen Anträgen von mehr als 20 Personen gelten die §§ 17 und 19.",
        "§ 5 Informationsgewährung",
        "(1) Die Stelle kann den Informationszugang durch Auskunftserteilung gewähren.",
    ]
    new = [
        "§ 4 Entscheidung über den Antrag",
        "(1) Der Antrag ist in der Regel innerhalb von einem Monat zu bescheiden.",
        "(2) Bei gleichförmigen Anträgen von mehr als 20 Personen gelten die §§ 17 und 19.",
        "§ 5 Informationsgewährung",
        "(1) Die Stelle kann den Informationszugang durch Auskunftserteilung gewähren.",
    ]
    info = [("heading", 2), ("paragraph", 0), ("paragraph", 0), ("heading", 2), ("paragraph", 0)]
    links = {(lk.old, lk.new): lk.relation for lk in align(old, new, info, info)}
    assert links[(0, 0)] == "edited"


def test_kinds_must_cover_every_paragraph():
    with pytest.raises(ValueError):
        align(["a b c"], ["a b c"], [("paragraph", 0), ("heading", 1)], None)
