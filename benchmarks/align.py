"""Alignment time for 500, 5,000 and 20,000 paragraphs, and how it grows.

Run: .venv/bin/python benchmarks/align.py
Prints, for each size, the time to align a text with an edited copy (30 % of the
paragraphs edited keeping ~60 % of their words, 5 % added, 5 % removed, 2 % moved,
2 % split in two or three, 2 % merged with the next), the precision and recall of
the links — (old, new) pairs, so a split or a merge counts one link per pair —
against the known truth, and the growth ratio of time against the growth of the input.

Times are CPU seconds of this process (time.process_time), the best of a few runs, so
that other work on the machine counts as little as possible; issue 18 tracks the ratio
T(5,000) / T(500), which a linear aligner keeps near 10.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from textgen import revise, text  # noqa: E402

from consult.tracing.align import align  # noqa: E402


def run(size: int, seed: int = 1, repeat: int = 3) -> tuple[float, float, float]:
    rng = random.Random(seed)
    old = text(rng, size)
    new, truth = revise(rng, old)
    elapsed = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        links = align(old, new)
        elapsed = min(elapsed, time.process_time() - start)
    found = {(lk.old, lk.new) for lk in links if lk.old is not None and lk.new is not None}
    correct = len(found & truth)
    return elapsed, correct / max(len(found), 1), correct / max(len(truth), 1)


def main() -> None:
    sizes = [500, 5_000, 20_000]
    print(f"{'paragraphs':>10} {'seconds':>9} {'precision':>9} {'recall':>7}")
    times = []
    for n in sizes:
        t, p, r = run(n, repeat=7 if n <= 500 else 3)
        times.append(t)
        print(f"{n:>10,} {t:>9.3f} {p:>9.3f} {r:>7.3f}")
    for k in range(1, len(sizes)):
        a, b, ta, tb = sizes[k - 1], sizes[k], times[k - 1], times[k]
        print(f"{a:,} → {b:,}: input ×{b / a:.0f}, time ×{tb / ta:.1f}")


if __name__ == "__main__":
    main()
