"""Word diffs: diff-match-patch on word tokens, cleaned up semantically.

Pure functions on strings. Each distinct token (a word, a run of spaces, a
punctuation mark) is mapped to one character so diff-match-patch compares
words, not letters, and cleans up on word boundaries.
"""

from __future__ import annotations

import re
from html import escape

from diff_match_patch import diff_match_patch
from flask_babel import gettext as _

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
# Timeout chosen on purpose: paragraphs are aligned first, so each diff is small;
# the default 1 s would silently give non-minimal diffs on long inputs.
DIFF_TIMEOUT = 5.0
OPS = {-1: "delete", 0: "equal", 1: "insert"}


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class WordCodec:
    """One character per distinct token, so diff-match-patch works on words."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}
        self.back: list[str] = []

    def encode(self, text: str) -> str:
        out = []
        for tok in tokens(text):
            ch = self.table.get(tok)
            if ch is None:
                i = len(self.back)
                # Skip the surrogate block, which Python strings cannot hold as characters.
                ch = self.table[tok] = chr(i + 0x800 if i >= 0xD800 - 0x20 else i + 0x20)
                self.back.append(tok)
            out.append(ch)
        return "".join(out)

    def decode(self, chars: str) -> str:
        return "".join(self.back[ord(c) - (0x800 if ord(c) >= 0xD800 else 0x20)] for c in chars)


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """[(op, text)] with op in equal/insert/delete, on word boundaries."""
    if a == b:
        return [("equal", a)] if a else []
    codec = WordCodec()
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    diffs = dmp.diff_main(codec.encode(a), codec.encode(b), False)
    dmp.diff_cleanupSemantic(diffs)
    result: list[tuple[str, str]] = []
    for op, chars in diffs:
        text = codec.decode(chars)
        if result and result[-1][0] == OPS[op]:
            result[-1] = (OPS[op], result[-1][1] + text)
        else:
            result.append((OPS[op], text))
    return result


def diff_html(diff: list[tuple[str, str]]) -> str:
    """<ins>/<del> markup with words for screen readers and print."""
    out = []
    # The words a screen reader (and a printout) gives each change, in the reader's language.
    inserted, deleted = escape(_("[inserted: ")), escape(_("[deleted: "))
    for op, text in diff:
        t = escape(text)
        if op == "insert":
            out.append(f'<ins><span class="sr">{inserted}</span>{t}<span class="sr">]</span></ins>')
        elif op == "delete":
            out.append(f'<del><span class="sr">{deleted}</span>{t}<span class="sr">]</span></del>')
        else:
            out.append(t)
    return "".join(out)


def diff_stats(diff: list[tuple[str, str]]) -> dict[str, int]:
    """Words inserted and deleted."""
    ins = sum(len(re.findall(r"\w+", t)) for op, t in diff if op == "insert")
    dele = sum(len(re.findall(r"\w+", t)) for op, t in diff if op == "delete")
    return {"inserted": ins, "deleted": dele}
