"""A Word file returned marked up (tracked changes and Word comments) becomes the
organisation's suggestions and comments: built in the test from a real text, through
Consult's own export (found by its hash and bookmarks) and through a file Consult did
not make (found by alignment); the command line with --dry-run and the API."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pypandoc
import pytest
from sqlalchemy import select

from consult.consultation.models import Comment
from consult.exports.resolution import version_docx
from consult.extensions import db
from consult.record.models import Event

from .conftest import assert_error, bearer, count
from .word_files import corpus_text, mark_up

HTTPS = "us-https-only-standard-m-15-13"
GOAL = "This Memorandum requires that all publicly accessible Federal websites"
BACKGROUND = "The unencrypted HTTP protocol does not protect data from interception"
EDITS = [
    # One paragraph, two tracked changes: one suggestion.
    {"in": GOAL, "delete": "only provide service", "insert": "provide service only"},
    {"in": GOAL, "delete": "The strongest", "insert": "The best"},
    # A paragraph with a comment on a span.
    {
        "in": BACKGROUND,
        "on": "eavesdropping, tracking",
        "comment": "Name surveillance by third parties too.\nIt matters for CSOs.",
    },
    # A deletion only.
    {"in": "All browsing activity should be considered", "delete": " and sensitive"},
]


@pytest.fixture
def consultation(make_document, make_org):
    doc = make_document(text=corpus_text(HTTPS, 4))
    return doc.latest, make_org("open-net", "Open Net Association")


def _paragraph(version, start):
    return next(p for p in version.paragraphs if p.text.startswith(start))


def _check_created(version, org, comments):
    goal, background = _paragraph(version, GOAL), _paragraph(version, BACKGROUND)
    browsing = _paragraph(version, "All browsing activity")
    by_paragraph = {(c.paragraph_id, c.kind): c for c in comments}
    assert len(comments) == 3
    s = by_paragraph[(goal.id, "suggestion")]
    assert s.suggested_text == goal.text.replace(
        "only provide service", "provide service only"
    ).replace("The strongest", "The best")
    assert "deletes “only provide service”, “The strongest”" in s.body
    assert "inserts “provide service only”, “The best”" in s.body
    c = by_paragraph[(background.id, "comment")]
    assert c.body == "Name surveillance by third parties too.\nIt matters for CSOs."
    assert c.quote == "eavesdropping, tracking"
    assert background.text[c.quote_start : c.quote_end] == "eavesdropping, tracking"
    d = by_paragraph[(browsing.id, "suggestion")]
    assert d.suggested_text == "All browsing activity should be considered private."
    for x in comments:
        assert (x.organisation_id, x.channel, x.version_id) == (org.id, "word", version.id)


def test_cli_turns_consult_export_marked_up_into_suggestions_and_comments(
    runner, tmp_path, consultation, make_user, app
):
    version, org = consultation
    admin = make_user("admin")
    blob = mark_up(version_docx(version), EDITS)
    path = tmp_path / "returned.docx"
    path.write_bytes(blob)
    args = ["import-returned", version.document.slug, "1", str(path), "--org", org.slug]

    r = runner.invoke(args=[*args, "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "found by its embedded version hash" in r.output
    assert "Dry run: 3 would be created; nothing stored." in r.output
    assert count(Comment) == 0

    r = runner.invoke(args=args)
    assert r.exit_code == 0, r.output
    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    _check_created(version, org, comments)
    assert all(c.entered_by_id == admin.id and c.author_id is None for c in comments)
    # The file is kept, named by its hash, and the record says what it became.
    sha = hashlib.sha256(blob).hexdigest()
    folder = os.path.join(app.instance_path, "returned-word")
    with open(os.path.join(folder, sha[:2], sha[2:]), "rb") as f:
        assert f.read() == blob
    [event] = db.session.scalars(select(Event).where(Event.kind == "returned_word.imported"))
    kept = json.loads(event.payload)
    assert kept["file_sha256"] == sha and kept["organisation"] == org.slug
    assert kept["comments"] == [c.tracking for c in comments]
    assert (event.subject_type, event.subject_id) == ("version", version.id)


def test_file_consult_did_not_make_is_found_by_alignment(runner, tmp_path, consultation, make_user):
    version, org = consultation
    make_user("admin")
    plain = tmp_path / "plain.docx"
    pypandoc.convert_text(
        corpus_text(HTTPS, 4), "docx", format="commonmark_x-smart", outputfile=str(plain)
    )
    blob = mark_up(plain.read_bytes(), EDITS)
    path = tmp_path / "returned.docx"
    path.write_bytes(blob)
    r = runner.invoke(
        args=["import-returned", version.document.slug, "1", str(path), "--org", org.slug]
    )
    assert r.exit_code == 0, r.output
    assert "found by its text" in r.output
    _check_created(version, org, db.session.scalars(select(Comment)).all())


def test_file_of_another_version_or_text_is_refused(
    runner, tmp_path, make_document, make_org, make_user
):
    make_user("admin")
    doc = make_document(text=corpus_text("fr-code-civil-titre-v-mariage", 5))
    org = make_org()
    https = make_document(text=corpus_text(HTTPS, 4)).latest
    blob = mark_up(version_docx(https), EDITS)
    path = tmp_path / "returned.docx"
    path.write_bytes(blob)
    r = runner.invoke(args=["import-returned", doc.slug, "1", str(path), "--org", org.slug])
    assert r.exit_code == 1
    assert "does not look like version 1" in r.output
    assert count(Comment) == 0


def test_unchanged_file_and_untracked_edits_store_nothing(
    runner, tmp_path, consultation, make_user
):
    version, org = consultation
    make_user("admin")
    path = tmp_path / "clean.docx"
    path.write_bytes(version_docx(version))
    r = runner.invoke(
        args=["import-returned", version.document.slug, "1", str(path), "--org", org.slug]
    )
    assert r.exit_code == 1
    assert "no tracked changes and no comments" in r.output
    # Words changed with Track Changes off: the paragraph is found by its bookmark, but
    # its text is not the version's, so nothing is stored and the error names it.
    blob = mark_up(
        version_docx(version),
        [EDITS[0], {"in": BACKGROUND, "on": "eavesdropping", "comment": "Define it."}],
    )
    blob = _edited_untracked(blob, "This Memorandum requires", "The Memorandum demands")
    path.write_bytes(blob)
    r = runner.invoke(
        args=["import-returned", version.document.slug, "1", str(path), "--org", org.slug]
    )
    assert r.exit_code == 1
    assert "outside its tracked changes" in r.output
    assert "Nothing was stored: 1 of the file's comments and suggestions" in r.output
    assert count(Comment) == 0


def _edited_untracked(blob: bytes, old: str, new: str) -> bytes:
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(old.encode(), new.encode(), 1)
            z.writestr(item, data)
    return out.getvalue()


def test_api_dry_run_then_store_for_own_organisation(client, consultation, make_user):
    version, org = consultation
    member = make_user("cso", org=org)
    blob = mark_up(version_docx(version), EDITS)
    url = f"/api/v1/documents/{version.document.slug}/versions/1/returned-word"

    def send(**fields):
        return client.post(
            url,
            data={"file": (io.BytesIO(blob), "returned.docx"), "organisation": org.slug, **fields},
            content_type="multipart/form-data",
            headers=bearer(member),
        )

    r = send(dry_run="true")
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert (body["dry_run"], body["created"], body["found_by"]) == (True, 0, "hash")
    assert [p["kind"] for p in body["proposals"]] == ["suggestion", "comment", "suggestion"]
    assert body["proposals"][1]["quote"] == "eavesdropping, tracking"
    assert count(Comment) == 0

    r = send()
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["created"] == 3 and all(p["tracking"] for p in body["proposals"])
    comments = db.session.scalars(select(Comment)).all()
    _check_created(version, org, comments)
    # Sent by a member for its own organisation: its author, not entered on behalf.
    assert all(c.author_id == member.id and c.entered_by_id is None for c in comments)


def test_api_refuses_other_organisation_and_missing_file(client, consultation, make_user, make_org):
    version, org = consultation
    stranger = make_user("cso", org=make_org())
    url = f"/api/v1/documents/{version.document.slug}/versions/1/returned-word"
    blob = mark_up(version_docx(version), EDITS)
    r = client.post(
        url,
        data={"file": (io.BytesIO(blob), "r.docx"), "organisation": org.slug},
        content_type="multipart/form-data",
        headers=bearer(stranger),
    )
    assert_error(r, 403)
    r = client.post(
        url,
        data={"organisation": org.slug},
        content_type="multipart/form-data",
        headers=bearer(make_user("secretariat")),
    )
    assert assert_error(r, 400, "field_required")["field"] == "file"
    r = client.post(
        url,
        data={"file": (io.BytesIO(b"nope"), "r.odt"), "organisation": org.slug},
        content_type="multipart/form-data",
        headers=bearer(make_user("secretariat")),
    )
    assert_error(r, 400, "unreadable_file")
    assert count(Comment) == 0


def test_page_previews_every_proposal_then_stores_on_confirmation(
    client, login, consultation, make_user
):
    version, org = consultation
    login(make_user("secretariat"))
    url = f"/documents/{version.document.slug}/versions/1/returned-word"
    assert "Import a marked-up Word file" in client.get(url).get_data(as_text=True)
    blob = mark_up(version_docx(version), EDITS)
    r = client.post(
        url,
        data={"file": (io.BytesIO(blob), "returned.docx"), "organisation": org.slug},
        content_type="multipart/form-data",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200, page
    assert "3 comments and suggestions in the file" in page
    assert "eavesdropping, tracking" in page and "provide service only" in page
    assert count(Comment) == 0
    sha = hashlib.sha256(blob).hexdigest()
    r = client.post(url, data={"sha256": sha, "organisation": org.slug, "store": "y"})
    assert r.status_code == 302
    _check_created(version, org, db.session.scalars(select(Comment)).all())


def test_page_shows_errors_per_paragraph_and_offers_no_store(
    client, login, consultation, make_user
):
    version, org = consultation
    login(make_user("secretariat"))
    blob = mark_up(version_docx(version), EDITS)
    blob = _edited_untracked(blob, "This Memorandum requires", "The Memorandum demands")
    r = client.post(
        f"/documents/{version.document.slug}/versions/1/returned-word",
        data={"file": (io.BytesIO(blob), "returned.docx"), "organisation": org.slug},
        content_type="multipart/form-data",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "outside its tracked changes" in page
    assert "Store these" not in page
    assert count(Comment) == 0


def test_the_version_page_links_to_the_returned_word_page(client, login, consultation, make_user):
    version, org = consultation
    page_url = f"/documents/{version.document.slug}/versions/1"
    login(make_user("secretariat"))
    assert f"{page_url}/returned-word" in client.get(page_url).get_data(as_text=True)


def test_the_public_is_not_offered_the_returned_word_page(client, consultation):
    version, org = consultation
    page_url = f"/documents/{version.document.slug}/versions/1"
    assert f"{page_url}/returned-word" not in client.get(page_url).get_data(as_text=True)
