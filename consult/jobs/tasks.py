"""The jobs, registered on each app's queue (consult.jobs.init_app).

Each runs inside an application context of the app that registered it and leaves its
work in the database's outboxes until it is done, so a job that fails or is lost is
done again by the next one (or by the periodic sweep).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask
from huey import Huey, crontab
from huey.exceptions import RetryTask

from consult.jobs import begin

log = logging.getLogger(__name__)

#: Seconds before a job that found its resource busy (the index writer, every export
#: slot) tries again.
RETRY_DELAY = 5
#: How long a publication's uptake waits for its job before the sweep asks again.
UPTAKE_LOST_AFTER = timedelta(minutes=2)
#: Batches of mail (500 each) one send_mail job sends before it queues the next one.
MAIL_BATCHES = 10


def register(app: Flask, huey: Huey) -> None:
    tasks = {}
    # When each job that consult.jobs.gather() spaces out last started in this process.
    huey._consult_started = ({}, threading.Lock())

    def named(wrapper):
        tasks[wrapper.name] = wrapper
        return wrapper

    @named
    @huey.task(name="drain_search", retries=3, retry_delay=RETRY_DELAY)
    def drain_search() -> int:
        """Feed the search index from its outbox (consult.search.outbox)."""
        from consult.search import outbox
        from consult.search.base import IndexBusy

        if not begin("drain_search", app):
            return 0
        with app.app_context():
            try:
                return outbox.drain(app, wait=outbox.REQUEST_WAIT)
            except IndexBusy:
                raise RetryTask("the search index is busy", delay=RETRY_DELAY) from None

    @named
    @huey.task(name="send_mail", retries=2, retry_delay=30)
    def send_mail() -> int:
        """Send what waits in the mail outbox (consult.mail.outbox)."""
        from consult.mail.outbox import send_pending

        if not begin("send_mail", app):
            return 0
        sent = 0
        with app.app_context():
            # Batches until the outbox is empty (a burst leaves thousands), at most
            # MAIL_BATCHES of them; then the job asks for itself again, so other jobs run.
            for _ in range(MAIL_BATCHES):
                result = send_pending(app)
                sent += result.sent
                if not result.left or not result.sent:
                    return sent
        from consult.jobs import poke

        poke("send_mail", app)
        return sent

    @named
    @huey.task(name="make_export", retries=20, retry_delay=RETRY_DELAY)
    def make_export(version_id: int, fmt: str, key: str, locale: str = "en") -> str:
        """Make one heavy export file, in the language of the reader who asked for it
        (consult.exports.stored.make_requested)."""
        from consult.exports import stored

        with app.app_context():
            outcome = stored.make_requested(version_id, fmt, key, locale)
        if outcome == "busy":
            raise RetryTask("every export slot is taken", delay=RETRY_DELAY)
        return outcome

    @named
    @huey.periodic_task(crontab(minute="*"), name="sweep")
    def sweep() -> dict[str, int]:
        """Every minute: close the consultations whose deadline has passed, queue the
        "closing in 48 hours" notices, and sweep the outboxes of search, mail and uptake
        (a safety net for work whose job was lost)."""
        from consult.documents.services import close_expired
        from consult.extensions import db
        from consult.mail.notify import queue_closing_soon
        from consult.mail.outbox import send_pending
        from consult.search import outbox
        from consult.search.base import IndexBusy
        from consult.tracing import stored

        done = {"closed": 0, "notices": 0, "indexed": 0, "mailed": 0, "uptake": 0}
        with app.app_context():
            for version_id in stored.waiting_ids(older_than=UPTAKE_LOST_AFTER):
                measure_uptake(version_id)  # a lost job's work (a claimed one is left)
                done["uptake"] += 1
            done["closed"] = len(close_expired())
            done["notices"] = queue_closing_soon()
            db.session.commit()
            try:
                done["indexed"] = outbox.drain(app, wait=outbox.REQUEST_WAIT)
            except IndexBusy:
                log.info("search index busy; the next sweep or drain takes the rows")
            done["mailed"] = send_pending(app).sent
        return done

    @named
    @huey.task(name="sequence_record", retries=3, retry_delay=1)
    def sequence_record(reason: str | None = None, about: str = "") -> int:
        """Place the record's new entries in its Merkle tree and sign a tree head when
        one is due, or for `reason` (a publication, closing or finalisation)."""
        from consult.record import log as record_log

        if reason is None and not begin("sequence_record", app):
            return 0  # put off: a head asked for (a reason) is never
        with app.app_context():
            return record_log.sequence(app, reason=reason, about=about).sequenced

    @named
    @huey.periodic_task(crontab(minute="*"), name="record_sweep")
    def record_sweep() -> int:
        """Every minute: sequence what waits and sign the head due (a safety net for a
        lost job; heads at the interval while entries keep coming)."""
        from consult.record import log as record_log

        with app.app_context():
            return record_log.sequence(app).sequenced

    @named
    @huey.task(name="group_comments", retries=3, retry_delay=RETRY_DELAY)
    def group_comments() -> int:
        """Place new comments in their form-letter groups (consult.analysis.grouping)."""
        from consult.analysis import grouping

        if not begin("group_comments", app):
            return 0
        return grouping.drain(app)

    @named
    @huey.periodic_task(crontab(minute="*"), name="group_sweep")
    def group_sweep() -> int:
        """Every minute: place what waits in the grouping outbox (a lost job's work)."""
        from consult.analysis import grouping

        return grouping.drain(app)

    @named
    @huey.task(name="measure_uptake", retries=2, retry_delay=RETRY_DELAY)
    def measure_uptake(version_id: int) -> int | None:
        """After the publication of a version with many suggestions on the one before:
        measure, store and record their uptake (consult.tracing.stored.measure_waiting).
        One job at a time holds a version's measure (a claim in the database, which a
        killed job's process lets go of when its lease ends); another asked meanwhile
        leaves it to that one."""
        from consult.tracing import stored

        return stored.measure_waiting(app, version_id)

    @named
    @huey.task(name="keep_provenance", retries=2, retry_delay=RETRY_DELAY)
    def keep_provenance(version_id: int) -> None:
        """After a publication: compute and keep the version's provenance
        (consult.tracing.views.keep_provenance)."""
        from consult.tracing import views

        views.keep_provenance(app, version_id)

    huey._consult_tasks = tasks
