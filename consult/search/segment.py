"""Words of scripts written without spaces: Thai, Lao, Khmer and Burmese.

Both backends, when indexing and when reading a query, split text into words the
same way: runs of word characters (with their combining marks, which Python's
`\\w` leaves out: a Thai vowel sign or a Khmer subscript would otherwise cut a
word in two), and, inside a run that holds one of the four scripts, the words of
ICU's dictionary-based word break (PyICU). Vietnamese, Malay, Indonesian and
Filipino separate words with spaces already.

Why ICU: on the test set of tests/data/scripts (Universal Declaration of Human
Rights, articles 1-10, one file per script) it finds more of the words that
must be found than PyThaiNLP's newmm (Thai), khmer-nltk and LaoNLP, 5 to 200
times faster, and it covers all four scripts with one dictionary-backed engine
(figures in benchmarks/segmentation.py).

Text is compared in Unicode normal form C (the same Thai or Khmer word can be
typed in two orders of code points).

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import icu

#: The Unicode blocks of the four scripts: Thai, Lao, Myanmar (and its extensions A
#: and B), Khmer and Khmer Symbols.
UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\ua9e0-\ua9ff\uaa60-\uaa7f"
_UNSPACED = re.compile(f"[{UNSPACED}]")


def _mark_ranges() -> str:
    """Every combining mark of the basic plane (categories Mn, Mc, Me) as a character
    class body."""
    out, start, prev = [], None, None
    for cp in range(0x10000):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if start is None:
                start = cp
            elif cp != prev + 1:
                out.append((start, prev))
                start = cp
            prev = cp
    out.append((start, prev))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in out)


#: A word character: \w or a combining mark.
WORD_CHAR = f"[\\w{_mark_ranges()}]"
#: One word as typed (a query's word, a run of a text's words).
WORD = re.compile(f"{WORD_CHAR}+")
#: What PostgreSQL's text search reads as a word boundary whatever the database's locale
#: (an ASCII control character), put between the words of an unspaced run in the texts
#: the PostgreSQL backend stores; removed again from what is shown.
SEP = "\x1f"

_local = threading.local()  # an ICU break iterator is not safe to share between threads


def _breaker():
    bi = getattr(_local, "breaker", None)
    if bi is None:
        bi = _local.breaker = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
    return bi


def has_unspaced(text: str) -> bool:
    """Whether `text` holds Thai, Lao, Khmer or Burmese."""
    return _UNSPACED.search(text) is not None


@lru_cache(maxsize=100_000)
def _spans(run: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each word of `run` by ICU's word break (its word statuses only:
    letters and numbers, not spaces or punctuation)."""
    bi = _breaker()
    bi.setText(run)
    out, start = [], bi.first()
    for end in bi:
        if bi.getRuleStatus() >= 100:  # UBRK_WORD_NUMBER and above
            out.append((start, end))
        start = end
    return tuple(out)


def word_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every word of `text`: runs of word characters, and inside runs
    of an unspaced script their dictionary words."""
    for m in WORD.finditer(text):
        run = m.group()
        if not has_unspaced(run):
            yield m.span()
            continue
        base = m.start()
        for a, b in _spans(run):
            yield base + a, base + b


def words(text: str) -> list[str]:
    """The words of `text` (see word_spans), in normal form C."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return [text[a:b] for a, b in word_spans(text)]


def normal(word: str) -> str:
    """A word as compared: lowercase, normal form C."""
    word = word.lower()
    return word if word.isascii() else unicodedata.normalize("NFC", word)


def spaced(text: str) -> str:
    """`text` in normal form C with SEP between the words of its unspaced runs:
    PostgreSQL's parser then reads those words one by one, and removing SEP gives the
    text back (in normal form C, as the queries' words are)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    if not has_unspaced(text):
        return text
    out, pos = [], 0
    for m in WORD.finditer(text):
        run = m.group()
        if not has_unspaced(run):
            continue
        spans = _spans(run)
        for a, _ in spans[1:]:
            out.append(text[pos : m.start() + a])
            pos = m.start() + a
    out.append(text[pos:])
    return SEP.join(out)


def unspaced(text: str) -> str:
    """`text` without the SEP characters that `spaced` put in."""
    return text.replace(SEP, "") if SEP in text else text
