"""Aligning a translation to its authoritative text, block by block.

Across languages the words do not match, so the evidence is what survives translation:
the structure (the display numbers the splitter gives, headings and their levels, the
kind of block), the order, the numbers written in the text (in any script's digits),
link targets and the names and acronyms left untranslated (AIPA, CSO, ASEAN).

First, blocks whose display numbers are equal, whose kinds agree and whose marks do not
disagree are anchors (kept in order: the longest increasing chain). Between two
anchors, the remaining blocks are matched by an order-preserving dynamic programme on
a score from the evidence above. A translated block left without a partner joins the
authoritative block just before it when it is of a body kind (a sentence the translator
made into two paragraphs), else it stays unlinked for the drafters' review.

Pure functions on plain data; no Flask, no database.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_LINK = re.compile(r"\]\(([^)\s]+)")
_LATIN_NAME = re.compile(r"\b[A-Z][A-Z0-9]{1,}\b")
#: Below this score a pair between anchors is no match.
MIN_SCORE = 0.35
_BODY = {"paragraph", "list_item", "blockquote", "definition", "table", "code", "other"}


@dataclass(frozen=True)
class Block:
    number: str
    kind: str
    level: int
    text: str
    source: str = ""


@dataclass(frozen=True)
class Match:
    translated: int
    original: int | None
    score: float


def _ascii_digits(text: str) -> str:
    """Thai, Khmer, Lao, Burmese … digits as 0-9, so that 21 and ๒๑ are one number."""
    out = []
    for ch in text:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            d = unicodedata.digit(ch, None)
            out.append(str(d) if d is not None else ch)
        else:
            out.append(ch)
    return "".join(out)


def marks(block: Block) -> set[str]:
    """What a block's translation keeps: its numbers, link targets, Latin names."""
    text = _ascii_digits(block.text)
    found = {"#" + re.sub(r"[.,:]", "", n) for n in _NUMBER.findall(text)}
    found |= {"@" + t for t in _LINK.findall(block.source)}
    found |= {"$" + n for n in _LATIN_NAME.findall(block.text)}
    return found


def _kinds_agree(a: Block, b: Block) -> bool:
    if a.kind == "heading" or b.kind == "heading":
        return a.kind == b.kind and a.level == b.level
    return a.kind == b.kind or (a.kind in _BODY and b.kind in _BODY)


def _agreement(ma: set[str], mb: set[str]) -> float | None:
    """How far two blocks' marks agree: None when neither has any (no evidence), 0 when
    only one has some or they share none, else their Dice coefficient."""
    if not ma and not mb:
        return None
    return 2 * len(ma & mb) / (len(ma) + len(mb))


def score(a: Block, b: Block, ma: set[str], mb: set[str]) -> float:
    """How likely translated block `b` translates authoritative block `a`, in [0, 1]:
    the kind, the display number, and above all the marks (numbers, links, names),
    whose disagreement counts against."""
    if not _kinds_agree(a, b):
        return 0.0
    s = 0.3 if a.kind == b.kind else 0.2
    if a.number and a.number == b.number:
        s += 0.2
    agree = _agreement(ma, mb)
    if agree is None:
        s += 0.2
    elif agree == 0:
        s -= 0.1
    else:
        s += 0.5 * agree
    return max(0.0, min(s, 1.0))


def _chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of pairs increasing in both indexes (pairs sorted by the first)."""
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        n = bisect.bisect_left(tails, j)
        if n == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[n] = j
            tail_at[n] = k
        back[k] = tail_at[n - 1] if n else -1
    out = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    return out[::-1]


def _gap(
    orig: list[Block], trans: list[Block], om: list[set], tm: list[set], oi: range, ti: range
) -> dict[int, tuple[int, float]]:
    """Order-preserving best matching of the blocks between two anchors."""
    n, m = len(oi), len(ti)
    if not n or not m:
        return {}
    if n * m > 250_000:  # a gap this large is new text: position alone pairs it
        return {
            ti[k]: (oi[k], score(orig[oi[k]], trans[ti[k]], om[oi[k]], tm[ti[k]]))
            for k in range(min(n, m))
            if score(orig[oi[k]], trans[ti[k]], om[oi[k]], tm[ti[k]]) >= MIN_SCORE
        }
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for x in range(n - 1, -1, -1):
        row, below = best[x], best[x + 1]
        for y in range(m - 1, -1, -1):
            s = score(orig[oi[x]], trans[ti[y]], om[oi[x]], tm[ti[y]])
            take = below[y + 1] + s if s >= MIN_SCORE else -1.0
            row[y] = max(take, below[y], row[y + 1])
    out: dict[int, tuple[int, float]] = {}
    x = y = 0
    while x < n and y < m:
        s = score(orig[oi[x]], trans[ti[y]], om[oi[x]], tm[ti[y]])
        if s >= MIN_SCORE and best[x][y] == best[x + 1][y + 1] + s:
            out[ti[y]] = (oi[x], s)
            x, y = x + 1, y + 1
        elif best[x][y] == best[x + 1][y]:
            x += 1
        else:
            y += 1
    return out


def align(orig: list[Block], trans: list[Block]) -> list[Match]:
    """One Match per translated block, in order: the authoritative block it translates
    (None when nothing fits) and how sure that is."""
    om = [marks(b) for b in orig]
    tm = [marks(b) for b in trans]
    by_number: dict[str, int] = {}
    for i, b in enumerate(orig):
        by_number.setdefault(b.number, i)
    candidates = []
    for j, b in enumerate(trans):
        i = by_number.get(b.number)
        if i is None or not b.number or not _kinds_agree(orig[i], b):
            continue
        agree = _agreement(om[i], tm[j])
        if agree is None or agree >= 0.5:  # marks that disagree make no anchor
            candidates.append((i, j))
    anchors = _chain(sorted(candidates))
    found: dict[int, tuple[int, float]] = {
        j: (i, score(orig[i], trans[j], om[i], tm[j])) for i, j in anchors
    }
    edges = [(-1, -1), *anchors, (len(orig), len(trans))]
    for (i0, j0), (i1, j1) in zip(edges, edges[1:], strict=False):
        found.update(_gap(orig, trans, om, tm, range(i0 + 1, i1), range(j0 + 1, j1)))
    out: list[Match] = []
    for j, b in enumerate(trans):
        if j in found:
            out.append(Match(j, found[j][0], round(found[j][1], 3)))
        elif (
            out
            and out[-1].original is not None
            and b.kind in _BODY
            and _kinds_agree(orig[out[-1].original], b)
        ):
            prev = out[-1].original
            out.append(Match(j, prev, 0.3))  # continues the block before it
        else:
            out.append(Match(j, None, 0.0))
    return out
