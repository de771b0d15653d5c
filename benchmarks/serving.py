"""Shared parts of benchmarks/intake.py and benchmarks/load.py: a site made in a temporary
folder (SQLite, or a new database on a PostgreSQL server), served by gunicorn with its
job worker, and an HTTP load made of processes of threads (standard library only:
http.client; localhost only; every loop bounded by a deadline or a count)."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SLUG = "bench"

#: The app as gunicorn serves it for the benchmarks: rate limits off (one client makes
#: every request), and, with BENCH_APPEND_LOG, the time each record append takes and how
#: long its transaction then stays open until the commit.
APP_WSGI = """
import atexit, os, time
from consult import create_app, tune_collector, warm_up

app = create_app({"RATELIMIT_ENABLED": False})
warm_up(app)  # as wsgi.py does, before the worker accepts requests
tune_collector()

LOG = os.environ.get("BENCH_APPEND_LOG")
if LOG:
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from consult.extensions import db
    from consult.record import service

    try:  # the Merkle tree log: the record's receivers call log.append
        from consult.record import log as service
    except ImportError:
        pass

    rows = []
    original = service.append

    def timed_append(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            end = time.perf_counter()
            db.session.info["bench_appended"] = end
            rows.append(["append", end - start])
            if len(rows) >= 50:  # gunicorn's workers leave by os._exit: no atexit
                _save()

    service.append = timed_append

    @event.listens_for(Session, "after_commit")
    def _held(session):
        end = session.info.pop("bench_appended", None)
        if end is not None:
            rows.append(["held", time.perf_counter() - end])

    def _save():
        with open(f"{LOG}.{os.getpid()}", "a") as f:
            for kind, seconds in rows:
                f.write(f"{kind} {seconds:.6f}\\n")
        rows.clear()

    atexit.register(_save)
"""

HELLO_WSGI = """
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/comments")
def comment():
    data = request.get_json()
    return jsonify(id=1, body=data.get("body")), 201


@app.get("/")
def home():
    return "Hello, world"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Site:
    """A Consult site in `folder` on `database` (None: SQLite), with its queue."""

    folder: Path
    database: str | None = None
    jobs: str = "sqlite"
    env: dict = field(default_factory=dict)
    pg_name: str | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        instance = self.folder / "instance"
        if self.database:
            from sqlalchemy import create_engine, make_url, text

            base = make_url(self.database.replace("postgresql://", "postgresql+psycopg://", 1))
            if base.host not in ("127.0.0.1", "localhost", None):
                sys.exit("The benchmark runs against a PostgreSQL server on this machine only.")
            self.pg_name = f"consult_bench_{os.getpid()}"
            server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with server.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
            server.dispose()
            url = base.set(database=self.pg_name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{instance / 'consult.db'}"
        self.url = url
        self.env = {
            **os.environ,
            "CONSULT_INSTANCE_PATH": str(instance),
            "CONSULT_DATABASE_URL": url,
            "CONSULT_JOBS": self.jobs,
            "CONSULT_RATELIMIT_STORAGE": "memory://",
            "CONSULT_MAIL_BACKEND": "file",
            "CONSULT_MAIL_DIR": str(self.folder / "mail"),
            "CONSULT_SECRET_KEY": "b" * 64,
            "PYTHONPATH": str(ROOT),
        }
        (self.folder / "bench_app.py").write_text(APP_WSGI)
        (self.folder / "bench_hello.py").write_text(HELLO_WSGI)
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "consult", "db", "upgrade"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    def app(self):
        """The app in this process (for seeding and checks), on the site's settings."""
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("CONSULT_")})
        from consult import create_app

        return create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})

    def drop(self) -> None:
        if self.pg_name:
            from sqlalchemy import create_engine, make_url, text

            base = make_url(self.url)
            server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            server.dispose()


