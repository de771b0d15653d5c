"""JSON API v1 of the record, so that anyone can run a monitor: the signed tree heads,
inclusion and consistency proofs (RFC 9162), the entries page by page, and receipts.
Added to the API blueprint of consult.api.routes; all read-only and public.

- GET /record/heads[?page=]: the signed tree heads, newest first, and the public key.
- GET /record/heads/<size>: the (first) head signed for a tree of that size.
- GET /record/proofs/inclusion?leaf=<index>&size=<n>: the audit path of leaf `index`
  in the tree of the first n entries (n: the newest head's size when left out).
- GET /record/proofs/consistency?from=<m>&to=<n>: that the tree of n entries extends
  the tree of m; the signed heads of both sizes where there are.
- GET /record/entries?start=<leaf>&limit=<k>: the entries with what recomputes their
  leaf hashes, in leaf order.
- GET /record/receipts/<tracking>: a comment's receipt (what verify_standalone.py reads).
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import Field
from sqlalchemy import func, select

from consult.api.contract import INT32_MAX, Query, operation
from consult.api.routes import bp
from consult.api.schemas import Answer, DateTime
from consult.converters import MAX_ID
from consult.errors import ConsultError, NotFound
from consult.extensions import db
from consult.record import keys
from consult.record import log as tree_log
from consult.record.models import Event, TreeHead
from consult.record.receipts import receipt_for, receipt_json
from consult.record.verify_standalone import key_id

HEADS_PER_PAGE = 100
ENTRIES_MAX = 1_000
#: Leaf indexes and tree sizes: whole numbers from 0 (BIGINT columns).
# A leaf index or tree size: what the event's sequence column holds (a 32-bit integer).
Size = Annotated[int, Field(ge=0, le=MAX_ID)]
Hex = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]


class RecordRange(ConsultError):
    """A leaf or size beyond the tree."""

    def __init__(self, message: str):
        super().__init__(message, code="out_of_range", status=400)


# --- contracts -------------------------------------------------------------------------------


class HeadsQuery(Query):
    page: Annotated[int, Field(ge=1, le=INT32_MAX)] = Field(1, description="Page from 1.")


class InclusionQuery(Query):
    leaf: Size = Field(description="The entry's leaf index (its seq − 1).")
    size: Size | None = Field(
        None, description="The tree size to prove against; the newest signed head's size."
    )


class ConsistencyQuery(Query):
    first: Size = Field(alias="from", description="The earlier tree size.")
    second: Size = Field(alias="to", description="The later tree size.")


class EntriesQuery(Query):
    start: Size = Field(0, description="The first leaf index.")
    limit: Annotated[int, Field(ge=1, le=ENTRIES_MAX)] = Field(
        100, description=f"How many entries, at most {ENTRIES_MAX}."
    )


class TreeHeadAnswer(Answer):
    """A signed tree head: Ed25519 over the canonical JSON
    ['consult-tree-head-v1', tree_size, root_hash, timestamp]."""

    tree_size: int
    root_hash: Hex
    timestamp: int = Field(description="Milliseconds since 1970-01-01 UTC, as signed.")
    signed_at: DateTime
    reason: str = Field(
        description="interval, publication, closing, finalisation, rotation, receipts or command."
    )
    about: str
    key_id: str
    public_key: Hex
    signature: str


class RecordKey(Answer):
    key_id: str
    public_key: Hex
    retired_at: DateTime | None = Field(
        description="When the key stopped signing (null for the key in use): heads it signed "
        "later are not to be trusted."
    )


class HeadList(Answer):
    public_key: Hex
    key_id: str
    keys: list[RecordKey] = Field(
        description="Every key the record trusts: the one in use, then retired ones."
    )
    tree_size: int = Field(description="Entries in the tree now (signed or not yet).")
    root_hash: Hex
    total: int
    page: int
    per_page: int
    heads: list[TreeHeadAnswer]


class InclusionAnswer(Answer):
    leaf_index: int
    tree_size: int
    leaf_hash: Hex
    root_hash: Hex
    audit_path: list[Hex] = Field(description="RFC 9162 PATH(leaf, D[size]), leaf up.")
    tree_head: TreeHeadAnswer | None = Field(description="The head signed at this size.")


class ConsistencyAnswer(Answer):
    first: int = Field(alias="from")
    second: int = Field(alias="to")
    first_root: Hex
    second_root: Hex
    proof: list[Hex] = Field(description="RFC 9162 PROOF(from, D[to]).")
    first_head: TreeHeadAnswer | None
    second_head: TreeHeadAnswer | None


class EntryAnswer(Answer):
    leaf_index: int
    seq: int
    kind: str
    created_at: str
    subject_type: str
    subject_id: int
    payload: str
    prev_hash: str | None
    hash: str | None = Field(description="The chain hash of an event recorded before the tree.")
    leaf_hash: Hex


class EntryList(Answer):
    start: int
    limit: int
    tree_size: int
    entries: list[EntryAnswer]
    links: dict[str, str]


class ReceiptAnswer(Answer):
    format: str
    tracking: str
    content_hash: str
    entry: EntryAnswer | None
    leaf_index: int | None
    tree_head: TreeHeadAnswer | None
    inclusion_proof: list[Hex] | None
    public_key: Hex
    status: str = Field(description="included, pending (no head covers it yet) or mismatch.")


# --- views -----------------------------------------------------------------------------------


def _size_now() -> int:
    return tree_log.state()[0]


def _check_size(size: int) -> None:
    now = _size_now()
    if size > now:
        raise RecordRange(
            _(
                "The record's tree holds %(now)s entries; there is no tree of %(size)s.",
                now=now,
                size=size,
            )
        )


@bp.get("/record/heads")
@operation(
    summary="The record's signed tree heads, newest first",
    tag="record",
    query=HeadsQuery,
    answer=HeadList,
)
def record_heads(query: HeadsQuery) -> ResponseReturnValue:
    """Every head ever signed (kept forever), page by page, with the public key that
    signs them and the tree's current size and root."""
    total = db.session.scalar(select(func.count(TreeHead.id))) or 0
    heads = db.session.scalars(
        select(TreeHead)
        .order_by(TreeHead.id.desc())
        .offset((query.page - 1) * HEADS_PER_PAGE)
        .limit(HEADS_PER_PAGE)
    )
    size, root = tree_log.state()
    public_key = keys.public_key_hex()
    return jsonify(
        public_key=public_key,
        key_id=key_id(public_key),
        keys=[k.as_json() for k in keys.known_keys()],
        tree_size=size,
        root_hash=root,
        total=total,
        page=query.page,
        per_page=HEADS_PER_PAGE,
        heads=[tree_log.head_json(h) for h in heads],
    )


