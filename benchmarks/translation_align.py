"""Aligning a translation to its authoritative text: time and accuracy for 500, 5,000
and 20,000 paragraphs, side by side, with the growth ratio.

Run: .venv/bin/python benchmarks/translation_align.py
The "translation" keeps each block's structure (kind, level, numbering from the
splitter) and its numbers (written in Thai digits for one block in three) and acronyms,
and replaces every other word, as a translation does. Three cases: the same structure;
the translator added an introductory paragraph in 2 % of the sections (numbers shift
after it); and 2 % of the paragraphs split in two. Accuracy: the share of translated
blocks linked to the authoritative block they translate. Times are CPU seconds
(time.process_time), the best of three runs.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consult.translations.align import Block, align  # noqa: E402

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
WORDS = "สภา ประชาชน องค์กร ความ คิดเห็น กฎหมาย ร่าง การ ประชุม รายงาน".split()


def authoritative(n: int, rng: random.Random) -> list[Block]:
    out, section, item = [], 0, 0
    for i in range(n):
        if i % 12 == 0:
            section += 1
            item = 0
            out.append(Block(str(section), "heading", 2, f"Section {section} heading"))
            continue
        item += 1
        words = [rng.choice(["parliament", "shall", "publish", "the", "bill"]) for _ in range(20)]
        if rng.random() < 0.4:
            words.insert(5, str(rng.randint(2, 400)))
        if rng.random() < 0.3:
            words.insert(3, rng.choice(["AIPA", "CSO", "ASEAN", "SDG"]))
        out.append(Block(f"{section}.{item}", "paragraph", 0, " ".join(words)))
    return out


def translate(b: Block, rng: random.Random, number: str | None = None) -> Block:
    kept = [w for w in b.text.split() if w.isdigit() or w.isupper()]
    text = " ".join(rng.choice(WORDS) for _ in range(15)) + " " + " ".join(kept)
    if rng.random() < 0.33:
        text = text.translate(THAI_DIGITS)
    return Block(number if number is not None else b.number, b.kind, b.level, text)


def renumber(blocks: list[tuple[Block, int | None]]) -> list[tuple[Block, int | None]]:
    """Display numbers as the splitter would give them to the translated text."""
    out, section, item = [], 0, 0
    for b, truth in blocks:
        if b.kind == "heading":
            section, item = section + 1, 0
            num = str(section)
        else:
            item += 1
            num = f"{section}.{item}"
        out.append((Block(num, b.kind, b.level, b.text), truth))
    return out


def case(orig: list[Block], how: str, rng: random.Random) -> tuple[list[Block], list]:
    pairs: list[tuple[Block, int | None]] = []
    for i, b in enumerate(orig):
        if how == "intro" and b.kind == "heading" and rng.random() < 0.02:
            pairs.append((translate(b, rng), i))
            pairs.append((Block("", "paragraph", 0, "บทนำของผู้แปล " * 5), None))
            continue
        if how == "split" and b.kind == "paragraph" and rng.random() < 0.02:
            t = translate(b, rng)
            pairs.append((t, i))
            pairs.append((Block("", "paragraph", 0, "ส่วนที่สอง " * 6), i))
            continue
        pairs.append((translate(b, rng), i))
    pairs = renumber(pairs)
    return [b for b, _ in pairs], [t for _, t in pairs]


def run(n: int, how: str) -> tuple[float, float]:
    rng = random.Random(n)
    orig = authoritative(n, rng)
    trans, truth = case(orig, how, rng)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        matches = align(orig, trans)
        best = min(best, time.process_time() - t0)
    right = sum(1 for m, t in zip(matches, truth, strict=True) if m.original == t)
    return best, right / len(truth)


def main() -> None:
    sizes = (500, 5_000, 20_000)
    print(f"{'case':<10}" + "".join(f"{n:>22,}" for n in sizes) + f"{'T(5000)/T(500)':>17}")
    for how in ("same", "intro", "split"):
        results = [run(n, how) for n in sizes]
        cells = "".join(f"{t * 1000:>10.1f} ms {acc:>7.1%} " for t, acc in results)
        print(f"{how:<10}{cells}{results[1][0] / max(results[0][0], 1e-9):>15.1f}")


if __name__ == "__main__":
    main()
