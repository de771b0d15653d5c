"""Traceability on the database: uptake stored at publication, and the tracing pages.

Run: .venv/bin/python benchmarks/tracing.py [--suggestions 10000] [--database URL]
(without --database: a new SQLite file under /tmp; the schema is made by the migrations).

Builds one document of --paragraphs paragraphs (default 300) across --versions
versions (default 5) through the services; the suggestions (default 10,000, with
--lineage-comments of them, default 1,000, on one paragraph) are written with bulk
inserts on the versions before the last, and answered. Each next version edits 30 %
of the paragraphs, taking up one of their suggestions half of the time. Prints:

- publication of each version, which measures and stores the uptake of every
  suggestion on the version before (the signal handler in consult.tracing.stored), or,
  past UPTAKE_IN_REQUEST_MAX of them (2,000), leaves it to the job worker: the request's
  time and the worker's are printed apart; each suggestion's diff is stored beside it,
  as posting stores it;
- the last publication's measure made again side by side, with those stored diffs and
  without them (rows from before they were stored: the measure makes each diff), and
  the ratio;
- the pages, rendered through the app: the consultation report of each version, the
  provenance of the last version, the history of the paragraph with the most
  comments, the annotated comparison of versions 1 and 2, an organisation's page.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, insert, select  # noqa: E402
from textgen import edit, paragraph  # noqa: E402

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402
from consult.tracing.suggested import fill_missing  # noqa: E402

DECISIONS = ("accepted", "partly_accepted", "noted", "not_accepted", "out_of_scope")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=int, default=300)
    ap.add_argument("--versions", type=int, default=5)
    ap.add_argument("--suggestions", type=int, default=10_000)
    ap.add_argument("--lineage-comments", type=int, default=1_000)
    ap.add_argument("--organisations", type=int, default=60)
    ap.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="consult-tracing-bench-"))
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INDEX_DIR": str(tmp / "index"),
            "SERVER_NAME": "localhost",
            "RATELIMIT_ENABLED": False,
        }
    )
    rng = random.Random(11)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        run(app, args, rng)


def side_by_side(version) -> None:
    """The last publication's measure made again, side by side: with the suggestions'
    diffs stored when they were posted, and without them (rows from before they were
    stored, whose diffs the measure makes). Rolled back: nothing is kept."""
    from consult.consultation.models import Comment
    from consult.tracing import stored
    from consult.tracing.models import StoredUptake

    previous = version.neighbour(-1)
    took = {}
    for how in ("diffs stored", "diffs made again"):
        db.session.execute(
            StoredUptake.__table__.delete().where(StoredUptake.version_id == version.id)
        )
        if how == "diffs made again":
            db.session.execute(
                Comment.__table__.update()
                .where(Comment.version_id == previous.id)
                .values(suggested_diff=None)
            )
        db.session.expire_all()
        start = time.perf_counter()
        n = stored.store_uptake(version)
        took[how] = time.perf_counter() - start
        print(
            f"  the uptake of version {version.number} measured again, {how}: "
            f"{took[how]:.2f} s ({n:,} suggestions)"
        )
        db.session.rollback()
    print(f"  ratio: {took['diffs made again'] / took['diffs stored']:.2f}")


@contextmanager
def jobs_noted(app) -> Iterator[list[tuple[str, int]]]:
    """The jobs a publication asks for (the measure of its uptake, the keeping of its
    provenance) noted meanwhile, not run inline after the commit as the default queue
    would run them: each is timed apart, as the worker would run it."""
    from consult import jobs

    asked: list[tuple[str, int]] = []
    tasks = jobs.huey_for(app)._consult_tasks
    real = dict(tasks)
    for name in ("measure_uptake", "keep_provenance"):
        tasks[name] = lambda version_id, name=name: asked.append((name, version_id))
    try:
        yield asked
    finally:
        tasks.update(real)


def publish(app, version, by, closes_at, suggestions: int) -> float:
    """Publish `version` as the publishing request does, then run the measure its
    publication left to the job worker, if it left it (more suggestions than
    UPTAKE_IN_REQUEST_MAX): each timed apart. Returns the time of both."""
    from consult.documents import services as docs
    from consult.tracing import stored

    with jobs_noted(app) as asked:
        start = time.perf_counter()
        docs.publish(version, by=by, closes_at=closes_at)
        db.session.commit()
        request = time.perf_counter() - start
        if ("measure_uptake", version.id) not in asked:
            print(f"  publish, measuring {suggestions:,} suggestions' uptake: {request:.2f} s")
            return request
        start = time.perf_counter()
        stored.measure_waiting(app, version.id)
        worker = time.perf_counter() - start
    db.session.expire_all()
    print(
        f"  publish (more than {app.config['UPTAKE_IN_REQUEST_MAX']:,} suggestions: the measure "
        f"left to the worker): {request:.2f} s; the worker's measure of {suggestions:,} "
        f"suggestions, stored and recorded: {worker:.2f} s; the request with the measure "
        f"inside would take {request + worker:.2f} s (x{(request + worker) / request:.1f})"
    )
    return request + worker


def run(app, args, rng: random.Random) -> None:
    from consult.accounts import services as accounts
    from consult.consultation.models import Comment, Response
    from consult.documents import services as docs
    from consult.documents.models import Paragraph
    from consult.timeutil import utcnow
    from consult.tracing.models import StoredUptake

    sec = accounts.create_user("bench-sec@example.org", "benchmark-pass", role="secretariat")
    orgs = [
        accounts.create_organisation(
            f"org-{k}",
            f"Organisation {k}",
            kind=rng.choice(["ngo", "network", "academia"]),
            countries=[rng.choice(["TH", "ID", "PH", "VN", "MY", "KH"])],
        )
        for k in range(args.organisations)
    ]
    doc = docs.create_document("bench", "Benchmark framework", by=sec)
    texts = [paragraph(rng) for _ in range(args.paragraphs)]
    version = docs.import_version(doc, "\n\n".join(texts), by=sec, label="Version 1")
    docs.publish(version, by=sec, closes_at=utcnow() + timedelta(days=30))
    db.session.commit()
    steps = args.versions - 1
    per_version = args.suggestions // steps
    target_lineage = version.paragraphs[len(version.paragraphs) // 2].lineage
    print(
        f"{args.paragraphs} paragraphs, {args.versions} versions, {args.suggestions:,} "
        f"suggestions ({per_version:,} per version; {args.lineage_comments:,} on one lineage), "
        f"{db.session.get_bind().dialect.name}"
    )
    publish_times = []
    serial = 0
    for k in range(1, args.versions):
        paras = version.paragraphs
        on_target = [p for p in paras if p.lineage == target_lineage]
        rows = []
        lineage_share = args.lineage_comments // steps
        for n in range(per_version):
            p = on_target[0] if (on_target and n < lineage_share) else rng.choice(paras)
            quote = None
            qs = qe = None
            if rng.random() < 0.3:
                words = p.text.rstrip(".").split()
                m = rng.randint(3, min(8, len(words)))
                at = rng.randrange(len(words) - m + 1)
                quote = " ".join(words[at : at + m])
                qs = p.text.find(quote)
                qe = qs + len(quote)
                wording = edit(rng, quote, 0.5).rstrip(".")
            else:
                wording = edit(rng, p.text, 0.8)
            serial += 1
            rows.append(
                {
                    "tracking": f"C-B{serial:08d}",
                    "version_id": version.id,
                    "paragraph_id": p.id,
                    "organisation_id": rng.choice(orgs).id,
                    "channel": "web",
                    "kind": "suggestion",
                    "body": "We propose other wording.",
                    "suggested_text": wording,
                    "quote": quote,
                    "quote_start": qs,
                    "quote_end": qe,
                    "content_hash": "0" * 64,
                    "created_at": utcnow(),
                }
            )
        db.session.execute(insert(Comment.__table__), rows)
        # Each suggestion's diff against its paragraph, stored as posting it stores it.
        fill_missing(db.session.connection())
        docs.close(version, by=sec, reason="Benchmark")
        ids = db.session.scalars(select(Comment.id).where(Comment.version_id == version.id)).all()
        db.session.execute(
            insert(Response.__table__),
            [
                {
                    "comment_id": cid,
                    "decision": rng.choice(DECISIONS),
                    "reason": "Considered.",
                    "responder_id": sec.id,
                    "created_at": utcnow(),
                }
                for cid in ids
            ],
        )
        db.session.commit()
        # The next text: 30 % of the paragraphs edited, half of them taking up a suggestion.
        by_paragraph: dict[int, list[str]] = {}
        for r in rows:
            if r["quote"] is None:
                by_paragraph.setdefault(r["paragraph_id"], []).append(r["suggested_text"])
        new_texts = []
        for p in paras:
            t = p.text
            if rng.random() < 0.3:
                options = by_paragraph.get(p.id)
                t = (
                    edit(rng, rng.choice(options), 0.95)
                    if options and rng.random() < 0.5
                    else edit(rng, t, 0.85)
                )
            new_texts.append(t)
        nxt = docs.import_version(doc, "\n\n".join(new_texts), by=sec, label=f"Version {k + 1}")
        db.session.commit()
        last = k + 1 == args.versions
        print(f"version {k + 1}:")
        took = publish(app, nxt, sec, None if last else utcnow() + timedelta(days=30), len(rows))
        publish_times.append((len(rows), took))
        version = nxt
    side_by_side(version)
    labels = Counter(db.session.scalars(select(StoredUptake.label)))
    stored = db.session.scalar(select(func.count(StoredUptake.id)))
    total_n = sum(n for n, _ in publish_times)
    total_t = sum(t for _, t in publish_times)
    print(
        f"uptake stored for {stored:,} suggestions in {total_t:.2f} s "
        f"({total_t / max(total_n, 1) * 1e3:.2f} ms each): "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(labels.items()))
    )
    if version.state != "final":
        docs.finalize(version, by=sec, override_reason="Benchmark")
        db.session.commit()

    client = app.test_client()

    def page(label: str, url: str) -> None:
        db.session.remove()  # a request starts with an empty session, as in production
        start = time.perf_counter()
        r = client.get(url)
        took = time.perf_counter() - start
        assert r.status_code == 200, (url, r.status_code)
        print(f"  {label}: {took:.2f} s ({len(r.data) / 1024:,.0f} KiB)")

    on_lineage = db.session.scalar(
        select(func.count(Comment.id))
        .join(Paragraph, Paragraph.id == Comment.paragraph_id)
        .where(Paragraph.lineage == target_lineage)
    )
    org_slug = orgs[0].slug
    client.get("/documents/bench/versions/1/report")  # templates compiled once, not timed
    print("pages (the second load of provenance and of the organisation's page reuses")
    print("the computed provenance while the record's head is the same):")
    for n in range(1, args.versions):
        page(f"report of version {n}", f"/documents/bench/versions/{n}/report")
    page(
        f"provenance of version {args.versions} ({args.paragraphs} paragraphs)",
        f"/documents/bench/versions/{args.versions}/provenance",
    )
    page(
        f"provenance of version {args.versions} again",
        f"/documents/bench/versions/{args.versions}/provenance",
    )
    page(
        f"paragraph history ({on_lineage:,} comments on the lineage)",
        f"/documents/bench/lineages/{target_lineage}",
    )
    page("annotated comparison of versions 1 and 2", "/documents/bench/compare/1/2/annotated")
    page("an organisation's page", f"/organisations/{org_slug}/accountability")


if __name__ == "__main__":
    main()
