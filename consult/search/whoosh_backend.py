"""The Whoosh backend: the embedded default, an index directory under instance/.

Writing. Whoosh allows one writer per index, and its own lock fails at once or
retries in threads that die with a recycled worker. So every write happens
inside `exclusive()`: an OS file lock beside the index (released by the kernel
if the process dies), waited for a bounded time; on timeout IndexBusy is raised
and the outbox rows stay for the next drain. Inside it the index is opened (or
created: creation is under the lock too), the entries are read from the
database (after the lock is taken, so they are at least as new as any change a
previous writer applied) and committed; the drain deletes its outbox rows only
after the index commit. A rebuild writes every entry in one writer and commits
with CLEAR, so readers see the old index until the new one is complete.

Reading. The words are one `content` field (stemmed, with positions for
phrases); filters are ID fields with columns. Facet counts come from the
matching document numbers and per-segment arrays of column values, cached by
segment (segments never change once written), counted with Counter in C.
Snippets are cut around the first matches of the stored texts.
"""

from __future__ import annotations

import heapq
import logging
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from html import escape

from sqlalchemy.orm import Session
from whoosh import columns, index, writing
from whoosh import query as wq
from whoosh.analysis import STOP_WORDS, StemmingAnalyzer
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.lang.porter import stem
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.filelock import FileLock, try_for

from consult.search import entries as E
from consult.search.base import Backend, IndexBusy
from consult.search.query import Term
from consult.search.results import RAW_FACETS, Found, FoundHit, Spec

log = logging.getLogger(__name__)


class _Key(ID):
    """An ID field with a length column. Whoosh looks a field's length column up for
    every posting it writes and, when there is none, asks the file system each time;
    with a column the answer is cached, which halves the time to index."""

    scorable = True


ANALYZER = StemmingAnalyzer()
SCHEMA = Schema(
    key=ID(unique=True, stored=True),
    type=_Key(stored=True, sortable=True),
    object_id=STORED(),
    document=_Key(sortable=True),
    version_id=_Key(sortable=True),
    version=_Key(sortable=True),
    organisation=_Key(sortable=True),
    kind=_Key(sortable=True),
    decision=_Key(sortable=True),
    month=_Key(sortable=True),
    day=_Key(),  # YYYYMMDD, for date ranges
    draft=_Key(sortable=True),
    visible=_Key(sortable=True),
    ts=COLUMN(columns.NumericColumn("q", default=0)),  # seconds since 1970, for sorting
    content=TEXT(analyzer=ANALYZER, phrase=True),
    title=STORED(),
    body=STORED(),
    suggested=STORED(),
    quote=STORED(),
    response=STORED(),
)
#: Columns read into memory (per segment, once) for filters, facets and sorting by date.
COLUMNS = (*RAW_FACETS, "version_id", "draft", "visible", "ts")
LOCK_NAME = "consult-writer.lock"
PARTS = ("body", "suggested", "quote", "response", "title")
SNIPPET = 240  # characters of a snippet


def _fields(e: E.Entry) -> dict:
    doc = {
        "key": e.key,
        "type": e.doc_type,
        "object_id": e.object_id,
        "month": e.month,
        "day": e.created_at.strftime("%Y%m%d"),
        "ts": e.timestamp,
        "draft": "1" if e.draft else "0",
        "visible": "1" if e.visible_to_public else "0",
        "content": e.content(),
        "title": e.title,
        "body": e.body,
        "suggested": e.suggested,
        "quote": e.quote,
        "response": e.response,
    }
    optional = {
        "document": e.document_id,
        "version_id": e.version_id,
        "version": e.version_number,
        "organisation": e.organisation_id,
        "kind": e.comment_kind,
        "decision": e.decision,
    }
    doc.update({k: str(v) for k, v in optional.items() if v is not None and v != ""})
    return doc


def _stems(text: str) -> list[str]:
    return [t.text for t in ANALYZER(text)]


def _item_query(item) -> wq.Query | None:
    words = [item.word] if isinstance(item, Term) else list(item.words)
    stems = [s for w in words for s in _stems(w)]
    if not stems:
        return None  # only stop words
    if len(stems) == 1:
        return wq.Term("content", stems[0])
    return wq.Phrase("content", stems)


def _any(field: str, values: Iterable) -> wq.Query:
    terms = [wq.Term(field, str(v)) for v in sorted(values, key=str)]
    return wq.Or(terms) if len(terms) != 1 else terms[0]


# --- snippets -------------------------------------------------------------------------------

_WORD = re.compile(r"\w+(?:\.?\w+)*")  # the tokens of Whoosh's RegexTokenizer


@lru_cache(maxsize=100_000)
def _stem_of(word: str) -> str | None:
    lower = word.lower()
    return None if lower in STOP_WORDS else stem(lower)


