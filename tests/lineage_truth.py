"""Hand-checked lineage truth for real version pairs (tests/data/lineage/*.json).

A truth file names paragraphs by a key that survives changes of the splitter's
numbering: the first 60 characters of the paragraph's plain text (white space
collapsed), with "#k" added for the k-th paragraph (k ≥ 2) of the version with
the same key ("Checklist#3"). For each pair of versions ("1-2") it lists:

- "links": the true (old, new) pairs, except those the rule below gives;
- "either": pairs a careful reader could call linked or not (left out of both
  precision and recall);
- "not": pairs the rule would give that are wrong (none so far).

"markup" (optional, per document) is a pattern for paragraphs that are only
markup residue (a kramdown attribute list the splitter shows as text, a
merge-conflict marker, an empty paragraph): links to or from them are left out.

Rule: a paragraph whose text occurs exactly once in each version, identically,
is linked to its twin.

Run `python tests/lineage_truth.py DOC N` to print the aligner's links for
versions N → N+1 with their keys, for review.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consult.documents.splitter import Block, split  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
TRUTH = Path(__file__).resolve().parent / "data" / "lineage"


def blocks(folder: str, n: int) -> list[Block]:
    return split((CORPUS / folder / f"v{n}.md").read_text(encoding="utf-8"))


def keys(bs: list[Block]) -> list[str]:
    seen: Counter = Counter()
    out = []
    for b in bs:
        k = re.sub(r"\s+", " ", b.text).strip()[:60].rstrip()
        seen[k] += 1
        out.append(k if seen[k] == 1 else f"{k}#{seen[k]}")
    return out


def twins(old: list[Block], new: list[Block]) -> set[tuple[int, int]]:
    """Pairs given by the rule: identical text occurring once in each version."""
    co = Counter(b.text.strip() for b in old)
    cn = Counter(b.text.strip() for b in new)
    at = {b.text.strip(): j for j, b in enumerate(new)}
    return {
        (i, at[t]) for i, b in enumerate(old) if co[(t := b.text.strip())] == 1 and cn.get(t) == 1
    }


def load(folder: str) -> dict:
    return json.loads((TRUTH / f"{folder}.json").read_text(encoding="utf-8"))


def markup(folder: str, old: list[Block], new: list[Block]) -> tuple[set[int], set[int]]:
    """Indexes of the paragraphs that are markup residue only, in old and in new."""
    pattern = load(folder).get("markup")
    if not pattern:
        return set(), set()
    rx = re.compile(pattern)
    return (
        {i for i, b in enumerate(old) if rx.match(b.text.strip())},
        {j for j, b in enumerate(new) if rx.match(b.text.strip())},
    )


def truth(folder: str, n: int, old: list[Block], new: list[Block]) -> tuple[set, set, list]:
    """(true pairs, either pairs, keys not found) for versions n → n+1, as index pairs."""
    entry = load(folder)["pairs"][f"{n}-{n + 1}"]
    ko = {k: i for i, k in enumerate(keys(old))}
    kn = {k: j for j, k in enumerate(keys(new))}
    missing = []

    def resolve(pairs):
        out = set()
        for a, b in pairs:
            if a in ko and b in kn:
                out.add((ko[a], kn[b]))
            else:
                missing.append((a, b))
        return out

    true = twins(old, new) - resolve(entry.get("not", [])) | resolve(entry["links"])
    return true, resolve(entry.get("either", [])), missing


def _review(folder: str, n: int) -> None:
    from consult.tracing.align import align

    old, new = blocks(folder, n), blocks(folder, n + 1)
    ko, kn = keys(old), keys(new)
    auto = twins(old, new)
    links = align([b.text for b in old], [b.text for b in new])
    explicit = [
        [ko[lk.old], kn[lk.new]]
        for lk in links
        if lk.old is not None and lk.new is not None and (lk.old, lk.new) not in auto
    ]
    print(json.dumps(explicit, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    _review(sys.argv[1], int(sys.argv[2]))
