"""Search at 10k, 100k and 1M comments: each backend beside SQLite FTS5.

Run: .venv/bin/python benchmarks/search.py [--sizes 10000,100000,1000000]
         [--backends whoosh,postgres] [--whoosh-max 100000]
         [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

For each size, one corpus (benchmarks/corpus.py, the same seed) is written to a
SQLite file and, for the postgres backend, to a fresh PostgreSQL database. Then,
for each backend:
- full index time: `reindex` (outbox.rebuild) from the database;
- incremental update latency: a comment posted through the services and committed,
  until the commit's drain has put it in the index (p50/p95 of --updates);
- query latency p50/p95 for a fixed mix of queries (words, phrase, OR, exclusion,
  filters, browsing by filter, a typo), --repeat times each after a warm-up:
  "service" is the whole search a page or the API makes (reading the query,
  visibility, facets with labels, hits described from the database, did-you-mean);
  "index" is the backend's part alone (backend.run on the same resolved query).
The baseline is SQLite FTS5 (porter tokenizer) over the same entries, answering
the same resolved queries: count, the same facets, the top 20 by bm25 with
snippet(). Ratios are backend / FTS5 for the index part.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build, make_app  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from consult.extensions import db  # noqa: E402
from consult.search import entries, outbox, service  # noqa: E402
from consult.search import query as Q  # noqa: E402
from consult.search.postgres_backend import FACET_COLUMNS  # noqa: E402
from consult.search.query import Term  # noqa: E402
from consult.search.results import RAW_FACETS, Spec  # noqa: E402

MIX = [
    "budget",
    "indigenous language",
    '"public hearing"',
    "translation OR interpreter",
    "women -violence",
    "transparency decision:accepted",
    "access country:TH kind:suggestion",
    "participation type:paragraph latest:yes",
    "accountability org:org-17",
    "protection date:2025-04",
    "dialogue sort:date",
    "decision:not_accepted",
    "parliment",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def ms(values: list[float]) -> str:
    return f"{pct(values, 50) * 1000:7.1f} {pct(values, 95) * 1000:7.1f}"


# --- SQLite FTS5, the baseline ------------------------------------------------------------


def fts_build(sqlite_path: str, app) -> float:
    """The same entries in an FTS5 table (and their filter values beside it)."""
    t0 = time.perf_counter()
    con = sqlite3.connect(sqlite_path)
    con.executescript("""
        DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS fts_meta;
        CREATE VIRTUAL TABLE fts USING fts5(title, body, suggested, quote, response,
                                            tokenize='porter unicode61');
        CREATE TABLE fts_meta (rowid INTEGER PRIMARY KEY, key TEXT, doc_type TEXT,
            document_id INT, version_id INT, version_number INT, organisation_id INT,
            comment_kind TEXT, decision TEXT, draft INT, visible INT, created_at REAL,
            month TEXT, language TEXT);
    """)
    with app.app_context():
        rowid = 0
        for batch in entries.iterate_all(db.session, batch=2000):
            rows, meta = [], []
            for e in batch:
                rowid += 1
                rows.append((rowid, e.title, e.body, e.suggested, e.quote, e.response))
                meta.append(
                    (
                        rowid,
                        e.key,
                        e.doc_type,
                        e.document_id,
                        e.version_id,
                        e.version_number,
                        e.organisation_id,
                        e.comment_kind,
                        e.decision,
                        int(e.draft),
                        int(e.visible_to_public),
                        e.timestamp,
                        e.month,
                        e.language,
                    )
                )
            con.executemany(
                "INSERT INTO fts (rowid, title, body, suggested, quote, response) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            con.executemany("INSERT INTO fts_meta VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", meta)
        db.session.remove()
    con.execute("CREATE INDEX fts_meta_created ON fts_meta (created_at)")
    con.commit()
    con.close()
    return time.perf_counter() - t0


def _fts_item(item) -> str:
    words = [item.word] if isinstance(item, Term) else list(item.words)
    words = ["".join(ch for ch in w if ch.isalnum()) for w in words]
    return '"' + " ".join(w for w in words if w) + '"'


def fts_query(spec: Spec) -> tuple[str | None, str, list]:
    """(MATCH expression or None, WHERE on fts_meta, parameters) for a resolved query."""
    ands = []
    for group in spec.groups:
        items = [_fts_item(i) for i in group]
        ands.append("(" + " OR ".join(items) + ")" if len(items) > 1 else items[0])
    match = " AND ".join(ands) if ands else None
    if match and spec.excluded:
        match = f"({match}) NOT (" + " OR ".join(_fts_item(i) for i in spec.excluded) + ")"
    conds, params = ["m.visible = 1"], []
    drafts = ",".join(str(int(v)) for v in spec.draft_versions) or "NULL"
    conds.append(f"(m.draft = 0 OR m.version_id IN ({drafts}))")
    columns = FACET_COLUMNS
    for name, values in spec.filters.items():
        conds.append(f"m.{columns[name]} IN ({','.join('?' * len(values)) or 'NULL'})")
        params += sorted(values, key=str)
    for name, values in spec.exclude.items():
        conds.append(f"coalesce(m.{columns[name]} NOT IN ({','.join('?' * len(values))}), 1)")
        params += sorted(values, key=str)
    if spec.date_from:
        conds.append("m.created_at >= ?")
        params.append(entries.Entry("x", 0, spec.date_from).timestamp)
    if spec.date_to:
        conds.append("m.created_at < ?")
        params.append(entries.Entry("x", 0, spec.date_to).timestamp)
    if spec.versions is not None:
        latest = ",".join(str(int(v)) for v in spec.versions) or "NULL"
        conds.append(f"(m.doc_type IN ('organisation', 'document') OR m.version_id IN ({latest}))")
    return match, " AND ".join(conds), params


def fts_run(con: sqlite3.Connection, spec: Spec) -> int:
    match, where, params = fts_query(spec)
    source = "fts_meta m"
    args = list(params)
    if match:
        source = "fts JOIN fts_meta m ON m.rowid = fts.rowid"
        where = f"fts MATCH ? AND {where}"
        args = [match, *params]
    cols = [FACET_COLUMNS[name] for name in RAW_FACETS]
    rows = con.execute(
        f"SELECT {', '.join('m.' + c for c in cols)} FROM {source} WHERE {where}", args
    ).fetchall()
    facets = {
        name: Counter(r[i] for r in rows if r[i] is not None) for i, name in enumerate(RAW_FACETS)
    }
    order = "bm25(fts)" if match and spec.sort == "relevance" else "m.created_at DESC"
    snippet = "snippet(fts, 1, '<mark>', '</mark>', '…', 24)" if match else "''"
    top = con.execute(
        f"SELECT m.key, {snippet} FROM {source} WHERE {where} ORDER BY {order} LIMIT 20", args
    ).fetchall()
    assert len(facets) == len(RAW_FACETS) and len(top) <= 20
    return len(rows)


# --- one backend ----------------------------------------------------------------------------


def resolved(app, q: str) -> tuple[Spec, list[str]]:
    """The Spec the service gives the backend for `q` (as the public), first page."""
    with app.test_request_context():
        parsed = service._read(service.SearchParams(q=q))
        spec, _ = service.backend_spec(parsed, None, 0, 20)
        db.session.remove()
        return spec, parsed.positive_words()


def time_queries(app, repeat: int, fts_path: str | None) -> dict:
    be_service, be_index, fts, totals = [], [], [], {}
    per_query: dict[str, list[float]] = {q: [] for q in MIX}
    specs = {q: resolved(app, q) for q in MIX}
    con = sqlite3.connect(fts_path) if fts_path else None
    with app.test_request_context():
        from consult.search import backend

        be = backend.get(app)
        for q in MIX:  # warm-up: caches, the index files in the OS cache
            service.search(service.SearchParams(q=q))
        for _ in range(repeat):
            for q in MIX:
                t0 = time.perf_counter()
                res = service.search(service.SearchParams(q=q))
                be_service.append(time.perf_counter() - t0)
                totals[q] = res.total
                spec, words = specs[q]
                t0 = time.perf_counter()
                be.run(spec, words)
                be_index.append(time.perf_counter() - t0)
                per_query[q].append(be_index[-1])
                if con is not None:
                    t0 = time.perf_counter()
                    totals[q + " (fts5)"] = fts_run(con, spec)
                    fts.append(time.perf_counter() - t0)
        db.session.remove()
    return {
        "service": be_service,
        "index": be_index,
        "fts": fts,
        "totals": totals,
        "per_query": per_query,
    }


def time_updates(app, count: int) -> list[float]:
    """Post comments through the services; each commit drains into the index."""
    from consult.accounts.models import User
    from consult.consultation import services as cs
    from consult.documents.models import Version

    out = []
    rng = random.Random(3)
    with app.test_request_context():
        version = db.session.scalar(
            db.select(Version).where(Version.state == "consultation").order_by(Version.id)
        )
        member = db.session.get(User, 2)
        for i in range(count):
            t0 = time.perf_counter()
            cs.post_comment(
                version=version,
                paragraph=None,
                organisation=member.organisation,
                kind="comment",
                by=member,
                body=f"Benchmark update {i} marker{rng.randrange(10**9)}",
            )
            db.session.commit()
            out.append(time.perf_counter() - t0)
        assert outbox.pending(app) == 0, "updates were left in the outbox"
        db.session.remove()
    return out


def measure(app, name: str, size: int, args, fts_path: str | None) -> dict:
    with app.app_context():
        total = sum(entries.count_all(db.session).values())
        db.session.remove()
    t0 = time.perf_counter()
    outbox.rebuild(app)
    index_time = time.perf_counter() - t0
    q = time_queries(app, args.repeat, fts_path)
    updates = time_updates(app, args.updates)
    return {
        "backend": name,
        "size": size,
        "entries": total,
        "index_time": index_time,
        "updates": updates,
        **q,
    }


# --- the run --------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet():
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def pg_database(server_url: str, name: str) -> str:
    engine = create_engine(
        "postgresql+psycopg://" + server_url.split("://", 1)[1], isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def report(r: dict, fts_index: float | None) -> None:
    print(f"\n{r['backend']} at {r['size']:,} comments ({r['entries']:,} entries)")
    print(
        f"  full index        {r['index_time']:8.1f} s"
        + (
            f"   (FTS5 {fts_index:.1f} s, ratio {r['index_time'] / fts_index:.1f})"
            if fts_index
            else ""
        )
    )
    print(f"  update p50/p95    {ms(r['updates'])} ms (comment committed and in the index)")
    print(f"  query  p50/p95    {ms(r['service'])} ms  whole search (service)")
    print(f"                    {ms(r['index'])} ms  index part (backend.run)")
    if r["fts"]:
        ratio50 = pct(r["index"], 50) / pct(r["fts"], 50)
        ratio95 = pct(r["index"], 95) / pct(r["fts"], 95)
        print(
            f"  FTS5   p50/p95    {ms(r['fts'])} ms  same resolved queries; "
            f"ratio {ratio50:.1f} / {ratio95:.1f}"
        )
    print("  by query (matches, index part p50 ms):")
    for q in MIX:
        print(f"    {q:42} {r['totals'][q]:>9,} {pct(r['per_query'][q], 50) * 1000:8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--backends", default="whoosh,postgres")
    ap.add_argument(
        "--whoosh-max",
        type=int,
        default=100_000,
        help="largest size indexed with Whoosh (1M takes long on 2 cores)",
    )
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("CONSULT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--updates", type=int, default=20)
    args = ap.parse_args()
    backends = args.backends.split(",")
    print(f"query mix: {MIX}")
    for size in (int(s) for s in args.sizes.split(",")):
        work = tempfile.mkdtemp(prefix=f"consult-bench-{size}-")
        sqlite_path = f"{work}/corpus.db"
        with quiet():
            app = make_app(f"sqlite:///{sqlite_path}", f"{work}/index", "whoosh")
            with app.app_context():
                summary = build(db.engine, size)
                db.session.remove()
        print(f"\n=== {size:,} comments: {summary}")
        t0 = time.perf_counter()
        fts_build(sqlite_path, app)
        fts_index = time.perf_counter() - t0
        print(f"FTS5 index of the same entries: {fts_index:.1f} s")
        if "whoosh" in backends and size <= args.whoosh_max:
            with quiet():
                r = measure(app, "whoosh", size, args, sqlite_path)
            report(r, fts_index)
        if "postgres" in backends:
            url = pg_database(args.pg_url, f"consult_bench_{size}")
            with quiet():
                pg = make_app(url, f"{work}/pg-index", "postgres")
                with pg.app_context():
                    build(db.engine, size)
                    db.session.remove()
                r = measure(pg, "postgres", size, args, sqlite_path)
            report(r, fts_index)
        sys.stdout.flush()


if __name__ == "__main__":
    Q.parse("")  # fail early if the package is broken
    main()