def seed(app, *, accounts: int, paragraphs: int = 60, comments: int = 0) -> dict:
    """One document whose version 1 (of `paragraphs` paragraphs) is open for comments,
    `accounts` organisations with one member each and an API token, and `comments`
    comments already posted. Returns the tokens and paragraph ids."""
    from datetime import timedelta

    from consult.accounts.services import create_organisation, create_user, issue_token
    from consult.consultation import services as consultation
    from consult.documents import services as docs
    from consult.extensions import db
    from consult.timeutil import utcnow

    rnd = random.Random(18)
    with app.app_context():
        chair = create_user("chair@bench.example", "x" * 16, role="secretariat", name="Chair")
        doc = docs.create_document(SLUG, "Benchmark Framework", by=chair)
        text = "# Benchmark Framework\n\n" + "\n\n".join(
            f"Paragraph {n}: parliaments engage civil society on budget item {n} openly."
            for n in range(1, paragraphs + 1)
        )
        version = docs.import_version(doc, text, by=chair, label="Draft")
        docs.publish(version, by=chair, closes_at=utcnow() + timedelta(days=30))
        db.session.commit()
        paragraph_ids = [p.id for p in version.paragraphs if p.kind == "paragraph"]
        tokens, users = [], []
        for n in range(accounts):
            org = create_organisation(
                f"org-{n}", f"Organisation {n}", kind="ngo", countries=["TH"], verified=True
            )
            user = create_user(
                f"member{n}@bench.example", "x" * 16, role="cso", name=f"M {n}", organisation=org
            )
            tokens.append(issue_token(user))
            users.append(user)
            if n % 100 == 99:
                db.session.commit()
        db.session.commit()
        by_id = {p.id: p for p in version.paragraphs}
        for n in range(comments):
            user = users[n % len(users)]
            consultation.post_comment(
                version=version,
                paragraph=by_id[rnd.choice(paragraph_ids)],
                organisation=user.organisations[0],
                kind="comment",
                body=f"Seeded comment {n}: please fund the interpreters for hearings.",
                by=user,
            )
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        out = {"tokens": tokens, "paragraphs": paragraph_ids, "version_id": version.id}
        db.session.remove()
        db.engine.dispose()
    return out


class Server:
    """gunicorn (sync workers) serving `module:app` from the site's folder, and with
    `worker=True` the job worker beside it; stopped on exit from the `with` block."""

    def __init__(
        self,
        site: Site,
        module: str,
        *,
        workers: int = 4,
        worker: bool = False,
        extra_env: dict | None = None,
    ):
        self.site, self.module, self.workers, self.with_worker = site, module, workers, worker
        self.port = free_port()
        self.env = {**site.env, **(extra_env or {})}
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Server:
        log = open(self.site.folder / f"{self.module}.log", "ab")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    str(self.workers),
                    "-b",
                    f"{HOST}:{self.port}",
                    "--backlog",
                    "2048",
                    "--timeout",
                    "120",
                    f"{self.module}:app",
                ],
                cwd=self.site.folder,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        )
        if self.with_worker:
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "consult", "worker", "--threads", "2"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer on port {self.port}")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system, every thread) used so far by gunicorn's processes
        ("web": the master and its workers) and by the job worker ("jobs"), from /proc."""
        web = [self.procs[0].pid, *_children(self.procs[0].pid)]
        jobs = [p.pid for p in self.procs[1:]]
        return {"web": sum(map(_cpu, web)), "jobs": sum(map(_cpu, jobs))}

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load --------------------------------------------------------------------------------


@dataclass
class Request:
    kind: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)


def send(port: int, req: Request, timeout: float = 60.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(req.method, req.path, body=req.body, headers=req.headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def post_comment(token: str, paragraph_id: int, body: str) -> Request:
    return Request(
        "POST comment",
        "POST",
        f"/api/v1/paragraphs/{paragraph_id}/comments",
        json.dumps({"kind": "comment", "body": body}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _thread_loop(port, make, deadline, think, seed, out, keep_bodies):
    rnd = random.Random(seed)
    while time.monotonic() < deadline:
        req = make(rnd)
        if req is None:
            return
        start = time.perf_counter()
        try:
            status, body = send(port, req)
        except OSError as e:
            status, body = 0, str(e).encode()
        out.append((req.kind, status, time.perf_counter() - start, body if keep_bodies else b""))
        if think:
            time.sleep(min(rnd.expovariate(1 / think), think * 5))


def _process(port, make, seconds, threads, think, seed, results, keep_bodies):
    deadline = time.monotonic() + seconds
    out: list = []
    ts = [
        threading.Thread(
            target=_thread_loop,
            args=(port, make, deadline, think, seed * 1000 + i, out, keep_bodies),
            daemon=True,
        )
        for i in range(threads)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join(seconds + 120)
    results.put(out)


def load(
    port: int,
    make: Callable,
    *,
    seconds: float,
    processes: int,
    threads: int,
    think: float = 0.0,
    keep_bodies: bool = False,
) -> tuple[list, float]:
    """Run `make(rnd) -> Request | None` in processes × threads until `seconds` pass (or
    `make` returns None); returns [(kind, status, seconds, body)] and the elapsed time."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    start = time.perf_counter()
    procs = [
        ctx.Process(
            target=_process, args=(port, make, seconds, threads, think, i + 1, results, keep_bodies)
        )
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    rows = []
    for _ in procs:
        try:
            rows.extend(results.get(timeout=seconds + 180))
        except queue.Empty:
            break
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    return rows, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]
