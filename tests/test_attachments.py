"""Attachments (position papers): uploads through the API and the comment page, the
configured limits, safe download headers, text extraction (PDF, DOCX, ODT, a scan
flagged), search, the record, and where they appear (comment page, report, profile,
open data)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.consultation.attachments import Attachment
from consult.extensions import db
from consult.record.models import Event
from consult.timeutil import utcnow

from .attachment_files import make_docx, make_odt, make_pdf
from .conftest import assert_error, bearer, count, post_comment

DOCX_PHRASE = "community radio deserves a licence fee waiver"
ODT_PHRASE = "sign language interpreters at every hearing"


def multipart(data: bytes, name: str, field: str = "file") -> dict:
    """A multipart/form-data body as bytes (the test client spools large generated bodies
    to a temporary file it never closes when the server refuses to read them)."""
    boundary = "consult-test-boundary-7d1f"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def _upload(client, comment_id, data, name, headers):
    return client.post(
        f"/api/v1/comments/{comment_id}/attachments", headers=headers, **multipart(data, name)
    )


@pytest.fixture
def commented(make_document, make_user):
    doc = make_document("consultation")
    author = make_user("cso")
    c = post_comment(doc.latest, doc.latest.paragraphs[2], author, body="See our paper.")
    return doc, author, c


def test_a_pdf_is_attached_listed_and_downloaded_with_safe_headers(app, client, commented):
    _doc, author, c = commented
    pdf = make_pdf(["Our position on hearings", "Provincial hearings matter."])
    resp = _upload(client, c.id, pdf, "../../etc/Our paper.pdf", bearer(author))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    a = resp.get_json()
    digest = hashlib.sha256(pdf).hexdigest()
    assert (a["name"], a["type"], a["size"], a["sha256"]) == (
        "Our paper.pdf",
        "application/pdf",
        len(pdf),
        digest,
    )
    assert a["text"] == "text extracted" and a["pages"] == 1
    stored = Path(app.config["ATTACHMENT_DIR"]) / digest[:2] / digest[2:]
    assert stored.read_bytes() == pdf

    listed = client.get(f"/api/v1/comments/{c.id}").get_json()["attachments"]
    assert [x["sha256"] for x in listed] == [digest]
    got = client.get(listed[0]["links"]["download"])
    assert got.status_code == 200 and got.data == pdf
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "Our%20paper.pdf" in got.headers["Content-Disposition"] or (
        'filename="Our paper.pdf"' in got.headers["Content-Disposition"]
    )
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["ETag"].strip('"') == digest

    event = db.session.scalar(select(Event).where(Event.kind == "attachment.added"))
    payload = json.loads(event.payload)
    assert payload["sha256"] == digest and payload["comment"] == c.tracking

    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "Our paper.pdf" in page and digest in page


def test_the_type_is_read_from_the_bytes_not_the_name(client, commented):
    _doc, author, c = commented
    fake = b"<html><script>alert(1)</script></html>"
    err = assert_error(_upload(client, c.id, fake, "paper.pdf", bearer(author)), 415)
    assert "not a readable pdf" in err["message"]
    err = assert_error(_upload(client, c.id, b"plain words", "notes.txt", bearer(author)), 415)
    assert "PDF, Word (.docx) or OpenDocument (.odt)" in err["message"]
    # A real PDF sent under another name is stored as what it is.
    resp = _upload(client, c.id, make_pdf(["x"]), "paper.docx", bearer(author))
    assert resp.status_code == 201 and resp.get_json()["name"] == "paper.docx.pdf"
    assert count(Attachment) == 1


def test_size_and_count_limits_come_from_the_configuration(app, client, commented, monkeypatch):
    _doc, author, c = commented
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 2_000)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_COUNT", 2)
    big = make_pdf(["y" * 70] * 60)
    assert len(big) > 2_000
    err = assert_error(_upload(client, c.id, big, "big.pdf", bearer(author)), 413)
    assert "at most" in err["message"]
    # Larger than the app's request limit (2 MB) too: still a readable 413 in JSON.
    huge = make_pdf(["z"]) + b"%" * (3 * 1024 * 1024)
    assert_error(_upload(client, c.id, huge, "huge.pdf", bearer(author)), 413)
    for n in range(2):
        assert (
            _upload(client, c.id, make_pdf([f"p{n}"]), f"{n}.pdf", bearer(author)).status_code
            == 201
        )
    err = assert_error(_upload(client, c.id, make_pdf(["p3"]), "3.pdf", bearer(author)), 409)
    assert "at most 2 attachments" in err["message"]
    assert count(Attachment) == 2


def test_an_upload_larger_than_the_app_limit_is_taken_when_the_attachment_limit_allows(
    client, commented
):
    _doc, author, c = commented
    pdf = make_pdf(["Annex"]) + b"\n%" + b"0" * (3 * 1024 * 1024)  # 3 MB, over the 2 MB
    resp = _upload(client, c.id, pdf, "annex.pdf", bearer(author))
    assert resp.status_code == 201, resp.get_data(as_text=True)


def test_only_the_comments_organisation_attaches_until_the_deadline(
    client, commented, make_user, make_document
):
    doc, author, c = commented
    other = make_user("cso")
    err = assert_error(_upload(client, c.id, make_pdf(["x"]), "x.pdf", bearer(other)), 403)
    assert "comment's organisation" in err["message"]
    colleague = make_user("cso", org=author.organisation)
    assert _upload(client, c.id, make_pdf(["x"]), "x.pdf", bearer(colleague)).status_code == 201
    assert_error(
        client.post(f"/api/v1/comments/{c.id}/attachments", json={}, headers=bearer(author)), 400
    )
    assert_error(_upload(client, c.id, make_pdf(["x"]), "x.pdf", {}), 401)
    doc.latest.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    err = assert_error(_upload(client, c.id, make_pdf(["late"]), "l.pdf", bearer(author)), 409)
    assert "closed" in err["message"]
    assert count(Attachment) == 1


def test_word_and_opendocument_text_is_extracted_and_searchable(client, commented, search_backend):
    """On each search backend (Whoosh; PostgreSQL's `attachments` part, migration 0015)."""
    _doc, author, c = commented
    docx = make_docx([f"We hold that {DOCX_PHRASE}."])
    odt = make_odt([f"We ask for {ODT_PHRASE}."])
    a = _upload(client, c.id, docx, "paper.docx", bearer(author)).get_json()
    b = _upload(client, c.id, odt, "paper.odt", bearer(author)).get_json()
    assert a["type"].endswith("wordprocessingml.document") and a["text"] == "text extracted"
    assert b["type"] == "application/vnd.oasis.opendocument.text"
    rows = {x.filename: x for x in db.session.scalars(select(Attachment))}
    assert DOCX_PHRASE in rows["paper.docx"].text.lower()
    assert ODT_PHRASE in rows["paper.odt"].text.lower()
    for phrase in (DOCX_PHRASE, ODT_PHRASE):
        found = client.get("/api/v1/search", query_string={"q": f'"{phrase}"'}).get_json()
        assert [(h["type"], h["id"], h["matched_in"]) for h in found["hits"]] == [
            ("comment", c.id, "attachments")
        ]
    assert (
        client.get(
            "/api/v1/search", query_string={"q": '"licence fee waiver for radio"'}
        ).get_json()["hits"]
        == []
    )


def test_a_scanned_pdf_without_text_is_flagged(client, commented):
    _doc, author, c = commented
    resp = _upload(client, c.id, make_pdf(None), "scan.pdf", bearer(author))
    assert resp.status_code == 201 and resp.get_json()["text"] == "no text found (scanned?)"
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "no text found (scanned?)" in page


def test_the_comment_page_uploads_for_members_only(client, commented, as_user, make_user):
    _doc, author, c = commented
    assert "Attach a position paper" not in client.get(f"/comments/{c.id}").get_data(as_text=True)
    as_user(author)
    assert "Attach a position paper" in client.get(f"/comments/{c.id}").get_data(as_text=True)
    resp = client.post(
        f"/comments/{c.id}/attachments",
        **multipart(make_docx(["From the page."]), "page.docx"),
    )
    assert resp.status_code == 302
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "page.docx" in page and "Attached page.docx" in page
    as_user(make_user("cso"))
    assert "Attach a position paper" not in client.get(f"/comments/{c.id}").get_data(as_text=True)
    resp = client.post(
        f"/comments/{c.id}/attachments",
        **multipart(make_docx(["x"]), "x.docx"),
    )
    assert resp.status_code == 403
    assert count(Attachment) == 1


def test_a_hidden_comments_files_are_hidden_too(client, commented, make_user):
    from consult.consultation import services

    _doc, author, c = commented
    a = _upload(client, c.id, make_pdf(["secret"]), "s.pdf", bearer(author)).get_json()
    services.moderate(c, action="hide", reason="Off topic.", by=make_user("secretariat"))
    db.session.commit()
    assert client.get(a["links"]["download"]).status_code == 404
    assert client.get(f"/api/v1/comments/{c.id}").get_json()["attachments"] == []
    assert "s.pdf" not in client.get(f"/comments/{c.id}").get_data(as_text=True)


def test_attachments_appear_in_the_report_profile_and_open_data(client, commented, make_user):
    doc, author, c = commented
    pdf = make_pdf(["Annex"])
    a = _upload(client, c.id, pdf, "annex.pdf", bearer(author)).get_json()
    report = client.get(f"/documents/{doc.slug}/versions/1/report").get_data(as_text=True)
    assert "annex.pdf" in report and a["sha256"] in report
    profile = client.get(f"/organisations/{author.organisation.slug}").get_data(as_text=True)
    assert "annex.pdf" in profile and a["sha256"] in profile
    from consult.exports.opendata import opendata_zip

    with zipfile.ZipFile(io.BytesIO(opendata_zip(doc))) as z:
        data = json.loads(z.read(f"{doc.slug}/data.json"))
        csv_text = z.read(f"{doc.slug}/attachments.csv").decode()
    [row] = data["attachments"]
    assert (row["comment_id"], row["filename"], row["sha256"]) == (c.id, "annex.pdf", a["sha256"])
    assert a["sha256"] in csv_text
