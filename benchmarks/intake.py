"""Intake at the web stack's speed: POSTs of comments per second against a hello-world Flask
app under the same gunicorn in the same run, and a burst of comments from many accounts
with nothing lost and the record verifying afterwards.

Run: .venv/bin/python benchmarks/intake.py [--database postgresql://postgres@127.0.0.1:5432/x]
     [--seconds 10] [--burst 10000] [--accounts 500] [--processes 4] [--threads 8]
     [--stream-seconds 30] [--stream-think 0.02]

The site is made in a temporary folder: SQLite, or with --database a new database on that
PostgreSQL server (this machine only; dropped at the end). gunicorn runs 4 sync workers
(--workers) for Consult and then for a hello-world app answering a JSON POST; the same
client (processes of threads, http.client, a new connection per request as sync workers
close them) posts for --seconds against each; the ratio app / hello is printed (issue 18's
goal: >= 0.3). Beside them, for scale, the same POST to a paragraph that does not exist
for --seconds: the token's account read, the body checked, the paragraph looked up and a
404 answered, writing nothing: what a comment costs before it is written. The job worker
(`flask worker`, CONSULT_JOBS=sqlite, or --jobs redis://…) runs beside the app and feeds
the search index and the mail. For each run, the CPU time gunicorn's processes and the job
worker used per request answered (read from /proc) says where the machine's two cores
went: the ratio of CPU a request, hello-world's over Consult's, is the throughput ratio
the same machine would give with nothing waiting on anything.

Then a steady stream, as a consultation's busy hours bring: one client posting, with a
pause of --stream-think seconds on average after each answer (about 35 comments a second
here), for --stream-seconds, twice with the job worker's gathering window
(CONSULT_JOBS_GATHER_MS: each job that every comment asks for runs at most once in that
time) and twice without it, in turns. For each run, the CPU that gunicorn and the job
worker spent on each comment (the worker's until it had drained what the stream left):
run for each comment, the jobs' fixed costs made the worker's share several times what
it is in a burst.

Then the burst: --burst comments from --accounts accounts, as fast as the client can
send them. Every 201's tracking number must be in the database, no comment may be
missing or extra, the worker must drain the search outbox and place every record entry
in the Merkle tree, and `flask verify` must pass. The time each record append took in
the request, and how long its transaction then stayed open until the commit, are
printed from the app's processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import (  # noqa: E402
    ROOT,
    Request,
    Server,
    Site,
    load,
    percentile,
    post_comment,
    seed,
)


def throughput(rows, elapsed, ok=(200, 201)) -> tuple[float, int, float]:
    good = [r for r in rows if r[1] in ok]
    return len(good) / elapsed, len(rows) - len(good), percentile([r[2] for r in good], 0.95)


def cpu_per_request(before: dict, after: dict, rows) -> dict[str, float]:
    """The servers' CPU seconds per request answered, gunicorn's and the job worker's."""
    return {k: (after[k] - before[k]) / max(len(rows), 1) for k in before}


def measure_posts(site, data, args) -> dict:
    tokens, paragraphs = data["tokens"], data["paragraphs"]

    def make_app(rnd):
        n = rnd.randrange(10**9)
        return post_comment(
            rnd.choice(tokens), rnd.choice(paragraphs), f"Throughput comment {n}: fund it."
        )

    def make_hello(rnd):
        return Request(
            "POST hello",
            "POST",
            "/comments",
            json.dumps({"kind": "comment", "body": "Throughput comment: fund it."}).encode(),
            {"Content-Type": "application/json"},
        )

    def make_floor(rnd):
        # Everything a comment's POST does before writing: the token's account is read,
        # the body checked, the paragraph looked up (none has this number: 404).
        return post_comment(rnd.choice(tokens), 2**31 - 1, "Throughput comment: fund it.")

    def measure(server, make, ok):
        load(server.port, make, seconds=2, processes=args.processes, threads=args.threads)
        before = server.cpu_seconds()
        rows, elapsed = load(
            server.port, make, seconds=args.seconds, processes=args.processes, threads=args.threads
        )
        cpu[make] = cpu_per_request(before, server.cpu_seconds(), rows)
        return throughput(rows, elapsed, ok=ok)

    cpu: dict = {}

    out = {}
    with Server(site, "bench_app", workers=args.workers, worker=True) as server:
        # The floor first: it leaves the job worker nothing to do, where the comments
        # leave it a backlog that would take its share of the machine from the next run.
        out["floor"] = measure(server, make_floor, (404,))
        out["app"] = measure(server, make_app, (201,))
    with Server(site, "bench_hello", workers=args.workers) as server:
        out["hello"] = measure(server, make_hello, (201,))
    out["cpu"] = {
        name: cpu[make]
        for name, make in (("app", make_app), ("hello", make_hello), ("floor", make_floor))
    }
    return out


