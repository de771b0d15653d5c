"""The PostgreSQL backend: full-text search shared by every app process.

Entries live in `search.entry` (made by the migration 0003_search_postgres, only on
PostgreSQL, in a schema of its own so that the ORM's tables and their comparison
with the migrations are the same on both databases). Its `tsv` column is generated
from the entry's texts with weights (title A, body B, suggested wording, quote and
response C) and has a GIN index; foreign keys to the domain tables remove entries
whose object is deleted (and let TRUNCATE … CASCADE empty it).
`search.entry_pairs` holds each entry's pairs of neighbouring words, written by a trigger
whenever the entry is, with a GIN index of its own: a phrase's entries are found by its
pairs before the phrase is checked on them.

Indexing uses the same outbox drain as Whoosh, after commit: one writer at a time
(a transaction-level advisory lock, waited for a bounded time), entries read after
the lock is taken, outbox rows deleted in the same transaction as the entries are
written, so the index and the outbox can never disagree.

Thai, Lao, Khmer and Burmese are stored with segment.SEP between their words (which
PostgreSQL's parser reads as a boundary in any locale), so that the generated `tsv`
holds their words; the queries' words are split the same way by query.py, and SEP is
taken out of snippets.

Each word or phrase is read by websearch_to_tsquery('english', …), which never
fails on any input, and the pieces are combined with tsquery operators (&&, ||,
!!) so that OR binds only the words beside it, as the query language says.
Facets are one GROUP BY GROUPING SETS over the matching rows (or, past the bound, the
newest of them, looked for first in a window of the newest entries); snippets are
ts_headline on the page's hits only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from html import escape

from sqlalchemy import text
from sqlalchemy.orm import Session

from consult.search import entries as E
from consult.search.base import Backend, IndexBusy
from consult.search.query import Item, Phrase, websearch
from consult.search.results import EXACT_LIMIT, RAW_FACETS, Found, FoundHit, Spec
from consult.search.segment import spaced, unspaced

LOCK_KEY = 0x5EA4C4  # the advisory lock of the one index writer
START, STOP = "\ue000", "\ue001"  # marks from ts_headline, replaced after escaping
# ts_headline reads "<…>" as markup and drops it; angle brackets go in as private-use
# characters and come back after.
LT, GT = "\ue002", "\ue003"
HEADLINE = (
    f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=35, MinWords=12, "
    'FragmentDelimiter=" … "'
)
PARTS = ("body", "suggested", "quote", "response", "title", "attachments")
COLUMNS = (
    "key",
    "doc_type",
    "object_id",
    "document_id",
    "version_id",
    "version_number",
    "paragraph_id",
    "organisation_id",
    "comment_kind",
    "decision",
    "language",
    "draft",
    "visible_to_public",
    "created_at",
    "title",
    "body",
    "suggested",
    "quote",
    "response",
    "attachments",
)
_INSERT = (
    f"INSERT INTO search.entry ({', '.join(COLUMNS)}) "  # noqa: S608 (values are bound)
    f"VALUES ({', '.join(':' + c for c in COLUMNS)})"
)
_UPSERT = (
    _INSERT
    + " ON CONFLICT (key) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "key")
)
FILTER_COLUMNS = {
    "type": ("doc_type", "text"),
    "document": ("document_id", "integer"),
    "version": ("version_number", "integer"),
    "kind": ("comment_kind", "text"),
    "decision": ("decision", "text"),
    "organisation": ("organisation_id", "integer"),
    "language": ("language", "text"),
}
#: A comment entry tagged with one of the themes: read from public.comment_theme (its
#: (comment_id, theme_id) unique index), so a tag is found as soon as it is committed.
_TAGGED = (
    "(e.doc_type = 'comment' AND EXISTS (SELECT 1 FROM public.comment_theme ct "
    "WHERE ct.comment_id = e.object_id AND ct.theme_id = ANY(CAST({ids} AS integer[]))))"
)
FACET_COLUMNS = {name: column for name, (column, _) in FILTER_COLUMNS.items()} | {"month": "month"}


#: When the filters leave this many times fewer entries than the words match, entries are
#: found by the filters' indexes and the words tested on them.
FILTERS_FIRST = 10
#: A search whose matches the planner estimates at more than this many times the bound
#: first looks for its newest matches in a date window over the newest entries, of the
#: size expected to hold this many times the bound; windows wider than WINDOW_LARGEST (a
#: share of all entries) are not worth their cost.
WINDOW_MARGIN = 1.5
WINDOW_LARGEST = 0.5
#: A window of at most this many entries is read in date order with each entry's words
#: tested, which stops at the bound's newest matches, rather than intersected with the
#: word index's bitmap, which costs all the words' matches (117,000 entries, 54 ms, for
#: two common words at 1M comments, against 38 ms for reading 20,000 entries in order).
WINDOW_SCAN = 50_000
#: The words' condition: indexed (the GIN index gives the matching entries), or tested on
#: entries found otherwise (unindexable, so the planner reads the other indexes).
WORDS_INDEXED = "e.tsv @@ q.tsq"
WORDS_TESTED = "coalesce(e.tsv @@ q.tsq, false)"
#: Whether a phrase's entries are looked for by its pairs of neighbouring words (kept in
#: search.entry_pairs, migrations 0009 and 0010) before the phrase is checked on them.
PHRASE_PAIRS = True
#: The pairs of every phrase of `:p0`, `:p1`… as one tsquery; NULL when none has any.
_PAIRS = "SELECT string_agg('(' || q::text || ')', ' & ') FROM unnest(ARRAY[{}]) q"
#: For the transaction of a search: no JIT (compiling costs more than a search), bitmaps
#: that stay exact, and random reads priced as the cached reads they are, so that the
#: planner reads (filter, created_at) indexes in order rather than scanning by date.
_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true), "
    "set_config('random_page_cost', '1.1', true)"
)

#: The date below which lie `window` (a share) of the entries, by the planner's histogram,
#: and the planner's count of entries.
_EDGE = text(
    "SELECT b[greatest(1, ceil(array_length(b, 1) * (1 - :window)))::int], "
    "(SELECT reltuples FROM pg_class WHERE oid = 'search.entry'::regclass) "
    "FROM (SELECT histogram_bounds::text::timestamptz[] AS b FROM pg_stats "
    "WHERE schemaname = 'search' AND tablename = 'entry' AND attname = 'created_at') s"
)


def _row(e: E.Entry) -> dict:
    return {
        "key": e.key,
        "doc_type": e.doc_type,
        "object_id": e.object_id,
        "document_id": e.document_id,
        "version_id": e.version_id,
        "version_number": e.version_number,
        "paragraph_id": e.paragraph_id if e.doc_type == "paragraph" else None,
        "organisation_id": e.organisation_id,
        "comment_kind": e.comment_kind,
        "decision": e.decision,
        "language": e.language,
        "draft": e.draft,
        "visible_to_public": e.visible_to_public,
        "created_at": e.created_at,
        "title": spaced(e.title),
        "body": spaced(e.body),
        "suggested": spaced(e.suggested),
        "quote": spaced(e.quote),
        "response": spaced(e.response),
        "attachments": spaced(e.attachments),
    }


def _tsquery(groups: list[tuple[Item, ...]], excluded: list[Item], params: dict) -> str:
    """A tsquery expression: AND of OR-groups, minus the exclusions; '' when empty."""

    def piece(item: Item) -> str | None:
        source = websearch([(item,)])
        if not source:
            return None
        name = f"w{len(params)}"
        params[name] = source
        return f"websearch_to_tsquery('english', :{name})"

    ands = []
    for group in groups:
        ors = [p for p in (piece(i) for i in group) if p]
        if ors:
            ands.append("(" + " || ".join(ors) + ")" if len(ors) > 1 else ors[0])
    nots = [p for p in (piece(i) for i in excluded) if p]
    expr = " && ".join(ands)
    for n in nots:
        expr = f"{expr} && !! {n}" if expr else f"!! {n}"
    return expr


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, engine, limit: int = EXACT_LIMIT):
        self.engine = engine
        #: Searches with more matches than this count, facet and rank only the `limit`
        #: newest (and estimate the total): counting and ranking hundreds of thousands of
        #: rows cannot be done in the time of a page.
        self.limit = limit

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def exclusive(self, session: Session, timeout: float = 5.0):
        # A transaction-level lock: released by the commit (or rollback) of `session`.
        until = time.monotonic() + timeout
        lock = text("SELECT pg_try_advisory_xact_lock(:k)")
        while not session.execute(lock, {"k": LOCK_KEY}).scalar():
            if time.monotonic() >= until:
                raise IndexBusy("the search index is being written by another process")
            time.sleep(0.05)
        yield

    def write(self, session: Session, pairs: list[tuple[str, E.Entry | None]]) -> None:
        gone = [key for key, e in pairs if e is None]
        rows = [_row(e) for _, e in pairs if e is not None]
        if gone:
            session.execute(
                text("DELETE FROM search.entry WHERE key = ANY(CAST(:k AS text[]))"), {"k": gone}
            )
        if rows:
            session.execute(text(_UPSERT), rows)

    def write_all(self, session: Session, batches: Iterator[list[E.Entry]]) -> None:
        # The entries are gathered first, then written in the order of their dates, so
        # that the newest ones (what broad searches read) sit together on disk, as entries
        # added later do. DELETE, not TRUNCATE: readers keep seeing the old entries until
        # the caller commits.
        names = ", ".join(COLUMNS)
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE entry_load ON COMMIT DROP AS "  # noqa: S608 (constant)
                f"SELECT {names} FROM search.entry WITH NO DATA"
            )
        )
        load = _INSERT.replace("INSERT INTO search.entry", "INSERT INTO entry_load")
        for batch in batches:
            session.execute(text(load), [_row(e) for e in batch])
        session.execute(text("DELETE FROM search.entry"))
        session.execute(
            text(
                f"INSERT INTO search.entry ({names}) "  # noqa: S608 (constant)
                f"SELECT {names} FROM entry_load ORDER BY created_at, key"
            )
        )
        # Fresh statistics, so that the planner knows the new rows at once: the entries
        # and their pairs (without the pairs' statistics a phrase read them all until
        # autovacuum came by: at 1M comments '"public hearing"' took 73 ms, not 16).
        session.execute(text("ANALYZE search.entry, search.entry_pairs"))

    # --- reading ---------------------------------------------------------------------------

    def _where(self, spec: Spec, params: dict) -> list[str] | None:
        """SQL conditions for the filters. The SQL of this module is assembled only from
        constant fragments (column names, operators); every value is a bound parameter."""
        conds = ["e.visible_to_public"]
        if spec.draft_versions:
            params["drafts"] = sorted(spec.draft_versions)
            conds.append("(NOT e.draft OR e.version_id = ANY(CAST(:drafts AS integer[])))")
        else:
            conds.append("NOT e.draft")
        for name, values in spec.filters.items():
            if not values:
                return None
            if name == "theme":  # comments tagged with one of them (consult.analysis)
                params["f_theme"] = sorted(int(v) for v in values)
                conds.append(_TAGGED.format(ids=":f_theme"))
                continue
            col, typ = FILTER_COLUMNS[name]
            chosen = sorted(int(v) if typ == "integer" else str(v) for v in values)
            if len(chosen) == 1:  # "=", so that the planner can read (column, created_at) in order
                params[f"f_{name}"] = chosen[0]
                conds.append(f"e.{col} = :f_{name}")
            else:
                params[f"f_{name}"] = chosen
                conds.append(f"e.{col} = ANY(CAST(:f_{name} AS {typ}[]))")
        for name, values in spec.exclude.items():
            if values and name == "theme":
                params["x_theme"] = sorted(int(v) for v in values)
                conds.append(f"NOT {_TAGGED.format(ids=':x_theme')}")
            elif values:
                col, typ = FILTER_COLUMNS[name]
                params[f"x_{name}"] = sorted(int(v) if typ == "integer" else str(v) for v in values)
                conds.append(f"(e.{col} IS NULL OR NOT e.{col} = ANY(CAST(:x_{name} AS {typ}[])))")
        if spec.date_from:
            params["date_from"] = spec.date_from
            conds.append("e.created_at >= :date_from")
        if spec.date_to:
            params["date_to"] = spec.date_to
            conds.append("e.created_at < :date_to")
        if spec.versions is not None:
            params["latest"] = sorted(spec.versions)
            conds.append(
                "(e.doc_type IN ('organisation', 'document') "
                "OR e.version_id = ANY(CAST(:latest AS integer[])))"
            )
        return conds

    def run(self, spec: Spec, words: Iterable[str] = ()) -> Found:
        params: dict = {}
        positive = _tsquery(spec.groups, [], params)
        with self.engine.connect() as conn:
            conn.execute(_SETTINGS)
            if spec.groups:
                empty = "''::tsquery"
                nodes = conn.execute(text(f"SELECT numnode({positive or empty})"), params).scalar()
                if not nodes:
                    return Found(0, [], empty_query=True)
            full = _tsquery(spec.groups, spec.excluded, params)
            conds = self._where(spec, params)
            if conds is None:
                return Found(0, [])
            pairs = self._pairs(conn, spec)
            if pairs:
                params["pairs"] = pairs
                conds.append(
                    "e.key IN (SELECT p.key FROM search.entry_pairs p "
                    "WHERE p.pairs @@ CAST(:pairs AS tsquery))"
                )
            source = "search.entry e"
            if full:
                words = f"search.entry e, (SELECT {full} AS tsq) q"
                narrow = spec.filters or spec.date_from or spec.date_to
                if narrow and self._filters_first(conn, words, " AND ".join(conds), params):
                    # Read the few filtered entries and test their words, rather than
                    # building the word index's bitmap of a common word (the planner
                    # underrates that cost): the words' test, unindexable, is a filter.
                    conds.append(WORDS_TESTED)
                else:
                    conds.append(WORDS_INDEXED)
                source = words
            where = " AND ".join(conds)
            tested = " AND ".join(WORDS_TESTED if c == WORDS_INDEXED else c for c in conds)
            ranked = bool(full) and spec.sort == "relevance"
            estimate = self._estimate(conn, source, where, params)
            # The planner estimates a phrase as the entries holding all of its words (which
            # may be a hundred times more): no window can be sized from that.
            phrases = any(isinstance(i, Phrase) for group in spec.groups for i in group)
            total, facets, page = self._newest(
                conn, spec, source, (where, tested), params, ranked, None if phrases else estimate
            )
            exact = total <= self.limit
            if not exact:
                total = max(estimate, self.limit + 1)
            hits = self._describe(conn, page, positive, params) if page else []
        return Found(total, hits, facets if spec.facets else {}, exact=exact)

    def _matches(self, conn, spec: Spec, source: str, where: str, params: dict, ranked: bool):
        """(number of matches up to limit + 1, facet counts, the page's rows), in one
        statement over the matches — all of them, or the `limit` newest (oldest, when
        sorting by oldest) when there are more."""
        cols = [FACET_COLUMNS[n] for n in RAW_FACETS]
        sets = ", ".join(f"({c})" for c in cols)
        nulls = ", ".join("NULL" for _ in cols)
        newest = "e.created_at DESC, e.key" if spec.sort != "oldest" else "e.created_at, e.key"
        # Ranked after the cut to the `limit` newest, so that a broad search ranks only them.
        score, rank_source = "0.0", "found e"
        if ranked:
            score, rank_source = (
                "ts_rank_cd(e.tsv, q.tsq)",
                source.replace("search.entry e", "found e"),
            )
        order = "m.score DESC, m.created_at DESC, m.key" if ranked else newest.replace("e.", "m.")
        sql = (
            f"WITH found AS MATERIALIZED (SELECT e.key, e.doc_type, e.object_id, "  # noqa: S608 (values are bound)
            f"e.document_id, e.version_number, e.comment_kind, e.decision, e.organisation_id, "
            f"e.language, "
            f"e.created_at, to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month"
            f"{', e.tsv' if ranked else ''} FROM {source} WHERE {where} "
            f"ORDER BY {newest} LIMIT :cap), "
            f"m AS (SELECT e.key, e.doc_type, e.object_id, e.document_id, e.version_number, "
            f"e.comment_kind, e.decision, e.organisation_id, e.language, e.created_at, e.month, "
            f"{score} AS score FROM {rank_source} ORDER BY {newest} LIMIT :bound) "
            f"SELECT GROUPING({', '.join(cols)}) AS g, {', '.join(cols)}, count(*) AS n, "
            f"NULL::json AS page FROM m GROUP BY GROUPING SETS ({sets}) "
            f"UNION ALL SELECT -1, {nulls}, (SELECT count(*) FROM found), "
            f"(SELECT json_agg(p) FROM (SELECT m.doc_type, m.object_id, m.score FROM m "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset) p)"
        )
        args = dict(
            params, cap=self.limit + 1, bound=self.limit, limit=spec.limit, offset=spec.offset
        )
        out: dict[str, dict] = {n: {} for n in RAW_FACETS}
        width, total, page = len(cols), 0, []
        for row in conn.execute(text(sql), args):
            if row.g == -1:
                total, page = row.n, row.page or []
                continue
            # GROUPING() has a 0 bit for the one column this row is grouped by.
            for i, name in enumerate(RAW_FACETS):
                if not row.g & (1 << (width - 1 - i)):
                    value = row[i + 1]
                    if value is not None and value != "":
                        out[name][str(value)] = row.n
        return total, out, page

    def _newest(
        self,
        conn,
        spec: Spec,
        source: str,
        where: tuple[str, str],
        params: dict,
        ranked: bool,
        estimate: int | None,
    ):
        """_matches, looking first in date windows when the planner expects far more
        matches than the bound.

        Only the bound's newest matches (oldest, when sorting by oldest) are counted,
        faceted and ranked, and entries lie on disk in date order, so a window over the
        newest entries reads the pages of its own matches only. When a window holds more
        matches than the bound, its newest are the newest of all (every entry outside it
        is older than every entry in it): the answer is the one without the window. When
        it holds too few, the window grows (at least twofold) to the share that would hold
        enough were its matches spread like the ones found, and past WINDOW_LARGEST the
        search is made without one. The window's edge is read from the planner's histogram
        of dates (the oldest entries' window, when sorting by oldest).

        `where` is the conditions twice: with the words indexed and with them tested; a
        window of at most WINDOW_SCAN entries (by the planner's count) takes the second.
        """
        indexed, tested = where
        share = 1.0 if estimate is None else WINDOW_MARGIN * (self.limit + 1) / max(estimate, 1)
        newest = spec.sort != "oldest"
        while share < WINDOW_LARGEST:
            params["window"] = share if newest else 1 - share
            params["edge"], entries = conn.execute(_EDGE, params).one_or_none() or (None, 0)
            if params["edge"] is None:  # no statistics yet
                break
            window = "e.created_at >= :edge" if newest else "e.created_at <= :edge"
            conds = tested if share * entries <= WINDOW_SCAN else indexed
            found = self._matches(conn, spec, source, f"{conds} AND {window}", params, ranked)
            if found[0] > self.limit:
                return found
            share *= max(2.0, WINDOW_MARGIN * (self.limit + 1) / max(found[0], 1))
        return self._matches(conn, spec, source, indexed, params, ranked)

    def _pairs(self, conn, spec: Spec) -> str | None:
        """The pairs of neighbouring words that the query's required phrases need, as
        tsquery text: every entry with the phrases has them, and the pairs' index finds
        those entries directly, where the phrases' words find all the entries that hold
        them (thousands, for a phrase of two common words). None when no phrase has pairs
        (one word, or a stop word between its words)."""
        if not PHRASE_PAIRS:
            return None
        phrases = [g[0] for g in spec.groups if len(g) == 1 and isinstance(g[0], Phrase)]
        sources = {f"p{i}": websearch([(p,)]) for i, p in enumerate(phrases)}
        sources = {name: source for name, source in sources.items() if source}
        if not sources:
            return None
        each = ", ".join(f"search.phrase_pairs(:{name})" for name in sources)
        return conn.execute(text(_PAIRS.format(each)), sources).scalar()

    def _filters_first(self, conn, words: str, filters: str, params: dict) -> bool:
        """Whether the filters alone leave far fewer entries (planner estimates) than
        the words match."""
        by_filters = self._estimate(conn, "search.entry e", filters, params)
        return by_filters * FILTERS_FIRST < self._estimate(conn, words, "e.tsv @@ q.tsq", params)

    def _estimate(self, conn, source: str, where: str, params: dict) -> int:
        """The planner's estimate of the number of matches (counting them all would read
        every matching row)."""
        plan = conn.execute(
            text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source} WHERE {where}"),  # noqa: S608 (values are bound)
            params,
        ).scalar()
        return int(plan[0]["Plan"]["Plan Rows"])

    def _describe(self, conn, page: list[dict], positive: str, params: dict) -> list[FoundHit]:
        """Snippets for the page's hits: ts_headline on each part, the first with a match."""
        args = dict(params, keys=[f"{p['doc_type']}:{p['object_id']}" for p in page])
        if positive:
            args["headline"], args["angles"] = HEADLINE, LT + GT
            heads = ", ".join(
                f"CASE WHEN e.{p} <> '' THEN ts_headline('english', "
                f"translate(e.{p}, '<>', :angles), hq.tsq, :headline) END AS h_{p}"
                for p in PARTS
            )
            sql = (
                f"SELECT e.key, {', '.join('e.' + p for p in PARTS)}, {heads} "  # noqa: S608 (values are bound)
                f"FROM search.entry e, (SELECT {positive} AS tsq) hq "
                f"WHERE e.key = ANY(CAST(:keys AS text[]))"
            )
        else:
            sql = (
                f"SELECT e.key, {', '.join('e.' + p for p in PARTS)} FROM search.entry e "  # noqa: S608 (values are bound)
                f"WHERE e.key = ANY(CAST(:keys AS text[]))"
            )
        rows = {row["key"]: row for row in conn.execute(text(sql), args).mappings()}
        hits = []
        for p in page:
            row = rows.get(f"{p['doc_type']}:{p['object_id']}")
            if row is None:
                continue
            snippet, part = None, "body"
            if positive:
                for name in PARTS:
                    head = row[f"h_{name}"]
                    if head and START in head:
                        snippet, part = _marked(head), name
                        break
            if snippet is None:
                part = next((name for name in PARTS if row[name]), "body")
                body = unspaced(row[part] or "")
                snippet = escape(body[:240] + ("…" if len(body) > 240 else ""), quote=False)
            hits.append(FoundHit(p["doc_type"], p["object_id"], float(p["score"]), snippet, part))
        return hits

    def keys(self) -> Iterator[str]:
        with self.engine.connect() as conn:
            return iter(list(conn.scalars(text("SELECT key FROM search.entry ORDER BY key"))))


def _marked(head: str) -> str:
    head = unspaced(head).replace(LT, "<").replace(GT, ">")
    return escape(head, quote=False).replace(START, "<mark>").replace(STOP, "</mark>")
