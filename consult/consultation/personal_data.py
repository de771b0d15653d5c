"""Personal data in a comment's text, found before the text is shown publicly.

Plain functions on plain strings (no Flask, no database): `detect()` lists the spans
that look like an e-mail address, a telephone number of the region (the ten ASEAN
country codes and their national formats), a national identity number whose format is
known (Thai 13-digit ID and Singapore NRIC/FIN with their check digits, Malaysian MyKad
with a valid birth date, Indonesian 16-digit NIK with a valid birth date) or a street
address when it is clear (a house number followed by a street word); `mask()` puts a
mask label ("[e-mail removed]") in place of each span kept.

Numbers are read as whole tokens: a run of digits inside a longer one is never a match,
so article numbers, years and amounts in a policy text are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Kinds of personal data, in the order they win when two spans overlap.
KINDS = ("email", "national_id", "phone", "address")


def mask_label(kind: str) -> str:
    """What the public reads in place of a span of `kind`."""
    from flask_babel import gettext as _

    return {
        "email": _("[e-mail removed]"),
        "phone": _("[phone number removed]"),
        "national_id": _("[ID number removed]"),
        "address": _("[address removed]"),
    }.get(kind, _("[personal data removed]"))


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    #: Which rule found it ("thai_id", "+66", "national", …), shown to the secretariat.
    rule: str
    text: str

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "rule": self.rule,
            "text": self.text,
        }


# --- e-mail ----------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)

# --- identity numbers ------------------------------------------------------------------------

#: Not inside a longer run of digits (or of digits joined by separators).
_NB = r"(?<![\w+/.-])"
_NA = r"(?![\w/-]|\.\d)"

_THAI_ID = re.compile(_NB + r"(\d)[ -]?(\d{4})[ -]?(\d{5})[ -]?(\d{2})[ -]?(\d)" + _NA)
_MYKAD = re.compile(_NB + r"(\d{2})(\d{2})(\d{2})-(\d{2})-(\d{4})" + _NA)
_NIK = re.compile(_NB + r"(\d{6})[ .]?(\d{2})(\d{2})(\d{2})[ .]?(\d{4})" + _NA)
_NRIC = re.compile(r"(?<![A-Za-z0-9])([STFGM])(\d{7})([A-Z])(?![A-Za-z0-9])")

_NRIC_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


def thai_id_valid(digits: str) -> bool:
    """A Thai national ID: 13 digits, the last a check digit over the first twelve."""
    if len(digits) != 13 or not digits.isdigit() or digits[0] == "0":
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


def nric_valid(value: str) -> bool:
    """A Singapore NRIC or FIN (S, T, F, G and the M series of 2022) with its check letter."""
    value = value.upper()
    if not _NRIC.fullmatch(value):
        return False
    prefix, digits, letter = value[0], value[1:8], value[8]
    total = sum(int(d) * w for d, w in zip(digits, _NRIC_WEIGHTS, strict=True))
    if prefix == "M":
        return "KLJNPQRTUWX"[10 - (total + 3) % 11] == letter
    offset = 4 if prefix in "TG" else 0
    table = "JZIHGFEDCBA" if prefix in "ST" else "XWUTRQPNMLK"
    return table[(total + offset) % 11] == letter


def _date_ok(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def mykad_valid(yymmdd: str, place: str) -> bool:
    """A Malaysian MyKad number's birth date and place of birth code (01–59, 60–99 abroad;
    00 is never issued)."""
    return _date_ok(int(yymmdd[2:4]), int(yymmdd[4:6])) and place != "00"


def nik_valid(region: str, dd: int, mm: int) -> bool:
    """An Indonesian NIK: six region digits (province 11–94), a birth date (day + 40 for
    women), then four serial digits."""
    province = int(region[:2])
    day = dd - 40 if dd > 40 else dd
    return 11 <= province <= 94 and _date_ok(mm, day)


# --- telephone numbers -----------------------------------------------------------------------

#: ASEAN country codes and how many digits follow them (without the trunk 0).
_COUNTRY_DIGITS = {
    "62": (8, 12),  # Indonesia
    "60": (8, 10),  # Malaysia
    "63": (9, 10),  # Philippines
    "66": (8, 9),  # Thailand
    "84": (9, 10),  # Viet Nam
    "855": (8, 9),  # Cambodia
    "856": (8, 10),  # Lao PDR
    "95": (7, 10),  # Myanmar
    "65": (8, 8),  # Singapore
    "673": (7, 7),  # Brunei Darussalam
}
_CC = "|".join(sorted(_COUNTRY_DIGITS, key=len, reverse=True))
_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)(" + _CC + r")[ .-]?(?:\(0\))?[ .-]?((?:\(?\d[\d]*\)?[ .-]?){1,6}\d)" + _NA
)
#: National formats: a trunk 0 and 8–11 more digits in groups (0812-3456-7890,
#: 02 123 4567, 09171234567), an area code in brackets ((02) 8123 4567), Singapore's
#: eight digits from 6, 8 or 9 (9123 4567), Brunei's seven from 7 or 8 (712 3456).
_NATIONAL = re.compile(
    _NB
    + r"(?:\(0\d{1,3}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"
    + r"|0\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    + r"|[689]\d{3}[ -]\d{4}"
    + r"|[78]\d{2}[ -]\d{4})"
    + _NA
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _international_ok(cc: str, rest: str) -> bool:
    lo, hi = _COUNTRY_DIGITS[cc]
    n = len(_digits(rest))
    return lo <= n <= hi


def _national_ok(text: str) -> bool:
    digits = _digits(text)
    if text.startswith("(") or digits.startswith("0"):
        # A trunk 0 and at least eight more digits: shorter runs are reference numbers.
        return 9 <= len(digits) <= 12 and (any(c in text for c in " .-()") or len(digits) >= 10)
    return len(digits) in (7, 8)


# --- street addresses ------------------------------------------------------------------------

_STREET_WORDS = (
    r"Street|St\.|Road|Rd\.?|Avenue|Ave\.?|Lane|Jalan|Jln\.?|Jl\.|Soi|Thanon|Moo|Lorong"
    r"|Boulevard|Blvd\.?|Drive|Highway|Duong|Đường|Phố|Ngõ|Barangay|Brgy\.?|Kampong|Ban"
)
#: "No. 12 Jalan Ampang", "45/2 Soi Sukhumvit 21", "123 Orchard Road", "Jl. Sudirman No. 5",
#: "12 Đường Lê Lợi": a house number beside a street word.
_TRAILING_STREET = r"Street|Road|Avenue|Lane|Drive|Boulevard|Highway"
_NAME = r"[A-Z\u00c0-\u1ef9][^\s,.;:()]*"
_ADDRESS = re.compile(
    r"(?<![\w/])(?:No\.?\s*)?\d{1,5}(?:/\d{1,4})?[A-Za-z]?,?\s+(?:"
    + _STREET_WORDS
    + r")\s+(?:"
    + _NAME
    + r"|\d+)(?:\s+(?:"
    + _NAME
    + r"|\d+)){0,3}"
    + r"|(?<![\w/])\d{1,5}[A-Za-z]?\s+(?:"
    + _NAME
    + r"\s+){1,3}(?:"
    + _TRAILING_STREET
    + r")\b"
    + r"|(?<!\w)(?:"
    + _STREET_WORDS
    + r")\s+"
    + _NAME
    + r"(?:\s+"
    + _NAME
    + r"){0,3},?\s+No\.?\s*\d{1,5}[A-Za-z]?\b"
)


# --- detection -------------------------------------------------------------------------------


def _found(text: str) -> Iterable[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "email", "email", m.group())
    for m in _NRIC.finditer(text):
        if nric_valid(m.group()):
            yield Span(m.start(), m.end(), "national_id", "sg_nric", m.group())
    for m in _THAI_ID.finditer(text):
        if thai_id_valid("".join(m.groups())):
            yield Span(m.start(), m.end(), "national_id", "th_id", m.group())
    for m in _MYKAD.finditer(text):
        if mykad_valid("".join(m.groups()[:3]), m.group(4)):
            yield Span(m.start(), m.end(), "national_id", "my_kad", m.group())
    for m in _NIK.finditer(text):
        region, dd, mm, _yy, _serial = m.groups()
        if nik_valid(region, int(dd), int(mm)):
            yield Span(m.start(), m.end(), "national_id", "id_nik", m.group())
    for m in _INTERNATIONAL.finditer(text):
        if _international_ok(m.group(1), m.group(2)):
            yield Span(m.start(), m.end(), "phone", "+" + m.group(1), m.group())
    for m in _NATIONAL.finditer(text):
        if _national_ok(m.group()):
            yield Span(m.start(), m.end(), "phone", "national", m.group())
    for m in _ADDRESS.finditer(text):
        yield Span(m.start(), m.end(), "address", "street", m.group().rstrip(","))


#: A fenced code block, or a code span (its backticks and what they hold).
_CODE = re.compile(r"```.*?```|~~~.*?~~~|(`+)(?!`).+?(?<!`)\1(?!`)", re.S)


def detect(text: str) -> list[Span]:
    """The spans of `text` that look like personal data, in order, none overlapping (where
    two rules claim the same characters, the kind earlier in KINDS wins, then the longer)."""
    if not text:
        return []
    rank = {k: i for i, k in enumerate(KINDS)}
    # Code (Markdown code spans and fenced blocks) holds identifiers and examples, not
    # people's data: it is blanked, keeping every offset, before the rules read the text.
    text = _CODE.sub(lambda m: " " * len(m.group()), text)
    candidates = sorted(_found(text), key=lambda s: (rank[s.kind], -(s.end - s.start), s.start))
    kept: list[Span] = []
    for s in candidates:
        if all(s.end <= k.start or s.start >= k.end for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


def mask(text: str, spans: Iterable[Span | dict]) -> str:
    """`text` with each span replaced by its kind's mask label (spans must not overlap)."""
    out, at = [], 0
    for s in sorted(
        (s if isinstance(s, dict) else s.as_dict() for s in spans), key=lambda s: s["start"]
    ):
        out.append(text[at : s["start"]])
        out.append(mask_label(s["kind"]))
        at = s["end"]
    out.append(text[at:])
    return "".join(out)