@bp.get("/record/heads/<int:size>")
@operation(
    summary="The signed tree head of a tree size",
    tag="record",
    answer=TreeHeadAnswer,
    errors=(404,),
)
def record_head(size: int) -> ResponseReturnValue:
    h = tree_log.head_of_size(size)
    if h is None:
        raise NotFound(_("No tree head was signed for a tree of %(size)s entries.", size=size))
    return jsonify(tree_log.head_json(h))


@bp.get("/record/proofs/inclusion")
@operation(
    summary="An inclusion proof of an entry in a tree size",
    tag="record",
    query=InclusionQuery,
    answer=InclusionAnswer,
    errors=(400, 404),
)
def record_inclusion(query: InclusionQuery) -> ResponseReturnValue:
    size = query.size
    if size is None:
        newest = tree_log.newest_head()
        if newest is None:
            raise NotFound(_("No tree head is signed yet; give size=."))
        size = newest.tree_size
    _check_size(size)
    if query.leaf >= size:
        raise RecordRange(
            _("Leaf %(leaf)s is not in a tree of %(size)s entries.", leaf=query.leaf, size=size)
        )
    leaf = db.session.scalar(select(Event.leaf_hash).where(Event.seq == query.leaf + 1))
    head = tree_log.head_of_size(size)
    return jsonify(
        leaf_index=query.leaf,
        tree_size=size,
        leaf_hash=leaf,
        root_hash=head.root_hash if head else tree_log.root_at(size),
        audit_path=tree_log.inclusion_proof(query.leaf, size),
        tree_head=tree_log.head_json(head) if head else None,
    )


@bp.get("/record/proofs/consistency")
@operation(
    summary="A consistency proof between two tree sizes",
    tag="record",
    query=ConsistencyQuery,
    answer=ConsistencyAnswer,
    errors=(400,),
)
def record_consistency(query: ConsistencyQuery) -> ResponseReturnValue:
    """That the tree of `to` entries only appended to the tree of `from` entries; with
    the signed heads of both sizes, where heads were signed at them."""
    if query.first > query.second:
        raise RecordRange(
            _(
                "'from' (%(first)s) must not be larger than 'to' (%(second)s).",
                first=query.first,
                second=query.second,
            )
        )
    _check_size(query.second)
    first, second = tree_log.head_of_size(query.first), tree_log.head_of_size(query.second)
    return jsonify(
        {
            "from": query.first,
            "to": query.second,
            "first_root": tree_log.root_at(query.first),
            "second_root": tree_log.root_at(query.second),
            "proof": tree_log.consistency_proof(query.first, query.second),
            "first_head": tree_log.head_json(first) if first else None,
            "second_head": tree_log.head_json(second) if second else None,
        }
    )


@bp.get("/record/entries")
@operation(
    summary="The record's entries in leaf order, page by page",
    tag="record",
    query=EntriesQuery,
    answer=EntryList,
)
def record_entries(query: EntriesQuery) -> ResponseReturnValue:
    """Each entry with the fields that recompute its leaf hash
    (verify_standalone.entry_leaf_bytes); a monitor rebuilds the tree from them."""
    rows = db.session.scalars(
        select(Event)
        .where(Event.seq > query.start, Event.seq <= min(query.start + query.limit, MAX_ID))
        .order_by(Event.seq)
    ).all()
    size = _size_now()
    links: dict[str, Any] = {}
    if query.start + query.limit < size:
        links["next"] = url_for(
            "api.record_entries", start=query.start + query.limit, limit=query.limit
        )
    return jsonify(
        start=query.start,
        limit=query.limit,
        tree_size=size,
        entries=[tree_log.entry_json(e) for e in rows],
        links=links,
    )


@bp.get("/record/receipts/<tracking>")
@operation(
    summary="A comment's receipt: its entry, leaf index, inclusion proof and signed head",
    tag="record",
    answer=ReceiptAnswer,
    errors=(404,),
)
def record_receipt(tracking: str) -> ResponseReturnValue:
    """Proved against the newest signed head: ask again later for a fresh proof. Check it
    offline with verify_standalone.py (in every open-data zip)."""
    return jsonify(receipt_json(receipt_for(tracking)))
