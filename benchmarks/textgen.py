"""Synthetic policy texts and edited copies with known lineage, for benchmarks and tests."""

from __future__ import annotations

import random

WORDS = (
    "parliament committee civil society organisation consultation submission hearing public "
    "member secretariat framework engagement outreach accountability feedback response report "
    "youth women disability community rural language translation summary plain deadline period "
    "review annual regional national focal point platform online offline paper workshop budget "
    "information access transparency participation dialogue capacity training resource evaluation "
    "shall should may will must within days months reasonable appropriate effective inclusive"
).split()


_SYLLABLES = "ka lo mi ne su ra te vo pa di gu ho an el is om un ber ton gal mar sen dit".split()
_gen = random.Random(0)
# A vocabulary of common words and a long tail of rarer ones, roughly as in real texts.
VOCAB = WORDS + sorted({"".join(_gen.choice(_SYLLABLES) for _ in range(_gen.randint(2, 4))) for _ in range(6000)})
_WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCAB))]


def _word(rng: random.Random) -> str:
    return rng.choices(VOCAB, weights=_WEIGHTS)[0]


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


def revise(rng: random.Random, old: list[str], *, edit_share=0.3, keep=0.6, add_share=0.05,
           remove_share=0.05, move_share=0.02):
    """An edited copy of `old` and the true links {new index: old index}."""
    items = []  # (old index or None, text)
    for i, t in enumerate(old):
        r = rng.random()
        if r < remove_share:
            continue
        if r < remove_share + edit_share:
            items.append((i, edit(rng, t, keep)))
        else:
            items.append((i, t))
        if rng.random() < add_share:
            items.append((None, paragraph(rng)))
    for _ in range(int(len(items) * move_share)):
        a = rng.randrange(len(items))
        item = items.pop(a)
        items.insert(rng.randrange(len(items) + 1), item)
    truth = {j: i for j, (i, _) in enumerate(items) if i is not None}
    return [t for _, t in items], truth
