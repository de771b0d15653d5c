"""The record as a Merkle tree log at scale: appends by concurrent writers with no global
lock, one sequencer placing them in the tree, heads signed every few seconds; then the
time of an inclusion and a consistency proof at the final size, and of verifying the
whole log (the app's `verify` tree check and the standalone verifier's rebuild).

Run: .venv/bin/python benchmarks/record.py [--entries 1000000] [--writers 8]
         [--per-commit 1] [--head-interval 5] [--database postgresql://postgres@127.0.0.1:5432/x]

Without --database the record is a SQLite file under /tmp (one writer at a time: SQLite
serialises writes whatever the app does). With --database, a new database is made on
that PostgreSQL server (named <name>_record_<pid>) and dropped at the end unless --keep.

Each writer thread has its own connection and writes entries as requests do (the same
canonical bytes and leaf hash as consult.record.log.append), --per-commit entries per
transaction, taking no lock: the sequencer (another thread, every 0.5 s) places what
was committed, in batches, under its own turn, and signs a head when --head-interval
seconds passed. The goal of issue 23: proofs under 10 ms each at a million leaves.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402


def make_app(url: str):
    from flask_migrate import upgrade

    from consult import create_app

    os.environ.setdefault("CONSULT_INSTANCE_PATH", tempfile.mkdtemp(prefix="consult-record-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            # The benchmark's own sequencer thread places the entries.
            "RECORD_SEQUENCE_ON_COMMIT": False,
        }
    )
    with app.app_context():
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
    return app


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(app, args) -> None:
    from consult.extensions import db
    from consult.record import log as tree_log
    from consult.record import verify_standalone as rules
    from consult.record.models import Event, TreeHead
    from consult.record.service import check_tree

    app.config["RECORD_HEAD_INTERVAL"] = args.head_interval
    with app.app_context():
        engine = db.engine
    total = args.entries
    per_writer = [
        total // args.writers + (1 if i < total % args.writers else 0) for i in range(args.writers)
    ]
    done = threading.Event()
    written = [0] * args.writers
    lags: list[int] = []
    seq_times: list[float] = []
    errors: list[str] = []

    def writer(w: int) -> None:
        try:
            with app.app_context():
                n = 0
                while n < per_writer[w]:
                    k = min(args.per_commit, per_writer[w] - n)
                    with Session(engine) as s:
                        for j in range(k):
                            s.add(
                                tree_log.entry(
                                    "comment.posted",
                                    "comment",
                                    w * 10_000_000 + n + j + 1,
                                    None,
                                    {"content_hash": uuid.uuid4().hex * 2, "writer": w},
                                )
                            )
                        s.commit()
                    n += k
                    written[w] = n
        except Exception as e:  # noqa: BLE001 - reported at the end
            errors.append(f"writer {w}: {e!r}")

    def sequencer() -> None:
        with app.app_context():
            while True:
                finished = done.is_set()
                t = time.perf_counter()
                tree_log.sequence(app)
                seq_times.append(time.perf_counter() - t)
                with Session(engine) as s:
                    lags.append(
                        s.scalar(select(func.count(Event.id)).where(Event.seq.is_(None))) or 0
                    )
                if finished:
                    return
                time.sleep(0.5)

    print(
        f"Writing {total:,} entries: {args.writers} writers, {args.per_commit} per commit, "
        f"heads every {args.head_interval} s, on {engine.dialect.name}.",
        flush=True,
    )
    t0 = time.perf_counter()
    seq_thread = threading.Thread(target=sequencer)
    seq_thread.start()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
    for t in threads:
        t.start()

    def progress() -> None:
        last = 0
        while not done.wait(5):
            now = sum(written)
            waiting = lags[-1] if lags else 0
            print(f"  {now:,} written ({(now - last) / 5:,.0f}/s), {waiting:,} waiting", flush=True)
            last = now

    reporter = threading.Thread(target=progress, daemon=True)
    reporter.start()
    for t in threads:
        t.join()
    write_time = time.perf_counter() - t0
    done.set()
    seq_thread.join()
    drain_time = time.perf_counter() - t0
    if errors:
        print("\n".join(errors))
    with app.app_context():
        tree_log.sequence(app, reason="command", force_head=True)
        size, root = tree_log.state()
        heads = db.session.scalar(select(func.count(TreeHead.id)))
        print()
        print(
            f"appends:           {sum(written):,} in {write_time:.1f} s = "
            f"{sum(written) / write_time:,.0f} per second "
            f"(all placed after {drain_time:.1f} s)"
        )
        print(
            f"sequencer:         {len(seq_times)} runs, "
            f"p50 {statistics.median(seq_times) * 1000:.0f} ms, "
            f"max {max(seq_times) * 1000:.0f} ms; "
            f"entries waiting p50 {statistics.median(lags):,.0f}, "
            f"max {max(lags):,}"
        )
        print(f"tree:              {size:,} leaves, {heads} signed heads, root {root[:16]}…")

        newest = tree_log.newest_head()
        rng = random.Random(23)
        inc, con = [], []
        for _ in range(args.samples):
            leaf = rng.randrange(size)
            t = time.perf_counter()
            path = tree_log.inclusion_proof(leaf, size)
            inc.append(time.perf_counter() - t)
            lh = db.session.scalar(select(Event.leaf_hash).where(Event.seq == leaf + 1))
            assert rules.verify_inclusion(
                leaf,
                size,
                bytes.fromhex(lh),
                [bytes.fromhex(p) for p in path],
                bytes.fromhex(newest.root_hash),
            )
            m = rng.randrange(1, size)
            t = time.perf_counter()
            proof = tree_log.consistency_proof(m, size)
            con.append(time.perf_counter() - t)
            if _ < 5:
                first = tree_log.root_at(m)
                assert rules.verify_consistency(
                    m,
                    size,
                    bytes.fromhex(first),
                    bytes.fromhex(newest.root_hash),
                    [bytes.fromhex(p) for p in proof],
                )
            db.session.rollback()
        print(
            f"inclusion proof:   p50 {statistics.median(inc) * 1000:.2f} ms, "
            f"p95 {pct(inc, 0.95) * 1000:.2f} ms "
            f"({args.samples} random leaves at {size:,}; each checked against the signed root)"
        )
        print(
            f"consistency proof: p50 {statistics.median(con) * 1000:.2f} ms, "
            f"p95 {pct(con, 0.95) * 1000:.2f} ms "
            f"(random earlier sizes to {size:,})"
        )

        t = time.perf_counter()
        check = check_tree()
        app_verify = time.perf_counter() - t
        print(
            f"verify (app tree): {app_verify:.1f} s for {check.events:,} entries "
            f"and {check.heads} heads "
            f"({'OK' if not check.problem else check.problem})"
        )

        # The standalone verifier's rebuild, on the entries as the open data gives them.
        rows = [
            tree_log.entry_json(e)
            for e in db.session.scalars(select(Event).order_by(Event.seq)).yield_per(10_000)
        ]
        head_rows = [
            tree_log.head_json(h)
            for h in db.session.scalars(select(TreeHead).order_by(TreeHead.id))
        ]
        from consult.record import keys

        class Dump:
            def table(self, name):
                return {
                    "tree_heads": head_rows,
                    "record_keys": [{"public_key": keys.public_key_hex()}],
                }[name]

        report = rules.Report()
        t = time.perf_counter()
        rebuild = rules.TreeCheck(Dump(), report)
        for ev in rows:
            json.loads(ev["payload"])  # as verify_dump reads each payload
            if not rebuild.add(ev):
                break
        rebuild.finish()
        standalone = time.perf_counter() - t
        print(
            f"verify (standalone rebuild): {standalone:.1f} s for {len(rows):,} entries and "
            f"{len(head_rows)} signed heads checked with the pure-Python Ed25519 "
            f"({'OK' if not report.problems else report.problems[0]})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--per-commit", type=int, default=1, help="entries per writer transaction")
    ap.add_argument("--head-interval", type=float, default=5.0)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--database", help="a PostgreSQL server URL (default: a SQLite file in /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = ap.parse_args()
    if not args.database:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='consult-record-')}/record.db"
        run(make_app(url), args)
        return
    base = make_url("postgresql+psycopg://" + args.database.split("://", 1)[1])
    name = f"{base.database or 'consult'}_record_{os.getpid()}"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(make_app(base.set(database=name).render_as_string(hide_password=False)), args)
    finally:
        if not args.keep:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