def burst(site, data, args) -> dict:
    tokens, paragraphs = data["tokens"], data["paragraphs"]
    total = args.burst
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("i", 0)

    def make(rnd):
        with counter.get_lock():
            n = counter.value
            if n >= total:
                return None
            counter.value = n + 1
        return post_comment(
            tokens[n % len(tokens)],
            paragraphs[n % len(paragraphs)],
            f"Burst comment {n} from account {n % len(tokens)}: publish the hearing budget.",
        )

    log = site.folder / "appends"
    with Server(
        site,
        "bench_app",
        workers=args.workers,
        worker=True,
        extra_env={"BENCH_APPEND_LOG": str(log)},
    ) as server:
        rows, elapsed = load(
            server.port,
            make,
            seconds=args.burst_limit,
            processes=args.processes,
            threads=args.threads,
            keep_bodies=True,
        )
        drained = wait_drained(site, seconds=args.drain_limit)
    appends = {"append": [], "held": []}
    for f in site.folder.glob("appends.*"):
        for line in f.read_text().split("\n"):
            if line:
                kind, seconds = line.split()
                appends[kind].append(float(seconds))
    created = [json.loads(r[3])["tracking"] for r in rows if r[1] == 201]
    errors = {}
    for r in rows:
        if r[1] != 201:
            errors[r[1]] = errors.get(r[1], 0) + 1
    return {
        "sent": len(rows),
        "created": created,
        "errors": errors,
        "elapsed": elapsed,
        "p95": percentile([r[2] for r in rows if r[1] == 201], 0.95),
        "drained": drained,
        "appends": appends,
    }


def stream(site, data, args) -> list[tuple[str, dict]]:
    """A steady stream of comments (one client, a pause of --stream-think seconds on
    average after each answer) for --stream-seconds, with the worker's gathering window
    (the site's CONSULT_JOBS_GATHER_MS) and without it (0), twice each in turns:
    the comments a second, the CPU that gunicorn and the job worker spent on each
    comment (the worker's until it had drained the outboxes), and how long after the
    stream's end it took to drain."""
    tokens, paragraphs = data["tokens"], data["paragraphs"]

    def make(rnd):
        return post_comment(
            rnd.choice(tokens),
            rnd.choice(paragraphs),
            f"Stream comment {rnd.randrange(10**9)}: fund the interpreters.",
        )

    window = str(site.app().config["JOBS_GATHER_MS"])  # the site's own setting
    out = []
    for _turn in range(2):
        for gather in (window, "0"):
            env = {"CONSULT_JOBS_GATHER_MS": gather}
            with Server(site, "bench_app", workers=args.workers, worker=True, extra_env=env) as s:
                # The worker's first jobs import what they need: not counted.
                load(s.port, make, seconds=3, processes=1, threads=1, think=args.stream_think)
                wait_drained(site, seconds=args.drain_limit)
                before = s.cpu_seconds()
                rows, elapsed = load(
                    s.port,
                    make,
                    seconds=args.stream_seconds,
                    processes=1,
                    threads=1,
                    think=args.stream_think,
                )
                drained = wait_drained(site, seconds=args.drain_limit)
                used = cpu_per_request(before, s.cpu_seconds(), [r for r in rows if r[1] == 201])
            rate, errors, _p95 = throughput(rows, elapsed, ok=(201,))
            out.append((gather, {"rate": rate, "errors": errors, "cpu": used, "drained": drained}))
    return out


