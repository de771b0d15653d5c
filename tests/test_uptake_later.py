"""A version published after more suggestions than a request should measure
(UPTAKE_IN_REQUEST_MAX) leaves their uptake to the job worker: the publication covers the
version and its paragraphs, says the uptake comes later, and the job measures, stores and
records it in an event of its own ("uptake.measured"). Until then the report and the
document page say it is being measured; `verify` and the standalone verifier check the
measures against that event. The tracing case has three suggestions (tests/tracing_case)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from consult import jobs
from consult.exports import opendata
from consult.extensions import db
from consult.record import verify_standalone
from consult.record.models import Event
from consult.record.service import verify
from consult.timeutil import utcnow
from consult.tracing import stored
from consult.tracing.models import StoredUptake, UptakeOutbox
from tests.tracing_case import build

EXPECTED = {"a": "taken_up", "b": "not_taken_up", "c": "taken_up"}
BEING_MEASURED = "Being measured: the next version is published"


@pytest.fixture
def case(make_document, make_user, make_org):
    return build(make_document, make_user, make_org)


@pytest.fixture
def lost(app, monkeypatch):
    """The worker has not run the measure yet: what is asked of it is only noted."""
    asked: list[int] = []
    tasks = jobs.huey_for(app)._consult_tasks
    monkeypatch.setitem(tasks, "measure_uptake", lambda version_id: asked.append(version_id))
    return asked


def _labels(case) -> dict[str, str]:
    db.session.expire_all()
    by_id = {case.a.id: "a", case.b.id: "b", case.c.id: "c"}
    return {by_id[u.comment_id]: u.label for u in db.session.scalars(select(StoredUptake))}


def _events(kind: str) -> list[dict]:
    db.session.expire_all()
    return [
        json.loads(e.payload)
        for e in db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id))
    ]


def _report(client, case) -> str:
    return client.get(f"/documents/{case.doc.slug}/versions/1/report").get_data(as_text=True)


def test_up_to_the_limit_the_publication_measures_and_covers_the_uptake(app, case, monkeypatch):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 3)
    case.publish_v2()
    assert _labels(case) == EXPECTED
    (published,) = _events("version.published")[1:]
    assert "uptake" not in published
    assert set(published["covers"]["items"]) == {"version", "paragraph", "uptake"}
    assert len(published["covers"]["items"]["uptake"]) == 3
    assert _events("uptake.measured") == []
    assert db.session.scalar(select(UptakeOutbox)) is None


def test_past_the_limit_the_worker_measures_records_and_the_pages_say_so(
    app, case, client, lost, monkeypatch
):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 2)
    v2 = case.publish_v2()
    # The publication stands, measured nothing, and asked the worker once.
    assert lost == [v2.id]
    assert _labels(case) == {}
    waiting = db.session.get(UptakeOutbox, v2.id)
    assert (waiting.previous_id, waiting.suggestions) == (case.v1.id, 3)
    (published,) = _events("version.published")[1:]
    assert published["uptake"] == "measured later"
    assert set(published["covers"]["items"]) == {"version", "paragraph"}
    html = _report(client, case)
    assert BEING_MEASURED in html
    assert "Not measured yet" not in html
    # The flags, which compare answers with the measures, are not final either.
    assert re.search(r"disagree\s*\(being measured\)", html)
    doc_page = client.get(f"/documents/{case.doc.slug}").get_data(as_text=True)
    assert "being measured" in doc_page
    assert "flagged" not in doc_page  # the flags wait for the measures
    result = verify()
    assert result.ok, result.problems
    assert any("being measured" in n and "version 2" in n for n in result.not_covered)

    assert stored.measure_waiting(app, v2.id) == 3
    assert _labels(case) == EXPECTED
    assert db.session.scalar(select(UptakeOutbox)) is None
    (measured,) = _events("uptake.measured")
    assert (measured["version"], measured["suggestions_on"], measured["suggestions"]) == (2, 1, 3)
    assert set(measured["covers"]["items"]) == {"uptake"}
    assert len(measured["covers"]["items"]["uptake"]) == 3
    result = verify()
    assert result.ok, result.problems
    assert not any("being measured" in n for n in result.not_covered)
    html = _report(client, case)
    assert BEING_MEASURED not in html
    assert "being measured" not in html
    doc_page = client.get(f"/documents/{case.doc.slug}").get_data(as_text=True)
    assert "being measured" not in doc_page and "2 taken up" in doc_page
    assert "flagged" in doc_page
    assert "67% of the 3 measured suggestions taken up" in html
    log = client.get("/record/").get_data(as_text=True)
    assert "uptake of the suggestions on version 1 measured" in log

    # Asked again (the sweep, a retry): nothing waits, nothing is written or recorded.
    assert stored.measure_waiting(app, v2.id) is None
    assert len(_events("uptake.measured")) == 1


def test_with_jobs_inline_the_measure_follows_the_publication(app, case, client, monkeypatch):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 0)
    case.publish_v2()
    assert _labels(case) == EXPECTED
    assert len(_events("uptake.measured")) == 1
    assert db.session.scalar(select(UptakeOutbox)) is None
    assert verify().ok
    # The provenance, kept after the publication, was kept again once the measure was in:
    # A's words are credited to A.
    html = client.get(f"/documents/{case.doc.slug}/versions/2/provenance").get_data(as_text=True)
    assert case.a.tracking in html
    # The open data's verifier checks the measures against their own event.
    dump = verify_standalone.Dump(opendata.opendata_zip(case.doc))
    _head, _n, report = verify_standalone.verify_dump(dump)
    assert report.problems == []
    assert not any("uptake" in n for n in report.notes)


def test_a_measure_changed_after_it_was_recorded_is_named(app, case, monkeypatch):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 0)
    case.publish_v2()
    row = db.session.scalar(select(StoredUptake).where(StoredUptake.comment_id == case.b.id))
    db.session.execute(
        text("UPDATE uptake SET label = 'taken_up', score = 1.0 WHERE id = :id"), {"id": row.id}
    )
    db.session.commit()
    result = verify()
    assert not result.ok
    assert any(
        f"the measured uptake of comment {case.b.tracking} against version 2" in p
        and "score and label changed since it was recorded" in p
        and "uptake.measured" in p
        for p in result.problems
    ), result.problems
    blob = opendata.opendata_zip(case.doc)
    _head, _n, report = verify_standalone.verify_dump(verify_standalone.Dump(blob))
    assert any(case.b.tracking in p and "score and label changed" in p for p in report.problems)


def test_a_lost_job_is_asked_again_by_the_sweep(app, case, lost, monkeypatch):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 2)
    v2 = case.publish_v2()
    assert lost == [v2.id] and _labels(case) == {}
    monkeypatch.undo()  # the worker runs again; the job it was asked for is lost
    sweep = jobs.task("sweep", app)
    # Just queued: its job may still be on its way, the sweep leaves it.
    assert stored.waiting_ids(older_than=timedelta(minutes=2)) == []
    db.session.execute(
        text("UPDATE uptake_outbox SET queued_at = :t"),
        {"t": db.session.get(UptakeOutbox, v2.id).queued_at - timedelta(minutes=3)},
    )
    db.session.commit()
    sweep.call_local()
    assert _labels(case) == EXPECTED
    assert len(_events("uptake.measured")) == 1
    assert verify().ok


def test_measures_stored_without_their_event_are_a_problem(app, case, lost, monkeypatch):
    """The outbox row gone, measures written outside the job: no event covers them."""
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 2)
    v2 = case.publish_v2()
    stored.store_uptake(v2)
    db.session.execute(text("DELETE FROM uptake_outbox"))
    db.session.commit()
    result = verify()
    assert not result.ok
    assert any(
        "the uptake measured against" in p and "version 2 is in no event" in p
        for p in result.problems
    ), result.problems
    # The open data made before the event is in says so without calling it tampering.
    blob = opendata.opendata_zip(case.doc)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert any(n.endswith("verify_standalone.py") for n in z.namelist())
    _head, _n, report = verify_standalone.verify_dump(verify_standalone.Dump(blob))
    assert any("not covered: the uptake against version 2" in n for n in report.notes)


def test_a_measure_held_by_another_job_is_left_until_its_lease_ends(app, case, lost, monkeypatch):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 2)
    v2 = case.publish_v2()
    started = utcnow() - timedelta(minutes=5)
    db.session.execute(text("UPDATE uptake_outbox SET claimed_at = :t"), {"t": started})
    db.session.commit()
    # A job under way for five minutes: neither a second job nor the sweep takes it.
    assert stored.measure_waiting(app, v2.id) is None
    assert stored.waiting_ids() == []
    assert _labels(case) == {} and _events("uptake.measured") == []
    # Its process was killed: past the lease, the measure is done again.
    stale = utcnow() - stored.CLAIM_LEASE - timedelta(minutes=1)
    db.session.execute(text("UPDATE uptake_outbox SET claimed_at = :t"), {"t": stale})
    db.session.commit()
    assert stored.waiting_ids() == [v2.id]
    assert stored.measure_waiting(app, v2.id) == 3
    assert _labels(case) == EXPECTED


def test_a_failed_measure_lets_go_of_its_claim_and_writes_nothing(app, case, lost, monkeypatch):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 2)
    v2 = case.publish_v2()

    def broken(version):
        raise RuntimeError("the measure failed")

    monkeypatch.setattr(stored, "store_uptake", broken)
    with pytest.raises(RuntimeError):
        stored.measure_waiting(app, v2.id)
    db.session.expire_all()
    waiting = db.session.get(UptakeOutbox, v2.id)
    assert waiting is not None and waiting.claimed_at is None
    assert _events("uptake.measured") == []


def test_the_limit_is_a_whole_number_from_the_environment(monkeypatch, tmp_path):
    from consult import config

    monkeypatch.delenv("CONSULT_UPTAKE_IN_REQUEST_MAX", raising=False)
    assert config.load(str(tmp_path))["UPTAKE_IN_REQUEST_MAX"] == 2000
    monkeypatch.setenv("CONSULT_UPTAKE_IN_REQUEST_MAX", "0")
    assert config.load(str(tmp_path))["UPTAKE_IN_REQUEST_MAX"] == 0
    monkeypatch.setenv("CONSULT_UPTAKE_IN_REQUEST_MAX", "many")
    with pytest.raises(config.ConfigError, match="CONSULT_UPTAKE_IN_REQUEST_MAX='many'"):
        config.load(str(tmp_path))


def test_another_documents_waiting_uptake_is_not_named_in_this_documents_open_data(
    app, case, lost, make_document, monkeypatch
):
    monkeypatch.setitem(app.config, "UPTAKE_IN_REQUEST_MAX", 2)
    case.publish_v2()  # its uptake waits for the worker
    other = make_document("consultation", by=case.secretariat, slug="another-framework")
    dump = verify_standalone.Dump(opendata.opendata_zip(other))
    _head, _n, report = verify_standalone.verify_dump(dump)
    assert report.problems == []
    assert not any("uptake" in n for n in report.notes), report.notes
    # The document whose uptake waits says so.
    dump = verify_standalone.Dump(opendata.opendata_zip(case.doc))
    _head, _n, report = verify_standalone.verify_dump(dump)
    assert any("still being measured" in n for n in report.notes), report.notes
