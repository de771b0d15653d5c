"""Are the pages bounded by what they show? Times every public page at several corpus sizes,
side by side in one run, with the ratio of each size to the smallest.

Run: .venv/bin/python benchmarks/pages.py [--sizes 1000,100000] [--database URL] [--runs 15]

Each size gets its own database, built with benchmarks/corpus.py (one document, two
versions of 300 paragraphs: version 1 closed, 70 % of its comments answered on the way
to version 2, open for comments): a SQLite file under /tmp, or with --database a new
database per size on that PostgreSQL server (postgresql://user@host:port/prefix: the
databases are named prefix_<size> and dropped at the end unless --keep; --reuse measures
the databases a --keep run left, without building them again). Version 2's
paragraphs are linked to version 1's by position (edited, or unchanged when the texts
match) and the suggestions on version 1 get a measured uptake, as publishing would;
then the database is analysed (and on PostgreSQL vacuumed, as autovacuum would have).

Every size is built first, each with its app in this process. Every page is then
requested in-process (the Flask test client: no network, no server), once to warm up
and then --runs times, the sizes taken in turn within each run (side by side in time: a
slower minute of the machine falls on every size alike), with consult.pagecache off
(pages are made for each request: what is measured is their making, not a copy kept for
anonymous readers; the parts of frozen texts kept by consult.fragments are made in the
warm-up, whose time is printed as "first view"; the process is warmed up and its garbage
collector tuned as wsgi.py does for a server's); the table gives p50 and p95 in
milliseconds, the bytes of the answer, and each size's p50 over the first size's. With
--memory N, each size is then served by gunicorn (4 workers, wsgi.py), every page is
asked for N times, and the workers' resident memory is given (largest / mean, MB). The
goal of issue 18: every ratio <= 2 and every p95 <= 150 ms at a million comments on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from consult import tune_collector, warm_up  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.tracing import counters  # noqa: E402
from consult.tracing.suggested import fill_missing  # noqa: E402

SLUG = "framework-1"
LABELS = ("taken_up", "partly", "not_taken_up")


def pages(paragraph_id: int, lineage: str) -> list[tuple[str, str]]:
    """(name, path) of every page measured."""
    doc = f"/documents/{SLUG}"
    return [
        ("home", "/"),
        ("document", doc),
        ("version 1", f"{doc}/versions/1"),
        ("version 2", f"{doc}/versions/2"),
        ("paragraph", f"/paragraphs/{paragraph_id}"),
        ("paragraph history", f"{doc}/lineages/{lineage}"),
        ("compare", f"{doc}/compare/1/2"),
        ("annotated compare", f"{doc}/compare/1/2/annotated"),
        ("report", f"{doc}/versions/1/report"),
        ("comment list", f"{doc}/versions/1/comments"),
        ("comment list, page 3", f"{doc}/versions/1/comments?page=3"),
        ("provenance", f"{doc}/versions/2/provenance"),
        ("API version", f"/api/v1{doc}/versions/1"),
        ("API comment list", f"/api/v1{doc}/versions/1/comments"),
    ]


def build_corpus(engine, size: int) -> str:
    """The corpus of `size` comments (corpus.build, then _finish_corpus), analysed as a
    served database is; returns corpus.build's summary."""
    summary = corpus.build(engine, size, documents=1, versions=2, paragraphs=300)
    _finish_corpus(engine)
    if engine.dialect.name == "postgresql":
        # VACUUM too: the state a served database is in once autovacuum has been by (the
        # visibility map that index-only scans need, no dead rows from the build's
        # updates). A server with autovacuum off (this machine's) would otherwise be
        # measured just after a bulk load, as no site is.
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return summary


def _finish_corpus(engine) -> None:
    """What publishing version 2 would have stored: lineage links by position, and the
    measured uptake of version 1's suggestions (bulk inserts, like the corpus)."""
    T = db.metadata.tables
    rng = random.Random(11)
    with engine.begin() as conn:
        paras = conn.execute(
            select(
                T["paragraph"].c.id,
                T["paragraph"].c.version_id,
                T["paragraph"].c.position,
                T["paragraph"].c.text,
            )
        ).all()
        by = {(v, pos): (pid, txt) for pid, v, pos, txt in paras}
        links = []
        for (v, pos), (pid, txt) in by.items():
            if v != 2:
                continue
            old = by.get((1, pos))
            if old is None:
                links.append(
                    {
                        "version_id": 2,
                        "paragraph_id": pid,
                        "predecessor_id": None,
                        "relation": "added",
                    }
                )
                continue
            links.append(
                {
                    "version_id": 2,
                    "paragraph_id": pid,
                    "predecessor_id": old[0],
                    "relation": "unchanged" if old[1] == txt else "edited",
                    "similarity": 1.0 if old[1] == txt else 0.5,
                    "method": "copy",
                }
            )
        corpus._bulk(conn, T["lineage_link"], links)
        c = T["comment"]
        rows = []
        for (cid,) in conn.execute(
            select(c.c.id).where(
                c.c.version_id == 1, c.c.kind == "suggestion", c.c.paragraph_id.is_not(None)
            )
        ):
            score = rng.random()
            rows.append(
                {
                    "comment_id": cid,
                    "version_id": 2,
                    "score": score,
                    "label": LABELS[0 if score > 0.8 else 1 if score > 0.4 else 2],
                    "verbatim": False,
                    "inputs_hash": "0" * 64,
                    "relation": "edited",
                }
            )
            if len(rows) >= 20000:
                corpus._bulk(conn, T["uptake"], rows)
                rows = []
        corpus._bulk(conn, T["uptake"], rows)
        # What migration 0012 does for rows written before it: store the suggestions' diffs.
        fill_missing(conn)
        # What `flask recount` does after a bulk import: the counts the pages read.
        counters.recount(conn)


