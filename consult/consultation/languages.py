"""The language a comment is written in: given by its author, or detected.

The languages are the interface's locales (consult.i18n.LOCALES: en, id, ms, fil,
th, vi, km, lo, my). Detection, when a comment comes without one:
- Thai, Khmer, Lao and Burmese by their script, which is exact: the letters of the
  text in each script's Unicode block are counted, and a script with most of them
  names the language;
- the languages written in Latin letters (English, Indonesian, Malay, Filipino,
  Vietnamese) by py3langid (a naive Bayes model of byte n-grams, kept by its
  authors, the model in the package), restricted to these five; under MIN_LETTERS
  letters nothing is detected (a short text says too little), nor for another script.

Pure functions on strings: no Flask, no database.
"""

from __future__ import annotations

import threading

from consult.i18n import LOCALES

#: Codes, in the switcher's order, and the name of each in its own language.
LANGUAGES: dict[str, str] = dict(LOCALES)
#: The scripts that name their language, by Unicode block.
SCRIPTS = {
    "th": (0x0E00, 0x0E7F),
    "lo": (0x0E80, 0x0EFF),
    "my": (0x1000, 0x109F),
    "km": (0x1780, 0x17FF),
}
MIN_LETTERS = 12
#: py3langid's code for each language it is asked to tell apart.
_LANGID = {"en": "en", "id": "id", "ms": "ms", "tl": "fil", "vi": "vi"}

_model = None
_lock = threading.Lock()


def _identifier():
    """py3langid's model restricted to the Latin-script languages (loaded once)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                model = LanguageIdentifier.from_model_file(MODEL_FILE)
                model.set_languages(list(_LANGID))
                _model = model
    return _model


def warm_up() -> None:
    """Load the model now (about a second of CPU; much more when a machine's cores are
    busy) rather than in the first request that detects a language."""
    _identifier()


def by_script(text: str) -> str | None:
    """th, lo, my or km when most letters of `text` are in that script, else None."""
    counts = dict.fromkeys(SCRIPTS, 0)
    letters = 0
    for ch in text:
        if not ch.isalpha():
            cp = ord(ch)
            # Combining vowel signs of these scripts are not letters; they count with them.
            if not any(a <= cp <= b for a, b in SCRIPTS.values()):
                continue
        letters += 1
        cp = ord(ch)
        for code, (a, b) in SCRIPTS.items():
            if a <= cp <= b:
                counts[code] += 1
                break
    if not letters:
        return None
    code, n = max(counts.items(), key=lambda kv: kv[1])
    return code if n * 2 > letters else None


def detect(text: str) -> str | None:
    """The language of `text` (a code of LANGUAGES), or None when it cannot be told."""
    text = (text or "").strip()
    found = by_script(text)
    if found:
        return found
    latin = sum(1 for ch in text if ch.isalpha() and ord(ch) < 0x0250)
    letters = sum(1 for ch in text if ch.isalpha())
    if latin < MIN_LETTERS or latin * 2 <= letters:
        return None
    code, _ = _identifier().classify(text)
    return _LANGID.get(code)


def checked(code: str | None) -> str | None:
    """A language code as given by a person or a client: a code of LANGUAGES (any case),
    or None for none; ValueError when it is not one."""
    if code is None or not str(code).strip():
        return None
    value = str(code).strip().lower()
    if value not in LANGUAGES:
        raise ValueError(code)
    return value
