"""Downloading a version as Markdown or as one standalone HTML file."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from consult.documents import services as docs
from consult.documents.models import Paragraph
from consult.exports import text
from consult.extensions import db
from consult.hashing import sha256

from .conftest import SAMPLE


def test_markdown_export_is_the_published_text_as_a_download(client, make_document):
    doc = make_document("consultation")
    resp = client.get(f"/documents/{doc.slug}/versions/1/export.md")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{doc.slug}-v1.md"'
    body = resp.get_data(as_text=True)
    assert body == SAMPLE
    assert sha256(body) == doc.latest.content_hash  # anyone can check the hash from the file


def test_html_export_is_one_standalone_file(client, make_document):
    doc = make_document("final")
    v = doc.latest
    resp = client.get(f"/documents/{doc.slug}/versions/1/export.html")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{doc.slug}-v1.html"'
    html = resp.get_data(as_text=True)
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Sample Framework — Version 1 — First draft</title>" in html
    assert "<style>" in html and "<link" not in html and "<script" not in html
    assert "Final" in html and v.content_hash in html
    assert '<div class="para kind-paragraph" id="para-1.2"><span class="num">1.2</span>' in html
    assert "<h3>Principles</h3>" in html
    assert "<li>Public hearings on every bill.</li>" in html


def test_exports_of_a_draft_are_for_the_secretariat_only(client, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("draft", by=secretariat)
    assert client.get(f"/documents/{doc.slug}/versions/1/export.md").status_code == 404
    assert client.get(f"/documents/{doc.slug}/versions/1/export.html").status_code == 404


def test_secretariat_can_export_a_draft(client, login, make_document, make_user):
    secretariat = login(make_user("secretariat"))
    doc = make_document("draft", by=secretariat)
    resp = client.get(f"/documents/{doc.slug}/versions/1/export.html")
    assert resp.status_code == 200
    assert "not published, so it has no content hash" in resp.get_data(as_text=True)
    assert (
        client.get(f"/documents/{doc.slug}/versions/1/export.md").get_data(as_text=True) == SAMPLE
    )


def test_a_text_that_no_longer_matches_its_hash_is_not_exported(client, make_document):
    doc = make_document("closed")
    target = doc.latest.paragraphs[3].id
    # Someone changed the stored text behind the application's back.
    db.session.execute(
        update(Paragraph).where(Paragraph.id == target).values(source="Tampered words.")
    )
    db.session.commit()
    for ext in ("md", "html"):
        resp = client.get(f"/documents/{doc.slug}/versions/1/export.{ext}")
        assert resp.status_code == 409
        assert "does not match the hash" in resp.get_data(as_text=True)


def test_unknown_versions_are_not_found(client, make_document):
    doc = make_document("consultation")
    assert client.get(f"/documents/{doc.slug}/versions/9/export.md").status_code == 404
    assert client.get("/documents/nothing-here/versions/1/export.html").status_code == 404


def test_rendering_functions_return_text_for_other_callers(make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("closed", by=secretariat)
    doc.timezone = "Asia/Jakarta"
    v2 = docs.copy_version(doc, by=secretariat, label="Second")
    db.session.commit()
    assert text.filename(v2, "md") == f"{doc.slug}-v2.md"
    assert text.markdown_export(v2) == SAMPLE
    html = text.html_export(v2, exported_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    assert "Exported from Consult on 02 Mar 2026, 08:30 UTC+7" in html
    assert "WIB" not in html  # one way of naming a zone: by its offset
    assert "Version 2 — Second" in html and "Draft" in html
