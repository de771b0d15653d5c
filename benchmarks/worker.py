"""What a comment costs the job worker, beside what it costs its request: N comments are
posted through the API (in process, the Flask test client), then each job the worker runs
for them is run once over all of them, in the order the worker would meet them, and timed:
the search index fed from its outbox, the record's entries placed in its tree, the
receipts made and sent (the file mail backend), the comments placed in their form-letter
groups. Each is printed in milliseconds per comment and as a share of the request's time.

Intake shares the machine with the worker (benchmarks/intake.py runs it beside gunicorn):
what the worker spends on each comment is taken from the requests.

Run: .venv/bin/python benchmarks/worker.py [--comments 2000] [--database URL]
(--database: a new database on that PostgreSQL server, dropped at the end.)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import Site, seed  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=2_000)
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--database", help="a PostgreSQL server URL on this machine (default SQLite)")
    args = ap.parse_args()
    if not 1 <= args.comments <= 100_000:
        ap.error("--comments from 1 to 100000")

    with tempfile.TemporaryDirectory(prefix="consult-worker-") as tmp:
        # Jobs on a queue nobody serves: the requests leave the work, run here one by one.
        site = Site(Path(tmp), args.database, "sqlite")
        try:
            run(site, args)
        finally:
            site.drop()


def run(site: Site, args) -> None:
    from consult import create_app
    from consult.analysis import grouping
    from consult.extensions import db
    from consult.mail.models import MailOutbox
    from consult.mail.outbox import send_pending
    from consult.record import log as record_log
    from consult.search import outbox

    data = seed(site.app(), accounts=args.accounts)
    app = create_app({"RATELIMIT_ENABLED": False})
    client = app.test_client()
    rnd = random.Random(18)

    def post(n: int) -> None:
        answer = client.post(
            f"/api/v1/paragraphs/{rnd.choice(data['paragraphs'])}/comments",
            data=json.dumps({"kind": "comment", "body": f"Comment {n}: fund the interpreters."}),
            headers={
                "Authorization": f"Bearer {rnd.choice(data['tokens'])}",
                "Content-Type": "application/json",
            },
        )
        if answer.status_code != 201:
            sys.exit(f"POST answered {answer.status_code}: {answer.get_data(as_text=True)}")

    def mail() -> None:
        while send_pending(app).sent:
            pass

    jobs = [
        ("search index", lambda: outbox.drain(app, wait=outbox.REQUEST_WAIT)),
        ("record tree", lambda: record_log.sequence(app)),
        ("receipts", mail),
        ("form letters", lambda: grouping.drain(app)),
    ]
    # A warm-up, as a running worker is: modules imported, caches filled.
    for n in range(20):
        post(-n)
    for _name, job in jobs:
        with app.app_context():
            job()
    t0 = time.perf_counter()
    for n in range(args.comments):
        post(n)
    request = (time.perf_counter() - t0) / args.comments
    n = args.comments
    print(
        f"{'SQLite' if not args.database else 'PostgreSQL'}, {args.comments} comments posted "
        f"through the API in process: {request * 1000:.2f} ms a request\n"
    )
    print(f"  {'job':<16}{'ms a comment':>14}{'x request':>11}")
    total = 0.0
    for name, job in jobs:
        with app.app_context():
            t0 = time.perf_counter()
            job()
            spent = (time.perf_counter() - t0) / n
        total += spent
        print(f"  {name:<16}{spent * 1000:>14.2f}{spent / request:>11.2f}")
    print(f"  {'all':<16}{total * 1000:>14.2f}{total / request:>11.2f}")
    with app.app_context():
        unsent = db.session.query(MailOutbox).filter(MailOutbox.sent_at.is_(None)).count()
        mails = len(list((Path(site.folder) / "mail").glob("*.eml")))
    print(f"\n  receipts written: {mails} of {n + 20}; still in the outbox: {unsent}")
    if unsent or mails != n + 20:
        sys.exit("not every receipt was sent")


if __name__ == "__main__":
    main()
