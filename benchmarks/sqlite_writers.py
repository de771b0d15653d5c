"""Writers to one SQLite file: how long a write waits for the lock, with SQLite's own
polling (its busy handler) and with the turns of consult.sqlite_writes, side by side.

Run: .venv/bin/python benchmarks/sqlite_writers.py [--processes 5] [--seconds 15]
     [--hold-ms 3] [--think-ms 15] [--rounds 2]

--processes processes each loop: start a write transaction (an INSERT: the time it takes
is the wait measured), keep it --hold-ms of CPU (what a comment's request does between its
first write and its commit), commit, then pause --think-ms on average (exponential). The
same load runs against a new database without and with the turns, --rounds times in
alternation; the wait's p50, p95, p99 and maximum and the writes done are printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consult import sqlite_writes  # noqa: E402


def writer(path: str, queued: bool, args, seed: int, out) -> None:
    rnd = random.Random(seed)
    extra = {"factory": sqlite_writes.connection_class(path)} if queued else {}
    conn = sqlite3.connect(path, timeout=10, **extra)
    conn.execute("PRAGMA busy_timeout=10000")
    waits = []
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        conn.execute("INSERT INTO t (x) VALUES (?)", (rnd.random(),))
        waits.append(time.perf_counter() - start)
        busy_until = time.perf_counter() + args.hold_ms / 1000
        while time.perf_counter() < busy_until:
            pass
        conn.commit()
        time.sleep(min(rnd.expovariate(1000 / args.think_ms), 5 * args.think_ms / 1000))
    conn.close()
    out.put(waits)


def run(queued: bool, args) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="consult-sqlite-") as tmp:
        path = os.path.join(tmp, "w.db")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL)")
        conn.commit()
        conn.close()
        out = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=writer, args=(path, queued, args, n, out))
            for n in range(args.processes)
        ]
        for p in procs:
            p.start()
        waits: list[float] = []
        for _ in procs:
            waits += out.get(timeout=args.seconds + 120)
        for p in procs:
            p.join(30)
    return sorted(waits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--processes", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--hold-ms", type=float, default=3.0)
    ap.add_argument("--think-ms", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not (1 <= args.processes <= 64 and 1 <= args.seconds <= 600 and 1 <= args.rounds <= 10):
        ap.error("--processes 1-64, --seconds 1-600, --rounds 1-10")
    if args.hold_ms < 0 or args.think_ms <= 0:
        ap.error("--hold-ms >= 0 and --think-ms > 0")

    print(
        f"{args.processes} processes, {args.seconds:.0f} s each run, {args.hold_ms} ms held, "
        f"{args.think_ms} ms between writes; wait for the lock in ms"
    )
    print(f"  {'writers':<22}{'writes':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for _ in range(args.rounds):
        for queued in (False, True):
            w = run(queued, args)
            n = len(w)
            name = "taking turns" if queued else "SQLite's polling"
            print(
                f"  {name:<22}{n:>8}{w[n // 2] * 1000:>8.1f}{w[int(n * 0.95)] * 1000:>8.1f}"
                f"{w[int(n * 0.99)] * 1000:>8.1f}{w[-1] * 1000:>8.0f}"
            )


if __name__ == "__main__":
    main()
