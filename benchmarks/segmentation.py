"""Word segmentation of Thai, Khmer, Lao and Burmese: ICU (what search uses) beside the
single-language libraries, on the test set of tests/data/scripts.

Run: .venv/bin/python benchmarks/segmentation.py [--repeat 5]

The comparison libraries are not dependencies of Consult; install them to compare
(`.venv/bin/pip install pythainlp khmer-nltk laonlp`); those missing are left out.

For each script and segmenter: speed (thousands of characters a second over the test
sentences) and recall: of the (word, sentence) pairs where a listed word occurs in a
sentence, the share where the sentence's segmentation holds the word's own
segmentation as consecutive words, which is what a search needs to find it. "strict"
counts every occurrence; "words" leaves out the occurrences inside longer words of
another meaning listed in the file (as tests/test_search_scripts.py does).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consult.search import segment  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "scripts"


def icu_words(text: str) -> list[str]:
    return segment.words(text)


def _pythainlp(text: str) -> list[str]:
    from pythainlp.tokenize import word_tokenize

    return [t for t in word_tokenize(text, engine="newmm") if t.strip()]


def _khmernltk(text: str) -> list[str]:
    from khmernltk import word_tokenize

    return [t for t in word_tokenize(text) if t.strip()]


def _laonlp(text: str) -> list[str]:
    from laonlp.tokenize import word_tokenize

    return [t for t in word_tokenize(text) if t.strip()]


OTHERS = {
    "th": ("pythainlp newmm", "pythainlp", _pythainlp),
    "km": ("khmer-nltk", "khmernltk", _khmernltk),
    "lo": ("laonlp", "laonlp", _laonlp),
}


def contains(seq: list[str], sub: list[str]) -> bool:
    n = len(sub)
    return n > 0 and any(seq[i : i + n] == sub for i in range(len(seq) - n + 1))


def measure(seg, data: dict, repeat: int) -> tuple[float, float, float]:
    sentences = [unicodedata.normalize("NFC", p) for p in data["paragraphs"]]
    seg(sentences[0])  # loading a model or a dictionary is not counted
    t0 = time.perf_counter()
    for _ in range(repeat):
        segment._spans.cache_clear()  # ICU's words of a run are cached: time the work
        tokens = [seg(p) for p in sentences]
    speed = sum(map(len, sentences)) * repeat / (time.perf_counter() - t0) / 1000
    inside = data.get("inside_other_words", {})
    strict = [0, 0]
    words = [0, 0]
    for word in data["words"]:
        wanted = seg(word)
        for text, toks in zip(sentences, tokens, strict=True):
            if word not in text:
                continue
            hit = contains(toks, wanted)
            strict[0] += hit
            strict[1] += 1
            rest = text
            for longer in inside.get(word, []):
                rest = rest.replace(longer, "")
            if word in rest:
                words[0] += hit
                words[1] += 1
    return speed, strict[0] / strict[1], words[0] / words[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"{'script':6} {'segmenter':18} {'kchar/s':>9} {'strict':>7} {'words':>7}")
    for lang in ("th", "km", "lo", "my"):
        data = json.loads((DATA / f"{lang}.json").read_text(encoding="utf-8"))
        candidates = [("ICU (PyICU)", icu_words)]
        if lang in OTHERS:
            name, module, fn = OTHERS[lang]
            try:
                __import__(module)
                candidates.append((name, fn))
            except ImportError:
                print(f"{lang:6} {name:18} (not installed)")
        for name, seg in candidates:
            speed, strict, words = measure(seg, data, args.repeat)
            print(f"{lang:6} {name:18} {speed:9.1f} {strict:7.3f} {words:7.3f}")


if __name__ == "__main__":
    main()
