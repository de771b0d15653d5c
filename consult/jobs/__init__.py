"""Background jobs: work that must not run inside a request.

One job system for everything slow or optional that a request would otherwise do:
feeding the search index from its outbox, sending the mail outbox, making heavy exports,
closing consultations at their deadline (a periodic job, with the other outboxes swept
again as a safety net).

Why Huey rather than Celery. Both are well kept; both run on Redis. Huey fits the
promise of "nothing to install" (DESIGN.md, idea 7): its queue can live in a SQLite
file under instance/ (`SqliteHuey`) and the very same tasks run on Redis (`RedisHuey`)
at scale, with a consumer that is one command and one small pure-Python dependency.
Celery has no embedded broker that is fit for several processes (its SQLAlchemy
"transport" is experimental and unmaintained), so the default would need Redis or
RabbitMQ running, and it brings kombu, billiard, vine and a beat scheduler as a
separate process; its strengths (routing, canvas, many brokers, result backends) are
not needed here. Huey's periodic tasks run inside the consumer, so closing at the
deadline needs no second daemon.

Settings (CONSULT_JOBS):

- ``inline`` (the default when nothing runs a worker): each job runs at once in the
  process that asks for it, after its transaction commits — the behaviour of a single
  process and of the test suite;
- ``sqlite`` (``make run``): a queue in ``instance/jobs.db``; ``sqlite:////abs/path.db``
  names another file. Shared by the processes of one machine;
- ``redis://host:6379/0``: a queue on Redis, for several machines.

With a queue, run ``flask --app consult worker`` beside the web server; requests then
only write their outbox rows and a cheap "something to do" mark.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, current_app, g, has_app_context, has_request_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.storage import RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

INLINE = "inline"


class JobsConfigError(ValueError):
    """CONSULT_JOBS names no queue we know."""


def parse(value: str, instance_path: str) -> str:
    """The queue's address from CONSULT_JOBS: 'inline', 'sqlite:///<file>' or
    'redis://…'."""
    value = (value or INLINE).strip()
    if value in (INLINE, ""):
        return INLINE
    if value == "sqlite":
        return f"sqlite:///{Path(instance_path) / 'jobs.db'}"
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    if value.startswith(("redis://", "rediss://", "unix://")):
        return value
    raise JobsConfigError(
        f"CONSULT_JOBS={value!r} is not known; use 'inline' (jobs run in the process that "
        "asks for them), 'sqlite' (a queue under instance/, run 'flask --app consult worker' "
        "beside the server) or redis://host:6379/0 (a queue on Redis)."
    )


def make_huey(url: str) -> Huey:
    if url == INLINE:
        return MemoryHuey("consult", immediate=True, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("consult", filename=str(path), results=False)
    return RedisHuey("consult", url=url, results=False)


def init_app(app: Flask) -> None:
    """Make the app's queue and register its tasks on it (consult.jobs.tasks)."""
    from consult.jobs import tasks

    huey = make_huey(app.config.get("JOBS_URL", INLINE))
    app.extensions["consult_jobs"] = huey
    tasks.register(app, huey)
    app.teardown_request(_ask_at_the_end)


def huey_for(app: Flask | None = None) -> Huey:
    return (app or current_app).extensions["consult_jobs"]


def queued(app: Flask | None = None) -> bool:
    """True when a worker runs the jobs (a queue is configured); False when they run
    inline in the process that asks for them."""
    return not huey_for(app).immediate


def task(name: str, app: Flask | None = None):
    """The app's task called `name` (call it to queue it, or to run it when inline)."""
    return huey_for(app)._consult_tasks[name]


def poke(name: str, app: Flask | None = None) -> None:
    """Ask for task `name` (one without arguments) unless a request for it is already
    waiting: the mark is taken away by the task before it reads its work, so work
    committed before the mark's removal is seen by that run, and work committed after
    it asks for another. Never raises: the outbox keeps the work and the worker's
    periodic sweep finds it.

    In a request, the asking waits for the request's end, and everything the request
    asked for is asked at once: one round trip to Redis (or one transaction of the SQLite
    queue) for a comment's four jobs rather than one each."""
    app = app or current_app._get_current_object()
    huey = huey_for(app)
    if huey.immediate:
        try:
            task(name, app)()
        except Exception:  # a job failure never fails the user's request
            log.exception("the %s job failed; the periodic sweep will do it", name)
        return
    if has_request_context() and current_app._get_current_object() is app:
        wanted = g.setdefault("consult_jobs_wanted", [])
        if name not in wanted:
            wanted.append(name)
        return
    _ask(app, huey, [name])


