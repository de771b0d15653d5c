"""Open data: the zip's files and description, nothing private in it, and the round trip
export → import into an empty instance → export again; the `export` command."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from consult.errors import Conflict
from consult.exports import opendata
from consult.extensions import db
from consult.record.service import verify

from .conftest import SAMPLE, _empty_tables
from .exports_data import build


def files(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        return {name.split("/", 1)[1]: z.read(name) for name in z.namelist()}


def test_open_data_zip_is_documented_and_has_no_private_data(
    app, make_document, make_user, make_org
):
    data = build(make_document, make_user, make_org)
    blob = opendata.opendata_zip(data.doc)
    assert opendata.opendata_zip(data.doc) == blob  # same record, same bytes
    f = files(blob)
    expected = {f"{name}.csv" for name in opendata.FILES} | {
        "README.md",
        "schema.json",
        "data.json",
        "verify_standalone.py",
    }
    assert set(f) == expected
    dump = json.loads(f["data.json"])
    assert dump["format"] == opendata.FORMAT
    assert [v["number"] for v in dump["versions"]] == [1, 2]
    assert {o["slug"] for o in dump["organisations"]} == {"ilt", "seadra"}
    assert len(dump["paragraphs"]) == 7 + 8
    assert {lk["relation"] for lk in dump["lineage"]} >= {"edited", "added", "unchanged"}
    assert [r["decision"] for r in dump["responses"]] == ["accepted", "noted"]
    # The record's events are the leaves of its Merkle tree; its signed heads and key too.
    assert dump["events"][0]["seq"] == 1 and len(dump["events"][0]["leaf_hash"]) == 64
    assert dump["tree_heads"] and len(dump["record_keys"][0]["public_key"]) == 64
    # The CSV files hold the same rows; lists are JSON.
    orgs = list(csv.DictReader(io.StringIO(f["organisations.csv"].decode())))
    assert orgs[0]["slug"] == "ilt" and json.loads(orgs[0]["countries"]) == ["ID"]
    comments = list(csv.DictReader(io.StringIO(f["comments.csv"].decode())))
    assert [c["tracking"] for c in comments] == [
        data.suggestion.tracking,
        data.comment.tracking,
        data.hidden.tracking,
    ]
    assert comments[2]["hidden"] == "true" and comments[2]["body"] == ""
    # Described: every file and every field.
    schema = json.loads(f["schema.json"])
    assert set(schema["properties"]) == {"format", *opendata.FILES}
    assert "tracking" in schema["properties"]["comments"]["items"]["properties"]
    assert "## comments.csv (3 rows)" in f["README.md"].decode()
    # Nothing private: accounts, e-mails, contact details, hidden text.
    everything = b"".join(f.values()).decode()
    for private in (
        "sec@example.org",
        "writer@ilt.example",
        "office@ilt.example",
        "Secret insult",
        data.member.password_hash,
        "password_hash",
        "api_token",
    ):
        assert private not in everything
    assert "Insulting language." in everything  # the moderators' public reason stays


def test_round_trip_into_an_empty_instance_gives_the_same_record(
    app, make_document, make_user, make_org, runner, tmp_path
):
    data = build(make_document, make_user, make_org)
    slug = data.doc.slug
    v1_texts = [p.text for p in data.v1.paragraphs]
    hidden = data.hidden.tracking
    out = tmp_path / "dump.zip"
    result = runner.invoke(args=["export", slug, "2", "--format", "opendata", "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = files(out.read_bytes())

    # Into a non-empty instance: refused, nothing changed.
    with pytest.raises(Conflict, match="empty instance"):
        opendata.import_opendata(out.read_bytes())
    db.session.rollback()

    db.session.remove()
    _empty_tables(app)
    result = runner.invoke(args=["import-opendata", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Imported '{slug}': 2 versions" in result.output
    again = tmp_path / "again.zip"
    result = runner.invoke(args=["export", slug, "1", "--format", "opendata", "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert files(again.read_bytes()) == first

    # The record verifies up to the hidden comment, whose text is not public.
    check = verify()
    assert check.events == len(json.loads(first["data.json"])["events"])
    assert check.problem == f"comment {hidden} was altered"
    # The imported text is served as published.
    from consult.documents.services import get_document

    doc = get_document(slug)
    assert [p.text for p in doc.versions[0].paragraphs] == v1_texts
    resp = app.test_client().get(f"/documents/{slug}/versions/1/export.md")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == SAMPLE


def test_import_refuses_what_is_not_a_dump(runner, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    result = runner.invoke(args=["import-opendata", str(bad)])
    assert result.exit_code == 1 and "not a zip file" in result.output
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("x/readme.txt", "hello")
    result = runner.invoke(args=["import-opendata", str(empty)])
    assert result.exit_code == 1 and "no data.json" in result.output


def test_export_command_writes_each_format_and_refuses_bad_input(
    make_document, make_user, make_org, runner, tmp_path
):
    data = build(make_document, make_user, make_org)
    slug = data.doc.slug
    out = tmp_path / "v2.xml"
    result = runner.invoke(args=["export", slug, "2", "--format", "akn", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"<?xml") and b"akomaNtoso" in out.read_bytes()
    out = tmp_path / "report.csv"
    result = runner.invoke(args=["export", slug, "1", "--format", "report-csv", "--out", str(out)])
    assert result.exit_code == 0 and data.suggestion.tracking in out.read_text("utf-8-sig")
    out = tmp_path / "v1.md"
    result = runner.invoke(args=["export", slug, "1", "--format", "md", "--out", str(out)])
    assert out.read_text() == SAMPLE
    bad = runner.invoke(args=["export", slug, "1", "--format", "changes-pdf", "--out", str(out)])
    assert bad.exit_code == 1 and "no earlier version" in bad.output
    bad = runner.invoke(args=["export", slug, "9", "--format", "pdf", "--out", str(out)])
    assert bad.exit_code == 1 and "has no version 9" in bad.output
    bad = runner.invoke(args=["export", slug, "1", "--format", "odt", "--out", str(out)])
    assert bad.exit_code != 0 and "odt" in bad.output