def _engine(site):
    from sqlalchemy import create_engine

    url = site.url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url)


def wait_drained(site, *, seconds: float) -> float | None:
    """Seconds until the worker emptied the search and mail outboxes and placed every
    record entry in the tree, or None past `seconds`."""
    from sqlalchemy import text

    engine = _engine(site)
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            with engine.connect() as conn:
                left = conn.scalar(text("SELECT count(*) FROM search_outbox"))
                left += conn.scalar(text("SELECT count(*) FROM event WHERE seq IS NULL"))
                left += conn.scalar(
                    text("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND attempts < 5")
                )
            if not left:
                return time.monotonic() - start
            time.sleep(0.5)
        return None
    finally:
        engine.dispose()


def check(site, data, result, seeded: int) -> list[str]:
    """What was lost or is wrong; empty when nothing."""
    from sqlalchemy import text

    problems = []
    engine = _engine(site)
    with engine.connect() as conn:
        stored = set(conn.scalars(text("SELECT tracking FROM comment")))
        n_comments = len(stored)
        events = conn.scalar(text("SELECT count(*) FROM event WHERE kind = 'comment.posted'"))
        unsent = conn.scalar(text("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL"))
    engine.dispose()
    created = set(result["created"])
    missing = created - stored
    if missing:
        problems.append(f"{len(missing)} comments answered 201 are not stored")
    expected = seeded + result["throughput_posts"] + len(created)
    if n_comments != expected:
        problems.append(f"{n_comments} comments stored, {expected} expected")
    if events != n_comments:
        problems.append(f"{events} comment events in the record for {n_comments} comments")
    if result["drained"] is None:
        problems.append("the worker did not drain the outboxes and sequence the record in time")
    verify = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "consult", "verify"],
        env=site.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    result["verify"] = (verify.stdout + verify.stderr).strip().splitlines()[-1:]
    if verify.returncode != 0:
        problems.append(f"flask verify failed: {verify.stdout[-500:]} {verify.stderr[-500:]}")
    result["unsent"] = unsent
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database", help="a PostgreSQL server URL on this machine (default SQLite)")
    ap.add_argument("--jobs", default="sqlite", help="CONSULT_JOBS of the site (sqlite, redis://…)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each throughput run")
    ap.add_argument("--burst", type=int, default=10_000, help="comments in the burst (0: none)")
    ap.add_argument("--accounts", type=int, default=500)
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--processes", type=int, default=4, help="client processes")
    ap.add_argument("--threads", type=int, default=8, help="client threads per process")
    ap.add_argument("--burst-limit", type=float, default=900, help="most seconds for the burst")
    ap.add_argument(
        "--drain-limit", type=float, default=600, help="most seconds to wait for the worker"
    )
    ap.add_argument(
        "--stream-seconds", type=float, default=30, help="length of each steady stream (0: none)"
    )
    ap.add_argument(
        "--stream-think",
        type=float,
        default=0.02,
        help="mean seconds the stream's client waits after each answer",
    )
    args = ap.parse_args()
    if not 0 <= args.burst <= 100_000 or not 1 <= args.accounts <= 5_000:
        ap.error("--burst up to 100000, --accounts from 1 to 5000")

    with tempfile.TemporaryDirectory(prefix="consult-intake-") as tmp:
        site = Site(Path(tmp), args.database, args.jobs)
        try:
            t0 = time.perf_counter()
            data = seed(site.app(), accounts=args.accounts)
            print(
                f"Site: {'PostgreSQL' if args.database else 'SQLite'}, jobs on {args.jobs}, "
                f"{args.accounts} accounts ({time.perf_counter() - t0:.0f} s to build)."
            )
            posts = measure_posts(site, data, args)
            app_rate, hello_rate, floor_rate = (posts[k][0] for k in ("app", "hello", "floor"))
            print(
                f"\nPOST throughput, gunicorn -w {args.workers}, "
                f"{args.processes}x{args.threads} client threads, {args.seconds:.0f} s each:"
            )
            print(
                f"  {'':<24}{'per s':>10}{'p95 ms':>10}{'errors':>8}"
                f"{'CPU ms a request: gunicorn':>30}{'job worker':>12}"
            )
            for name, label, (rate, err, p95) in (
                ("app", "Consult POST comment", posts["app"]),
                ("hello", "hello-world Flask POST", posts["hello"]),
                ("floor", "Consult POST, no write", posts["floor"]),
            ):
                used = posts["cpu"][name]
                print(
                    f"  {label:<24}{rate:>10.0f}{p95 * 1000:>10.1f}{err:>8}"
                    f"{used['web'] * 1000:>30.2f}{used['jobs'] * 1000:>12.2f}"
                )
            print(f"  ratio app / hello: {app_rate / hello_rate:.3f}  (goal >= 0.3)")
            spent = {k: sum(posts["cpu"][k].values()) for k in ("app", "hello", "floor")}
            print(
                f"  CPU a request, gunicorn and job worker together, hello / app: "
                f"{spent['hello'] / spent['app']:.3f}; hello / the POST stopped before "
                f"writing: {spent['hello'] / spent['floor']:.3f}"
            )
            print(
                f"  ratio of the same POST stopped before writing (a paragraph that does not "
                f"exist: 404) / hello: {floor_rate / hello_rate:.3f}"
            )

            if args.stream_seconds:
                print(
                    f"\nSteady stream: one client, {args.stream_think * 1000:.0f} ms on "
                    f"average after each answer, {args.stream_seconds:.0f} s a run, the job "
                    f"worker's gathering window on and off in turns:"
                )
                print(
                    f"  {'CONSULT_JOBS_GATHER_MS':<24}{'per s':>8}{'errors':>8}"
                    f"{'CPU ms a comment: gunicorn':>30}{'job worker':>12}{'drained in s':>14}"
                )
                for gather, r in stream(site, data, args):
                    drained = "-" if r["drained"] is None else f"{r['drained']:.1f}"
                    print(
                        f"  {gather:<24}{r['rate']:>8.0f}{r['errors']:>8}"
                        f"{r['cpu']['web'] * 1000:>30.2f}{r['cpu']['jobs'] * 1000:>12.2f}"
                        f"{drained:>14}"
                    )

            from sqlalchemy import text

            engine = _engine(site)
            with engine.connect() as conn:
                before_burst = conn.scalar(text("SELECT count(*) FROM comment"))
            engine.dispose()
            if args.burst:
                result = burst(site, data, args)
                result["throughput_posts"] = before_burst
                problems = check(site, data, result, 0)
                rate = len(result["created"]) / result["elapsed"]
                print(
                    f"\nBurst: {args.burst} comments from {args.accounts} accounts: "
                    f"{len(result['created'])} created in {result['elapsed']:.1f} s "
                    f"({rate:.0f} per s, p95 {result['p95'] * 1000:.0f} ms), "
                    f"errors {result['errors'] or 'none'}"
                )
                if result["drained"] is not None:
                    print(
                        f"  outboxes drained and record sequenced by the worker "
                        f"{result['drained']:.1f} s after the burst ended"
                    )
                print(
                    f"  mails still unsent: {result['unsent']}; verify: "
                    f"{' '.join(result['verify'])}"
                )
                for kind, label in (
                    ("append", "record append (in the request)"),
                    ("held", "append to the commit"),
                ):
                    values = result["appends"][kind]
                    if values:
                        print(
                            f"  {label}: n={len(values)}, mean "
                            f"{sum(values) / len(values) * 1000:.2f} ms, p95 "
                            f"{percentile(values, 0.95) * 1000:.2f} ms, total "
                            f"{sum(values):.1f} s"
                        )
                print("  nothing lost, record verifies" if not problems else "  PROBLEMS:")
                for p in problems:
                    print(f"   - {p}")
                if problems:
                    sys.exit(1)
        finally:
            site.drop()


if __name__ == "__main__":
    main()