def queue_each(name: str, ids) -> None:
    """Queue task `name` for each of `ids` (after a commit: the versions it published,
    say). A failure to queue is logged, never raised: what was committed stands, and the
    periodic sweep (or the first reader) does the work."""
    if not ids or not has_app_context():
        return
    app = current_app._get_current_object()
    for i in sorted(ids):
        try:
            task(name, app)(i)
        except Exception:
            log.exception("could not queue %s for %s", name, i)


def _ask_at_the_end(exc: BaseException | None = None) -> None:
    wanted = g.pop("consult_jobs_wanted", None)
    if wanted:
        app = current_app._get_current_object()
        _ask(app, huey_for(app), wanted)


def _ask(app: Flask, huey: Huey, names: list[str]) -> None:
    """Queue each task of `names` whose mark was not already set."""
    try:
        for name, new in zip(names, _set_marks(huey, [mark(n) for n in names]), strict=True):
            if new:
                task(name, app)()
    except Exception:  # a queue failure never fails the user's request
        log.exception("could not queue %s; the periodic sweep will do it", ", ".join(names))


def _set_marks(huey: Huey, keys: list[str]) -> list[bool]:
    """Set each mark that is not set, at once where the storage allows; for each key,
    whether this call set it."""
    storage, value = huey.storage, huey.serializer.serialize(b"1")  # as huey.put would
    if len(keys) > 1 and isinstance(storage, RedisStorage):
        pipe = storage.conn.pipeline(transaction=False)
        for key in keys:
            pipe.hsetnx(storage.result_key, key, value)
        return [bool(n) for n in pipe.execute()]
    if len(keys) > 1 and isinstance(storage, SqliteStorage):
        out = []
        with storage.db(commit=True) as curs:
            for key in keys:
                curs.execute(
                    "insert or ignore into kv (queue, key, value) values (?, ?, ?)",
                    (storage.name, key, storage.to_blob(value)),
                )
                out.append(curs.rowcount == 1)
        return out
    return [storage.put_if_empty(key, value) for key in keys]


def gather(name: str, app: Flask) -> bool:
    """In a worker: True when the job `name`, one that poke() asks for, may run now.

    Such a job costs about as much for one comment's work as for a hundred's: the search
    index writes a segment, the mail job loads its batch, each opens its transactions.
    Run once for each comment of a steady stream (30 a second), those fixed costs took
    about half a core of the worker (14-22 ms a comment), against 2-3.5 ms a comment when
    a burst gives it large batches. So it runs at most once every JOBS_GATHER_MS in a
    worker process. Asked for sooner, it asks for itself at the end of that time and
    returns without taking its mark: requests meanwhile do not ask again, and their work
    waits for that run. A job that has not run for that long runs at once, so a lone
    comment waits for nothing."""
    huey = huey_for(app)
    window = app.config.get("JOBS_GATHER_MS", 0) / 1000
    if huey.immediate or window <= 0:
        return True
    started, lock = huey._consult_started
    now = time.monotonic()
    with lock:
        last = started.get(name)
        if last is None or now - last >= window:
            started[name] = now
            return True
    task(name, app).schedule(delay=last + window - now)
    return False


def begin(name: str, app: Flask) -> bool:
    """At the start of a job that poke() asks for: False when gather() puts it off;
    otherwise its mark is taken (work committed from now on asks for another run) and
    True: the job reads its work."""
    if not gather(name, app):
        return False
    take_mark(huey_for(app), name)
    return True


def mark(name: str) -> str:
    return f"consult:wanted:{name}"


def take_mark(huey: Huey, name: str) -> None:
    huey.get(mark(name))  # pops it
