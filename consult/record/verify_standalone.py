#!/usr/bin/env python3
"""Check a Consult record yourself, trusting nothing but this file and Python 3.11+.

    python3 verify_standalone.py consult-open-data.zip [TRACKING …]

Reads the open-data zip of a document (as downloaded from its page), and

1. recomputes the hash of every event of the record, each from the one before, and
   prints the head hash: compare it with the head on the public record page and on
   your receipts;
2. recomputes, from the exported rows, every content digest the events carry (the
   paragraphs and measured uptake of each published version, every answer, grouped
   answer, moderation decision, organisation's verification and organisation's reply)
   and every version's and comment's content hash, and names what does not match;
3. checks that each CSV file holds the same rows as data.json;
4. for each comment tracking number given (from your receipts), prints the event that
   recorded it and its hash, to compare with the receipt.

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
}

#: Things that are all the rows of a version (field holding the version's id), not one row.
SCOPED = {"paragraph": "version_id", "uptake": "version_id"}

#: Events whose payload carries "covers" (from the day the record covered content), and
#: the type of their subject; "record.sealed" covers any of them.
COVERING_KINDS = {
    "version.published": "version",
    "response.given": "response",
    "responses.grouped": "responsegroup",
    "comment.moderated": "moderationaction",
    "organisation.verified": "organisation",
    "response.feedback_given": "responsefeedback",
}
SEALED = "record.sealed"

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
    ordered = {t: sorted(rows, key=lambda r: r["id"]) for t, rows in contents.items()}
    return {
        "document": document,
        "digest": sha256(canonical(ordered)),
        "items": {t: [[r["id"], signature(t, r)] for r in rows] for t, rows in ordered.items()},
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
    prev, seq = GENESIS, 0
    legacy: dict[str, int] = defaultdict(int)
    elsewhere = 0
    posted: dict[int, str] = {}
    edited: dict[tuple[str, int], str] = {}
    published: dict[int, str] = {}
    for ev in events:
        seq += 1
        if ev["seq"] != seq:
            report.bad(f"events: event {seq} is missing (found seq {ev['seq']})")
            return prev, seq, report
        subject = f"{ev['subject_type']}:{ev['subject_id']}"
        if ev["prev_hash"] != prev or ev["hash"] != event_hash(
            prev, ev["seq"], ev["kind"], ev["created_at"], subject, ev["payload"]
        ):
            report.bad(f"events: event {seq} ({ev['kind']}) does not match its hash")
            return prev, seq, report
        prev = ev["hash"]
        payload = json.loads(ev["payload"])
        if ev["kind"] == "comment.posted":
            posted[ev["subject_id"]] = payload.get("content_hash")
        elif ev["kind"] == "comment.edited":
            edited[(payload.get("comment"), payload.get("revision"))] = payload.get("content_hash")
        elif ev["kind"] == "version.published":
            published[ev["subject_id"]] = payload.get("content_hash")
        if ev["kind"] not in COVERING_KINDS and ev["kind"] != SEALED:
            continue
        recorded = payload.get("covers")
        if recorded is None:
            legacy[ev["kind"]] += 1
            continue
        things = SUBJECT_THINGS.get(ev["subject_type"], ())
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
    _check_hashes(dump, posted, edited, published, report)
    report.problems += check_csv(dump)
    for kind, n in sorted(legacy.items()):
        report.notes.append(
            f"not covered: {n} {kind} event{'s' if n != 1 else ''} recorded before the record "
            "covered what they published (the chain still covers them)"
        )
    if elsewhere:
        report.notes.append(
            f"{elsewhere} event{'s' if elsewhere != 1 else ''} about other documents "
            "(or organisations not in this dump): checked in the chain only"
        )
    return prev, seq, report


def _check_hashes(dump: Dump, posted, edited, published, report: Report) -> None:
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
        if not c.get("hidden") and comment_hash(c) != c["content_hash"]:
            report.bad(f"comment {c['tracking']}: its text does not match its hash")
    for r in dump.table("comment_revisions"):
        c = dump.comments.get(r["comment_id"]) or {}
        tracking = c.get("tracking")
        if edited.get((tracking, r["number"])) != r["content_hash"]:
            report.bad(f"comment {tracking} text {r['number']}: its hash is not in the record")
        if not c.get("hidden") and revision_hash(tracking, r) != r["content_hash"]:
            report.bad(f"comment {tracking} text {r['number']}: does not match its hash")


def receipt(dump: Dump, tracking: str) -> str:
    """Where the record holds a comment: the line to compare with its receipt."""
    c = next((c for c in dump.table("comments") if c["tracking"] == tracking), None)
    if c is None:
        return f"receipt {tracking}: no such comment in this dump"
    for ev in dump.table("events"):
        if ev["kind"] == "comment.posted" and ev["subject_id"] == c["id"]:
            return (
                f"receipt {tracking}: content hash {c['content_hash']}, "
                f"event {ev['seq']}, event hash {ev['hash']}"
            )
    return f"receipt {tracking}: its posting is not in the record"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(
            "usage: python3 verify_standalone.py consult-open-data.zip [TRACKING …]",
            file=sys.stderr,
        )
        return 2
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
