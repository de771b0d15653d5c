"""Many people at once: virtual users reading and commenting against gunicorn, with p50,
p95 and errors per kind of request.

Run: .venv/bin/python benchmarks/load.py [--users 200] [--duration 300] [--reads 0.7]
     [--database postgresql://postgres@127.0.0.1:5432/postgres] [--comments 5000]
     [--jobs redis://127.0.0.1:6379/5] [--page-cache memory|redis://…]

A site is made in a temporary folder (SQLite, or a new database on a PostgreSQL server of
this machine, dropped at the end): one document whose version 1 is open for comments,
--accounts organisations with a member each, --comments comments already posted. It is
served by gunicorn with --workers sync workers (4) and its job worker (CONSULT_JOBS=sqlite,
or --jobs redis://…); its public pages are kept a few seconds for anonymous readers in
each worker, or on Redis for all of them (--page-cache; by default on Redis when the jobs
are). --users virtual users (threads spread over --processes client
processes; http.client, a connection per request) each loop until --duration seconds
have passed: a read (--reads of the requests: the home page, the document, the version
page, a paragraph page, a page of the comment list, a search, the API's version) or a
comment posted through the API, then a pause of --think seconds on average (exponential,
at most five times that). Issue 18's goal: p95 <= 1 s with 200 users, 4 workers, 70 %
reads, for 5 minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import SLUG, Request, Server, Site, load, percentile, post_comment, seed  # noqa: E402

WORDS = ("interpreters", "budget", "hearing", "parliament", "civil", "fund", "openly")


def reads(paragraphs: list[int]):
    doc = f"/documents/{SLUG}"
    return [
        ("home", lambda rnd: "/"),
        ("document", lambda rnd: doc),
        ("version page", lambda rnd: f"{doc}/versions/1"),
        ("paragraph page", lambda rnd: f"/paragraphs/{rnd.choice(paragraphs)}"),
        ("comment list", lambda rnd: f"{doc}/versions/1/comments?page={rnd.randint(1, 5)}"),
        ("search", lambda rnd: f"/search?q={rnd.choice(WORDS)}"),
        ("API version", lambda rnd: f"/api/v1/documents/{SLUG}/versions/1"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=200, help="virtual users")
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    ap.add_argument("--reads", type=float, default=0.7, help="share of reads (0-1)")
    ap.add_argument("--think", type=float, default=1.0, help="mean seconds between requests")
    ap.add_argument("--database", help="a PostgreSQL server URL on this machine (default SQLite)")
    ap.add_argument("--jobs", default="sqlite", help="CONSULT_JOBS of the site (sqlite, redis://…)")
    ap.add_argument(
        "--page-cache",
        help="CONSULT_PAGE_CACHE_URL of the site: memory, or redis://… (default: the site's "
        "own choice, Redis when the jobs are on Redis)",
    )
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--comments", type=int, default=2000, help="comments posted before the load")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--processes", type=int, default=4, help="client processes")
    args = ap.parse_args()
    if not (1 <= args.users <= 2000 and 1 <= args.duration <= 3600 and 0 <= args.reads <= 1):
        ap.error("--users 1-2000, --duration 1-3600 seconds, --reads between 0 and 1")
    if not (1 <= args.accounts <= 5000 and 0 <= args.comments <= 200_000):
        ap.error("--accounts 1-5000, --comments up to 200000")

    if args.page_cache:
        os.environ["CONSULT_PAGE_CACHE_URL"] = args.page_cache
    with tempfile.TemporaryDirectory(prefix="consult-load-") as tmp:
        site = Site(Path(tmp), args.database, args.jobs)
        try:
            t0 = time.perf_counter()
            app = site.app()
            kept = app.config["PAGE_CACHE_URL"]
            data = seed(app, accounts=args.accounts, comments=args.comments)
            print(
                f"Site: {'PostgreSQL' if args.database else 'SQLite'}, jobs on {args.jobs}, "
                f"public pages kept in {kept}, "
                f"{args.accounts} accounts, {args.comments} comments "
                f"({time.perf_counter() - t0:.0f} s to build)."
            )
            kinds = reads(data["paragraphs"])
            tokens, paragraphs = data["tokens"], data["paragraphs"]

            def make(rnd):
                if rnd.random() < args.reads:
                    kind, path = rnd.choice(kinds)
                    return Request(kind, "GET", path(rnd))
                n = rnd.randrange(10**9)
                return post_comment(
                    rnd.choice(tokens), rnd.choice(paragraphs), f"Load comment {n}: fund it."
                )

            threads = max(1, args.users // args.processes)
            users = threads * args.processes
            with Server(site, "bench_app", workers=args.workers, worker=True) as server:
                rows, elapsed = load(
                    server.port,
                    make,
                    seconds=args.duration,
                    processes=args.processes,
                    threads=threads,
                    think=args.think,
                )
        finally:
            site.drop()

    print(
        f"\n{users} users, gunicorn -w {args.workers}, {args.duration:.0f} s, "
        f"{args.reads:.0%} reads, think {args.think} s: {len(rows)} requests, "
        f"{len(rows) / elapsed:.1f} per s"
    )
    print(f"  {'kind':<18}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}  statuses")
    by_kind: dict[str, list] = {}
    for r in rows:
        by_kind.setdefault(r[0], []).append(r)
    ok = (200, 201)
    for kind in sorted(by_kind):
        rs = by_kind[kind]
        times = [r[2] for r in rs]
        errors = [r for r in rs if r[1] not in ok]
        statuses = sorted({r[1] for r in errors})
        print(
            f"  {kind:<18}{len(rs):>7}{percentile(times, 0.5) * 1000:>9.0f}"
            f"{percentile(times, 0.95) * 1000:>9.0f}{len(errors):>8}  {statuses or ''}"
        )
    times = [r[2] for r in rows]
    errors = sum(r[1] not in ok for r in rows)
    print(
        f"  {'all':<18}{len(rows):>7}{percentile(times, 0.5) * 1000:>9.0f}"
        f"{percentile(times, 0.95) * 1000:>9.0f}{errors:>8}   (goal: p95 <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
