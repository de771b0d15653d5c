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

What is indexed. Whoosh stores the entries and their postings; the analysis is
ours (`analyse`: words with their combining marks, Thai, Lao, Khmer and Burmese
split into dictionary words by segment.py, lowercased, stop words out, Porter
stems) and
one field, `words`, holds each entry's stems and its pairs of consecutive stems
("civil+societi"), without positions. A phrase is found as all its pairs: as
good as positions in practice, and frequency-only postings read many times
faster than postings with positions. Filters are ID fields with columns.

Reading. Whoosh's matchers step through postings one Python call at a time,
which is slow for words found in tens of thousands of entries; so a search reads
the postings of its words block by block into numpy arrays (postings are written
in blocks of 1,024 rather than Whoosh's 128, for fewer reads), keeps a mask over
every document, applies the words, filters and visibility to it as vectorised
operations on column arrays (read once per segment and cached: segments never
change), counts facets with bincount, and ranks the candidates with Whoosh's
BM25F formula and statistics. The searcher is kept open per thread until the
next commit. Snippets are cut around the first matches.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from html import escape

import numpy as np
from sqlalchemy.orm import Session
from whoosh import columns, index, scoring, writing
from whoosh.analysis import STOP_WORDS, SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.lang.porter import stem
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.filelock import FileLock, try_for

from consult.search import entries as E
from consult.search import segment
from consult.search.base import Backend, IndexBusy
from consult.search.query import Item, Term
from consult.search.results import EXACT_LIMIT, RAW_FACETS, Found, FoundHit, Spec

log = logging.getLogger(__name__)

#: The name of the index in its directory; a new name for every change of the schema or
#: of the analysis, so that an index made by an older version is never read (reindex).
#: Segments as separate files, not one compound file: Whoosh opens a file inside a
#: compound file by copying it into memory (BytesIO), so every new reader or writer
#: (after each commit) would copy the whole index; separate files are read in place.
COMPOUND = False
INDEX_NAME = "consult5"
LOCK_NAME = "consult-writer.lock"
#: Tries to open the newest commit while writers keep committing (each may remove the
#: table of contents just listed).
OPEN_ATTEMPTS = 5
PAIR = "+"  # joins the stems of a pair; never part of a stem
#: Postings in blocks of 1,024: reading a block costs a seek and two unpicklings whatever
#: its size, and we never skip blocks (readers accept any block size).
CODEC = W3Codec(blocklimit=1024)


class _Key(ID):
    """An ID field with a length column. Whoosh looks a field's length column up for
    every posting it writes and, when there is none, asks the file system each time;
    with a column the answer is cached, which halves the time to index."""

    scorable = True


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
    language=_Key(sortable=True),
    #: A comment's theme ids (consult.analysis), space-separated: several per comment.
    themes=KEYWORD(),
    month=_Key(sortable=True),
    draft=_Key(sortable=True),
    visible=_Key(sortable=True),
    ts=COLUMN(columns.NumericColumn("q", default=0)),  # seconds since 1970, for sorting
    words=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
    title=STORED(),
    body=STORED(),
    suggested=STORED(),
    quote=STORED(),
    response=STORED(),
    attachments=STORED(),
)
#: Text columns read into memory (per segment, once) for filters and facets; beside them
#: the time ("ts", for sorting by date) and the length of `words` (for ranking).
TEXT_COLUMNS = (*RAW_FACETS, "version_id", "draft", "visible")
PARTS = ("body", "suggested", "quote", "response", "title", "attachments")
SNIPPET = 240  # characters of a snippet


# --- analysis -------------------------------------------------------------------------------

# The tokens of Whoosh's RegexTokenizer, with combining marks kept in their words (and the
# same without them for ASCII text, which has none: a smaller character class runs faster).
_WORD = re.compile(f"{segment.WORD_CHAR}+(?:\\.?{segment.WORD_CHAR}+)*")
_ASCII_WORD = re.compile(r"\w+(?:\.?\w+)*")


