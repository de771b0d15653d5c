#!/usr/bin/env python3
"""Check a Consult record yourself, trusting nothing but this file and Python 3.11+.

    python3 verify_standalone.py consult-open-data.zip [TRACKING …]
    python3 verify_standalone.py receipt.json [later.json] [--key PUBLIC_KEY]

With the open-data zip of a document (as downloaded from its page), it

1. rebuilds the record's Merkle tree (RFC 9162) from every event: each event's leaf
   hash (and, for events recorded while the record was a hash chain, its chain hash),
   and at each signed tree head's size the head's root hash and its Ed25519 signature
   (with the key in record_keys); prints the root: compare it with the record page;
2. recomputes, from the exported rows, every content digest the events carry (the
   paragraphs and measured uptake of each published version (the uptake of many
   suggestions in an event of its own, "uptake.measured", after the publication), every
   answer, grouped answer, moderation decision, organisation's verification and
   organisation's reply)
   and every version's and comment's content hash, and names what does not match;
3. checks that each CSV file holds the same rows as data.json;
4. for each comment tracking number given (from your receipts), prints the event that
   recorded it, its leaf index and hashes, to compare with the receipt.

With a receipt file (from the receipt page or GET /api/v1/record/receipts/<tracking>),
it checks the entry's leaf hash, the inclusion proof up to the signed tree head and the
head's signature, and says "included"; with a later file (the answer of
/api/v1/record/proofs/consistency?from=M&to=N, or a later copy of the receipt), that the
later head only appended to the receipt's. Give the public key from the record page
with --key to trust nothing the receipt says about itself.

Exit status 0 when everything matches, 1 when something does not (each mismatch is
named), 2 when the file cannot be read.

Standard library only, no part of the Consult application. The application itself
takes its rules from this file (canonical JSON, the event hash, what each event's
digest covers), so the server and this script compute the very same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

GENESIS = "0" * 64

# ----------------------------------------------------------------- canonical bytes


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text as is."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_bytes(
    prev_hash: str, seq: int, kind: str, created_at: str, subject: str, payload: str
) -> str:
    """The canonical text of one event of the chain (what its hash is taken of)."""
    return canonical([prev_hash, seq, kind, created_at, subject, payload])


def event_hash(
    prev_hash: str, seq: int, kind: str, created_at: str, subject: str, payload: str
) -> str:
    return sha256(event_bytes(prev_hash, seq, kind, created_at, subject, payload))


# ------------------------------------------------------------ the Merkle tree (RFC 9162)
#
# The record is a Merkle tree log as Certificate Transparency keeps one (RFC 9162,
# section 2.1): each event is a leaf, hashed as sha256(0x00 || its canonical bytes);
# each node as sha256(0x01 || left || right). A tree head (size, root hash, time) is
# signed with the instance's Ed25519 key; an inclusion proof shows that a leaf is in the
# tree of a head, a consistency proof that a later head only appended to an earlier one.

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: The root of the empty tree: sha256 of nothing.
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_bytes(
    kind: str,
    created_at: str,
    subject: str,
    payload: str,
    chain: tuple[int, str, str] | None = None,
) -> bytes:
    """The canonical bytes of one event as a leaf of the tree. An event recorded while the
    record was a hash chain keeps its place in the chain (seq, previous hash, its chain
    hash) inside its leaf, so that a receipt given then still verifies."""
    if chain is not None:
        seq, prev_hash, chain_hash = chain
        items: list[Any] = ["chain", seq, prev_hash, chain_hash, kind, created_at, subject]
    else:
        items = ["entry", kind, created_at, subject]
    return canonical([*items, payload]).encode("utf-8")


def entry_leaf_bytes(ev: dict[str, Any]) -> bytes:
    """`leaf_bytes` of an event as the open data, the API and receipts give it."""
    chain = (ev["seq"], ev["prev_hash"], ev["hash"]) if ev.get("hash") else None
    subject = f"{ev['subject_type']}:{ev['subject_id']}"
    return leaf_bytes(ev["kind"], ev["created_at"], subject, ev["payload"], chain)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """A tree built leaf by leaf, keeping only the roots of its complete subtrees (at most
    log2(n) hashes): its root at any size as the leaves pass."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), largest first

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; returns the complete subtrees it finished, as (height, index
        among subtrees of that height, hash)."""
        self.size += 1
        self.stack.append((0, leaf))
        made = []
        while len(self.stack) > 1 and self.stack[-1][0] == self.stack[-2][0]:
            (height, right), (_, left) = self.stack.pop(), self.stack.pop()
            h = node_hash(left, right)
            self.stack.append((height + 1, h))
            made.append((height + 1, (self.size >> (height + 1)) - 1, h))
        return made

    def root(self) -> bytes:
        if not self.stack:
            return bytes.fromhex(EMPTY_ROOT)
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def tree_root(leaves: Iterable[bytes]) -> bytes:
    """MTH(D[n]) of these leaf hashes."""
    f = Frontier()
    for leaf in leaves:
        f.append(leaf)
    return f.root()


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162, 2.1.3.2), or None when the proof
    cannot be one for this index and size."""
    if index >= size or index < 0:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf, path) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """Whether the tree of size `second` only appended to the tree of size `first`
    (RFC 9162, 2.1.4.2)."""
    if first < 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # every tree extends the empty one
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# ------------------------------------------------------------------ signed tree heads