def _pg_database(base: str, name: str) -> str:
    url = make_url("postgresql+psycopg://" + base.split("://", 1)[1])
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    u = make_url(url)
    server = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    server.dispose()


def _kept_pg(base: str, name: str) -> str | None:
    """The address of database `name` on that server when it holds a built corpus (one
    that --keep left), else None."""
    url = make_url("postgresql+psycopg://" + base.split("://", 1)[1]).set(database=name)
    server = create_engine(url.set(database="postgres"))
    with server.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    server.dispose()
    if not exists:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            built = conn.scalar(text("SELECT count(*) FROM uptake")) > 0
    except Exception:
        built = False
    engine.dispose()
    return url.render_as_string(hide_password=False) if built else None


@dataclass
class Corpus:
    """One size's database, and the app that serves it in this process."""

    size: int
    url: str
    built: str
    paragraph: tuple[int, str]  # (id, lineage) of the paragraph whose pages are measured
    client: object


def prepare(size: int, args) -> Corpus:
    """Build (or with --reuse find) the corpus of `size` comments, and make its app."""
    kept = None
    if args.database:
        prefix = make_url("postgresql+psycopg://" + args.database.split("://", 1)[1]).database
        name = f"{prefix or 'bench_pages'}_{size}"
        kept = _kept_pg(args.database, name) if args.reuse else None
        url = kept or _pg_database(args.database, name)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='consult-pages-')}/pages.db"
    # Each size its own instance folder: caches kept under instance/ must not be shared.
    os.environ["CONSULT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="consult-pages-instance-")
    backend = "postgres" if args.database else "whoosh"
    app = corpus.make_app(url, tempfile.mkdtemp(prefix="consult-pages-index-"), backend)
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        if kept:
            built = f"{size:,}: the corpus kept in {make_url(url).database} (--reuse)"
        else:
            t0 = time.perf_counter()
            summary = build_corpus(db.engine, size)
            built = f"{size:,}: {summary} (+ links, uptake: {time.perf_counter() - t0:.0f} s)"
        print(built, file=sys.stderr, flush=True)
        T = db.metadata.tables
        pid = db.session.execute(
            select(T["paragraph"].c.id, T["paragraph"].c.lineage).where(
                T["paragraph"].c.version_id == 1, T["paragraph"].c.position == 1
            )
        ).one()
        db.session.remove()
    # As a server's process is before it takes requests (wsgi.py).
    warm_up(app)
    return Corpus(size, url, built, (pid[0], pid[1]), app.test_client())


def measure(corpora: list[Corpus], args) -> dict[int, dict[str, tuple[float, float, int, int]]]:
    """Every page of every size, the sizes taken in turn for each run of a page (the
    order turned at each run), so that they are measured side by side in time: a slower
    minute of the machine falls on every size alike, not on the one measured then."""
    tune_collector()
    out: dict[int, dict] = {c.size: {} for c in corpora}
    names = [name for name, _path in pages(0, "") if name not in args.skip]
    for name in names:
        path = {c.size: dict(pages(*c.paragraph))[name] for c in corpora}
        times: dict[int, list[float]] = {c.size: [] for c in corpora}
        facts, slowest = {}, 0.0
        for c in corpora:
            t = time.perf_counter()
            resp = c.client.get(path[c.size])  # warm-up (and first-view caches)
            first = (time.perf_counter() - t) * 1000
            slowest = max(slowest, first)
            facts[c.size] = [resp.status_code, len(resp.data), first]
        # A page slower than --slow seconds is measured twice more, not --runs times.
        runs = 2 if slowest > args.slow * 1000 else args.runs
        for run in range(runs):
            turn = run % len(corpora)
            for c in corpora[turn:] + corpora[:turn]:
                t = time.perf_counter()
                resp = c.client.get(path[c.size])
                times[c.size].append((time.perf_counter() - t) * 1000)
                if resp.status_code != 200:
                    facts[c.size][0] = resp.status_code
        for c in corpora:
            ts = sorted(times[c.size])
            p95 = ts[min(len(ts) - 1, round(0.95 * (len(ts) - 1)))]
            status, size_bytes, first = facts[c.size]
            out[c.size][name] = (statistics.median(ts), p95, size_bytes, status)
            print(
                f"  {c.size:,} {name}: first view {first:.1f} ms, then p50 "
                f"{out[c.size][name][0]:.1f} ms ({status})",
                file=sys.stderr,
                flush=True,
            )
    return out


def finish(c: Corpus, args) -> dict:
    """After the measures: the served memory (--memory), and the database dropped."""
    with c.client.application.app_context():
        db.session.remove()
        db.engine.dispose()
    extra = {}
    if args.memory:
        extra["worker memory (MB)"] = _served_memory(c.url, c.paragraph, args.memory)
    if args.database and not (args.keep or args.reuse):
        _drop_pg(c.url)
    return extra


def _served_memory(url: str, pid: tuple[int, str], rounds: int) -> tuple[float, float, int, int]:
    """gunicorn (4 sync workers, wsgi.py) on the same database, every page asked for
    `rounds` times over HTTP; then the resident memory of each worker (VmRSS, MB).
    Returned in the table's shape: (largest, mean, 0, 200)."""
    import http.client
    import signal
    import subprocess

    from serving import HOST, free_port

    port = free_port()
    env = {
        **os.environ,
        "CONSULT_DATABASE_URL": url,
        "CONSULT_INSTANCE_PATH": tempfile.mkdtemp(prefix="consult-pages-served-"),
        "CONSULT_RATELIMIT_STORAGE": "memory://",
        "CONSULT_SEARCH_BACKEND": "postgres" if url.startswith("postgresql") else "whoosh",
    }
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"{HOST}:{port}", "wsgi:app"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(rounds):
            for _name, path in pages(*pid):
                conn = http.client.HTTPConnection(HOST, port, timeout=600)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        rss = []
        for child in children:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss.append(int(line.split()[1]) / 1024)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"  worker memory: {', '.join(f'{r:.0f}' for r in rss)} MB", file=sys.stderr)
    return max(rss), statistics.mean(rss), 0, 200


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes",
        default="1000,100000,1000000",
        help="comments per corpus, comma-separated (default 1000,100000,1000000)",
    )
    ap.add_argument("--database", help="a PostgreSQL server URL (default: SQLite files)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="measure the databases a --keep run left instead of building them again (kept)",
    )
    ap.add_argument(
        "--skip", type=lambda v: set(v.split(",")), default=set(), help="pages left out"
    )
    ap.add_argument("--slow", type=float, default=2.0, help="seconds past which 3 runs do")
    ap.add_argument(
        "--memory",
        type=int,
        default=0,
        metavar="N",
        help="then serve each size with gunicorn -w 4 (wsgi.py), ask for every page N times"
        " and give the workers' resident memory (largest / mean, MB)",
    )
    args = ap.parse_args()
    sizes = [
        int(s.replace("_", "").replace("k", "000").replace("M", "000000"))
        for s in args.sizes.split(",")
    ]
    corpora = [prepare(size, args) for size in sizes]
    results = measure(corpora, args)
    for c in corpora:
        results[c.size].update(finish(c, args))
    built = [c.built for c in corpora]
    engine = "PostgreSQL" if args.database else "SQLite"
    print(f"\n{engine}, {args.runs} runs a page after a warm-up")
    for line in built:
        print(f"  {line}")
    base = sizes[0]
    head = f"{'page':<22}" + "".join(
        f" | {f'{s:,}: p50 / p95 ms, bytes':>32}" + (f" {'ratio':>5}" if s != base else "")
        for s in sizes
    )
    print(head)
    print("-" * len(head))
    worst = 0.0
    for name in results[base]:
        if any(name not in results[s] for s in sizes):
            continue
        cells = []
        for s in sizes:
            p50, p95, nbytes, status = results[s][name]
            mark = "" if status == 200 else f" [{status}]"
            cell = f"{p50:7.1f} / {p95:7.1f}, {nbytes:>9,}{mark}"
            cells.append(f" | {cell:>32}")
            if s != base:
                ratio = p50 / results[base][name][0] if results[base][name][0] else 0
                if status == 200 and name in dict(pages(0, "")):
                    worst = max(worst, ratio)
                cells.append(f" {ratio:5.1f}")
        print(f"{name:<22}" + "".join(cells))
    print(f"\nlargest ratio to {base:,}: {worst:.1f}")


if __name__ == "__main__":
    main()
