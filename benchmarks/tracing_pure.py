"""Uptake and provenance time on synthetic texts (the pure functions, no database).

Run: .venv/bin/python benchmarks/tracing_pure.py
Prints the time to measure the uptake of 10,000 suggestions spread over 300
paragraphs (each suggestion an edit of its paragraph, each successor an edit of
the paragraph that takes up some suggestions and not others), and the time to
compute the provenance of 300 paragraphs across 5 versions (every paragraph edited at
every step, then a realistic 30 % per step), with per-item rates.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from textgen import edit, paragraph  # noqa: E402

from consult.tracing.provenance import Contribution, provenance  # noqa: E402
from consult.tracing.uptake import asks_change, opcodes, uptake  # noqa: E402

PARAGRAPHS = 300
SUGGESTIONS = 10_000
VERSIONS = 5


def uptake_case(rng: random.Random) -> list[tuple[str, str, str, str | None]]:
    """(original, suggested, successor, quote) for SUGGESTIONS suggestions."""
    originals = [paragraph(rng) for _ in range(PARAGRAPHS)]
    suggestions: list[list[tuple[str, str | None]]] = [[] for _ in originals]
    for _ in range(SUGGESTIONS):
        p = rng.randrange(PARAGRAPHS)
        text = originals[p]
        if rng.random() < 0.3:
            # A suggestion on a quoted span of three to eight words.
            words = text.rstrip(".").split()
            n = rng.randint(3, min(8, len(words)))
            at = rng.randrange(len(words) - n + 1)
            quote = " ".join(words[at : at + n])
            suggestions[p].append((edit(rng, quote, 0.5).rstrip("."), quote))
        else:
            suggestions[p].append((edit(rng, text, 0.8), None))
    cases = []
    for p, text in enumerate(originals):
        # The successor takes up one of the paragraph's suggestions (if any), then edits.
        base = text
        if suggestions[p] and rng.random() < 0.6:
            wording, quote = rng.choice(suggestions[p])
            base = text.replace(quote, wording, 1) if quote else wording
        successor = edit(rng, base, 0.9)
        cases += [(text, wording, successor, quote) for wording, quote in suggestions[p]]
    return cases


def provenance_case(
    rng: random.Random, edit_share: float
) -> list[tuple[list[str], list[list[Contribution]]]]:
    """Chains of VERSIONS texts; at each step a paragraph is edited with probability
    `edit_share`, taking up its first suggestion half of the time."""
    chains = []
    for _ in range(PARAGRAPHS):
        texts = [paragraph(rng)]
        steps: list[list[Contribution]] = []
        for k in range(VERSIONS - 1):
            last = texts[-1]
            if rng.random() >= edit_share:
                texts.append(last)
                steps.append([])
                continue
            wording, other = edit(rng, last, 0.8), edit(rng, last, 0.8)
            taken = rng.random() < 0.5
            texts.append(edit(rng, wording, 0.95) if taken else edit(rng, last, 0.85))
            steps.append([Contribution(f"c{k}a", wording), Contribution(f"c{k}b", other)])
        chains.append((texts, steps))
    return chains


def main() -> None:
    rng = random.Random(5)
    # The product refuses a suggestion that changes nothing; the generator can make some.
    cases = [
        (o, s, r, q)
        for o, s, r, q in uptake_case(rng)
        if asks_change(o, s, **({"quote": q} if q else {}))
    ]
    opcodes.cache_clear()
    start = time.perf_counter()
    labels = Counter(uptake(o, s, r, quote=q).label for o, s, r, q in cases)
    t_up = time.perf_counter() - start
    print(
        f"uptake: {len(cases):,} suggestions on {PARAGRAPHS} paragraphs in {t_up:.2f} s "
        f"({t_up / len(cases) * 1e3:.3f} ms each, {len(cases) / t_up:,.0f} per second)"
    )
    print("  labels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(labels.items())))

    # Every paragraph edited at every step (the worst case), then 30 % of them per step
    # (as in benchmarks/textgen.revise): unchanged paragraphs cost next to nothing.
    for edit_share in (1.0, 0.3):
        chains = provenance_case(rng, edit_share)
        opcodes.cache_clear()
        start = time.perf_counter()
        spans = sum(len(provenance(texts, steps)) for texts, steps in chains)
        t_pr = time.perf_counter() - start
        print(
            f"provenance, {edit_share:.0%} of paragraphs edited per step: "
            f"{PARAGRAPHS} paragraphs × {VERSIONS} versions in {t_pr:.3f} s "
            f"({t_pr / PARAGRAPHS * 1e3:.2f} ms per paragraph, "
            f"{t_pr / (PARAGRAPHS * (VERSIONS - 1)) * 1e3:.2f} ms per step), {spans:,} spans"
        )


if __name__ == "__main__":
    main()
