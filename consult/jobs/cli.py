"""`flask --app consult worker`: the consumer that runs the background jobs."""

from __future__ import annotations

import logging
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.command("worker")
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Jobs run at once (threads of this process).",
)
@click.option(
    "--nice",
    "niceness",
    default=10,
    show_default=True,
    envvar="CONSULT_WORKER_NICE",
    type=click.IntRange(0, 19),
    help="How much lower than the web server's the worker's CPU priority is "
    "(os.nice): under a burst of comments the requests are served first and the jobs "
    "catch up after. 0 keeps the same priority.",
)
@click.option("--verbose", is_flag=True, help="Log every job that starts and ends.")
@with_appcontext
def worker_cmd(threads: int, niceness: int, verbose: bool):
    """Run the background jobs (search indexing, mail, heavy exports, closing at the
    deadline) from the queue of CONSULT_JOBS until stopped (Ctrl-C: after the jobs
    under way end)."""
    from consult import jobs

    app = current_app._get_current_object()
    if not jobs.queued(app):
        click.echo(
            _(
                "CONSULT_JOBS is 'inline': jobs run inside the processes "
                "that ask for them, so there is nothing for a worker to do. "
                "Set CONSULT_JOBS=sqlite (a queue under instance/) or "
                "CONSULT_JOBS=redis://127.0.0.1:6379/0 for the web server "
                "and for this worker."
            ),
            err=True,
        )
        sys.exit(2)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("huey").setLevel(logging.INFO if verbose else logging.WARNING)
    click.echo(
        _(
            "Worker: %(threads)s thread(s) on %(shown)s.",
            threads=threads,
            shown=_shown(app.config["JOBS_URL"]),
        )
    )
    _lower_priority(niceness)
    consumer = jobs.huey_for(app).create_consumer(
        workers=threads, worker_type="thread", periodic=True
    )
    consumer.run()


def _lower_priority(by: int) -> None:
    """Lower the CPU priority of every thread of this process by `by` (at most to 19).
    On Linux a priority belongs to each thread and os.nice changes only the caller's;
    threads made later inherit their maker's, but the ones libraries started on import
    (OpenBLAS's pool, which does the jobs' matrix work) would keep the server's."""
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except FileNotFoundError:  # no /proc: the priority is the process's own
        os.nice(by)
        return
    for tid in threads:
        try:
            now = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(now + by, 19))
        except ProcessLookupError:  # the thread ended meanwhile
            pass


def _shown(url: str) -> str:
    """The queue's address without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


def register(app) -> None:
    app.cli.add_command(worker_cmd)
