"""Synthetic policy texts and edited copies with known lineage, for benchmarks and tests."""

from __future__ import annotations

import random
from itertools import accumulate

WORDS = (  # noqa: SIM905 (a sentence of words reads better than a column of them)
    "parliament committee civil society organisation consultation submission hearing public "
    "member secretariat framework engagement outreach accountability feedback response report "
    "youth women disability community rural language translation summary plain deadline period "
    "review annual regional national focal point platform online offline paper workshop budget "
    "information access transparency participation dialogue capacity training resource evaluation "
    "shall should may will must within days months reasonable appropriate effective inclusive"
).split()


_SYLLABLES = (  # noqa: SIM905
    "ka lo mi ne su ra te vo pa di gu ho an el is om un ber ton gal mar sen dit"
).split()
_gen = random.Random(0)
# A vocabulary of common words and a long tail of rarer ones, roughly as in real texts.
VOCAB = WORDS + sorted(
    {"".join(_gen.choice(_SYLLABLES) for _ in range(_gen.randint(2, 4))) for _ in range(6000)}
)
_CUMULATIVE = list(accumulate(1 / (rank + 1) for rank in range(len(VOCAB))))


def _word(rng: random.Random) -> str:
    # Cumulative weights computed once: the same draws as weights=, without the O(vocabulary)
    # work on every word.
    return rng.choices(VOCAB, cum_weights=_CUMULATIVE)[0]


def paragraph(rng: random.Random, n: int | None = None) -> str:
    n = n or rng.randint(18, 60)
    words = [_word(rng) for _ in range(n)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def text(rng: random.Random, count: int) -> list[str]:
    return [paragraph(rng) for _ in range(count)]


def edit(rng: random.Random, para: str, keep: float) -> str:
    """Change about (1 - keep) of the words: substitutions, insertions, deletions."""
    words = para.rstrip(".").split()
    out = []
    for w in words:
        r = rng.random()
        if r < keep:
            out.append(w)
        elif r < keep + (1 - keep) / 2:
            out.append(_word(rng))
        else:
            out.append(w)
            out.append(_word(rng))
            if out and rng.random() < 0.5:
                out.pop(-2)
    return " ".join(out) + "."


def split_text(rng: random.Random, para: str) -> list[str]:
    """Cut a paragraph into two or three consecutive pieces at word boundaries."""
    words = para.rstrip(".").split()
    count = 3 if len(words) >= 36 and rng.random() < 0.3 else 2
    cuts = sorted(rng.sample(range(6, len(words) - 5), count - 1)) if len(words) >= 12 else []
    bounds = [0, *cuts, len(words)]
    pieces = [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return [p[0].upper() + p[1:] + "." for p in pieces if p]


def revise(
    rng: random.Random,
    old: list[str],
    *,
    edit_share=0.3,
    keep=0.6,
    add_share=0.05,
    remove_share=0.05,
    move_share=0.02,
    split_share=0.02,
    merge_share=0.02,
) -> tuple[list[str], set[tuple[int, int]]]:
    """An edited copy of `old` and the true links {(old index, new index)}.

    Edited paragraphs keep about `keep` of their words; split and merged ones are edited
    in the same way half of the time.
    """
    items: list[tuple[tuple[int, ...], str]] = []  # (old indexes, text)
    i = 0
    while i < len(old):
        t = old[i]
        r = rng.random()
        edit_it = rng.random() < 0.5
        if r < remove_share:
            pass
        elif r < remove_share + split_share:
            for piece in split_text(rng, t):
                items.append(((i,), edit(rng, piece, keep) if edit_it else piece))
        elif r < remove_share + split_share + merge_share and i + 1 < len(old):
            joined = t + " " + old[i + 1]
            items.append(((i, i + 1), edit(rng, joined, keep) if edit_it else joined))
            i += 1
        elif r < remove_share + split_share + merge_share + edit_share:
            items.append(((i,), edit(rng, t, keep)))
        else:
            items.append(((i,), t))
        if rng.random() < add_share:
            items.append(((), paragraph(rng)))
        i += 1
    for _ in range(int(len(items) * move_share)):
        a = rng.randrange(len(items))
        item = items.pop(a)
        items.insert(rng.randrange(len(items) + 1), item)
    truth = {(o, j) for j, (olds, _) in enumerate(items) for o in olds}
    return [t for _, t in items], truth
