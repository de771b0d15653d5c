"""The record covers what the public reads as published: paragraph texts and numbers,
answers, grouped answers, moderation reasons, verification of organisations, measured
uptake and organisations' replies. Each is tampered with directly in the database, and
`verify` (and the standalone verifier, from the open-data zip) must name it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from consult.accounts import services as accounts
from consult.consultation import services as cs
from consult.documents import services as docs
from consult.exports import opendata
from consult.extensions import db
from consult.record import log as tree_log
from consult.record import verify_standalone
from consult.record.models import Event
from consult.record.service import event_hash, verify
from consult.timeutil import utcnow
from consult.tracing import grouping
from consult.tracing.models import StoredUptake

from .exports_data import SUGGESTED, V2

SLUG = "coverage-framework"


@dataclass
class World:
    doc: object
    v1: object
    v2: object
    suggestion: object
    answered: object
    hidden: object
    group: object
    org: object
    unverified: object
    feedback: object
    uptake: object


@pytest.fixture
def world(make_document, make_user, make_org) -> World:
    sec = make_user("secretariat")
    org = make_org("ilt", "Institute for Legislative Transparency", verified=False)
    other = make_org("seadra", "Disability Rights Alliance")
    unverified = make_org("later", "Not Yet Verified", verified=False)
    member = make_user("cso", org=org)
    accounts.verify_organisation(org, by=sec)
    doc = make_document("consultation", by=sec, slug=SLUG)
    v1 = doc.latest
    p = {x.number: x for x in v1.paragraphs}

    def post(paragraph, body, organisation=org, **kw):
        return cs.post_comment(
            version=v1,
            paragraph=paragraph,
            organisation=organisation,
            body=body,
            by=member if organisation is org else sec,
            **({"channel": "email", "on_behalf": True} if organisation is not org else {}),
            **({"kind": "comment"} | kw),
        )

    suggestion = post(
        p["1.1"], "Say that engagement starts early.", kind="suggestion", suggested_text=SUGGESTED
    )
    answered = post(p["2.1"], "Hearings must be accessible.", organisation=other)
    a = post(p["2.1"], "Publish the hearing calendar.")
    b = post(p["2.1"], "Publish the hearing calendar, please.", organisation=other)
    hidden = post(None, "Secret insult.")
    cs.moderate(hidden, action="hide", reason="Insulting language.", by=sec)
    docs.close(v1, by=sec, reason="Workshop")
    cs.respond(suggestion, decision="accepted", reason="Early engagement matters.", by=sec)
    cs.respond(answered, decision="noted", reason="Covered by the accessibility plan.", by=sec)
    group = grouping.answer_together(
        v1, [a, b], decision="accepted", reason="A calendar will be published.", by=sec
    )
    feedback = grouping.give_feedback(
        suggestion, satisfied=True, note="Thank you for taking it up.", by=member
    )
    v2 = docs.import_version(doc, V2, by=sec, label="Second draft")
    docs.publish(v2, by=sec, closes_at=utcnow() + timedelta(days=10))
    db.session.commit()
    uptake = db.session.scalar(select(StoredUptake).where(StoredUptake.comment_id == suggestion.id))
    assert uptake is not None and uptake.version_id == v2.id
    return World(
        doc, v1, v2, suggestion, answered, hidden, group, org, unverified, feedback, uptake
    )


def _sql(statement: str, **params) -> None:
    db.session.execute(text(statement), params)
    db.session.commit()


def _para(version, number):
    return next(p for p in version.paragraphs if p.number == number)


def test_an_untouched_record_verifies_with_every_digest_recomputed(world):
    result = verify()
    assert result.ok, result.problems
    assert result.problems == []
    # Every covering event (2 publications, 2 answers + 2 grouped ones, 1 group,
    # 1 moderation, 2 verifications — the two organisations verified when they were
    # made — and 1 reply to an answer) was recomputed.
    kinds = list(db.session.scalars(select(Event.kind)))
    covering = [k for k in kinds if k in verify_standalone.COVERING_KINDS]
    assert result.covered == len(covering) == 11
    assert not any("set when the organisation was created" in n for n in result.not_covered)


TAMPERING = {
    "paragraph text": (
        "UPDATE paragraph SET text = 'Parliaments may ignore civil society.' WHERE id = :id",
        lambda w: _para(w.v1, "1.1").id,
        f"paragraph 1.1 of version 1 of {SLUG}: text changed since publication",
    ),
    "paragraph number": (
        "UPDATE paragraph SET number = '9.9' WHERE id = :id",
        lambda w: _para(w.v2, "2.1").id,
        f"paragraph 9.9 of version 2 of {SLUG}: number changed since publication",
    ),
    "paragraph kind and level": (
        "UPDATE paragraph SET kind = 'heading', level = 2 WHERE id = :id",
        lambda w: _para(w.v1, "2.1").id,
        f"paragraph 2.1 of version 1 of {SLUG}: kind and level changed since publication",
    ),
    "paragraph position": (
        "UPDATE paragraph SET position = 99 WHERE id = :id",
        lambda w: _para(w.v1, "2.1").id,
        f"paragraph 2.1 of version 1 of {SLUG}: position changed since publication",
    ),
    "answer reason": (
        "UPDATE response SET reason = 'We never read it.' WHERE id = :id",
        lambda w: w.answered.response.id,
        "the answer to comment {answered} (response {rid}): reason changed",
    ),
    "answer decision": (
        "UPDATE response SET decision = 'not_accepted' WHERE id = :id",
        lambda w: w.suggestion.response.id,
        "the answer to comment {suggestion} (response {sid}): decision changed",
    ),
    "grouped answer": (
        "UPDATE response_group SET reason = 'No calendar.' WHERE id = :id",
        lambda w: w.group.id,
        f"grouped answer {{group}} on version 1 of {SLUG}: reason changed",
    ),
    "grouped answer's comments": (
        "DELETE FROM response_group_member WHERE group_id = :id AND id = "
        "(SELECT MIN(id) FROM response_group_member WHERE group_id = :id)",
        lambda w: w.group.id,
        f"grouped answer {{group}} on version 1 of {SLUG}: comments answered changed",
    ),
    "moderation reason": (
        "UPDATE moderation_action SET reason = 'Off topic.' WHERE comment_id = :id",
        lambda w: w.hidden.id,
        "the moderation of comment {hidden}",
    ),
    "verification of an organisation": (
        "UPDATE organisation SET verified_at = NULL WHERE id = :id",
        lambda w: w.org.id,
        "the verification of organisation ilt: verified at changed",
    ),
    "measured uptake": (
        "UPDATE uptake SET label = 'not_taken_up', score = 0.1 WHERE id = :id",
        lambda w: w.uptake.id,
        f"the measured uptake of comment {{suggestion}} against version 2 of {SLUG}: "
        "score and label changed since publication",
    ),
    "uptake evidence": (
        "UPDATE uptake SET evidence = '{\"present\": []}' WHERE id = :id",
        lambda w: w.uptake.id,
        "evidence changed since publication",
    ),
    "organisation's reply": (
        "UPDATE response_feedback SET satisfied = :f, note = 'Not satisfied.' WHERE id = :id",
        lambda w: w.feedback.id,
        "the organisation's reply to the answer to comment {suggestion}: "
        "satisfied and note changed",
    ),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_with_what_the_public_reads_is_named(world, what):
    statement, target, expected = TAMPERING[what]
    names = {
        "answered": world.answered.tracking,
        "suggestion": world.suggestion.tracking,
        "hidden": world.hidden.tracking,
        "group": world.group.id,
        "rid": world.answered.response.id,
        "sid": world.suggestion.response.id,
    }
    expected = expected.format(**names)
    params = {"id": target(world)}
    if ":f" in statement:
        params["f"] = False
    assert verify().ok
    _sql(statement, **params)
    result = verify()
    assert not result.ok
    assert any(expected in p for p in result.problems), result.problems


def test_a_text_changed_together_with_its_hash_is_found(world):
    """Changing a comment's text and its stored hash together: the event still holds the
    hash the receipt printed."""
    c = world.answered
    c.body = "Something else."
    from consult.consultation.services import comment_hash

    _sql(
        "UPDATE comment SET body = :b, content_hash = :h WHERE id = :id",
        b="Something else.",
        h=comment_hash(c),
        id=c.id,
    )
    result = verify()
    assert not result.ok
    assert f"comment {world.answered.tracking}: its hash is not the one in the record" in (
        result.problems
    )


def test_an_answer_added_outside_the_record_is_found(world):
    sec_id = world.group.responder_id
    _sql(
        "INSERT INTO response (comment_id, decision, reason, responder_id, created_at) "
        "VALUES (:c, 'accepted', 'Slipped in.', :u, :t)",
        c=world.hidden.id,
        u=sec_id,
        t=utcnow().replace(tzinfo=None),
    )
    rid = db.session.scalar(text("SELECT MAX(id) FROM response"))
    result = verify()
    assert not result.ok
    assert f"answer {rid} is not in the record" in result.problems


def _strip_covers() -> None:
    """Make the database look recorded before events carried digests: the same chain
    without 'covers', hashes recomputed."""
    prev = verify_standalone.GENESIS
    for ev in db.session.scalars(select(Event).order_by(Event.seq)).all():
        data = json.loads(ev.payload)
        data.pop("covers", None)
        ev.payload = verify_standalone.canonical(data)
        ev.prev_hash = prev
        ev.hash = event_hash(
            prev,
            ev.seq,
            ev.kind,
            ev.created_at.isoformat(),
            f"{ev.subject_type}:{ev.subject_id}",
            ev.payload,
        )
        prev = ev.hash
    db.session.commit()
    # The record of then had no tree: migration 0016 adopts its chain as the first leaves.
    from consult.record.adopt import adopt_chain
    from consult.record.models import TreeHead

    db.session.execute(delete(TreeHead))
    adopt_chain(db.session.connection())
    db.session.commit()


def test_an_older_record_says_what_it_does_not_cover_and_a_seal_covers_it(world, runner):
    _strip_covers()
    result = verify()
    assert result.ok, result.problems  # not covered is said, not failed
    assert result.covered == 0
    notes = " ".join(result.not_covered)
    assert "not covered: 2 published versions recorded before the record covered" in notes
    assert "4 answers" in notes and "1 grouped answer" in notes
    # Before sealing, a changed text goes unnoticed (that is what "not covered" says).
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 0 and "Note: not covered: 2 published versions" in r.output

    before = db.session.scalar(select(db.func.count(Event.id)))
    r = runner.invoke(args=["seal-record"])
    assert r.exit_code == 0, r.output
    # 2 versions, 4 answers, 1 group, 1 moderation, 1 reply, and 2 verified organisations
    # (one with a legacy event, one verified when it was made).
    assert "Sealed: 11 events added" in r.output
    assert db.session.scalar(select(db.func.count(Event.id))) == before + 11
    result = verify()
    assert result.ok and result.not_covered == [] and result.covered == 11
    assert runner.invoke(args=["seal-record"]).output.startswith("Nothing to seal")

    _sql("UPDATE paragraph SET text = 'Changed.' WHERE id = :id", id=_para(world.v1, "1.1").id)
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert f"paragraph 1.1 of version 1 of {SLUG}: text changed since it was recorded" in r.output
    assert "record.sealed" in r.output
    # A seal never covers a change: refused while verify fails.
    r = runner.invoke(args=["seal-record"])
    assert r.exit_code == 1 and "not sealed over a change" in r.output


def test_verify_command_names_every_change(world, runner):
    _sql("UPDATE response SET reason = 'x' WHERE id = :id", id=world.answered.response.id)
    _sql("UPDATE response_feedback SET note = 'y' WHERE id = :id", id=world.feedback.id)
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert "Changed: the answer to comment" in r.output
    assert "Changed: the organisation's reply to the answer" in r.output


def test_record_page_names_what_changed(world, client):
    _sql("UPDATE response SET reason = 'x' WHERE id = :id", id=world.answered.response.id)
    page = client.get("/record/").get_data(as_text=True)
    assert "Broken" in page
    assert f"the answer to comment {world.answered.tracking}" in page


# ------------------------------------------------------------ standalone verifier

SCRIPT = Path(verify_standalone.__file__)


def _run(tmp_path: Path, blob: bytes, *extra: str) -> subprocess.CompletedProcess:
    """The script as a user runs it: the copy shipped in the zip, isolated (-I: no
    user site, no current folder on the path), from a folder without the app."""
    folder = tmp_path / "check"
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        script = next(n for n in z.namelist() if n.endswith("/verify_standalone.py"))
        (folder / "verify_standalone.py").write_bytes(z.read(script))
    (folder / "dump.zip").write_bytes(blob)
    return subprocess.run(  # noqa: S603 - our own script on a file the test wrote
        [sys.executable, "-I", "verify_standalone.py", "dump.zip", *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _rewrite(blob: bytes, name: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/" + name):
                data = change(data.decode("utf-8")).encode("utf-8")
            dst.writestr(info, data)
    return out.getvalue()


def test_the_standalone_verifier_prints_the_head_from_the_open_data(world, tmp_path):
    blob = opendata.opendata_zip(world.doc)
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        shipped = z.read(f"{SLUG}/verify_standalone.py")
    assert shipped == SCRIPT.read_bytes()
    assert b"import consult" not in shipped and b"from consult" not in shipped
    c = world.answered
    r = _run(tmp_path, blob, c.tracking.lower())
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"head: {tree_log.state()[1]}" in r.stdout  # the root of the tree
    assert "MISMATCH" not in r.stdout
    # The line to compare with the receipt: the receipt page shows the same hashes.
    ev = db.session.scalar(
        select(Event).where(Event.kind == "comment.posted", Event.subject_id == c.id)
    )
    line = (
        f"receipt {c.tracking}: content hash {c.content_hash}, event {ev.seq}, "
        f"leaf index {ev.seq - 1}, leaf hash {ev.leaf_hash}"
    )
    assert line in r.stdout


CSV_TAMPERING = {
    # file, what to change in it, what the script must name
    "paragraphs.csv": (
        "Parliaments engage civil society openly",
        "Parliaments ignore civil society openly",
        "paragraphs.csv: row",
    ),
    "responses.csv": ("Covered by the accessibility plan.", "Not read.", "responses.csv: row"),
}


@pytest.mark.parametrize("name", list(CSV_TAMPERING))
def test_the_standalone_verifier_names_a_tampered_csv(world, tmp_path, name):
    old, new, expected = CSV_TAMPERING[name]
    blob = opendata.opendata_zip(world.doc)
    bad = _rewrite(blob, name, lambda s: s.replace(old, new, 1))
    r = _run(tmp_path, bad)
    assert r.returncode == 1, r.stdout
    assert expected in r.stdout


def _json_change(change):
    def do(s: str) -> str:
        data = json.loads(s)
        change(data)
        return json.dumps(data, indent=2, ensure_ascii=False)

    return do


def test_the_standalone_verifier_names_tampered_data(world, tmp_path):
    blob = opendata.opendata_zip(world.doc)
    pid = _para(world.v1, "1.1").id
    cases = {
        f"paragraph 1.1 of version 1 of {SLUG}: text changed": lambda d: next(
            p for p in d["paragraphs"] if p["id"] == pid
        ).update(text="Parliaments may ignore civil society."),
        f"the answer to comment {world.answered.tracking}": lambda d: next(
            r for r in d["responses"] if r["comment_id"] == world.answered.id
        ).update(reason="Not read."),
        "the measured uptake of comment": lambda d: d["uptake"][0].update(score=0.0),
        "the organisation's reply to the answer": lambda d: d["feedback"][0].update(note="No."),
        "grouped answer": lambda d: d["response_groups"][0].update(decision="noted"),
        "the moderation of comment": lambda d: d["moderation"][0].update(reason="Spam."),
        "the verification of organisation ilt": lambda d: next(
            o for o in d["organisations"] if o["slug"] == "ilt"
        ).update(verified_at=None),
        "events: event 3": lambda d: d["events"][2].update(kind="forged"),
    }
    for expected, change in cases.items():
        bad = _rewrite(blob, "data.json", _json_change(change))
        r = _run(tmp_path, bad)
        assert r.returncode == 1, (expected, r.stdout)
        assert expected in r.stdout, (expected, r.stdout)


def test_the_standalone_verifier_refuses_what_is_not_a_dump(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    r = subprocess.run(  # noqa: S603 - our own script on a file the test wrote
        [sys.executable, "-I", str(SCRIPT), str(tmp_path / "x.zip")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2 and "Cannot read" in r.stderr


def test_covers_read_row_by_row_are_the_covers_of_the_rows_held_at_once(world):
    """An event's covers are hashed as the rows are read (a version published after a
    million comments covers a few hundred thousand measures): the digest and the items
    are those of the rows held together, whatever order they were given in."""
    from consult.record import digests

    for subject_type, subject_id in (("version", world.v1.id), ("version", world.v2.id)):
        held = digests.load(subject_type, [subject_id])[subject_id]
        document = digests.document_of(subject_type, subject_id)
        streamed = digests.covers_for(subject_type, subject_id)
        shuffled = {t: list(reversed(rows)) for t, rows in held.items()}
        assert streamed == verify_standalone.covers(document, shuffled)
        assert streamed["digest"] == verify_standalone.sha256(verify_standalone.canonical(held))
        assert streamed["items"]["uptake"] or subject_id == world.v1.id
    # Text beyond ASCII, and a thing with no rows.
    paragraphs = digests.load("version", [world.v2.id])[world.v2.id]["paragraph"][:2]
    paragraphs[0] = {**paragraphs[0], "text": "ข้อ ๒ — Điều 1"}
    rows = {"paragraph": paragraphs, "uptake": []}
    got = verify_standalone.covers_in_order(
        "d", {"uptake": iter(()), "paragraph": iter(sorted(paragraphs, key=lambda r: r["id"]))}
    )
    assert got == verify_standalone.covers("d", rows)
    assert got["digest"] == verify_standalone.sha256(
        verify_standalone.canonical({t: sorted(r, key=lambda x: x["id"]) for t, r in rows.items()})
    )
    assert list(got["items"]) == ["uptake", "paragraph"]  # the order given
