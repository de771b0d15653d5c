"""Publishing a version after many comments: what the publishing request costs with the
uptake measured inside it, and with the measure left to the job worker, side by side in
one run.

Run: .venv/bin/python benchmarks/publishing.py [--comments 100000] [--database URL]

Builds benchmarks/corpus.py's document (two versions of 300 paragraphs, --comments
comments on them, as benchmarks/pages.py does: a SQLite file under /tmp, or with
--database a new database on that PostgreSQL server, dropped at the end). Version 2
is closed and a version 3 imported, a third of its paragraphs edited. Then version 3
is published through the service, as the publishing request does (publish and commit):

1. with the measure of version 2's suggestions inside the request (UPTAKE_IN_REQUEST_MAX
   above their number): the request measures and stores every suggestion's uptake and
   the record's event covers the measures. Rolled back;
2. with the measure left to the job worker (UPTAKE_IN_REQUEST_MAX as configured: 2,000):
   the request publishes and records the version and its paragraphs, commits, and asks
   for the jobs (noted here, not run: the default queue would run them inline);
3. that job (consult.tracing.stored.measure_waiting), timed apart: it measures, stores
   and records the uptake in an event of its own; then the job that keeps the
   provenance, timed apart too.

Prints each time, the ratio of 1 to 2, and checks that 1 and 3 stored the same measures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
from pages import _drop_pg, _pg_database, build_corpus  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from textgen import edit  # noqa: E402
from tracing import jobs_noted  # noqa: E402

from consult.extensions import db  # noqa: E402


def _version_3(rng: random.Random):
    """Version 2 closed, and version 3 imported: a third of its paragraphs edited."""
    from consult.accounts.models import User
    from consult.documents import services as docs
    from consult.documents.models import Document

    doc = db.session.scalar(select(Document).where(Document.slug == "framework-1"))
    sec = db.session.get(User, 1)
    v2 = doc.latest
    if v2.state == "consultation":
        docs.close(v2, by=sec, reason="Benchmark")
    texts = [p.source if rng.random() > 0.33 else edit(rng, p.source, 0.85) for p in v2.paragraphs]
    v3 = docs.import_version(doc, "\n\n".join(texts), by=sec, label="Version 3")
    db.session.commit()
    return sec, v2, v3


def _measures(version_id: int) -> dict[int, tuple]:
    from consult.tracing.models import StoredUptake

    return {
        cid: (score, label, digest)
        for cid, score, label, digest in db.session.execute(
            select(
                StoredUptake.comment_id,
                StoredUptake.score,
                StoredUptake.label,
                StoredUptake.inputs_hash,
            ).where(StoredUptake.version_id == version_id)
        )
    }


def run(app, args) -> None:
    from consult.consultation.models import Comment
    from consult.documents import services as docs
    from consult.tracing import stored, views

    rng = random.Random(5)
    sec, v2, v3 = _version_3(rng)
    # The suggestions publishing version 3 measures (the same conditions as the app's).
    suggestions = db.session.scalar(
        select(func.count(Comment.id)).where(*stored._suggestions_on(v2))
    )
    print(f"version 3 published after {suggestions:,} suggestions on version 2:")
    if not suggestions:
        sys.exit("no suggestions on version 2: give more --comments")
    limit = app.config["UPTAKE_IN_REQUEST_MAX"]

    # 1. The measure inside the request, rolled back before its commit (whose jobs would
    # keep the provenance, as in 2).
    app.config["UPTAKE_IN_REQUEST_MAX"] = suggestions + 1
    start = time.perf_counter()
    docs.publish(v3, by=sec)
    db.session.flush()
    inside = time.perf_counter() - start
    measured_inside = _measures(v3.id)
    db.session.rollback()
    db.session.expire_all()
    print(f"  1. the request measuring inside it: {inside:.2f} s ({len(measured_inside):,} rows)")

    # 2. The measure left to the worker; the jobs it asks for are timed apart (3). A small
    # corpus (fewer suggestions than the limit) lowers the limit so that it is.
    app.config["UPTAKE_IN_REQUEST_MAX"] = min(limit, suggestions - 1)
    with jobs_noted(app) as asked:
        start = time.perf_counter()
        docs.publish(v3, by=sec)
        db.session.commit()
        request = time.perf_counter() - start
        print(f"  2. the request leaving it to the worker: {request:.2f} s (jobs asked: {asked})")

        # 3. The worker's job.
        start = time.perf_counter()
        written = stored.measure_waiting(app, v3.id)
        worker = time.perf_counter() - start
    db.session.expire_all()
    measured_later = _measures(v3.id)
    print(f"  3. the worker's job, measuring, storing and recording: {worker:.2f} s ({written:,})")
    start = time.perf_counter()
    views.keep_provenance(app, v3.id)
    print(f"  then the provenance kept by its job: {time.perf_counter() - start:.2f} s")
    ratio = inside / request
    same = measured_later == measured_inside
    print(
        f"  ratio of the request's time, measure inside / left to the worker: "
        f"{ratio:.0f}; the same measures stored: {same}"
    )
    if not same:
        sys.exit("the measures made by the worker differ from those made in the request")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comments", type=int, default=100_000)
    ap.add_argument("--database", help="a PostgreSQL server URL (default: a SQLite file)")
    args = ap.parse_args()
    if args.database:
        url = _pg_database(args.database, f"bench_publishing_{args.comments}")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='consult-publishing-')}/publishing.db"
    app = corpus.make_app(url, tempfile.mkdtemp(prefix="consult-publishing-index-"))
    try:
        with app.app_context():
            t0 = time.perf_counter()
            summary = build_corpus(db.engine, args.comments)
            print(f"{summary} ({time.perf_counter() - t0:.0f} s to build)")
            run(app, args)
            db.session.remove()
            db.engine.dispose()
    finally:
        if args.database:
            _drop_pg(url)


if __name__ == "__main__":
    main()
