"""Open data: a complete, documented dump of a document's public record, as JSON and
as CSV files in one zip, and its import into an empty instance.

In the zip: every public version (drafts are not public), its paragraphs and lineage
links, the comments made on them (with later texts, withdrawals, co-signatures and
moderation), the committee's responses, the public fields of the organisations that
took part, and the whole hash-chained record (events and hashes), so anyone can verify
the chain and every content hash from the dump alone. README.md and schema.json
describe every file and field.

Never in it: accounts (names, e-mails, password hashes, tokens), who wrote or entered
a comment, organisations' contact details, and the text of hidden comments (their
hidden state and the moderators' public reason are kept).

Identifiers are kept, so the import into an empty instance gives the same rows, the
same record and the same hashes (`flask verify` passes for every comment shown).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from consult.accounts.models import Organisation, User
from consult.consultation.attachments import Attachment
from consult.consultation.models import (
    Comment,
    CommentRevision,
    CommentWithdrawal,
    CoSignature,
    ModerationAction,
    Response,
)
from consult.documents.models import Document, LineageLink, Paragraph, Version
from consult.errors import Conflict, ConsultError
from consult.exports.common import zip_entry
from consult.exports.text import checked_markdown
from consult.extensions import db
from consult.record.models import Event
from consult.textpolicy import spreadsheet_cell

FORMAT = "consult-open-data/1"

#: Each file: its description and its fields (name → description). The order is the
#: order of the CSV columns.
SCHEMA: dict[str, dict[str, Any]] = {
    "document": {
        "description": "The document (one object; document.csv has one row).",
        "fields": {
            "id": "Identifier in the instance that exported it.",
            "slug": "Short name used in addresses.",
            "title": "Title of the document.",
            "committee": "The drafting committee's name.",
            "timezone": "The document's home time zone (IANA).",
            "created_at": "When the document was created (ISO 8601, UTC).",
        },
    },
    "versions": {
        "description": "Every public version (drafts are not public).",
        "fields": {
            "id": "Identifier.",
            "number": "1, 2, 3 …",
            "label": "e.g. 'Workshop 2 draft'.",
            "state": "consultation, closed or final.",
            "note": "The committee's explanatory note (Markdown).",
            "content_hash": "sha256 of the version's Markdown text (the paragraphs' source "
            "joined as in the Markdown export).",
            "created_at": "When the version was started.",
            "published_at": "When it left draft.",
            "closes_at": "Deadline for comments.",
            "closed_at": "When comments closed.",
            "close_reason": "'deadline', or why comments closed early.",
            "finalized_at": "When it became the final text.",
        },
    },
    "paragraphs": {
        "description": "The paragraphs of every public version, in order.",
        "fields": {
            "id": "Identifier.",
            "version_id": "The version (versions.id).",
            "position": "0, 1, 2 … in the version.",
            "number": "Display number, e.g. '2.3'; '' for the title.",
            "kind": "heading, paragraph, list_item, blockquote, table, …",
            "level": "Heading level (0 for other blocks).",
            "source": "The exact Markdown of the block.",
            "text": "Plain text.",
            "blank_before": "Blank lines before the block in the Markdown text.",
            "lineage": "Identity of 'the same paragraph' across versions.",
        },
    },
    "lineage": {
        "description": "How each paragraph relates to the paragraphs of the version before.",
        "fields": {
            "id": "Identifier.",
            "version_id": "The later version.",
            "paragraph_id": "The paragraph in the later version (empty for 'removed').",
            "predecessor_id": "The paragraph in the version before (empty for 'added').",
            "relation": (
                "unchanged, formatting (the same words in other Markdown), edited, moved, "
                "split, merged, added or removed."
            ),
            "similarity": "Word similarity of the pair, 0 to 1.",
            "method": "copy, alignment, confirmed or corrected.",
        },
    },
    "organisations": {
        "description": "Public fields of the organisations that commented or co-signed.",
        "fields": {
            "id": "Identifier.",
            "slug": "Short name.",
            "name": "Name.",
            "acronym": "Acronym.",
            "kind": "ngo, network, community, academia, union, professional, media, faith, other.",
            "countries": "ISO 3166-1 alpha-2 codes (JSON list; in CSV, a JSON list).",
            "focus": "Areas of work (JSON list).",
            "website": "Web site.",
            "description": "What the organisation does.",
            "verified_at": "When the secretariat verified it.",
            "created_at": "When it was registered.",
        },
    },
    "comments": {
        "description": "Comments on the public versions. A hidden comment has no text "
        "here (body, suggested_text and quote are empty) but keeps its hash.",
        "fields": {
            "id": "Identifier.",
            "tracking": "Public tracking number printed on the receipt.",
            "version_id": "The version commented on.",
            "paragraph_id": "The paragraph commented on (empty: the version as a whole).",
            "organisation_id": "The organisation that made it.",
            "channel": "web, email, paper or workshop.",
            "kind": "comment, suggestion or question.",
            "body": "The comment as first posted.",
            "suggested_text": "Proposed wording (suggestions).",
            "quote": "The quoted span of the paragraph.",
            "quote_start": "Offset of the quote in the paragraph's text.",
            "quote_end": "End offset of the quote.",
            "content_hash": "sha256 of the comment's canonical content (see the receipt).",
            "created_at": "When it was posted or received.",
            "hidden": "true when moderators hid it.",
            "redacted": "held, masked or reviewed when personal data was found in the text "
            "as first posted: held has no text here; masked and reviewed have the public "
            "text (mask labels in place of the data), whose hash the record's "
            "comment.redacted event holds; content_hash stays the hash of the original.",
        },
    },
    "comment_revisions": {
        "description": "Later texts of edited comments; the latest is the current text.",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The comment.",
            "number": "2 for the first edit.",
            "body": "Text.",
            "suggested_text": "Proposed wording.",
            "quote": "Quoted span.",
            "quote_start": "Offset.",
            "quote_end": "End offset.",
            "content_hash": "sha256 of this text.",
            "created_at": "When it was written.",
            "redacted": "As for comments: personal data found in this text.",
        },
    },
    "withdrawals": {
        "description": "Comments their authors took back (they stay readable).",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The comment.",
            "reason": "Reason given.",
            "created_at": "When.",
        },
    },
    "cosignatures": {
        "description": "Organisations that signed a comment jointly or supported it later.",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The comment.",
            "organisation_id": "The organisation.",
            "joint": "true: named when posted; false: support added afterwards.",
            "created_at": "When.",
        },
    },
    "moderation": {
        "description": "Moderators' decisions on comments and on replies in their threads, "
        "with their public reason.",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The comment.",
            "reply_id": "The reply moderated in the comment's thread (replies are not in the "
            "dump); empty: the comment itself.",
            "action": "hide or restore.",
            "reason": "Public reason.",
            "created_at": "When.",
        },
    },
    "responses": {
        "description": "The committee's answers; a later answer is a new row, the latest holds.",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The comment answered.",
            "decision": "accepted, partly_accepted, noted, not_accepted, out_of_scope.",
            "reason": "The committee's reason.",
            "created_at": "When.",
        },
    },
    "response_groups": {
        "description": "Answers given together to several comments with one decision and reason.",
        "fields": {
            "id": "Identifier.",
            "version_id": "The version the comments were made on.",
            "decision": "The decision given to each.",
            "reason": "The reason given to each.",
            "created_at": "When.",
            "members": "The comments answered, as [comment_id, response_id] pairs (JSON list).",
        },
    },
    "uptake": {
        "description": "The uptake of each suggestion, measured against the next version when "
        "that version was published.",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The suggestion.",
            "version_id": "The version measured against.",
            "score": "0 to 1.",
            "label": "taken_up, partly or not_taken_up.",
            "verbatim": "true when the wording appears word for word.",
            "relation": "How the successor paragraph was found (unchanged, edited, moved, split, "
            "merged, removed).",
            "inputs_hash": "sha256 of what the measure was computed from.",
            "evidence": "Why the label: the asked-for words present (and where) or missing (JSON).",
        },
    },
    "feedback": {
        "description": "The commenting organisations' replies to the committee's answers.",
        "fields": {
            "id": "Identifier.",
            "response_id": "The answer replied to.",
            "comment_id": "The comment.",
            "organisation_id": "The organisation replying.",
            "satisfied": "true when satisfied with the answer.",
            "note": "The organisation's note.",
            "created_at": "When.",
        },
    },
    "translations": {
        "description": "Published translations of the versions: each version's text in "
        "another language, aligned paragraph by paragraph to the authoritative text "
        "(the translation.published event covers it).",
        "fields": {
            "id": "Identifier.",
            "version_id": "The version translated.",
            "language": "Language code (th, id, ms, fil, vi, km, lo, my, en).",
            "content_hash": "sha256 of the translation's Markdown text.",
            "published_at": "When it was published.",
        },
    },
    "translated_paragraphs": {
        "description": "The blocks of each published translation.",
        "fields": {
            "id": "Identifier.",
            "translation_id": "The translation.",
            "position": "Position in the translation, from 0.",
            "number": "Display number in the translation.",
            "kind": "heading, paragraph, list_item, table …",
            "level": "Heading level (0 for others).",
            "source": "Markdown source of the block.",
            "text": "Plain text.",
            "blank_before": "Blank lines before it in the Markdown text.",
            "paragraph_id": "The authoritative paragraph it translates (empty: none).",
            "original_hash": "sha256 of that paragraph's plain text when it was translated "
            "(a different hash today: the translation is out of date).",
        },
    },
    "attachments": {
        "description": "Files attached to comments (position papers). The files themselves "
        "are served on the site; their sha256 is also in the record's attachment.added event. "
        "A hidden comment's file has no name here.",
        "fields": {
            "id": "Identifier.",
            "comment_id": "The comment.",
            "filename": "The file's name.",
            "content_type": "application/pdf, …wordprocessingml.document (DOCX) or "
            "application/vnd.oasis.opendocument.text (ODT), read from the file's bytes.",
            "size": "In bytes.",
            "sha256": "sha256 of the file's bytes.",
            "text_status": "text, no_text (a scan?) or unreadable: what text extraction found.",
            "created_at": "When it was attached.",
        },
    },
    "events": {
        "description": "The whole record of the instance, in order: the leaves of its "
        "Merkle tree log (RFC 9162). leaf_hash = sha256(0x00 || the canonical JSON "
        "['entry', kind, created_at, 'subject_type:subject_id', payload]); an event "
        "recorded while the record was a hash chain has the leaf ['chain', seq, prev_hash, "
        "hash, kind, created_at, subject, payload], where hash = sha256 of the canonical "
        "JSON [prev_hash, seq, kind, created_at, subject, payload].",
        "fields": {
            "seq": "Position in the record, from 1 (its leaf index + 1).",
            "kind": "What happened, e.g. version_published, comment_posted.",
            "created_at": "When (ISO 8601, UTC, whole seconds).",
            "subject_type": "version, comment, response, …",
            "subject_id": "The subject's identifier.",
            "payload": "Canonical JSON of what the event records; where it published "
            "something the public reads, its 'covers' holds the sha256 of that content "
            "(verify_standalone.py recomputes it from these files).",
            "prev_hash": "The previous event's chain hash (64 zeros for the first); empty "
            "for events recorded after the record became a Merkle tree.",
            "hash": "This event's chain hash; empty for events recorded after.",
            "leaf_hash": "sha256(0x00 || its leaf bytes), hex.",
        },
    },
    "tree_heads": {
        "description": "Every signed tree head of the record, oldest first: the tree of "
        "its first tree_size events has the root root_hash. The signature is Ed25519 over "
        "the canonical JSON ['consult-tree-head-v1', tree_size, root_hash, timestamp].",
        "fields": {
            "tree_size": "Number of events the head covers.",
            "root_hash": "The Merkle tree hash of those events, hex.",
            "timestamp": "Milliseconds since 1970-01-01 UTC, as signed.",
            "signed_at": "The same time, ISO 8601 UTC.",
            "reason": "interval, publication, closing, finalisation, rotation, receipts or "
            "command.",
            "about": "The version a publication, closing or finalisation head is about.",
            "key_id": "The first 16 hex digits of the sha256 of the public key.",
            "public_key": "The Ed25519 public key that signed it, hex.",
            "signature": "The signature, hex.",
        },
    },
    "record_keys": {
        "description": "The Ed25519 public keys that sign the tree heads: the one in use and "
        "those it replaced (also on the public record page, /record/).",
        "fields": {
            "key_id": "The first 16 hex digits of the sha256 of the key.",
            "public_key": "The 32-byte key, hex.",
            "retired_at": "When a replaced key stopped signing, ISO 8601 UTC (empty for the "
            "key in use): a head it signed later is not to be trusted.",
        },
    },
}

FILES = list(SCHEMA)
#: Files a dump made before they were exported does not have (imported as empty).
ADDED_LATER = {
    "response_groups",
    "uptake",
    "feedback",
    "attachments",
    "tree_heads",
    "record_keys",
}


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def _row(obj, fields) -> dict[str, Any]:
    return {f: _value(getattr(obj, f)) for f in fields}


def _fields(name: str) -> list[str]:
    return list(SCHEMA[name]["fields"])


def collect(doc: Document) -> dict[str, Any]:
    """The public record of a document as plain data, one list (or object) per file."""
    versions = [v for v in doc.versions if v.state != "draft"]
    for v in versions:
        checked_markdown(v)
    vids = [v.id for v in versions]
    paragraphs = [p for v in versions for p in v.paragraphs]
    links = list(
        db.session.scalars(
            select(LineageLink).where(LineageLink.version_id.in_(vids)).order_by(LineageLink.id)
        )
    )
    comments = list(
        db.session.scalars(
            select(Comment)
            .where(Comment.version_id.in_(vids))
            .options(selectinload(Comment.moderation))  # for is_hidden, in one query
            .order_by(Comment.id)
        )
    )
    cids = [c.id for c in comments]
    hidden = {c.id for c in comments if c.is_hidden}

    def of(model):
        return list(
            db.session.scalars(select(model).where(model.comment_id.in_(cids)).order_by(model.id))
        )

    revisions, withdrawals, cosignatures = (
        of(CommentRevision),
        of(CommentWithdrawal),
        of(CoSignature),
    )
    moderation = of(ModerationAction)
    responses = of(Response)
    attachment_rows = [
        _row(a, _fields("attachments")) | ({"filename": None} if a.comment_id in hidden else {})
        for a in of(Attachment)
    ]
    record = _record_rows(vids, cids)
    org_ids = {c.organisation_id for c in comments} | {s.organisation_id for s in cosignatures}
    orgs = list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(org_ids)).order_by(Organisation.id)
        )
    )
    screened = _screenings(cids)
    comment_rows = []
    for c in comments:
        row = _row(c, _fields("comments")[:-2]) | {"hidden": c.id in hidden}
        row |= _public_text(screened.get((c.id, 1)))
        if c.id in hidden:
            row |= {"body": None, "suggested_text": None, "quote": None}
        comment_rows.append(row)
    revision_rows = []
    for r in revisions:
        row = _row(r, _fields("comment_revisions")[:-1])
        row |= _public_text(screened.get((r.comment_id, r.number)))
        if r.comment_id in hidden:
            row |= {"body": None, "suggested_text": None, "quote": None}
        revision_rows.append(row)
    events = db.session.scalars(select(Event).where(Event.seq.is_not(None)).order_by(Event.seq))
    return {
        "document": _row(doc, _fields("document")),
        "versions": [_row(v, _fields("versions")) for v in versions],
        "paragraphs": [_row(p, _fields("paragraphs")) for p in paragraphs],
        "lineage": [_row(lk, _fields("lineage")) for lk in links],
        "organisations": [_row(o, _fields("organisations")) for o in orgs],
        "comments": comment_rows,
        "comment_revisions": revision_rows,
        "withdrawals": [_row(w, _fields("withdrawals")) for w in withdrawals],
        "cosignatures": [_row(s, _fields("cosignatures")) for s in cosignatures],
        "moderation": [_row(m, _fields("moderation")) for m in moderation],
        "responses": [_row(r, _fields("responses")) for r in responses],
        "attachments": attachment_rows,
        **record,
        **_translation_rows(vids),
        "events": [_row(e, _fields("events")) for e in events],
        **_tree_rows(),
    }


def _screenings(cids: list[int]) -> dict[tuple[int, int], Any]:
    """The latest personal-data screening of each text of these comments, by (comment id,
    text number)."""
    from consult.consultation.redaction import CommentRedaction

    out: dict[tuple[int, int], Any] = {}
    for r in db.session.scalars(
        select(CommentRedaction)
        .where(CommentRedaction.comment_id.in_(cids))
        .order_by(CommentRedaction.id)
    ):
        out[(r.comment_id, r.text_number)] = r
    return out


def _public_text(r) -> dict[str, Any]:
    """A text's public fields: the masked copy, none while held, as written otherwise."""
    if r is None:
        return {"redacted": None}
    if r.state == "held":
        return {"redacted": "held", "body": None, "suggested_text": None}
    return {"redacted": r.state, "body": r.body, "suggested_text": r.suggested_text}


