"""Lineage precision and recall on real version pairs, against hand-checked truth
(tests/data/lineage/*.json, see tests/lineage_truth.py for how it is keyed and checked).

A link is an (old paragraph, new paragraph) pair. Precision: share of the links the
aligner finds that are true; recall: share of the true links it finds. Pairs marked
"either" in the truth, and paragraphs that are only markup residue, count for
neither. The figures are printed (pytest -s) per pair of versions and overall, both
for all links and for the links that are not identical twins (the hard part).
"""

from __future__ import annotations

import pytest

from consult.tracing.align import align
from tests.lineage_truth import CORPUS, blocks, markup, truth, twins

PAIRS = [
    ("us-digital-services-playbook", 1),
    ("us-digital-services-playbook", 2),
    ("us-digital-services-playbook", 3),
    ("us-open-data-metadata-schema-v1", 1),
    ("us-open-data-metadata-schema-v1", 2),
    ("us-open-data-metadata-schema-v1", 3),
    ("us-open-data-metadata-schema-v1", 4),
    ("us-https-only-standard-m-15-13", 1),
    ("us-https-only-standard-m-15-13", 2),
    ("us-https-only-standard-m-15-13", 3),
    ("fr-code-civil-titre-v-mariage", 1),
    ("fr-code-civil-titre-v-mariage", 2),
    ("fr-code-civil-titre-v-mariage", 3),
    ("fr-code-civil-titre-v-mariage", 4),
    ("de-vig-verbraucherinformationsgesetz", 1),
    ("de-vig-verbraucherinformationsgesetz", 2),
    ("de-vig-verbraucherinformationsgesetz", 3),
]
SHORT = {
    "us-digital-services-playbook": "playbook",
    "us-open-data-metadata-schema-v1": "open data schema",
    "us-https-only-standard-m-15-13": "HTTPS standard",
    "fr-code-civil-titre-v-mariage": "code civil",
    "de-vig-verbraucherinformationsgesetz": "VIG",
}
PER_PAIR_FLOOR = 0.9  # every pair of versions; the overall figures must reach 0.97


def kinds(bs):
    return [(b.kind, b.level) for b in bs]


def measure(folder: str, n: int):
    """(found, true, hard found, hard true) link sets for versions n → n+1."""
    old, new = blocks(folder, n), blocks(folder, n + 1)
    true, either, missing = truth(folder, n, old, new)
    assert missing == [], f"truth keys not found in {folder} v{n}→v{n + 1}: {missing[:3]}"
    skip_old, skip_new = markup(folder, old, new)
    links = align([b.text for b in old], [b.text for b in new], kinds(old), kinds(new))
    found = {(lk.old, lk.new) for lk in links if lk.old is not None and lk.new is not None}

    def keep(pairs):
        return {
            p for p in pairs if p not in either and p[0] not in skip_old and p[1] not in skip_new
        }

    found, true = keep(found), keep(true)
    easy = twins(old, new)
    return found, true, found - easy, true - easy


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def test_lineage_precision_and_recall_on_real_version_pairs():
    assert CORPUS.is_dir(), "the shared corpus is missing"
    totals = [0, 0, 0, 0, 0, 0]  # hits, found, true; the same without identical twins
    lines, low = [], []
    for folder, n in PAIRS:
        found, true, hard_found, hard_true = measure(folder, n)
        counts = (
            len(found & true),
            len(found),
            len(true),
            len(hard_found & hard_true),
            len(hard_found),
            len(hard_true),
        )
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
        p, r = ratio(counts[0], counts[1]), ratio(counts[0], counts[2])
        hp, hr = ratio(counts[3], counts[4]), ratio(counts[3], counts[5])
        name = f"{SHORT[folder]} v{n}→v{n + 1}"
        lines.append(
            f"{name:<26} P {p:.3f} R {r:.3f} ({counts[2]} true) · "
            f"not identical: P {hp:.3f} R {hr:.3f} ({counts[5]} true)"
        )
        if p < PER_PAIR_FLOOR or r < PER_PAIR_FLOOR:
            low.append(name)
    p, r = ratio(totals[0], totals[1]), ratio(totals[0], totals[2])
    hp, hr = ratio(totals[3], totals[4]), ratio(totals[3], totals[5])
    lines.append(
        f"{'overall':<26} P {p:.3f} R {r:.3f} ({totals[2]} true) · "
        f"not identical: P {hp:.3f} R {hr:.3f} ({totals[5]} true)"
    )
    print("\n" + "\n".join(lines))
    assert p >= 0.97 and r >= 0.97
    assert low == []


@pytest.mark.parametrize(("folder", "n"), PAIRS)
def test_truth_keys_resolve(folder, n):
    """Every paragraph named by the truth is found in the versions (the keys are text
    prefixes, so a change of the splitter that loses text shows up here)."""
    old, new = blocks(folder, n), blocks(folder, n + 1)
    _, _, missing = truth(folder, n, old, new)
    assert missing == []
