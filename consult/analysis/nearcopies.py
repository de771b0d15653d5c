"""Near-copies of one letter: MinHash signatures and locality-sensitive hashing.

Pure functions on plain data (no Flask, no database), the pieces of grouping form
letters as comments arrive (consult.analysis.grouping):

- `normalise` folds case, accents' compatibility forms, punctuation and spacing, so
  "Dear  Committee," and "dear committee" are the same words;
- `shingles` are the text's overlapping runs of SHINGLE words: a changed name or a
  typo changes a few of them, another letter shares almost none;
- `signatures` are datasketch MinHash signatures of those shingles (NUM_PERM values,
  stored as bytes); the share of equal values estimates the Jaccard similarity of two
  texts' shingle sets (`similarity`);
- `band_keys` cut a signature into BANDS bands of ROWS values and hash each band
  with its number: two texts at or above THRESHOLD share at least one key with high
  probability, so a new comment finds its candidates by looking up BANDS keys
  (constant time), never by comparing itself with every comment;
- `unique_part` is what a variant adds to its group's master: its sentences that the
  master does not have (a sentence diff on normalised sentences).

Why these numbers (benchmarks/many_voices.py --choose-threshold prints the sweep on a
generated test set of form-letter variants and unique comments): see THRESHOLD.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

#: Words per shingle. Three keeps unrelated texts on the same subject apart (they share
#: words, rarely three in a row) while a typo or a changed name costs only three shingles.
SHINGLE = 3
#: MinHash values per signature (4 bytes each: datasketch's affine32 scheme).
NUM_PERM = 126
#: The similarity (estimated Jaccard of shingle sets) from which two texts are near-copies,
#: and the LSH bands (BANDS × ROWS = NUM_PERM) that find the candidates: chosen on the
#: generated test set (benchmarks/many_voices.py --choose-threshold, 20,000 comments, 90 %
#: variants of 50 letters): variants sit at 0.25–1.0 from their letter's first comment
#: (1st percentile 0.37), unique comments at most 0.11 from any letter. 0.3 with 42 bands
#: of 3 rows (a candidate at 0.3 is found with probability 0.68 per held comment, at 0.5
#: with 0.996) gave pairwise precision 1.0000 and recall 1.0000 there (0.2–0.3 alike;
#: 0.4 recall 0.995, 0.5 recall 0.73: letters split); 32 bands of 4 rows (datasketch's
#: optimum for 0.4) lost far variants (recall 0.85 without REACH). At 100,000 comments
#: the benchmark found the 50 letters with precision and recall 1.0000.
THRESHOLD = 0.3
BANDS, ROWS = 42, 3
#: A comment that joins a group with a similarity below REACH also keeps its band keys,
#: so that later variants close to it (and far from the master) still find the group;
#: without it the far variants of a letter start groups of their own (recall 0.85 → 1.0).
REACH = 0.5
#: Comments kept per band key at most (in memory), and band rows read per lookup (in the
#: database): a letter copied 100,000 times keeps hundreds of far variants that share
#: keys, and a lookup must cost the same at any size. Any one of a group's members found
#: is enough to join the group.
MAX_PER_KEY = 16
MAX_BAND_ROWS = 256
SCHEME = "affine32"
SEED = 1

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def normalise(text: str) -> str:
    """Lower case, compatibility forms folded, punctuation dropped, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(_WORD.findall(text))


def words(text: str) -> list[str]:
    return normalise(text).split()


def shingles(text: str, size: int = SHINGLE) -> list[bytes]:
    """The distinct runs of `size` words of the normalised text (the whole text when it
    is shorter), as bytes for hashing."""
    w = words(text)
    if not w:
        return []
    if len(w) <= size:
        return [" ".join(w).encode()]
    runs = zip(*(w[i:] for i in range(size)), strict=False)
    return [s.encode() for s in {" ".join(r) for r in runs}]


def _hash32(b: bytes) -> int:
    """The 32-bit hash of a shingle that the MinHash permutes: CRC-32 (zlib, in C), a
    third of the time of datasketch's default SHA-1 for the same signatures' quality
    here (benchmarks/many_voices.py --choose-threshold gives the same precision and
    recall), and the same in every process and on every machine."""
    return zlib.crc32(b)


_PROTO: MinHash | None = None


def _proto() -> MinHash:
    global _PROTO
    if _PROTO is None:
        # Imported on first use: datasketch imports SciPy (for its LSH tuning, not used
        # here), about 47 MB a process. Signatures are made by the job worker; a web
        # process that never makes one (a queue is set) never pays for it.
        from datasketch import MinHash

        _PROTO = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_hash32)
    return _PROTO


def signatures(texts: Iterable[str]) -> list[bytes]:
    """The MinHash signature of each text, NUM_PERM little-endian uint32 values as bytes.
    An empty text gets the signature of no shingles (all values at their maximum), which
    matches nothing."""
    proto = _proto()
    out = []
    for t in texts:
        m = type(proto)(
            num_perm=NUM_PERM,
            seed=SEED,
            permutations=proto.permutations,
            scheme=SCHEME,
            hashfunc=_hash32,
        )
        sh = shingles(t)
        if sh:
            m.update_batch(sh)
        out.append(np.asarray(m.hashvalues, dtype="<u4").tobytes())
    return out


def signature(text: str) -> bytes:
    return signatures([text])[0]