def _translation_rows(vids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Published translations of these versions, as the record's digests read them."""
    from consult.record.digests import row_content
    from consult.translations.models import TranslatedParagraph, Translation

    translations = list(
        db.session.scalars(
            select(Translation)
            .where(Translation.version_id.in_(vids), Translation.state == "published")
            .order_by(Translation.id)
        )
    )
    tids = [t.id for t in translations]
    blocks = db.session.scalars(
        select(TranslatedParagraph)
        .where(TranslatedParagraph.translation_id.in_(tids))
        .order_by(TranslatedParagraph.id)
    )
    return {
        "translations": [row_content("translation", t) for t in translations],
        "translated_paragraphs": [
            row_content("translated_paragraph", p) | {"original_hash": p.original_hash}
            for p in blocks
        ],
    }


def _tree_rows() -> dict[str, list[dict[str, Any]]]:
    """The signed tree heads and the key that signs them."""
    from consult.record import keys
    from consult.record import log as tree_log
    from consult.record.models import TreeHead

    heads = db.session.scalars(select(TreeHead).order_by(TreeHead.id))
    return {
        "tree_heads": [{f: tree_log.head_json(h)[f] for f in _fields("tree_heads")} for h in heads],
        "record_keys": [
            {**k.as_json(), "retired_at": k.as_json()["retired_at"] or ""}
            for k in keys.known_keys()
        ],
    }


def _record_rows(vids: list[int], cids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Grouped answers, measured uptake and replies to answers, as the record's digests
    read them (so that verify_standalone.py can recompute the digests)."""
    from consult.record.digests import row_content
    from consult.tracing.models import ResponseFeedback, ResponseGroup, StoredUptake

    def rows(model, thing, where):
        q = select(model).where(where).order_by(model.id)
        return [row_content(thing, o) for o in db.session.scalars(q)]

    return {
        "response_groups": rows(
            ResponseGroup, "response_group", ResponseGroup.version_id.in_(vids)
        ),
        "uptake": rows(StoredUptake, "uptake", StoredUptake.version_id.in_(vids)),
        "feedback": rows(ResponseFeedback, "feedback", ResponseFeedback.comment_id.in_(cids)),
    }


def _cell(v: Any) -> Any:
    """A CSV cell as README.md describes it: lists as JSON, true/false, empty for None."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    return v


def _csv(rows: list[dict[str, Any]], fields: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(fields)
    for r in rows:
        w.writerow([spreadsheet_cell(_cell(r[f])) for f in fields])
    return buf.getvalue()


def _table_schema(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    properties = {f: {"description": d} for f, d in spec["fields"].items()}
    if name == "document":
        return {"type": "object", "description": spec["description"], "properties": properties}
    return {
        "type": "array",
        "description": spec["description"],
        "items": {"type": "object", "required": list(spec["fields"]), "properties": properties},
    }


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of data.json."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Consult open data",
        "type": "object",
        "required": ["format", *FILES],
        "properties": {"format": {"const": FORMAT}}
        | {name: _table_schema(name, spec) for name, spec in SCHEMA.items()},
    }


def readme(data: dict[str, Any]) -> str:
    doc = data["document"]
    lines = [
        f"# Open data: {doc['title']}",
        "",
        f"The public record of the document '{doc['slug']}' as exported by Consult "
        f"(format {FORMAT}). The same data is in data.json (one object, described by "
        "schema.json) and in one CSV file per table (UTF-8, comma-separated, a header row; "
        "lists as JSON; empty cell = no value; true/false for yes/no). In the CSV files a "
        "text cell that a spreadsheet would read as a formula (it starts with =, +, -, @, a "
        "tab or a carriage return) has a single quote put before it; data.json has the "
        "text as stored.",
        "",
        "Not included: accounts, e-mail addresses, tokens, who wrote or entered a comment, "
        "contact details of organisations, drafts, and the text of hidden comments.",
        "",
        "Checks anyone can make: each version's content_hash is the sha256 of its Markdown "
        "text (the paragraphs' source joined with blank_before blank lines before each); "
        "each event's leaf hash recomputes from its fields, the Merkle tree of the events "
        "has, at each signed tree head's size, that head's root hash, and each head is "
        "signed by the key in record_keys.",
        "",
        "verify_standalone.py (Python 3.11+, standard library only) makes every check: "
        "`python3 verify_standalone.py <this zip>` rebuilds the record's Merkle tree from "
        "the events, checks every signed tree head against it and its signature, recomputes "
        "each content digest the events carry from these files, names what does not match, "
        "and prints the newest head to compare with the public record page. "
        "`python3 verify_standalone.py receipt.json [later-head.json]` checks a receipt's "
        "inclusion proof (and that a later head only appended to its head).",
        "",
    ]
    for name, spec in SCHEMA.items():
        n = 1 if name == "document" else len(data[name])
        lines += [f"## {name}.csv ({n} row{'s' if n != 1 else ''})", "", spec["description"], ""]
        lines += [f"- `{f}`: {d}" for f, d in spec["fields"].items()]
        lines.append("")
    return "\n".join(lines)


def verifier_source() -> str:
    """The standalone verifier shipped in the zip: `python3 verify_standalone.py <zip>`."""
    from consult.record import verify_standalone

    with open(verify_standalone.__file__, encoding="utf-8") as f:
        return f.read()


def opendata_zip(doc: Document) -> bytes:
    """The zip. Deterministic: the same record gives the same bytes."""
    data = collect(doc)
    stamp_from = [v["published_at"] for v in data["versions"]] or [data["document"]["created_at"]]
    when = datetime.fromisoformat(max(stamp_from))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:

        def put(name: str, body: str) -> None:
            z.writestr(zip_entry(f"{doc.slug}/{name}", when), body.encode("utf-8"))

        put("README.md", readme(data))
        put("verify_standalone.py", verifier_source())
        put("schema.json", json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
        put(
            "data.json",
            json.dumps({"format": FORMAT} | data, indent=2, ensure_ascii=False) + "\n",
        )
        for name in FILES:
            rows = [data[name]] if name == "document" else data[name]
            put(f"{name}.csv", _csv(rows, _fields(name)))
    return buf.getvalue()


# ------------------------------------------------------------------- import


def read_zip(blob: bytes) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            name = next((n for n in z.namelist() if n.endswith("/data.json")), None)
            if name is None:
                raise ConsultError(
                    _("This zip has no data.json: it is not a Consult open data dump.")
                )
            data = json.loads(z.read(name))
    except zipfile.BadZipFile as e:
        raise ConsultError(_("This is not a zip file (%(e)s).", e=e)) from None
    if data.get("format") != FORMAT:
        raise ConsultError(
            _(
                "Unknown open data format %(repr)s; this instance reads %(FORMAT)s.",
                repr=repr(data.get("format")),
                FORMAT=FORMAT,
            )
        )
    missing = [f for f in FILES if f not in data and f not in ADDED_LATER]
    if missing:
        raise ConsultError(_("data.json lacks: %(x)s.", x=", ".join(missing)))
    return data


def _dt(v):
    return datetime.fromisoformat(v) if isinstance(v, str) else v


DATETIMES = {
    "created_at",
    "published_at",
    "closes_at",
    "closed_at",
    "finalized_at",
    "verified_at",
}


def _make(model, row: dict[str, Any], **extra):
    values = {k: (_dt(v) if k in DATETIMES else v) for k, v in row.items()}
    return model(**(values | extra))


def _importer() -> User:
    """The account shown as responder and moderator of imported rows: the first admin,
    else an account made for the import that nobody can sign in to."""
    user = db.session.scalar(
        select(User).where(User.role.in_(("admin", "secretariat"))).order_by(User.id).limit(1)
    )
    if user is None:
        user = User(
            email="open-data-import@consult.invalid",
            name="Open data import",
            password_hash="!",  # noqa: S106 - an unusable hash: matches no password
            role="committee",
        )
        db.session.add(user)
        db.session.flush()
    return user


def import_opendata(blob: bytes) -> Document:
    """Load a dump into an empty instance (no documents, organisations or events)."""
    data = read_zip(blob)
    for model, what in (
        (Document, "documents"),
        (Organisation, "organisations"),
        (Event, "events"),
    ):
        if db.session.scalar(select(func.count()).select_from(model)):
            raise Conflict(
                _(
                    "This instance already has %(what)s: open data is imported "
                    "into an empty instance only, so that identifiers and the "
                    "record stay as published.",
                    what=what,
                )
            )
    by = _importer()
    doc = _make(Document, data["document"])
    db.session.add(doc)
    for o in data["organisations"]:
        db.session.add(_make(Organisation, o))
    db.session.flush()
    for v in data["versions"]:
        db.session.add(_make(Version, v, document_id=doc.id))
    db.session.flush()
    for p in data["paragraphs"]:
        db.session.add(_make(Paragraph, p))
    db.session.flush()
    for lk in data["lineage"]:
        db.session.add(_make(LineageLink, lk))
    for c in data["comments"]:
        row = dict(c)
        hidden = row.pop("hidden")
        # Personal data masked (or the text held): the dump carries the public text only.
        row.pop("redacted", None)
        if hidden or row["body"] is None:
            row["body"] = ""  # not public: the dump does not carry it
        db.session.add(_make(Comment, row))
    db.session.flush()
    for r in data["comment_revisions"]:
        row = dict(r)
        row.pop("redacted", None)
        if row["body"] is None:
            row["body"] = ""
        db.session.add(_make(CommentRevision, row))
    for w in data["withdrawals"]:
        db.session.add(_make(CommentWithdrawal, w))
    for s in data["cosignatures"]:
        db.session.add(_make(CoSignature, s))
    for m in data["moderation"]:
        if m.get("reply_id") is None:  # replies are not in the dump
            db.session.add(_make(ModerationAction, m, moderator_id=by.id))
    for r in data["responses"]:
        db.session.add(_make(Response, r, responder_id=by.id))
    db.session.flush()
    _import_record_rows(data, by)
    from consult.translations.models import TranslatedParagraph, Translation

    for t in data.get("translations", []):
        db.session.add(_make(Translation, t, state="published"))
    db.session.flush()
    for p in data.get("translated_paragraphs", []):
        db.session.add(_make(TranslatedParagraph, p))
    for e in data["events"]:
        db.session.add(_make(Event, e))
    db.session.flush()
    # The tree of the imported events, and the heads the exporting instance signed
    # (verify checks them against this instance's key: the same instance restoring
    # its dump, or a mismatch named).
    from consult.record.adopt import adopt_chain
    from consult.record.models import TreeHead

    adopt_chain(db.session.connection())
    for h in data.get("tree_heads", []):
        row = {k: v for k, v in h.items() if k != "key_id"}
        row["signed_at"] = _dt(row["signed_at"].replace("Z", "+00:00"))
        db.session.add(TreeHead(**row))
    db.session.flush()
    _advance_sequences()
    return doc


def _import_record_rows(data: dict[str, Any], by: User) -> None:
    from consult.tracing.models import (
        ResponseFeedback,
        ResponseGroup,
        ResponseGroupMember,
        StoredUptake,
    )

    for g in data.get("response_groups", []):
        row = dict(g)
        members = row.pop("members")
        db.session.add(_make(ResponseGroup, row, responder_id=by.id))
        db.session.flush()
        for comment_id, response_id in members:
            db.session.add(
                ResponseGroupMember(
                    group_id=g["id"], comment_id=comment_id, response_id=response_id
                )
            )
    for u in data.get("uptake", []):
        row = dict(u)
        evidence = row.pop("evidence")
        db.session.add(
            _make(
                StoredUptake,
                row,
                evidence_json=(
                    json.dumps(evidence, ensure_ascii=False, sort_keys=True)
                    if evidence is not None
                    else None
                ),
            )
        )
    for f in data.get("feedback", []):
        db.session.add(_make(ResponseFeedback, f, user_id=by.id))


def _tracing_models() -> tuple:
    from consult.tracing.models import (
        ResponseFeedback,
        ResponseGroup,
        ResponseGroupMember,
        StoredUptake,
    )

    return (ResponseGroup, ResponseGroupMember, StoredUptake, ResponseFeedback)


def _translation_models() -> tuple:
    from consult.translations.models import TranslatedParagraph, Translation

    return (Translation, TranslatedParagraph)


def _advance_sequences() -> None:
    """On PostgreSQL, rows inserted with their identifiers leave the sequences behind."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (
        Document,
        Organisation,
        Version,
        Paragraph,
        LineageLink,
        Comment,
        CommentRevision,
        CommentWithdrawal,
        CoSignature,
        ModerationAction,
        Response,
        Event,
        *_tracing_models(),
        *_translation_models(),
    ):
        table = model.__table__.name
        # Table names come from our own models, never from input.
        sql = (
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
        )
        db.session.execute(text(sql))