def head_bytes(tree_size: int, root_hash: str, timestamp: int) -> bytes:
    """What the instance's Ed25519 key signs for a tree head (timestamp in milliseconds
    since 1970-01-01 UTC, root hash in hex)."""
    return canonical(["consult-tree-head-v1", tree_size, root_hash, timestamp]).encode("utf-8")


def head_signed(head: dict[str, Any], public_key: str) -> bool:
    """Whether `head` (tree_size, root_hash, timestamp, signature) is signed by the key."""
    try:
        return ed25519_verify(
            bytes.fromhex(public_key),
            head_bytes(head["tree_size"], head["root_hash"], head["timestamp"]),
            bytes.fromhex(head["signature"]),
        )
    except (KeyError, TypeError, ValueError):
        return False


def _millis(iso: str | None) -> int | None:
    """An ISO 8601 UTC time as milliseconds since 1970 (None for none)."""
    if not iso:
        return None
    from datetime import datetime

    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def key_id(public_key: str) -> str:
    """A key's short name: the first 16 hex digits of the sha256 of its 32 bytes."""
    return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16]


# Ed25519 signature verification, written from RFC 8032 (section 5.1.7), so that a clean
# Python with nothing installed can check the heads. Verification only: no secret here.

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _x_from_y(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


def _point(data: bytes) -> tuple[int, int, int, int] | None:
    """A point in extended coordinates (X, Y, Z, T) from its 32-byte encoding."""
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _x_from_y(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


def _add(p: tuple[int, ...], q: tuple[int, ...]) -> tuple[int, int, int, int]:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _times(s: int, p: tuple[int, ...]) -> tuple[int, ...]:
    q: tuple[int, ...] = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _same(p: tuple[int, ...], q: tuple[int, ...]) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


_BASE = _point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 verification: [S]B = R + [SHA-512(R || A || M)]A."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _point(public_key), _point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L or _BASE is None:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _same(_times(s, _BASE), _add(r, _times(k % _L, a)))


# ----------------------------------------------------------------- content digests

#: What the public reads as published, by kind of thing: the fields an event's digest
#: covers, named as in the open-data export.
COVERED: dict[str, tuple[str, ...]] = {
    "version": ("id", "number", "content_hash", "published_at"),
    "paragraph": (
        "id",
        "version_id",
        "position",
        "number",
        "kind",
        "level",
        "source",
        "text",
        "blank_before",
    ),
    "uptake": (
        "id",
        "comment_id",
        "version_id",
        "score",
        "label",
        "verbatim",
        "relation",
        "inputs_hash",
        "evidence",
    ),
    "response": ("id", "comment_id", "decision", "reason", "created_at"),
    "response_group": ("id", "version_id", "decision", "reason", "created_at", "members"),
    "moderation": ("id", "comment_id", "reply_id", "action", "reason", "created_at"),
    "organisation": ("id", "slug", "verified_at"),
    "translation": ("id", "version_id", "language", "content_hash", "published_at"),
    "translated_paragraph": (
        "id",
        "translation_id",
        "position",
        "number",
        "kind",
        "level",
        "source",
        "text",
        "blank_before",
        "paragraph_id",
    ),
    "feedback": (
        "id",
        "response_id",
        "comment_id",
        "organisation_id",
        "satisfied",
        "note",
        "created_at",
    ),
}

#: The things an event about a subject covers, by the event's subject type. A version
#: covers itself, all its paragraphs and the uptake measured against it.
SUBJECT_THINGS: dict[str, tuple[str, ...]] = {
    "version": ("version", "paragraph", "uptake"),
    "response": ("response",),
    "responsegroup": ("response_group",),
    "moderationaction": ("moderation",),
    "organisation": ("organisation",),
    "responsefeedback": ("feedback",),
    "translation": ("translation", "translated_paragraph"),
}

#: Things that are all the rows of a version (field holding the version's id), not one row.
SCOPED = {
    "paragraph": "version_id",
    "uptake": "version_id",
    "translated_paragraph": "translation_id",
}

#: Events whose payload carries "covers" (from the day the record covered content), and
#: the type of their subject; "record.sealed" covers any of them.
COVERING_KINDS = {
    "version.published": "version",
    "response.given": "response",
    "responses.grouped": "responsegroup",
    "comment.moderated": "moderationaction",
    "organisation.verified": "organisation",
    "response.feedback_given": "responsefeedback",
    "translation.published": "translation",
    "uptake.measured": "version",
}
SEALED = "record.sealed"

#: A version published after more suggestions than a request measures leaves their
#: uptake to the job worker: its publication says so in its payload ("uptake": this
#: value) and covers the version and its paragraphs; the "uptake.measured" event that
#: follows covers the measures.
MEASURED_LATER = "measured later"
UPTAKE_MEASURED = "uptake.measured"


def things_of(kind: str, subject_type: str, payload: dict[str, Any]) -> tuple[str, ...]:
    """The kinds of thing an event's digest covers."""
    if kind == UPTAKE_MEASURED:
        return ("uptake",)
    things = SUBJECT_THINGS.get(subject_type, ())
    if kind == "version.published" and payload.get("uptake") == MEASURED_LATER:
        return tuple(t for t in things if t != "uptake")
    return things


#: Characters of each field's digest kept in an item's signature (they only say which
#: field changed; the full digest of all the content is what protects it).
FIELD_SIG = 8

#: How verify names a changed field.
FIELD_NAMES = {"blank_before": "blank lines before", "members": "comments answered"}


def content(thing: str, row: dict[str, Any]) -> dict[str, Any]:
    return {f: row.get(f) for f in COVERED[thing]}


def signature(thing: str, item: dict[str, Any]) -> str:
    return "".join(sha256(canonical(item[f]))[:FIELD_SIG] for f in COVERED[thing])


def covers(document: str | None, contents: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What an event stores about the things it published: the sha256 of their canonical
    content (all fields of `COVERED`, rows in id order) and, per row, its id and a short
    signature of each field (so that a check can say which field of which row changed)."""
    return covers_in_order(
        document, {t: sorted(rows, key=lambda r: r["id"]) for t, rows in contents.items()}
    )


def covers_in_order(
    document: str | None, contents: dict[str, Iterable[dict[str, Any]]]
) -> dict[str, Any]:
    """covers() for rows given in id order, each read once: the canonical JSON is hashed
    as it is written, so the rows need not be held together (a version published after a
    million comments has a few hundred thousand measured suggestions)."""
    digest = hashlib.sha256(b"{")
    items: dict[str, list[list[Any]]] = {}
    for n, thing in enumerate(sorted(contents)):  # canonical JSON's order of keys
        digest.update((("," if n else "") + canonical(thing) + ":[").encode("utf-8"))
        out = items[thing] = []
        for k, row in enumerate(contents[thing]):
            digest.update((("," if k else "") + canonical(row)).encode("utf-8"))
            out.append([row["id"], signature(thing, row)])
        digest.update(b"]")
    digest.update(b"}")
    return {
        "document": document,
        "digest": digest.hexdigest(),
        "items": {t: items[t] for t in contents},
    }


def compare(
    recorded: dict[str, Any], current: dict[str, list[dict[str, Any]]]
) -> list[tuple[str, int, str]]:
    """What differs between the covers an event recorded and the current content:
    (thing, id, what) with what = "added", "removed" or "<fields> changed"."""
    now = {t: sorted(rows, key=lambda r: r["id"]) for t, rows in current.items()}
    if set(now) == set(recorded["items"]) and sha256(canonical(now)) == recorded["digest"]:
        return []
    out: list[tuple[str, int, str]] = []
    for thing in sorted(set(now) | set(recorded["items"])):
        was = {i: sig for i, sig in recorded["items"].get(thing, [])}
        rows = {r["id"]: r for r in now.get(thing, [])}
        for i in sorted(set(was) | set(rows)):
            if i not in rows:
                out.append((thing, i, "removed"))
            elif i not in was:
                out.append((thing, i, "added"))
            elif signature(thing, rows[i]) != was[i]:
                sig, fields = was[i], COVERED[thing]
                changed = [
                    FIELD_NAMES.get(f, f.replace("_", " "))
                    for n, f in enumerate(fields)
                    if sha256(canonical(rows[i][f]))[:FIELD_SIG]
                    != sig[n * FIELD_SIG : (n + 1) * FIELD_SIG]
                ]
                out.append((thing, i, " and ".join(changed) + " changed"))
    if not out:
        out.append(("", 0, "content changed"))
    return out


def comment_hash(c: dict[str, Any]) -> str:
    """A comment's content hash, printed on its receipt."""
    return sha256(
        canonical(
            {
                "tracking": c["tracking"],
                "version": c["version_id"],
                "paragraph": c["paragraph_id"],
                "organisation": c["organisation_id"],
                "kind": c["kind"],
                "body": c["body"],
                "suggested_text": c["suggested_text"],
                "quote": c["quote"],
                "created_at": c["created_at"],
            }
        )
    )


def revision_hash(tracking: str, r: dict[str, Any]) -> str:
    """The content hash of a later text of a comment."""
    return sha256(
        canonical(
            {
                "tracking": tracking,
                "revision": r["number"],
                "body": r["body"],
                "suggested_text": r["suggested_text"],
                "quote": r["quote"],
                "created_at": r["created_at"],
            }
        )
    )


def markdown(paragraphs: Iterable[dict[str, Any]]) -> str:
    """A version's Markdown text: its paragraphs' source, blank_before blank lines
    before each (what its content hash is taken of)."""
    parts: list[str] = []
    for i, p in enumerate(sorted(paragraphs, key=lambda p: p["position"])):
        if i:
            parts.append("\n" * (p["blank_before"] + 1))
        parts.append(p["source"])
    return "".join(parts) + "\n" if parts else ""


# ------------------------------------------------------------------ the open data


class Dump:
    """The open-data zip: data.json and the CSV files."""

    def __init__(self, blob: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            self.files = {n.split("/", 1)[-1]: z.read(n) for n in z.namelist()}
        if "data.json" not in self.files:
            raise ValueError("it has no data.json: it is not a Consult open-data zip")
        self.data = json.loads(self.files["data.json"])
        self.slug = self.data["document"]["slug"]
        self.versions = {v["id"]: v for v in self.data["versions"]}
        self.comments = {c["id"]: c for c in self.data["comments"]}

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.data.get(name) or []

    def things(self, thing: str) -> list[dict[str, Any]]:
        """The exported rows of a kind of thing, as COVERED reads them."""
        if thing == "version":
            return self.table("versions")
        if thing == "paragraph":
            return self.table("paragraphs")
        if thing == "uptake":
            return self.table("uptake")
        if thing == "response":
            return self.table("responses")
        if thing == "response_group":
            return self.table("response_groups")
        if thing == "moderation":
            return [{"reply_id": None} | m for m in self.table("moderation")]
        if thing == "organisation":
            return self.table("organisations")
        if thing == "feedback":
            return self.table("feedback")
        if thing == "translation":
            return self.table("translations")
        if thing == "translated_paragraph":
            return self.table("translated_paragraphs")
        raise KeyError(thing)

    def index(self) -> dict[str, dict[int, list[dict[str, Any]]]]:
        """Rows by the subject id an event names them by."""
        out: dict[str, dict[int, list[dict[str, Any]]]] = {}
        for thing in COVERED:
            by: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in self.things(thing):
                by[row[SCOPED.get(thing, "id")]].append(content(thing, row))
            out[thing] = by
        return out

    def tracking(self, comment_id: int | None) -> str | None:
        return (self.comments.get(comment_id) or {}).get("tracking")

    def version(self, version_id: int | None) -> str:
        v = self.versions.get(version_id)
        return f"version {v['number']} of {self.slug}" if v else f"a version of {self.slug}"

    def describe(self, thing: str, i: int, row: dict[str, Any] | None) -> str:
        return describe(thing, i, row, self.tracking, self.version)


def describe(
    thing: str,
    i: int,
    row: dict[str, Any] | None,
    tracking: Callable[[int | None], str | None],
    version: Callable[[int | None], str],
) -> str:
    """How a mismatch names the thing, in the words of the public pages; `tracking`
    gives a comment's tracking number and `version` names a version ("version 2 of
    aipa-framework") from their ids."""
    if row is None:
        return f"{thing.replace('_', ' ')} with id {i}"
    number = tracking(row.get("comment_id"))
    comment = f"comment {number}" if number else "a comment"
    if thing == "version":
        return version(row["id"])
    if thing == "paragraph":
        label = row.get("number") or f"#{row.get('position', 0) + 1}"
        return f"paragraph {label} of {version(row['version_id'])}"
    if thing == "uptake":
        return f"the measured uptake of {comment} against {version(row['version_id'])}"
    if thing == "response":
        return f"the answer to {comment} (response {i})"
    if thing == "response_group":
        return f"grouped answer {i} on {version(row['version_id'])}"
    if thing == "moderation":
        what = f"a reply to {comment}" if row.get("reply_id") else comment
        return f"the moderation of {what} (action {i})"
    if thing == "organisation":
        return f"the verification of organisation {row.get('slug')}"
    if thing == "feedback":
        return f"the organisation's reply to the answer to {comment}"
    if thing == "translation":
        return f"the translation into {row.get('language')} of {version(row.get('version_id'))}"
    if thing == "translated_paragraph":
        label = row.get("number") or f"#{row.get('position', 0) + 1}"
        return f"paragraph {label} of translation {row.get('translation_id')}"
    return f"{thing} {i}"


#: What the CSV files leave out of a text cell (XML cannot carry it, nor can Excel) and
#: what makes a spreadsheet read a cell as a formula: such a cell starts with a quote.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cells(v: Any) -> tuple[str, ...]:
    """The CSV cell(s) that hold the data.json value `v`: as is, or, for text a
    spreadsheet would misread, made safe as README.md says."""
    if v is None:
        return ("",)
    if isinstance(v, bool):
        return ("true" if v else "false",)
    if isinstance(v, int | float):
        return (str(v),)
    text = json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else str(v)
    safe = _NOT_XML.sub("", text)
    if safe.startswith(_FORMULA_STARTS):
        safe = "'" + safe
    return (text, safe)


def check_csv(dump: Dump) -> list[str]:
    """Each CSV file holds the rows of data.json, cell for cell."""
    problems = []
    for name in sorted(n for n in dump.files if n.endswith(".csv")):
        table = name[:-4]
        rows = dump.data.get(table)
        if rows is None:
            problems.append(f"{name}: not a table of data.json")
            continue
        rows = [rows] if isinstance(rows, dict) else rows
        read = list(csv.reader(io.StringIO(dump.files[name].decode("utf-8"), newline="")))
        if not read:
            problems.append(f"{name}: empty")
            continue
        header, body = read[0], read[1:]
        if len(body) != len(rows):
            problems.append(f"{name}: {len(body)} rows, data.json has {len(rows)}")
            continue
        for n, (cells, row) in enumerate(zip(body, rows, strict=True), start=1):
            bad = [
                f
                for k, f in enumerate(header)
                if f not in row or k >= len(cells) or cells[k] not in _cells(row[f])
            ]
            if bad or len(cells) != len(header):
                problems.append(
                    f"{name}: row {n} (id {row.get('id')}): "
                    f"{', '.join(bad) or 'cells'} not as in data.json"
                )
    return problems


class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []

    def bad(self, text: str) -> None:
        self.problems.append(text)


def verify_dump(dump: Dump) -> tuple[str, int, Report]:
    """(head hash, number of events, report)."""
    report = Report()
    events = dump.table("events")
    by_id = dump.index()
    seq = 0
    legacy: dict[str, int] = defaultdict(int)
    elsewhere = 0
    posted: dict[int, str] = {}
    edited: dict[tuple[str, int], str] = {}
    published: dict[int, str] = {}
    redacted: dict[tuple[str, int], dict[str, Any]] = {}
    #: Versions whose publication left the uptake to an event not met yet.
    later: set[int] = set()
    tree = TreeCheck(dump, report)
    for ev in events:
        seq += 1
        if ev["seq"] != seq:
            report.bad(f"events: event {seq} is missing (found seq {ev['seq']})")
            return tree.root(), seq, report
        if not tree.add(ev):
            return tree.root(), seq, report
        payload = json.loads(ev["payload"])
        if ev["kind"] == "comment.posted":
            payload = json.loads(ev["payload"])
        if ev["kind"] == "comment.posted":
            posted[ev["subject_id"]] = payload.get("content_hash")
        elif ev["kind"] == "comment.edited":
            edited[(payload.get("comment"), payload.get("revision"))] = payload.get("content_hash")
        elif ev["kind"] == "version.published":
            published[ev["subject_id"]] = payload.get("content_hash")
            if payload.get("uptake") == MEASURED_LATER and ev["subject_id"] in dump.versions:
                later.add(ev["subject_id"])
        elif ev["kind"] == UPTAKE_MEASURED:
            later.discard(ev["subject_id"])
        elif ev["kind"] == "comment.redacted":
            # The latest screening of a text holds: its original's and public text's hashes.
            redacted[(payload.get("tracking"), payload.get("text_number"))] = payload
        if ev["kind"] not in COVERING_KINDS and ev["kind"] != SEALED:
            continue
        recorded = payload.get("covers")
        if recorded is None:
            legacy[ev["kind"]] += 1
            continue
        things = things_of(ev["kind"], ev["subject_type"], payload)
        current = {t: by_id[t].get(ev["subject_id"], []) for t in things}
        if recorded.get("document") not in (None, dump.slug) or (
            recorded.get("document") is None and not any(current.values())
        ):
            elsewhere += 1  # another document's (or an organisation not in this dump)
            continue
        for thing, i, what in compare(recorded, current):
            rows = {r["id"]: r for r in current.get(thing, [])}
            name = dump.describe(thing, i, rows.get(i)) if thing else "its content"
            report.bad(f"{name}: {what} (event {seq}, {ev['kind']})")
    tree.finish()
    for version_id in sorted(later):
        # The dump holds the events placed in the tree: one recorded since is not in it.
        report.notes.append(
            f"not covered: the uptake against {dump.version(version_id)}, "
            + (
                "recorded after the events of this dump were placed"
                if by_id["uptake"].get(version_id)
                else "still being measured when this dump was made"
            )
        )
    _check_hashes(dump, posted, edited, published, report, redacted)
    report.problems += check_csv(dump)
    for kind, n in sorted(legacy.items()):
        report.notes.append(
            f"not covered: {n} {kind} event{'s' if n != 1 else ''} recorded before the record "
            "covered what they published (the chain still covers them)"
        )
    if elsewhere:
        report.notes.append(
            f"{elsewhere} event{'s' if elsewhere != 1 else ''} about other documents "
            "(or organisations not in this dump): checked in the tree only"
        )
    return tree.root(), seq, report


class TreeCheck:
    """The record's Merkle tree rebuilt event by event from the dump: each event's leaf
    hash (and chain hash, for events recorded while the record was a hash chain), and
    every signed tree head of the dump at its size (root and signature)."""

    def __init__(self, dump: Dump, report: Report) -> None:
        self.report = report
        self.frontier = Frontier()
        self.prev_chain: str | None = GENESIS
        #: Each trusted key, with the time (ms) it was retired, or None for the key in use.
        self.keys = {
            k["public_key"]: _millis(k.get("retired_at")) for k in dump.table("record_keys")
        }
        self.heads = sorted(
            dump.table("tree_heads"), key=lambda h: (h["tree_size"], h["timestamp"])
        )
        self.next_head = 0
        #: Size of the last head that matched: a change lies after it.
        self.good = 0
        self.newest: dict[str, Any] | None = None
        self._heads_at(0)

    def root(self) -> str:
        return self.frontier.root().hex()

    def add(self, ev: dict[str, Any]) -> bool:
        n = self.frontier.size + 1
        if ev.get("hash"):
            if self.prev_chain is None:
                self.report.bad(
                    f"events: event {n} ({ev['kind']}) has a chain hash after the chain"
                )
                return False
            subject = f"{ev['subject_type']}:{ev['subject_id']}"
            if ev["prev_hash"] != self.prev_chain or ev["hash"] != event_hash(
                self.prev_chain, ev["seq"], ev["kind"], ev["created_at"], subject, ev["payload"]
            ):
                self.report.bad(f"events: event {n} ({ev['kind']}) does not match its chain hash")
                return False
            self.prev_chain = ev["hash"]
        else:
            self.prev_chain = None
        leaf = leaf_hash(entry_leaf_bytes(ev))
        if ev.get("leaf_hash") != leaf.hex():
            self.report.bad(
                f"events: event {n} ({ev['kind']}): its content does not match its leaf hash"
            )
            return False
        self.frontier.append(leaf)
        return self._heads_at(n)

    def _heads_at(self, n: int) -> bool:
        ok = True
        while self.next_head < len(self.heads) and self.heads[self.next_head]["tree_size"] == n:
            h = self.heads[self.next_head]
            self.next_head += 1
            name = f"tree_heads: the head of {n} events signed {h.get('signed_at')}"
            retired = self.keys.get(h.get("public_key"), 0)
            if h.get("public_key") not in self.keys or not head_signed(h, h["public_key"]):
                self.report.bad(f"{name}: its signature does not verify with the record's keys")
                ok = False
            elif retired is not None and h["timestamp"] > retired:
                self.report.bad(
                    f"{name}: it is signed with the key {key_id(h['public_key'])} after that key "
                    "was retired"
                )
                ok = False
            elif h["root_hash"] != self.root():
                self.report.bad(
                    f"{name}: its root hash is not the root of the first {n} events: an "
                    f"event from {self.good + 1} to {n} was changed, removed or reordered"
                )
                ok = False
            else:
                self.good = n
                if self.newest is None or h["timestamp"] >= self.newest["timestamp"]:
                    self.newest = h
        return ok

    def finish(self) -> None:
        for h in self.heads[self.next_head :]:
            self.report.bad(
                f"tree_heads: the head of {h['tree_size']} events signed {h.get('signed_at')} "
                f"covers more events than the {self.frontier.size} exported (events removed?)"
            )
        if self.newest is not None:
            self.report.notes.append(
                f"newest signed tree head: {self.newest['tree_size']} events, root "
                f"{self.newest['root_hash']}, signed {self.newest['signed_at']}"
            )


def _public_hash(row: dict[str, Any]) -> str:
    """The hash of a text as published with personal data masked."""
    return sha256(canonical({"body": row["body"], "suggested_text": row["suggested_text"]}))


def _check_public_text(
    name: str, row: dict[str, Any], content_hash: str, screening: dict[str, Any] | None, report
) -> None:
    """A text published with personal data masked: the record's comment.redacted event
    holds the hash of the original (the receipt's) and of the public text."""
    if screening is None:
        report.bad(f"{name}: its text is marked redacted but no redaction is in the record")
        return
    if screening.get("original_hash") != content_hash:
        report.bad(f"{name}: its redaction is not of the text the record holds")
    if row["redacted"] != "held" and _public_hash(row) != screening.get("public_hash"):
        report.bad(f"{name}: its public text does not match the redaction in the record")


def _check_hashes(dump: Dump, posted, edited, published, report: Report, redacted=None) -> None:
    redacted = redacted or {}
    paragraphs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in dump.table("paragraphs"):
        paragraphs[p["version_id"]].append(p)
    for v in dump.table("versions"):
        name = dump.version(v["id"])
        if sha256(markdown(paragraphs[v["id"]])) != v["content_hash"]:
            report.bad(f"{name}: its text does not match its content hash")
        if published.get(v["id"]) != v["content_hash"]:
            report.bad(f"{name}: its content hash is not the one recorded at publication")
    for c in dump.table("comments"):
        if posted.get(c["id"]) != c["content_hash"]:
            report.bad(f"comment {c['tracking']}: its hash is not the one in the record")
        if c.get("redacted"):
            name = f"comment {c['tracking']}"
            screening = redacted.get((c["tracking"], 1))
            _check_public_text(name, c, c["content_hash"], screening, report)
        elif not c.get("hidden") and comment_hash(c) != c["content_hash"]:
            report.bad(f"comment {c['tracking']}: its text does not match its hash")
    for r in dump.table("comment_revisions"):
        c = dump.comments.get(r["comment_id"]) or {}
        tracking = c.get("tracking")
        if edited.get((tracking, r["number"])) != r["content_hash"]:
            report.bad(f"comment {tracking} text {r['number']}: its hash is not in the record")
        if r.get("redacted"):
            screening = redacted.get((tracking, r["number"]))
            _check_public_text(
                f"comment {tracking} text {r['number']}", r, r["content_hash"], screening, report
            )
        elif not c.get("hidden") and revision_hash(tracking, r) != r["content_hash"]:
            report.bad(f"comment {tracking} text {r['number']}: does not match its hash")


def receipt(dump: Dump, tracking: str) -> str:
    """Where the record holds a comment: the line to compare with its receipt."""
    c = next((c for c in dump.table("comments") if c["tracking"] == tracking), None)
    if c is None:
        return f"receipt {tracking}: no such comment in this dump"
    for ev in dump.table("events"):
        if ev["kind"] == "comment.posted" and ev["subject_id"] == c["id"]:
            chain = f", event hash {ev['hash']}" if ev.get("hash") else ""
            return (
                f"receipt {tracking}: content hash {c['content_hash']}, "
                f"event {ev['seq']}, leaf index {ev['seq'] - 1}, leaf hash {ev['leaf_hash']}"
                f"{chain}"
            )
    return f"receipt {tracking}: its posting is not in the record"


# -------------------------------------------------------------- receipts, offline


def _hashes(items: list[str] | None) -> list[bytes]:
    return [bytes.fromhex(x) for x in items or []]


def check_receipt(
    rec: dict[str, Any], later: dict[str, Any] | None, key: str | None
) -> tuple[list[str], list[str]]:
    """(lines, problems) for a receipt file (from the receipt page or the API) and,
    optionally, a later head: a consistency answer of the API (from the receipt's head
    to a later one), or a later copy of the receipt."""
    lines: list[str] = []
    problems: list[str] = []
    ev = rec.get("entry")
    head = rec.get("tree_head")
    if not ev:
        return lines, ["the receipt names no entry of the record"]
    if not head or rec.get("inclusion_proof") is None:
        return lines, ["the receipt has no signed tree head yet: download it again in a minute"]
    public_key = key or rec.get("public_key") or ""
    if key is None:
        lines.append(
            f"note: signatures checked with the key the receipt names ({key_id(public_key)}); "
            "compare it with the key on the record page or in the open data, or give --key"
        )
    payload = json.loads(ev["payload"])
    if payload.get("content_hash") != rec.get("content_hash"):
        problems.append("the entry does not record the receipt's content hash")
    if ev.get("hash") and ev["hash"] != event_hash(
        ev["prev_hash"],
        ev["seq"],
        ev["kind"],
        ev["created_at"],
        f"{ev['subject_type']}:{ev['subject_id']}",
        ev["payload"],
    ):
        problems.append("the entry does not match its chain hash")
    leaf = leaf_hash(entry_leaf_bytes(ev))
    if leaf.hex() != ev.get("leaf_hash"):
        problems.append("the entry's content does not match its leaf hash")
    if not head_signed(head, public_key):
        problems.append("the tree head's signature does not verify with the key")
    index, size = rec["leaf_index"], head["tree_size"]
    root = bytes.fromhex(head["root_hash"])
    if not verify_inclusion(index, size, leaf, _hashes(rec["inclusion_proof"]), root):
        problems.append(
            f"the inclusion proof does not lead from leaf {index} to the root of the head "
            f"of {size} events"
        )
    if problems:
        return lines, problems
    what = f"event {ev['seq']} ({ev['kind']}) of comment {rec.get('tracking')}"
    lines.append(
        f"included: {what} is leaf {index} of the tree of {size} events signed "
        f"{head.get('signed_at')} (key {key_id(public_key)})"
    )
    if later is None:
        return lines, problems
    if later.get("format") == rec.get("format"):  # a later copy of the same receipt
        sub_lines, sub_problems = check_receipt(later, None, public_key)
        if later.get("leaf_index") != index or later.get("entry", {}).get("leaf_hash") != ev.get(
            "leaf_hash"
        ):
            sub_problems.append("the later receipt is not for the same entry")
        return lines + [x for x in sub_lines if not x.startswith("note:")], sub_problems
    second = later.get("second_head") or (later if "signature" in later else None)
    if second is None:
        return lines, ["the later file holds no signed tree head"]
    if not head_signed(second, public_key):
        return lines, ["the later tree head's signature does not verify with the key"]
    first_size = later.get("from", size) if "proof" in later else size
    if first_size != size:
        return lines, [
            f"the consistency proof starts at {first_size} events, the receipt's head at {size}: "
            f"ask for /api/v1/record/proofs/consistency?from={size}&to={second['tree_size']}"
        ]
    proof = _hashes(later.get("proof")) if "proof" in later else []
    if not verify_consistency(
        size, second["tree_size"], root, bytes.fromhex(second["root_hash"]), proof
    ):
        return lines, [
            f"the later head of {second['tree_size']} events does not extend the receipt's "
            f"head of {size} events (the consistency proof fails): the record was rewritten"
        ]
    lines.append(
        f"included: the later head of {second['tree_size']} events signed "
        f"{second.get('signed_at')} extends the receipt's head (consistency proof checks), "
        f"so {what} is in it too"
    )
    return lines, problems


def _main_receipt(paths: list[str], key: str | None) -> int:
    try:
        files = []
        for path in paths:
            with open(path, encoding="utf-8") as f:
                files.append(json.load(f))
    except (OSError, ValueError) as e:
        print(f"Cannot read {path}: {e}", file=sys.stderr)
        return 2
    rec, later = files[0], (files[1] if len(files) > 1 else None)
    try:
        lines, problems = check_receipt(rec, later, key)
    except (KeyError, TypeError, ValueError) as e:
        print(f"Cannot read the receipt: {e!r} is missing or malformed", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    for problem in problems:
        print(f"MISMATCH: {problem}")
    if problems:
        print("NOT PROVED: this receipt does not prove its comment is in the record.")
        return 1
    print("OK: the receipt proves its comment is in the record.")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    key = None
    if "--key" in argv:
        i = argv.index("--key")
        key = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i : i + 2]
    if not argv:
        print(
            "usage: python3 verify_standalone.py consult-open-data.zip [TRACKING …]\n"
            "       python3 verify_standalone.py receipt.json [later.json] [--key PUBLIC_KEY]",
            file=sys.stderr,
        )
        return 2
    if argv[0].endswith(".json"):
        return _main_receipt(argv[:2], key)
    try:
        with open(argv[0], "rb") as f:
            dump = Dump(f.read())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        print(f"Cannot read {argv[0]}: {e}", file=sys.stderr)
        return 2
    head, count, report = verify_dump(dump)
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"MISMATCH: {problem}")
    for tracking in argv[1:]:
        print(receipt(dump, tracking.strip().upper()))
    print(f"events: {count}")
    print(f"head: {head}")
    if report.problems:
        print(f"{len(report.problems)} mismatch(es): this dump does not match its record.")
        return 1
    print("OK: every hash recomputes from the exported data.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
