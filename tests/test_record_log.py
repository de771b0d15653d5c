"""The record as a Merkle tree log: entries written without a lock and placed by the
sequencer, signed tree heads, receipts proved against them (page, file, PDF, API), the
API a monitor reads, a receipt checked offline by the standalone verifier in a clean
Python, tampering named by `verify` and by the verifier, and the old chain adopted."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from consult.documents import services as docs
from consult.exports import opendata
from consult.extensions import db
from consult.record import keys
from consult.record import log as tree_log
from consult.record import verify_standalone as rules
from consult.record.models import Event, TreeHead, TreeNode, TreeState
from consult.record.service import event_hash, verify
from consult.timeutil import utcnow
from tests.conftest import assert_error, post_comment

SCRIPT = Path(rules.__file__)


def clean_python() -> list[str]:
    """A Python with nothing installed: the system's, isolated (-I) and without site
    packages (-S), so only the standard library can be imported."""
    exe = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    return [exe, "-I", "-S"]


def run_verifier(tmp_path: Path, *files: tuple[str, bytes], args: tuple[str, ...] = ()):
    """verify_standalone.py as a CSO runs it: a copy, in a folder outside the repository."""
    folder = tmp_path / "cso"
    folder.mkdir(exist_ok=True)
    shutil.copy(SCRIPT, folder / "verify_standalone.py")
    for name, body in files:
        (folder / name).write_bytes(body)
    return subprocess.run(  # noqa: S603 - our own script on files the test wrote
        [*clean_python(), "verify_standalone.py", *[n for n, _ in files], *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _posted(c) -> Event:
    return db.session.scalar(
        select(Event).where(Event.kind == "comment.posted", Event.subject_id == c.id)
    )


def _comment(make_document, make_user, body="Please add a deadline for answers."):
    doc = make_document("consultation")
    member = make_user("cso")
    v = doc.latest
    return doc, v, member, post_comment(v, v.paragraphs[2], member, body=body)


def _sign() -> TreeHead:
    done = tree_log.sequence(reason="command", force_head=True)
    db.session.expire_all()
    return db.session.get(TreeHead, done.head.id)


# --- writing and sequencing ----------------------------------------------------------------


def test_entries_are_placed_in_order_with_no_gaps_and_the_tree_matches(make_document, make_user):
    doc, v, member, c = _comment(make_document, make_user)
    for i in range(5):
        post_comment(v, v.paragraphs[3], member, body=f"Point {i}.")
    seqs = list(db.session.scalars(select(Event.seq).order_by(Event.id)))
    assert seqs == list(range(1, len(seqs) + 1))  # placed after each commit, in order
    size, root = tree_log.state()
    leaves = [
        bytes.fromhex(h) for h in db.session.scalars(select(Event.leaf_hash).order_by(Event.seq))
    ]
    assert size == len(seqs) and root == rules.tree_root(leaves).hex()
    # Every complete subtree is stored, nothing else.
    assert db.session.scalar(select(func.count()).select_from(TreeNode)) == size - bin(size).count(
        "1"
    )
    result = verify()
    assert result.ok, result.problem
    assert result.head == root


@pytest.mark.postgres  # SQLite has one writer at a time whatever the application does
def test_an_append_waits_for_no_lock(app, make_document, make_user):
    """While the sequencer holds its turn, requests still write their entries."""
    _comment(make_document, make_user)
    holder = Session(db.engine)
    holder.execute(update(TreeState).where(TreeState.id == 1).values(size=TreeState.size))
    written = []

    def writer(n):
        with app.app_context(), Session(db.engine) as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))
            s.add(tree_log.entry("test.written", "comment", n, None, {"n": n}))
            s.commit()
            written.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(written) == list(range(8))  # none waited for the sequencer's turn
    waiting = db.session.scalar(select(func.count(Event.id)).where(Event.seq.is_(None)))
    assert waiting == 8
    holder.rollback()
    holder.close()
    assert tree_log.sequence().sequenced == 8
    assert verify().ok


def test_heads_are_signed_at_publication_closing_and_finalisation(make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    v = doc.latest
    docs.close(v, by=sec)
    db.session.commit()
    docs.finalize(v, by=sec)
    db.session.commit()
    heads = db.session.scalars(select(TreeHead).order_by(TreeHead.id)).all()
    about = f"{doc.slug} version 1"
    assert [(h.reason, h.about) for h in heads] == [
        ("publication", about),
        ("closing", about),
        ("finalisation", about),
    ]
    # Each head covers the event that asked for it, signed right after its commit.
    kinds = list(db.session.scalars(select(Event.kind).order_by(Event.seq)))
    assert [h.tree_size for h in heads] == [2, 3, 4]
    assert kinds[1:] == ["version.published", "version.state_changed", "version.state_changed"]
    public_key = keys.public_key_hex()
    assert all(rules.head_signed(tree_log.head_json(h), public_key) for h in heads)


def test_interval_heads_only_when_the_tree_grew_and_the_interval_passed(
    app, make_document, make_user
):
    doc, v, member, c = _comment(make_document, make_user)
    before = db.session.scalar(select(func.count(TreeHead.id)))
    app.config["RECORD_HEAD_INTERVAL"] = 0
    try:
        post_comment(v, v.paragraphs[3], member, body="Another point.")
        assert db.session.scalar(select(func.count(TreeHead.id))) == before + 1
        assert tree_log.sequence().head is None  # nothing new: no head
    finally:
        app.config["RECORD_HEAD_INTERVAL"] = 3600
    post_comment(v, v.paragraphs[3], member, body="A third point.")
    assert db.session.scalar(select(func.count(TreeHead.id))) == before + 1
    app.config.pop("RECORD_HEAD_INTERVAL")


# --- receipts ------------------------------------------------------------------------------


def test_a_receipt_and_a_later_head_say_included_in_a_clean_python(
    client, make_document, make_user, tmp_path
):
    doc, v, member, c = _comment(make_document, make_user)
    first = _sign()
    resp = client.get(f"/record/receipts/{c.tracking}.json")
    assert resp.status_code == 200
    receipt = resp.get_json()
    assert receipt["status"] == "included" and receipt["leaf_index"] == _posted(c).seq - 1
    assert receipt["tree_head"]["tree_size"] == first.tree_size
    # The record grows; a later head, and the proof that it extends the receipt's.
    for i in range(6):
        post_comment(v, v.paragraphs[3], member, body=f"Later point {i}.")
    later = _sign()
    assert later.tree_size > first.tree_size
    proof = client.get(
        f"/api/v1/record/proofs/consistency?from={first.tree_size}&to={later.tree_size}"
    ).get_json()
    assert proof["second_head"]["tree_size"] == later.tree_size
    public_key = client.get("/api/v1/record/heads").get_json()["public_key"]

    r = run_verifier(
        tmp_path,
        ("receipt.json", json.dumps(receipt).encode()),
        ("later.json", json.dumps(proof).encode()),
        args=("--key", public_key),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"included: event {receipt['entry']['seq']} (comment.posted)")
    assert f"of comment {c.tracking} is leaf {receipt['leaf_index']}" in lines[0]
    assert lines[1].startswith(f"included: the later head of {later.tree_size} events")
    assert "OK: the receipt proves its comment is in the record." in r.stdout
    # Nothing but the standard library was there to help.
    no_crypto = subprocess.run(  # noqa: S603
        [*clean_python(), "-c", "import cryptography"], capture_output=True, cwd=tmp_path
    )
    assert no_crypto.returncode != 0

    # A later view of the receipt proves against the newest head, freshly.
    again = client.get(f"/api/v1/record/receipts/{c.tracking}").get_json()
    assert again["tree_head"]["tree_size"] == later.tree_size
    assert again["inclusion_proof"] != receipt["inclusion_proof"]
    r = run_verifier(
        tmp_path,
        ("receipt.json", json.dumps(receipt).encode()),
        ("again.json", json.dumps(again).encode()),
        args=("--key", public_key),
    )
    assert r.returncode == 0 and f"tree of {later.tree_size} events" in r.stdout, r.stdout

    # Forged files are refused: another key, a changed proof, a head that is not later.
    other = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    r = run_verifier(
        tmp_path, ("receipt.json", json.dumps(receipt).encode()), args=("--key", other)
    )
    assert r.returncode == 1 and "signature does not verify" in r.stdout
    bad = dict(
        receipt,
        inclusion_proof=[receipt["inclusion_proof"][0][::-1]] + receipt["inclusion_proof"][1:],
    )
    r = run_verifier(
        tmp_path, ("receipt.json", json.dumps(bad).encode()), args=("--key", public_key)
    )
    assert r.returncode == 1 and "the inclusion proof does not lead from leaf" in r.stdout
    forged = dict(proof, proof=list(reversed(proof["proof"])))
    r = run_verifier(
        tmp_path,
        ("receipt.json", json.dumps(receipt).encode()),
        ("later.json", json.dumps(forged).encode()),
        args=("--key", public_key),
    )
    assert r.returncode == 1 and "does not extend the receipt's head" in r.stdout


def test_the_receipt_page_pdf_and_mail_carry_the_proof(client, make_document, make_user):
    doc, v, member, c = _comment(make_document, make_user)
    head = _sign()
    ev = _posted(c)
    html = client.get(f"/record/receipts/{c.tracking}").get_data(as_text=True)
    assert "The comment matches its receipt." in html
    assert f"leaf index {ev.seq - 1}" in html and head.root_hash in html and head.signature in html
    for p in tree_log.inclusion_proof(ev.seq - 1, head.tree_size):
        assert p in html
    pdf = client.get(f"/record/receipts/{c.tracking}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    from pypdf import PdfReader

    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert c.tracking in words and "leaf index" in words
    # The receipt mail is made when the mail job sends it: the entry is in the tree by
    # then, and the mail carries its place and the proof against the newest head.
    from consult.mail.models import MailOutbox
    from consult.mail.outbox import render_waiting

    render_waiting()
    mail = db.session.scalar(select(MailOutbox).where(MailOutbox.kind == "receipt"))
    assert ev.leaf_hash in mail.body and f"/record/receipts/{c.tracking}.json" in mail.body
    newest = tree_log.newest_head()
    assert f"leaf {ev.seq - 1} of the tree of {newest.tree_size} events" in mail.body
    assert newest.root_hash in mail.body
    for p in tree_log.inclusion_proof(ev.seq - 1, newest.tree_size):
        assert f"  {p}\n" in mail.body


def test_a_receipt_mail_signs_a_head_when_none_covers_its_entry(app, make_document, make_user):
    """With heads due only hourly, the batch of receipt mails still gets one head that
    covers its entries (and one only), so each mail carries a proof at once."""
    from consult.mail.models import MailOutbox
    from consult.mail.outbox import render_waiting

    app.config["RECORD_HEAD_INTERVAL"] = 3600
    try:
        doc, v, member, c = _comment(make_document, make_user)
        post_comment(v, v.paragraphs[3], member, body="A second one in the same batch.")
        _sign()  # a head that covers the first two; the third comes after it
        post_comment(v, v.paragraphs[4], member, body="A third, after the head.")
        db.session.commit()
        before = db.session.scalar(select(func.count(TreeHead.id)))
        assert render_waiting() == 3
        db.session.commit()
        assert db.session.scalar(select(func.count(TreeHead.id))) == before + 1
        newest = tree_log.newest_head()
        assert newest.reason == "receipts" and newest.tree_size == tree_log.state()[0]
        bodies = db.session.scalars(select(MailOutbox.body).where(MailOutbox.kind == "receipt"))
        assert all(f"the tree of {newest.tree_size} events" in b for b in bodies)
    finally:
        app.config.pop("RECORD_HEAD_INTERVAL")


def test_a_receipt_waits_for_its_head_then_is_proved(app, client, make_document, make_user):
    app.config["RECORD_HEAD_INTERVAL"] = 3600
    try:
        doc, v, member, c = _comment(make_document, make_user)
        post_comment(v, v.paragraphs[3], member, body="Not covered yet.")
        newest = tree_log.newest_head()
        late = db.session.scalars(select(Event).order_by(Event.seq.desc())).first()
        assert newest.tree_size < late.seq
        tracking = db.session.scalars(
            select(Event.subject_id)
            .where(Event.kind == "comment.posted")
            .order_by(Event.seq.desc())
        ).first()
        from consult.consultation.models import Comment

        c2 = db.session.get(Comment, tracking)
        data = client.get(f"/api/v1/record/receipts/{c2.tracking}").get_json()
        assert data["status"] == "pending" and data["tree_head"] is None
        page = client.get(f"/record/receipts/{c2.tracking}").get_data(as_text=True)
        assert "its proof is on its way" in page
    finally:
        app.config["RECORD_HEAD_INTERVAL"] = 0
    data = client.get(f"/api/v1/record/receipts/{c2.tracking}").get_json()
    assert data["status"] == "included" and data["tree_head"]["tree_size"] >= late.seq
    app.config.pop("RECORD_HEAD_INTERVAL")


# --- the API a monitor reads ---------------------------------------------------------------


def test_the_record_api(client, make_document, make_user):
    doc, v, member, c = _comment(make_document, make_user)
    for i in range(4):
        post_comment(v, v.paragraphs[3], member, body=f"Point {i}.")
    head = _sign()
    n = head.tree_size
    heads = client.get("/api/v1/record/heads").get_json()
    assert heads["heads"][0]["tree_size"] == n and heads["total"] >= 2
    assert heads["public_key"] == keys.public_key_hex() and heads["tree_size"] == n
    assert client.get(f"/api/v1/record/heads/{n}").get_json()["root_hash"] == head.root_hash
    assert_error(client.get("/api/v1/record/heads/999999"), 404)

    entries = client.get(f"/api/v1/record/entries?start=0&limit={n - 2}").get_json()
    assert [e["leaf_index"] for e in entries["entries"]] == list(range(n - 2))
    rest = client.get(entries["links"]["next"]).get_json()
    assert len(rest["entries"]) == 2 and "next" not in rest["links"]
    every = entries["entries"] + rest["entries"]
    leaves = [rules.leaf_hash(rules.entry_leaf_bytes(e)) for e in every]
    assert rules.tree_root(leaves).hex() == head.root_hash  # a monitor rebuilds the tree

    for leaf in range(n):
        p = client.get(f"/api/v1/record/proofs/inclusion?leaf={leaf}&size={n}").get_json()
        assert rules.verify_inclusion(
            leaf,
            n,
            leaves[leaf],
            [bytes.fromhex(x) for x in p["audit_path"]],
            bytes.fromhex(head.root_hash),
        )
    newest = client.get("/api/v1/record/proofs/inclusion?leaf=0").get_json()
    assert newest["tree_size"] == n and newest["tree_head"]["signature"] == head.signature
    for m in range(n + 1):
        p = client.get(f"/api/v1/record/proofs/consistency?from={m}&to={n}").get_json()
        assert rules.verify_consistency(
            m,
            n,
            bytes.fromhex(p["first_root"]),
            bytes.fromhex(head.root_hash),
            [bytes.fromhex(x) for x in p["proof"]],
        )
        assert p["first_root"] == rules.tree_root(leaves[:m]).hex()

    e = assert_error(client.get(f"/api/v1/record/proofs/inclusion?leaf={n}&size={n}"), 400)
    assert e["message"] == f"Leaf {n} is not in a tree of {n} entries."
    e = assert_error(client.get(f"/api/v1/record/proofs/inclusion?leaf=0&size={n + 5}"), 400)
    assert "there is no tree of" in e["message"]
    e = assert_error(client.get("/api/v1/record/proofs/consistency?from=3&to=2"), 400)
    assert "'from' (3) must not be larger than 'to' (2)" in e["message"]
    assert_error(client.get("/api/v1/record/proofs/consistency?from=-1&to=2"), 400)
    assert_error(client.get("/api/v1/record/proofs/inclusion?leaf=x"), 400)
    assert_error(client.get("/api/v1/record/proofs/inclusion"), 400, "field_required")
    assert_error(client.get("/api/v1/record/receipts/C-NOPE"), 404)


def test_the_record_page_and_feed_list_the_heads_and_the_key(client, make_document):
    make_document("closed")
    heads = db.session.scalars(select(TreeHead)).all()
    html = client.get("/record/").get_data(as_text=True)
    assert keys.public_key_hex() in html and "Signed tree heads" in html
    assert all(h.signature in html for h in heads)
    feed = client.get("/record/heads.atom")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    body = feed.get_data(as_text=True)
    assert body.count("<entry>") == len(heads) and all(h.root_hash in body for h in heads)


def test_the_sequence_command(runner, make_document):
    make_document("consultation")
    r = runner.invoke(args=["sequence", "--head"])
    assert r.exit_code == 0, r.output
    size = tree_log.state()[0]
    assert r.output.strip() == f"Sequenced 0: the tree holds {size}; signed a head of {size}."


# --- tampering ------------------------------------------------------------------------------


def _dump(doc) -> bytes:
    return opendata.opendata_zip(doc)


def test_a_tampered_entry_is_named_by_verify_and_by_the_verifier(
    runner, make_document, make_user, tmp_path
):
    doc, v, member, c = _comment(make_document, make_user)
    post_comment(v, v.paragraphs[3], member, body="So that the first one has a pair.")
    head = _sign()
    ev = _posted(c)
    forged = ev.payload.replace(c.content_hash, "0" * 64)
    db.session.execute(update(Event).where(Event.id == ev.id).values(payload=forged))
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert f"event {ev.seq} (comment.posted): its content does not match its leaf hash" in r.output
    out = run_verifier(tmp_path, ("dump.zip", _dump(doc)))
    assert out.returncode == 1
    assert (
        f"events: event {ev.seq} (comment.posted): its content does not match its leaf hash"
        in out.stdout
    )

    # Rewriting its leaf hash too moves the tree: the stored subtrees and the signed
    # heads say where.
    leaf = rules.leaf_hash(tree_log.leaf_of(db.session.get(Event, ev.id))).hex()
    db.session.execute(update(Event).where(Event.id == ev.id).values(leaf_hash=leaf))
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    pair = (ev.seq - 1) // 2  # the subtree of the entry and its neighbour
    assert (
        f"the stored hash of events {2 * pair + 1}–{2 * pair + 2} (subtree of height 1, "
        f"index {pair}), which proofs are made of, does not match the events"
    ) in r.output
    # The verifier has no stored subtrees: the signed heads say from where to where.
    good = max(h.tree_size for h in db.session.scalars(select(TreeHead)) if h.tree_size < ev.seq)
    out = run_verifier(tmp_path, ("dump.zip", _dump(doc)))
    assert out.returncode == 1
    assert (
        f"the head of {head.tree_size} events signed {tree_log.head_json(head)['signed_at']}: its "
        f"root hash is not the root of the first {head.tree_size} events: an event from "
        f"{good + 1} to {head.tree_size} was changed, removed or reordered"
    ) in out.stdout


def test_a_tampered_head_is_named(runner, make_document, make_user, tmp_path):
    doc, v, member, c = _comment(make_document, make_user)
    head = _sign()
    db.session.execute(update(TreeHead).where(TreeHead.id == head.id).values(root_hash="ab" * 32))
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert f"signed tree head {head.id} (size {head.tree_size}" in r.output
    assert "its signature does not verify" in r.output
    out = run_verifier(tmp_path, ("dump.zip", _dump(doc)))
    assert out.returncode == 1
    assert f"tree_heads: the head of {head.tree_size} events" in out.stdout
    assert "its signature does not verify with the record's keys" in out.stdout


def test_a_tampered_stored_proof_is_named(client, runner, make_document, make_user):
    doc, v, member, c = _comment(make_document, make_user)
    for i in range(4):
        post_comment(v, v.paragraphs[3], member, body=f"Point {i}.")
    _sign()
    node = db.session.scalars(select(TreeNode).order_by(TreeNode.height, TreeNode.idx)).first()
    db.session.execute(
        update(TreeNode)
        .where(TreeNode.height == node.height, TreeNode.idx == node.idx)
        .values(hash="cd" * 32)
    )
    db.session.commit()
    first, last = node.idx << node.height, ((node.idx + 1) << node.height) - 1
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert (
        f"the stored hash of events {first + 1}–{last + 1} (subtree of height {node.height}, "
        f"index {node.idx}), which proofs are made of, does not match the events"
    ) in r.output
    # The comment (leaf 2 or 3) is proved through that subtree (events 1–2, beside its
    # leaf's pair): its receipt does not hold, and says so.
    assert (node.height, node.idx) == (1, 0) and _posted(c).seq in (3, 4)
    html = client.get(f"/record/receipts/{c.tracking}").get_data(as_text=True)
    assert "does not lead to the signed root" in html


def test_a_removed_entry_is_named(runner, make_document, make_user):
    doc, v, member, c = _comment(make_document, make_user)
    post_comment(v, v.paragraphs[3], member, body="The last one.")
    head = _sign()
    ev = _posted(c)
    db.session.execute(delete(Event).where(Event.id == ev.id))
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert f"event {ev.seq} is missing (found event {ev.seq + 1} next)" in r.output
    # The last one removed: the signed head still counts it.
    db.session.execute(delete(Event).where(Event.seq > ev.seq))
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert (
        f"signed tree head {head.id} is for {head.tree_size} events, but the record holds "
        f"{ev.seq - 1} (events were removed)"
    ) in r.output


# --- the chain before the tree -------------------------------------------------------------


def test_a_receipt_given_while_the_record_was_a_chain_still_verifies(
    client, make_document, make_user, tmp_path
):
    """Migration 0016 adopts the chain: each event, in its order, becomes a leaf that
    keeps its chain hash, so the hash printed on an old receipt is still proved."""
    from consult.record.adopt import adopt_chain

    doc, v, member, c = _comment(make_document, make_user)
    # The record as the hash chain left it: seq, prev_hash and hash, no tree.
    prev = rules.GENESIS
    for ev in db.session.scalars(select(Event).order_by(Event.seq)).all():
        ev.prev_hash = prev
        ev.hash = event_hash(
            prev, ev.seq, ev.kind, ev.created_at.isoformat(), ev.subject, ev.payload
        )
        ev.leaf_hash = None
        prev = ev.hash
    db.session.execute(delete(TreeHead))
    db.session.execute(delete(TreeNode))
    db.session.commit()
    old = _posted(c)
    old_receipt = (old.seq, old.hash)  # what the receipt page printed then

    events = db.session.scalar(select(func.count(Event.id)))
    assert adopt_chain(db.session.connection()) == events
    db.session.commit()
    _sign()
    assert verify().ok
    receipt = client.get(f"/record/receipts/{c.tracking}.json").get_json()
    assert (receipt["entry"]["seq"], receipt["entry"]["hash"]) == old_receipt
    r = run_verifier(tmp_path, ("receipt.json", json.dumps(receipt).encode()))
    assert r.returncode == 0, r.stdout
    assert f"included: event {old.seq} (comment.posted)" in r.stdout
    # New entries follow the chain as plain leaves.
    post_comment(v, v.paragraphs[3], member, body="After the change.")
    last = db.session.scalars(select(Event).order_by(Event.seq.desc())).first()
    assert last.hash is None and last.seq == tree_log.state()[0]
    assert verify().ok
    # Breaking an old event's chain hash is named as such.
    db.session.execute(update(Event).where(Event.seq == 1).values(hash="0" * 64))
    db.session.commit()
    assert verify().problem.startswith("event 1 (version.created) does not match its chain hash")


def test_entries_and_proofs_beyond_what_a_sequence_holds_are_a_400(client):
    for url in (
        "/api/v1/record/entries?start=2147483648",
        "/api/v1/record/proofs/inclusion?leaf=2147483648",
        "/api/v1/record/proofs/consistency?from=1&to=2147483648",
    ):
        resp = client.get(url)
        assert resp.status_code == 400, (url, resp.get_data(as_text=True))
        assert resp.get_json()["error"]["message"]
    # The last page a sequence can hold is answered, not overflowed.
    assert client.get("/api/v1/record/entries?start=2147483000&limit=1000").status_code == 200


# --- replacing the key ------------------------------------------------------------------------


def test_a_rotated_key_stays_trusted_for_what_it_signed_and_for_nothing_after(
    app, client, runner, make_document, make_user, tmp_path, monkeypatch
):
    monkeypatch.delenv("CONSULT_RECORD_KEY", raising=False)
    doc, v, member, c = _comment(make_document, make_user)
    old_head = _sign()
    old_private = keys.private_key(app)
    old_public = keys.public_key_hex(app)

    r = runner.invoke(args=["rotate-record-key"])
    assert r.exit_code == 0, r.output
    new_public = keys.public_key_hex(app)
    assert new_public != old_public
    assert f"Rotated: key {rules.key_id(old_public)} retired at " in r.output
    assert f"heads are now signed with key {rules.key_id(new_public)}." in r.output
    db.session.expire_all()
    rotation = db.session.scalars(
        select(TreeHead).where(TreeHead.reason == "rotation").order_by(TreeHead.id)
    ).all()
    assert [h.public_key for h in rotation] == [old_public, new_public]

    post_comment(v, v.paragraphs[3], member, body="After the new key.")
    new_head = _sign()
    assert new_head.public_key == new_public and old_head.public_key == old_public
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 0, r.output
    out = run_verifier(tmp_path, ("dump.zip", _dump(doc)))
    assert out.returncode == 0, out.stdout + out.stderr

    listed = client.get("/api/v1/record/heads").get_json()["keys"]
    assert [k["public_key"] for k in listed] == [new_public, old_public]
    assert listed[0]["retired_at"] is None and listed[1]["retired_at"].endswith("Z")
    html = client.get("/record/").get_data(as_text=True)
    assert "Retired keys" in html and old_public in html and new_public in html

    # A head signed with the old key after its retirement (a stolen key) is refused.
    late = int(utcnow().timestamp() * 1000) + 60_000
    size, root = tree_log.state()
    forged = TreeHead(
        tree_size=size,
        root_hash=root,
        timestamp=late,
        signed_at=datetime.fromtimestamp(late / 1000, UTC),
        reason="interval",
        about="",
        public_key=old_public,
        signature=old_private.sign(rules.head_bytes(size, root, late)).hex(),
    )
    db.session.add(forged)
    db.session.commit()
    r = runner.invoke(args=["verify"])
    assert r.exit_code == 1
    assert f"it is signed with the key {rules.key_id(old_public)} after that key was retired" in (
        r.output
    )
    out = run_verifier(tmp_path, ("dump.zip", _dump(doc)))
    assert out.returncode == 1
    assert f"signed with the key {rules.key_id(old_public)} after that key was retired" in (
        out.stdout
    )


def test_rotation_is_refused_when_the_deployment_owns_the_key(runner, monkeypatch):
    monkeypatch.setenv("CONSULT_RECORD_KEY", "11" * 32)
    r = runner.invoke(args=["rotate-record-key"])
    assert r.exit_code == 1
    assert "put the new private key there" in r.output and "CONSULT_RECORD_PAST_KEYS" in r.output


def test_past_keys_from_the_environment_are_trusted_until_their_retirement(app, monkeypatch):
    monkeypatch.setenv("CONSULT_RECORD_PAST_KEYS", f"{'ab' * 32}@2026-01-01T00:00:00Z")
    known = keys.known_keys(app)
    assert "ab" * 32 in [k.public_key for k in known[1:]]
    jan = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
    assert keys.key_problem("ab" * 32, jan, known) is None
    assert "after that key was retired" in keys.key_problem("ab" * 32, jan + 1, known)
    assert "not one of this record's keys" in keys.key_problem("cd" * 32, jan, known)
    monkeypatch.setenv("CONSULT_RECORD_PAST_KEYS", "ab@2026-01-01T00:00:00Z")
    with pytest.raises(keys.KeyError_, match="64 hex digits"):
        keys.known_keys(app)