def snippet(text: str, stems: set[str], size: int = SNIPPET) -> str | None:
    """About `size` characters of `text` around its first match, escaped, with every
    matching word in <mark>; None when no word matches."""
    matches = [m for m in _WORD.finditer(text) if _stem_of(m.group()) in stems]
    if not matches:
        return None
    start = max(0, matches[0].start() - size // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < matches[0].start() else matches[0].start()
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > matches[0].end() else end
    out, pos = ["…" if start else ""], start
    for m in matches:
        if m.start() < start:
            continue
        if m.end() > end:
            break
        out += [
            escape(text[pos : m.start()], quote=False),
            "<mark>",
            escape(m.group(), quote=False),
            "</mark>",
        ]
        pos = m.end()
    out += [escape(text[pos:end], quote=False), "…" if end < len(text) else ""]
    return "".join(out)


def plain(text: str, size: int = SNIPPET) -> str:
    return escape(text[:size], quote=False) + ("…" if len(text) > size else "")


# Per-segment column arrays: {(index path, segment id): {field: values by docnum}}.
_columns_cache: dict[tuple[str, str], dict[str, list]] = {}
_cache_lock = threading.Lock()


def _segment_columns(path: str, reader) -> dict[str, list]:
    key = (path, reader.segment().segment_id())
    cols = _columns_cache.get(key)
    if cols is None:
        # Interned, so that a million rows of "comment" are one string.
        cols = {
            f: [sys.intern(v) if isinstance(v, str) else v for v in reader.column_reader(f)]
            for f in COLUMNS
        }
        with _cache_lock:
            _columns_cache[key] = cols
    return cols


def _leaf_ids(matcher) -> Iterable[int]:
    """The document numbers of a term's postings, a block at a time. Whoosh's own
    all_ids() steps through postings one Python call each; for terms found in most
    documents this reads the block arrays directly (generic path for other matchers)."""
    if not isinstance(matcher, W3LeafMatcher):
        return matcher.all_ids()
    ids: list[int] = []
    while matcher.is_active():
        matcher._read_ids()
        ids.extend(matcher._ids)
        matcher._next_block()
    return ids


class WhooshBackend(Backend):
    name = "whoosh"

    def __init__(self, path: str):
        self.path = path

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def exclusive(self, session: Session | None = None, timeout: float = 5.0):
        os.makedirs(self.path, exist_ok=True)
        lock = FileLock(os.path.join(self.path, LOCK_NAME))
        if not try_for(lock.acquire, timeout=timeout, delay=0.05):
            raise IndexBusy(f"the search index at {self.path} is being written by another process")
        try:
            yield
        finally:
            lock.release()

    def _open_for_writing(self):
        """Open the index, creating it (or recreating it when its schema is outdated).
        Only called inside exclusive()."""
        if index.exists_in(self.path):
            ix = index.open_dir(self.path)
            if ix.schema.names() == SCHEMA.names():
                return ix
            log.warning(
                "the search index at %s has an old schema: recreated; run reindex", self.path
            )
        return index.create_in(self.path, SCHEMA)

    def write(self, session: Session, pairs: list[tuple[str, E.Entry | None]]) -> None:
        ix = self._open_for_writing()
        # We hold exclusive(); Whoosh's own lock is free unless something bypasses ours.
        writer = ix.writer(timeout=1.0)
        try:
            for key, entry in pairs:
                if entry is None:
                    writer.delete_by_term("key", key)
                else:
                    writer.update_document(**_fields(entry))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise

    def write_all(self, session: Session, batches: Iterator[list[E.Entry]]) -> None:
        ix = self._open_for_writing()
        writer = ix.writer(timeout=1.0, limitmb=256)
        try:
            for batch in batches:
                for entry in batch:
                    writer.add_document(**_fields(entry))
            # CLEAR drops every earlier segment in the same commit: readers switch from
            # the old index to the complete new one at once.
            writer.commit(mergetype=writing.CLEAR)
        except BaseException:
            writer.cancel()
            raise

    # --- reading ---------------------------------------------------------------------------

    def _open_for_reading(self):
        if not index.exists_in(self.path):
            return None
        ix = index.open_dir(self.path)
        if ix.schema.names() != SCHEMA.names():
            log.warning("the search index at %s has an old schema; run reindex", self.path)
            return None
        return ix

    def _columns(self, searcher) -> dict[str, list]:
        """Column values of every document of the searcher (all segments), by field."""
        leaves = list(searcher.reader().leaf_readers())
        if len(leaves) == 1:
            return _segment_columns(self.path, leaves[0][0])
        merged: dict[str, list] = {f: [] for f in COLUMNS}
        live = set()
        for reader, _offset in leaves:
            live.add((self.path, reader.segment().segment_id()))
            for f, values in _segment_columns(self.path, reader).items():
                merged[f].extend(values)
        with _cache_lock:
            for stale in [k for k in _columns_cache if k[0] == self.path and k not in live]:
                del _columns_cache[stale]
        return merged

    def _docs(self, searcher, q: wq.Query) -> set[int]:
        """Document numbers (live ones) matching a word or phrase query."""
        if not isinstance(q, wq.Term):
            return set(searcher.docs_for_query(q))
        out: set[int] = set()
        for reader, offset in searcher.reader().leaf_readers():
            if (q.fieldname, q.text) not in reader:
                continue
            matcher = reader.postings(q.fieldname, q.text)
            if isinstance(matcher, FilterMatcher):  # the deleted documents, taken out below
                matcher = matcher.child
            ids = _leaf_ids(matcher)
            found = set(ids) if not offset else {i + offset for i in ids}
            if reader.has_deletions():
                found -= {d + offset for d in reader.deleted_docs_set}
            out |= found
        return out

    def _live(self, searcher) -> set[int]:
        out: set[int] = set()
        for reader, offset in searcher.reader().leaf_readers():
            docs = set(range(offset, offset + reader.doc_count_all()))
            if reader.has_deletions():
                docs -= {d + offset for d in reader.deleted_docs_set}
            out |= docs
        return out

    def _candidates(self, s, spec: Spec, groups: list[list[wq.Query]]) -> list[int]:
        """The document numbers of the search: words as posting sets, then every filter
        and visibility rule on the column arrays of the candidates."""
        cand: set[int] | None = None
        for group in sorted(groups, key=len):
            docs: set[int] = set()
            for q in group:
                docs |= self._docs(s, q)
            cand = docs if cand is None else cand & docs
            if not cand:
                return []
        if cand is None:
            cand = self._live(s)
        for item in spec.excluded:
            q = _item_query(item)
            if q is not None:
                cand -= self._docs(s, q)
        cols = self._columns(s)
        docs = list(cand)
        for name, values in spec.filters.items():
            col, allowed = cols[name], {str(v) for v in values}
            docs = [d for d in docs if col[d] in allowed]
        for name, values in spec.exclude.items():
            col, refused = cols[name], {str(v) for v in values}
            docs = [d for d in docs if col[d] not in refused]
        ts = cols["ts"]
        if spec.date_from:
            start = E.Entry("x", 0, spec.date_from).timestamp
            docs = [d for d in docs if ts[d] >= start]
        if spec.date_to:
            end = E.Entry("x", 0, spec.date_to).timestamp
            docs = [d for d in docs if ts[d] < end]
        types, versions = cols["type"], cols["version_id"]
        if spec.versions is not None:
            latest = {str(v) for v in spec.versions}
            docs = [
                d for d in docs if types[d] in ("organisation", "document") or versions[d] in latest
            ]
        visible, draft = cols["visible"], cols["draft"]
        drafts = {str(v) for v in spec.draft_versions}
        return [d for d in docs if visible[d] != "0" and (draft[d] != "1" or versions[d] in drafts)]

    def run(self, spec: Spec, words: Iterable[str] = ()) -> Found:
        groups = [[q for q in (_item_query(i) for i in g) if q is not None] for g in spec.groups]
        groups = [g for g in groups if g]
        if spec.groups and not groups:
            return Found(0, [], empty_query=True)
        if any(not values for values in spec.filters.values()):
            return Found(0, [])
        ix = self._open_for_reading()
        if ix is None:
            return Found(0, [])
        with ix.searcher() as s:
            docs = self._candidates(s, spec, groups)
            cols = self._columns(s)
            facets: dict[str, dict] = {}
            if spec.facets and docs:
                for name in RAW_FACETS:
                    counts = Counter(map(cols[name].__getitem__, docs))
                    counts.pop("", None)
                    counts.pop(None, None)
                    facets[name] = dict(counts)
            end = spec.offset + spec.limit
            top: list[tuple[int, float]] = []
            if spec.offset < len(docs) and spec.limit > 0:
                if spec.sort == "relevance" and groups:
                    text = [wq.Or(g) if len(g) > 1 else g[0] for g in groups]
                    query = wq.And(text) if len(text) > 1 else text[0]
                    # Whoosh ranks (BM25F) only among the candidates, skipping blocks
                    # that cannot reach the top.
                    res = s.search(query, limit=end, filter=set(docs), terms=False)
                    top = [(h.docnum, float(h.score or 0.0)) for h in res[spec.offset : end]]
                else:
                    ts = cols["ts"]
                    pick = heapq.nsmallest if spec.sort == "oldest" else heapq.nlargest
                    chosen = pick(end, docs, key=ts.__getitem__)
                    top = [(d, 0.0) for d in chosen[spec.offset : end]]
            stems = {st for w in words for st in _stems(w)}
            hits = [self._hit(s.stored_fields(d), score, stems) for d, score in top]
            return Found(len(docs), hits, facets)

    def _hit(self, fields: dict, score: float, stems: set[str]) -> FoundHit:
        text, part = None, "body"
        if stems:
            for part in PARTS:
                if fields.get(part):
                    text = snippet(fields[part], stems)
                    if text:
                        break
        if text is None:
            part = next((p for p in PARTS if fields.get(p)), "body")
            text = plain(fields.get(part) or "")
        return FoundHit(fields["type"], fields["object_id"], score, text, part)

    def keys(self) -> Iterator[str]:
        ix = self._open_for_reading()
        if ix is None:
            return iter(())
        with ix.searcher() as s:
            return iter(sorted(fields["key"] for fields in s.all_stored_fields()))