@lru_cache(maxsize=200_000)
def _stem_of(token: str) -> str | None:
    lower = segment.normal(token)
    if len(lower) < 2 or lower in STOP_WORDS:
        return None
    return lower if segment.has_unspaced(lower) else stem(lower)


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each token of `text`, the runs of an unspaced script split into
    their words."""
    for m in _WORD.finditer(text):
        token = m.group()
        if segment.has_unspaced(token):
            yield from ((m.start() + a, m.start() + b) for a, b in segment.word_spans(token))
        else:
            yield m.span()


def analyse(text: str) -> list[str]:
    """The stems of a text, in order (what Whoosh's StemmingAnalyzer gives, with Thai,
    Lao, Khmer and Burmese split into words)."""
    if text.isascii():
        return [s for s in map(_stem_of, _ASCII_WORD.findall(text)) if s]
    if not segment.has_unspaced(text):
        return [s for s in map(_stem_of, _WORD.findall(text)) if s]
    text = unicodedata.normalize("NFC", text)
    return [s for s in (_stem_of(text[a:b]) for a, b in _spans(text)) if s]


def _indexed(text: str) -> str:
    stems = analyse(text)
    return " ".join([*stems, *(a + PAIR + b for a, b in zip(stems, stems[1:], strict=False))])


def _required(item: Item) -> list[str]:
    """The terms an entry must hold to match a word or a phrase ([] for stop words)."""
    stems = analyse(item.word if isinstance(item, Term) else " ".join(item.words))
    if len(stems) <= 1:
        return stems
    return [a + PAIR + b for a, b in zip(stems, stems[1:], strict=False)]


def _fields(e: E.Entry) -> dict:
    doc = {
        "key": e.key,
        "type": e.doc_type,
        "object_id": e.object_id,
        "month": e.month,
        "ts": e.timestamp,
        "draft": "1" if e.draft else "0",
        "visible": "1" if e.visible_to_public else "0",
        "words": _indexed(e.content()),
        "title": e.title,
        "body": e.body,
        "suggested": e.suggested,
        "quote": e.quote,
        "response": e.response,
        "attachments": e.attachments,
    }
    optional = {
        "document": e.document_id,
        "version_id": e.version_id,
        "version": e.version_number,
        "organisation": e.organisation_id,
        "kind": e.comment_kind,
        "decision": e.decision,
        "language": e.language,
        "themes": " ".join(str(t) for t in e.themes),
    }
    doc.update({k: str(v) for k, v in optional.items() if v is not None and v != ""})
    return doc


# --- snippets -------------------------------------------------------------------------------


def snippet(text: str, stems: set[str], size: int = SNIPPET) -> str | None:
    """About `size` characters of `text` around its first match, escaped, with every
    matching word in <mark>; None when no word matches."""
    if segment.has_unspaced(text):
        text = unicodedata.normalize("NFC", text)
    matches = [(a, b) for a, b in _spans(text) if _stem_of(text[a:b]) in stems]
    if not matches:
        return None
    first_start, first_end = matches[0]
    start = max(0, first_start - size // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first_start else first_start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first_end else end
    out, pos = ["…" if start else ""], start
    for a, b in matches:
        if a < start:
            continue
        if b > end:
            break
        out += [escape(text[pos:a], quote=False), "<mark>"]
        out += [escape(text[a:b], quote=False), "</mark>"]
        pos = b
    out += [escape(text[pos:end], quote=False), "…" if end < len(text) else ""]
    return "".join(out)


def plain(text: str, size: int = SNIPPET) -> str:
    return escape(text[:size], quote=False) + ("…" if len(text) > size else "")


# --- reading postings and columns fast ------------------------------------------------------

# Per-segment columns, read once (segments never change): {(index path, segment id): _Columns}.
_columns_cache: dict[tuple[str, str], _Columns] = {}
_cache_lock = threading.Lock()
_searchers = threading.local()  # per thread: {index path: (TOC identity, searcher)}


class _Columns:
    """Column values of a run of documents as arrays: each text column as codes into its
    list of values (so that a filter is one vectorised comparison and a facet one
    bincount), the timestamps, and the length of the `words` field."""

    def __init__(self, values: dict[str, list], codes: dict[str, np.ndarray], ts, lengths):
        self.values = values  # column → [value of code 0, value of code 1, …]
        self.codes = codes  # column → code of each document
        self.ts = ts
        self.lengths = lengths
        self._code_of = {f: {v: i for i, v in enumerate(vs)} for f, vs in values.items()}

    @classmethod
    def of_segment(cls, reader) -> _Columns:
        n = reader.doc_count_all()
        values, codes = {}, {}
        for f in TEXT_COLUMNS:
            seen: dict = {}
            codes[f] = np.fromiter(
                (seen.setdefault(v, len(seen)) for v in reader.column_reader(f)),
                dtype=np.int32,
                count=n,
            )
            values[f] = list(seen)
        ts = np.fromiter(reader.column_reader("ts"), dtype=np.int64, count=n)
        lengths = np.fromiter(
            (reader.doc_field_length(d, "words") for d in range(n)), dtype=np.float64, count=n
        )
        return cls(values, codes, ts, lengths)

    @classmethod
    def empty(cls) -> _Columns:
        """No documents: an index whose commit holds no segment yet."""
        return cls(
            {f: [] for f in TEXT_COLUMNS},
            {f: np.zeros(0, dtype=np.int32) for f in TEXT_COLUMNS},
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.float64),
        )

    @classmethod
    def merged(cls, parts: list[_Columns]) -> _Columns:
        """The columns of several segments end to end, with codes made common."""
        if len(parts) == 1:
            return parts[0]
        values, codes = {}, {}
        for f in TEXT_COLUMNS:
            common: dict = {}
            for part in parts:
                for v in part.values[f]:
                    common.setdefault(v, len(common))
            values[f] = list(common)
            codes[f] = np.concatenate(
                [
                    np.array([common[v] for v in part.values[f]], dtype=np.int32)[part.codes[f]]
                    for part in parts
                ]
            )
        ts = np.concatenate([p.ts for p in parts])
        return cls(values, codes, ts, np.concatenate([p.lengths for p in parts]))

    def isin(self, column: str, values: Iterable) -> np.ndarray:
        """A mask of the documents whose `column` holds one of `values`."""
        wanted = [self._code_of[column][v] for v in values if v in self._code_of[column]]
        return np.isin(self.codes[column], wanted)

    def counts(self, column: str, docs: np.ndarray) -> dict:
        """{value: number of `docs` with it}, without empty values."""
        found = np.bincount(self.codes[column][docs], minlength=len(self.values[column]))
        names = self.values[column]
        return {
            names[i]: int(found[i]) for i in np.flatnonzero(found) if names[i] not in ("", None)
        }


def _segment_columns(path: str, reader) -> _Columns:
    if reader.segment() is None:  # an empty reader (a commit with no segment) has no columns
        return _Columns.empty()
    key = (path, reader.segment().segment_id())
    cols = _columns_cache.get(key)
    if cols is None:
        cols = _Columns.of_segment(reader)
        with _cache_lock:
            _columns_cache[key] = cols
    return cols


def _postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, term frequencies) of a term's postings as arrays, read a block
    at a time from the W3 codec's block data (the generic matcher calls otherwise)."""
    if not isinstance(matcher, W3LeafMatcher):
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)
    id_blocks, weight_blocks = [], []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        # A block holds (ids as deltas, weights: a tuple, one float for all, or None for 1.0).
        deltas, weights = matcher._data[0], matcher._data[1]
        id_blocks.append(np.cumsum(np.array(deltas, dtype=np.int64)))
        if isinstance(weights, tuple | list):
            weight_blocks.append(np.array(weights, dtype=np.float64))
        else:
            weight_blocks.append(np.full(len(deltas), 1.0 if weights is None else weights))
        matcher._next_block()
    if not id_blocks:
        return np.empty(0, dtype=np.int64), np.empty(0)
    return np.concatenate(id_blocks), np.concatenate(weight_blocks)


