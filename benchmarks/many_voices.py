"""Many voices: form letters grouped among a million comments (issue 21).

Run: .venv/bin/python benchmarks/many_voices.py [--comments 1000000] [--database URL]
     [--workers 2] [--new 500] [--runs 5]
     .venv/bin/python benchmarks/many_voices.py --choose-threshold [--comments 20000]

Generates --comments comments on one open version: 90 % variants of 50 form letters
(another greeting and signature name, a sentence added or removed, typos), 10 % unique
comments (policy prose from benchmarks/corpus.py's generator), written with bulk
inserts into a new database (SQLite under /tmp, or a new database on the PostgreSQL
server of --database, dropped at the end). Then, side by side with the same run at
1,000 comments:

- grouping: `regroup` of the whole version (consult.analysis.grouping, --workers
  processes computing signatures) and its time (goal: under 15 minutes for 1M on 2
  cores); pairwise precision and recall of the groups against the generator's truth
  (two comments in one group that came from one letter are a true pair; goal >= 0.98);
- per new comment: --new more comments arrive one by one and are placed as the
  grouping job places them (signature, band-key lookup, comparison, rows written and
  committed): p50 and p95 (goal: p95 under 20 ms);
- pages with the groups: the version page, its form letters, its comments with one row
  per letter, the largest letter's page, the groups API, the report: p50 of --runs
  requests in-process (Flask test client).

--choose-threshold generates a test set only (no database): signatures once, then the
pairwise precision and recall at each threshold with the LSH bands in use, and the
similarities of variants to their group's first comment and of unique comments to
their nearest; the threshold in consult/analysis/nearcopies.py was chosen from it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from consult.extensions import db  # noqa: E402

LETTERS = 50
SLUG = "framework-1"
GREETINGS = [
    "Dear members of the committee,",
    "Dear Sir or Madam,",
    "To the drafting committee,",
    "Dear Secretariat,",
    "To whom it may concern,",
    "Dear colleagues,",
    "Honourable members,",
    "Hello,",
]
CLOSINGS = ["Yours sincerely", "Kind regards", "Best wishes", "Respectfully", "Thank you"]
FIRST = "Anna Somchai Maria Nguyen Siti Ahmad Lina Rizal Mei Joseph Ploy Dara Ana Budi".split()
LAST = "Keller Wong Santos Tran Rahman Lim Reyes Chan Suzuki Phan Sok Garcia Ali".split()


class Generator:
    """Comments with their truth: the letter they copy (0..49) or None for a unique one."""

    def __init__(self, seed: int = 21):
        self.rng = random.Random(seed)
        self.prose = corpus.Prose(self.rng)
        self.letters = [
            (
                self.rng.choice(GREETINGS),
                [self.prose.sentence() for _ in range(self.rng.randint(6, 10))],
            )
            for _ in range(LETTERS)
        ]

    def _typo(self, s: str) -> str:
        words = s.split(" ")
        i = self.rng.randrange(len(words))
        w = words[i]
        if len(w) > 3:
            j = self.rng.randrange(len(w) - 1)
            words[i] = (
                w[:j] + w[j + 1] + w[j] + w[j + 2 :]
                if self.rng.random() < 0.5
                else w[:j] + w[j + 1 :]
            )
        return " ".join(words)

    def variant(self, letter: int) -> str:
        rng = self.rng
        greeting, body = self.letters[letter]
        body = list(body)
        if rng.random() < 0.6:
            greeting = rng.choice(GREETINGS)
        if rng.random() < 0.3:
            del body[rng.randrange(len(body))]
        if rng.random() < 0.4:
            body.insert(rng.randrange(len(body) + 1), self.prose.sentence())
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            i = rng.randrange(len(body))
            body[i] = self._typo(body[i])
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        return f"{greeting}\n{' '.join(body)}\n{rng.choice(CLOSINGS)}, {name}"

    def comment(self) -> tuple[str, int | None]:
        if self.rng.random() < 0.9:
            letter = self.rng.randrange(LETTERS)
            return self.variant(letter), letter
        return self.prose.text(20, 120), None


def pairwise(truth: list, found: list) -> tuple[float, float]:
    """Pairwise precision and recall of the clustering `found` against `truth` (one label
    per comment; None in either means alone)."""

    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    t = Counter(x for x in truth if x is not None)
    f = Counter(x for x in found if x is not None)
    both = Counter(
        (a, b) for a, b in zip(truth, found, strict=True) if a is not None and b is not None
    )
    tp = pairs(both)
    precision = tp / pairs(f) if pairs(f) else 1.0
    recall = tp / pairs(t) if pairs(t) else 1.0
    return precision, recall


def choose_threshold(n: int) -> None:
    from consult.analysis import nearcopies

    gen = Generator()
    items = [gen.comment() for _ in range(n)]
    t0 = time.perf_counter()
    sigs = nearcopies.signatures(t for t, _ in items)
    keys = [nearcopies.band_keys(s) for s in sigs]
    print(f"{n:,} comments, signatures and band keys in {time.perf_counter() - t0:.1f} s")
    truth = [label for _, label in items]
    print(
        f"bands {nearcopies.BANDS} x rows {nearcopies.ROWS}, {nearcopies.NUM_PERM} values, "
        f"reach {nearcopies.REACH}"
    )
    print("threshold  precision  recall   groups")
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        index = nearcopies.MemoryIndex(threshold)
        root: dict[int, int] = {}
        found = []
        for i, (sig, k) in enumerate(zip(sigs, keys, strict=True)):
            m = index.match(sig, k)
            if m is None:
                index.add(i, sig, k)
                root[i] = i
                found.append(i)
            else:
                found.append(root[m[0]])
                if m[1] < nearcopies.REACH:  # as consult.analysis.grouping does
                    index.add(i, sig, k)
                    root[i] = root[m[0]]
        sizes = Counter(found)
        found = [f if sizes[f] > 1 else None for f in found]
        p, r = pairwise(truth, found)
        groups = len({x for x in found if x is not None})
        print(f"  {threshold:.2f}      {p:.4f}     {r:.4f}   {groups}")
    first: dict[int, int] = {}
    to_first, unique_best = [], []
    for i, label in enumerate(truth):
        if label is not None:
            if label in first:
                to_first.append(nearcopies.similarity(sigs[i], sigs[first[label]]))
            else:
                first[label] = i
    firsts = list(first.values())
    for i, label in enumerate(truth[:5000]):
        if label is None:
            unique_best.append(max(nearcopies.similarity(sigs[i], sigs[j]) for j in firsts))
    q = statistics.quantiles
    print(
        "similarity of variants to their letter's first comment: "
        f"min {min(to_first):.3f}, 1st percentile {q(to_first, n=100)[0]:.3f}, "
        f"median {statistics.median(to_first):.3f}"
    )
    print(
        "similarity of unique comments to the nearest letter: "
        f"max {max(unique_best):.3f}, 99th percentile {q(unique_best, n=100)[-1]:.3f}"
    )


def _pg_database(base: str, name: str) -> str:
    url = make_url("postgresql+psycopg://" + base.split("://", 1)[1])
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    admin.dispose()


def _insert_comments(conn, start_id: int, items, when) -> None:
    T = db.metadata.tables
    rows = []
    for i, (body, _label) in enumerate(items):
        cid = start_id + i
        org = 1 + cid % 400
        rows.append(
            {
                "id": cid,
                "tracking": f"C-{cid:08d}",
                "version_id": 1,
                "paragraph_id": None,
                "organisation_id": org,
                "author_id": 1 + org,
                "channel": "web",
                "kind": "comment",
                "body": body,
                "content_hash": hashlib.sha256(str(cid).encode()).hexdigest(),
                "created_at": when,
            }
        )
    for s in range(0, len(rows), 5000):
        conn.execute(insert(T["comment"]), rows[s : s + 5000])


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the regrouping's
    workers): what the work costs whatever else the machine runs meanwhile."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _time_pages(client, group_id: int, runs: int) -> dict[str, float]:
    doc = f"/documents/{SLUG}"
    paths = [
        ("version page", f"{doc}/versions/1"),
        ("form letters page", f"{doc}/versions/1/groups"),
        ("comments, one row per letter", f"{doc}/versions/1/comments?letters=1"),
        ("largest letter's page", f"/letter-groups/{group_id}"),
        ("groups API", f"/api/v1{doc}/versions/1/groups"),
        ("report", f"{doc}/versions/1/report"),
    ]
    out = {}
    for name, path in paths:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = statistics.median(times)
        print(f"  {name}: p50 {out[name]:.1f} ms", file=sys.stderr, flush=True)
    return out


def measure(size: int, args) -> dict:
    from consult.analysis import grouping
    from consult.analysis.models import CommentSignature, LetterGroup
    from consult.documents.models import Version

    if args.database:
        url = _pg_database(args.database, f"bench_voices_{size}")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='consult-voices-')}/voices.db"
    os.environ["CONSULT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="consult-voices-instance-")
    app = corpus.make_app(url, tempfile.mkdtemp(prefix="consult-voices-index-"), "whoosh")
    gen = Generator()
    out: dict = {"size": size}
    with app.app_context():
        corpus.build(db.engine, 0, documents=1, versions=1, paragraphs=30)
        t0 = time.perf_counter()
        truth = []
        with db.engine.begin() as conn:
            done = 0
            while done < size:
                n = min(50_000, size - done)
                items = [gen.comment() for _ in range(n)]
                truth.extend(label for _, label in items)
                _insert_comments(conn, 1 + done, items, corpus.EPOCH + timedelta(days=1))
                done += n
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print(
            f"{size:,} comments written in {time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )

        v = db.session.get(Version, 1)
        cpu0 = _cpu()
        t0 = time.perf_counter()
        counts = grouping.regroup(
            v,
            workers=args.workers,
            chunk=10_000,
            progress=lambda n: (
                print(f"  grouped {n:,}", file=sys.stderr, flush=True) if n % 100_000 == 0 else None
            ),
        )
        out["group_all_s"] = time.perf_counter() - t0
        out["group_all_cpu_s"] = _cpu() - cpu0
        out["groups"] = counts["groups"]
        found = dict(
            db.session.execute(select(CommentSignature.comment_id, CommentSignature.group_id)).all()
        )
        out["precision"], out["recall"] = pairwise(truth, [found.get(i + 1) for i in range(size)])
        print(
            f"  grouped in {out['group_all_s']:.1f} s: {counts}; precision {out['precision']:.4f}, "
            f"recall {out['recall']:.4f}",
            file=sys.stderr,
            flush=True,
        )

        # New comments, one by one, placed as the job places them.
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        times, cpu = [], []
        new_truth, new_found = [], []
        for i in range(args.new):
            body, label = gen.comment()
            cid = size + 1 + i
            with db.engine.begin() as conn:
                _insert_comments(conn, cid, [(body, label)], corpus.EPOCH + timedelta(days=2))
            t, c = time.perf_counter(), time.process_time()
            placed = grouping.place([cid])
            db.session.commit()
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            new_truth.append(label)
            new_found.append(placed[cid])
        times.sort()
        out["new_p50_ms"] = statistics.median(times)
        out["new_p95_ms"] = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        cpu.sort()
        out["new_cpu_p95_ms"] = cpu[min(len(cpu) - 1, round(0.95 * (len(cpu) - 1)))]
        # New variants must land in the group of their letter's other copies.
        letter_group = {}
        for label, gid in zip(truth, (found.get(i + 1) for i in range(size)), strict=True):
            if label is not None and gid is not None:
                letter_group.setdefault(label, Counter())[gid] += 1
        right = sum(
            1
            for label, gid in zip(new_truth, new_found, strict=True)
            if (label is None and gid is None)
            or (
                label is not None
                and label in letter_group
                and gid == letter_group[label].most_common(1)[0][0]
            )
        )
        out["new_right"] = right / max(1, len(new_truth))
        print(
            f"  new comment p50 {out['new_p50_ms']:.1f} ms, p95 {out['new_p95_ms']:.1f} ms; "
            f"{out['new_right']:.1%} placed as the truth says",
            file=sys.stderr,
            flush=True,
        )
        largest = db.session.scalar(
            select(LetterGroup.id).order_by(LetterGroup.size.desc()).limit(1)
        )
        db.session.remove()
    client = app.test_client()
    out["pages"] = _time_pages(client, largest, args.runs)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if args.database:
        _drop_pg(url)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=1_000_000)
    ap.add_argument("--database", help="postgresql://user@host:port/x (default: SQLite)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--new", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--choose-threshold", action="store_true")
    args = ap.parse_args()
    if args.choose_threshold:
        choose_threshold(args.comments if args.comments < 1_000_000 else 20_000)
        return
    sizes = [1000, args.comments] if args.comments > 1000 else [args.comments]
    results = [measure(size, args) for size in sizes]
    db_name = "PostgreSQL" if args.database else "SQLite"
    print(
        f"\nMany voices on {db_name}, {os.cpu_count()} CPUs, --workers {args.workers}, "
        f"load average {os.getloadavg()[0]:.1f} at the end (times are wall-clock; the CPU "
        "rows are what the work costs whatever else runs)"
    )
    head = f"{'':38}" + "".join(f"{r['size']:>14,}" for r in results)
    print(head)

    def row(label, key, fmt):
        print(f"{label:38}" + "".join(f"{fmt.format(r[key]):>14}" for r in results))

    row("groups found (50 letters)", "groups", "{:,}")
    row("precision (pairs)", "precision", "{:.4f}")
    row("recall (pairs)", "recall", "{:.4f}")
    row("group all (s)", "group_all_s", "{:.1f}")
    row("group all, CPU of all processes (s)", "group_all_cpu_s", "{:.1f}")
    row("new comment p50 (ms)", "new_p50_ms", "{:.1f}")
    row("new comment p95 (ms)", "new_p95_ms", "{:.1f}")
    row("new comment p95, CPU (ms)", "new_cpu_p95_ms", "{:.1f}")
    row("new comments placed right", "new_right", "{:.1%}")
    for name in results[0]["pages"]:
        cells = "".join(f"{r['pages'][name]:>14.1f}" for r in results)
        ratio = results[-1]["pages"][name] / results[0]["pages"][name]
        print(f"{name + ' p50 (ms)':38}{cells}   x{ratio:.2f}")


if __name__ == "__main__":
    main()