def as_array(sig: bytes) -> np.ndarray:
    return np.frombuffer(sig, dtype="<u4")


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    x, y = as_array(a), as_array(b)
    return float(np.count_nonzero(x == y)) / len(x)


_EMPTY = None


def is_empty(sig: bytes) -> bool:
    global _EMPTY
    if _EMPTY is None:
        _EMPTY = signature("")
    return sig == _EMPTY


#: Odd 64-bit multipliers that mix a band's values (and its number) into its key.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
_BAND_NUMBERS = None


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key per band: the band's number and its ROWS values mixed
    together (multiply-xorshift in uint64, vectorised over the bands), so equal keys mean
    the same values in the same band (up to a 2**-64 collision)."""
    global _BAND_NUMBERS
    if _BAND_NUMBERS is None:
        _BAND_NUMBERS = (np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(
            0xD6E8FEB86659FD93
        )
    v = as_array(sig)[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        h = _BAND_NUMBERS.copy()
        for r in range(ROWS):
            h = (h ^ v[:, r]) * _MIX[r % len(_MIX)]
            h ^= h >> np.uint64(29)
    return h.view(np.int64).tolist()


def sentences(text: str) -> list[str]:
    """The text's sentences (split after . ! ? ; and at line breaks), stripped."""
    return [s.strip() for s in _SENTENCE.split(text or "") if s and s.strip()]


def split(text: str) -> list[tuple[str, str]]:
    """(sentence, its normalised form) of each of the text's sentences."""
    return [(s, normalise(s)) for s in sentences(text)]


def prepare(texts: Sequence[str]) -> list[tuple[bytes, list[int], list[tuple[str, str]]]]:
    """What placing each text needs and can be computed apart (in another process for a
    regrouping): its signature, its band keys and its sentences (with their normalised
    forms, for `unique_part`)."""
    sigs = signatures(texts)
    return [(sig, band_keys(sig), split(t)) for sig, t in zip(sigs, texts, strict=True)]


#: Sentences shorter than this (greetings, sign-offs, names) are not a variant's unique
#: part: every copy changes them, and the committee looks for what someone added.
MIN_UNIQUE_WORDS = 6
#: A variant's sentence this close to one of the master's (rapidfuzz ratio, 0–100) is
#: the master's sentence with a typo, not something the variant adds.
SAME_SENTENCE = 90


def master_sentences(master: str) -> list[str]:
    """The master's sentences, normalised (computed once per master)."""
    return [n for n in (normalise(s) for s in sentences(master)) if n]


def unique_part(master: str | list[str], variant: str | list[tuple[str, str]]) -> list[str]:
    """The variant's sentences that the master does not have, in the variant's order:
    compared normalised, a sentence nearly equal to one of the master's (a typo, a
    changed comma) is not new, nor is a short one (a greeting, a signature). `master` is
    its text or its `master_sentences`; `variant` its text or its `split`."""
    from rapidfuzz import fuzz, process

    have = master_sentences(master) if isinstance(master, str) else list(master)
    exact = set(have)
    out = []
    for s, n in split(variant) if isinstance(variant, str) else variant:
        if not n or n in exact or n.count(" ") + 1 < MIN_UNIQUE_WORDS:
            continue
        if have and process.extractOne(n, have, scorer=fuzz.ratio, score_cutoff=SAME_SENTENCE):
            continue
        out.append(s)
        exact.add(n)
        have.append(n)
    return out


def best_match(sig: bytes, candidates: Sequence[tuple[int, bytes]]) -> tuple[int, float] | None:
    """The candidate (id, signature) most similar to `sig`, if it reaches THRESHOLD."""
    best: tuple[int, float] | None = None
    for cid, other in candidates:
        s = similarity(sig, other)
        if s >= THRESHOLD and (best is None or s > best[1] or (s == best[1] and cid < best[0])):
            best = (cid, s)
    return best


class MemoryIndex:
    """The band keys of the comments that later ones are matched with, in memory: what
    the letter_band table does for comments arriving one by one, for a regrouping (or a
    test set) of many at once. `match` then `add` gives the same groups as placing the
    comments one by one in the same order."""

    def __init__(self, threshold: float = THRESHOLD, max_candidates: int = 32):
        self.threshold = threshold
        self.max_candidates = max_candidates
        self.sigs: dict[int, np.ndarray] = {}
        self.by_key: dict[int, list[int]] = {}

    def match(self, sig: bytes, keys: Sequence[int]) -> tuple[int, float] | None:
        """The most similar held comment at or above the threshold, with its similarity."""
        cands: dict[int, int] = {}
        for k in keys:
            for hid in self.by_key.get(k, ()):
                cands[hid] = cands.get(hid, 0) + 1
        if not cands:
            return None
        top = sorted(cands, key=lambda h: (-cands[h], h))[: self.max_candidates]
        sims = (np.stack([self.sigs[h] for h in top]) == as_array(sig)).mean(axis=1)
        i = int(np.argmax(sims))
        return (top[i], float(sims[i])) if sims[i] >= self.threshold else None

    def add(self, cid: int, sig: bytes, keys: Sequence[int]) -> None:
        self.sigs[cid] = as_array(sig)
        for k in keys:
            held = self.by_key.setdefault(k, [])
            if len(held) < MAX_PER_KEY:
                held.append(cid)