def _toc_identity(path: str) -> tuple | None:
    """The latest table of contents of the index: its name, inode and mtime change
    whenever a writer commits or the index is made again."""
    prefix = f"_{INDEX_NAME}_"
    try:
        tocs = [n for n in os.listdir(path) if n.startswith(prefix) and n.endswith(".toc")]
        if not tocs:
            return None
        name = max(tocs, key=lambda n: int(n[len(prefix) : -4]))
        st = os.stat(os.path.join(path, name))
    except (FileNotFoundError, ValueError):
        return None
    return name, st.st_ino, st.st_mtime_ns


def _hold_files(searcher) -> None:
    """Open now what a searcher would open on first use, the stored fields of each
    segment: a writer's merge removes the files of the segments it merged, and Whoosh
    then reads a stored-fields file that has gone as "no column" (a TypeError deep in
    it). An open file stays readable after it is removed."""
    for reader, _ in searcher.reader().leaf_readers():
        if not reader.doc_count_all():
            continue
        try:
            reader.stored_fields(0)
        except TypeError:
            searcher.close()
            raise FileNotFoundError(2, "a segment's stored fields went with a merge") from None


class WhooshBackend(Backend):
    name = "whoosh"

    def __init__(self, path: str, limit: int = EXACT_LIMIT):
        self.path = path
        #: Searches with more matches than this facet and rank only the `limit` newest
        #: (oldest, when sorting by oldest), as the PostgreSQL backend does: ranking and
        #: counting tens of thousands of matches in Python cannot be done in the time of a
        #: page. The total stays exact.
        self.limit = limit

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
        """Open the index, or create it. Only called inside exclusive()."""
        if index.exists_in(self.path, INDEX_NAME):
            return index.open_dir(self.path, INDEX_NAME)
        return index.create_in(self.path, SCHEMA, INDEX_NAME)

    def write(self, session: Session, pairs: list[tuple[str, E.Entry | None]]) -> None:
        ix = self._open_for_writing()
        # We hold exclusive(); Whoosh's own lock is free unless something bypasses ours.
        writer = ix.writer(timeout=1.0, compound=COMPOUND, codec=CODEC)
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
        writer = ix.writer(timeout=1.0, limitmb=256, compound=COMPOUND, codec=CODEC)
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

    def _searcher(self):
        """A searcher on the latest commit, kept open between the searches of this thread
        (opening one costs more than most searches) until the next commit."""
        cache = getattr(_searchers, "by_path", None)
        if cache is None:
            cache = _searchers.by_path = {}
        identity = _toc_identity(self.path)
        held = cache.get(self.path)
        if held is not None and identity is not None and held[0] == identity:
            return held[1]
        self._forget_searcher()  # the one of an older commit, if any
        for attempt in range(OPEN_ATTEMPTS):
            try:
                if identity is None or not index.exists_in(self.path, INDEX_NAME):
                    return None
                searcher = index.open_dir(self.path, INDEX_NAME).searcher()
                _hold_files(searcher)
                break
            except FileNotFoundError:
                # A writer committed between the listing of the tables of contents and
                # their reading, and removed the one picked (or a segment it names):
                # the newer one is there now.
                if attempt == OPEN_ATTEMPTS - 1:
                    raise
                identity = _toc_identity(self.path)
        cache[self.path] = (identity, searcher)
        return searcher

    def _forget_searcher(self) -> None:
        held = getattr(_searchers, "by_path", {}).pop(self.path, None)
        if held is not None:
            held[1].close()

    def _columns(self, searcher) -> _Columns:
        """Columns of every document of the searcher (all segments), kept on the searcher,
        which lives as long as its commit."""
        merged = getattr(searcher, "_consult_columns", None)
        if merged is not None:
            return merged
        leaves = list(searcher.reader().leaf_readers())
        live = {
            (self.path, reader.segment().segment_id())
            for reader, _ in leaves
            if reader.segment() is not None
        }
        merged = _Columns.merged([_segment_columns(self.path, reader) for reader, _ in leaves])
        with _cache_lock:
            for stale in [k for k in _columns_cache if k[0] == self.path and k not in live]:
                del _columns_cache[stale]
        searcher._consult_columns = merged
        return merged

    def _alive(self, searcher) -> np.ndarray:
        """A mask of the documents not deleted in the searcher's commit (kept on it)."""
        alive = getattr(searcher, "_consult_alive", None)
        if alive is None:
            alive = np.ones(searcher.doc_count_all(), dtype=bool)
            for reader, offset in searcher.reader().leaf_readers():
                if reader.has_deletions():
                    alive[[d + offset for d in reader.deleted_docs_set]] = False
            searcher._consult_alive = alive
        return alive

    def _term(self, searcher, term: str, memo: dict) -> tuple[np.ndarray, np.ndarray]:
        """Postings of a term of `words` in the whole index, in document order (deleted
        documents included: the candidates leave them out)."""
        if term not in memo:
            ids, weights = [], []
            for reader, offset in searcher.reader().leaf_readers():
                if ("words", term) not in reader:
                    continue
                matcher = reader.postings("words", term)
                if isinstance(matcher, FilterMatcher):  # it hides deleted documents
                    matcher = matcher.child
                seg_ids, seg_weights = _postings(matcher)
                ids.append(seg_ids + offset)
                weights.append(seg_weights)
            memo[term] = (
                (np.concatenate(ids), np.concatenate(weights))
                if ids
                else (np.empty(0, dtype=np.int64), np.empty(0))
            )
        return memo[term]

    def _tagged(self, searcher, theme_ids, size: int) -> np.ndarray:
        """A mask of the comments tagged with any of the themes (their postings)."""
        mask = np.zeros(size, dtype=bool)
        for reader, offset in searcher.reader().leaf_readers():
            for t in theme_ids:
                if ("themes", str(t)) not in reader:
                    continue
                matcher = reader.postings("themes", str(t))
                if isinstance(matcher, FilterMatcher):
                    matcher = matcher.child
                mask[_postings(matcher)[0] + offset] = True
        return mask

    def _matching(self, searcher, terms: list[str], memo: dict) -> np.ndarray:
        """The documents holding every one of `terms` (sorted document numbers)."""
        docs: np.ndarray | None = None
        for term in sorted(terms, key=lambda t: searcher.doc_frequency("words", t)):
            found = self._term(searcher, term, memo)[0]
            docs = found if docs is None else np.intersect1d(docs, found, assume_unique=True)
            if not len(docs):
                break
        return docs if docs is not None else np.empty(0, dtype=np.int64)

    def _candidates(self, s, spec: Spec, groups: list[list[list[str]]], memo: dict) -> np.ndarray:
        """The document numbers of the search (sorted): a mask over every document, and
        each group of words, exclusion, filter and visibility rule applied to it."""
        cols = self._columns(s)
        mask = self._alive(s).copy()
        for group in groups:
            found = np.zeros(len(mask), dtype=bool)
            for terms in group:
                found[self._matching(s, terms, memo)] = True
            mask &= found
        for item in spec.excluded:
            terms = _required(item)
            if terms:
                mask[self._matching(s, terms, memo)] = False
        for name, values in spec.filters.items():
            if name == "theme":
                mask &= self._tagged(s, values, len(mask))
            else:
                mask &= cols.isin(name, {str(v) for v in values})
        for name, values in spec.exclude.items():
            if name == "theme":
                mask &= ~self._tagged(s, values, len(mask))
            else:
                mask &= ~cols.isin(name, {str(v) for v in values})
        if spec.date_from:
            mask &= cols.ts >= E.Entry("x", 0, spec.date_from).timestamp
        if spec.date_to:
            mask &= cols.ts < E.Entry("x", 0, spec.date_to).timestamp
        if spec.versions is not None:
            mask &= cols.isin("type", ("organisation", "document")) | cols.isin(
                "version_id", {str(v) for v in spec.versions}
            )
        mask &= ~cols.isin("visible", ("0",))
        mask &= ~cols.isin("draft", ("1",)) | cols.isin(
            "version_id", {str(v) for v in spec.draft_versions}
        )
        return np.flatnonzero(mask)

    def _norms(self, s) -> np.ndarray:
        """BM25's length normalisation of every document, K1 * (1 - B + B * length /
        average length): computed once per commit (kept on the searcher)."""
        norms = getattr(s, "_consult_norms", None)
        if norms is None:
            avgfl = s.avg_field_length("words") or 1
            b, k1 = scoring.BM25F().B, scoring.BM25F().K1
            norms = k1 * ((1 - b) + b * self._columns(s).lengths / avgfl)
            s._consult_norms = norms
        return norms

    def _rank(self, s, stems: set[str], docs: np.ndarray, memo: dict, limit: int):
        """The best `limit` candidates by BM25F (Whoosh's formula, `scoring.bm25`, and
        statistics), summed over the searched words, computed for the candidates only;
        equal scores in document order."""
        norms = self._norms(s)
        k = scoring.BM25F().K1 + 1
        wanted = np.zeros(len(norms), dtype=bool)
        wanted[docs] = True
        scores = np.zeros(len(norms))
        scored = np.zeros(len(norms), dtype=bool)
        for word in sorted(stems):
            ids, tfs = self._term(s, word, memo)
            keep = wanted[ids]
            ids, tfs = ids[keep], tfs[keep]
            idf = s.idf("words", word)
            scores[ids] += idf * tfs * k / (tfs + norms[ids])  # a term's ids are distinct
            scored[ids] = True
        ranked = np.flatnonzero(scored)
        best = ranked[np.lexsort((ranked, -scores[ranked]))[:limit]]
        return [(int(d), float(scores[d])) for d in best]

    def run(self, spec: Spec, words: Iterable[str] = ()) -> Found:
        # Each group: its alternatives, each the list of terms it requires.
        groups = [[t for t in (_required(i) for i in g) if t] for g in spec.groups]
        groups = [g for g in groups if g]
        if spec.groups and not groups:
            return Found(0, [], empty_query=True)
        if any(not values for values in spec.filters.values()):
            return Found(0, [])
        words = list(words)
        try:
            return self._run(spec, groups, words)
        except FileNotFoundError:
            # A file the searcher had not opened yet went with a merge: once more, on
            # the newest commit.
            self._forget_searcher()
            return self._run(spec, groups, words)

    def _run(self, spec: Spec, groups: list, words: list[str]) -> Found:
        s = self._searcher()
        if s is None:
            return Found(0, [])
        memo: dict = {}
        docs = self._candidates(s, spec, groups, memo)
        cols = self._columns(s)
        total, exact = len(docs), len(docs) <= self.limit
        oldest_first = spec.sort == "oldest"
        if not exact:  # the `limit` newest (oldest), equal times in document order
            by_time = docs[np.argsort(cols.ts[docs], kind="stable")]
            docs = np.sort(by_time[: self.limit] if oldest_first else by_time[-self.limit :])
        facets: dict[str, dict] = {}
        if spec.facets and len(docs):
            facets = {name: cols.counts(name, docs) for name in RAW_FACETS}
        stems = {st for w in words for st in analyse(w)}
        end = spec.offset + spec.limit
        top: list[tuple[int, float]] = []
        if spec.offset < len(docs) and spec.limit > 0:
            if spec.sort == "relevance" and groups:
                top = self._rank(s, stems, docs, memo, end)[spec.offset :]
            else:
                ts = cols.ts[docs]
                order = np.lexsort((docs, ts if oldest_first else -ts))[:end]
                top = [(int(d), 0.0) for d in docs[order][spec.offset :]]
        hits = [self._hit(s.stored_fields(d), score, stems) for d, score in top]
        return Found(total, hits, facets, exact=exact)

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
        s = self._searcher()
        if s is None:
            return iter(())
        return iter(sorted(fields["key"] for fields in s.all_stored_fields()))
