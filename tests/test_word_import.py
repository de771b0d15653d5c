"""Versions from Word (.docx) and OpenDocument (.odt) files: the fidelity set made from the
real texts of ../shared/corpus/, the awkward parts written as OOXML, the round trip of
Consult's own Word export, and the command line, page and API that take the files."""

from __future__ import annotations

import io
import re
import zipfile

import pypandoc
import pytest
from sqlalchemy import select

from consult.documents import services as docs
from consult.documents import splitter, word
from consult.documents.models import Version
from consult.exports.pack import pack_docx
from consult.exports.resolution import version_docx
from consult.extensions import db

from .conftest import assert_error, bearer, count
from .word_files import awkward_docx, corpus_text

#: The latest version of each real text.
FIDELITY = [
    ("us-https-only-standard-m-15-13", 4),
    ("fr-code-civil-titre-v-mariage", 5),
    ("us-digital-services-playbook", 4),
    ("us-open-data-metadata-schema-v1", 5),
    ("de-vig-verbraucherinformationsgesetz", 4),
]
#: Word and OpenDocument have no definition lists, and a paragraph that continues a list
#: item after its sub-items stands alone in them: the German Act has both.
STRUCTURE_WORD_CANNOT_HOLD = {"de-vig-verbraucherinformationsgesetz"}


def _words(text: str) -> str:
    return " ".join(text.split())


def _office_bytes(markdown: str, kind: str, tmp_path) -> bytes:
    path = tmp_path / f"text.{kind}"
    source = re.sub(r"(?m)^\{:[^{}\n]*\}[ \t]*\n", "", markdown)
    pypandoc.convert_text(source, kind, format="commonmark_x-smart", outputfile=str(path))
    return path.read_bytes()


def _report(name: str, original: list[str], imported: list[str]) -> tuple[int, int]:
    """Print each paragraph of the original as matched or not (for the issue's note)."""
    import difflib

    matched = 0
    lines = []
    ops = difflib.SequenceMatcher(None, original, imported, autojunk=False).get_opcodes()
    for tag, i1, i2, _j1, _j2 in ops:
        for i in range(i1, i2):
            ok = tag == "equal"
            matched += ok
            lines.append(f"  {i + 1:4d} {'matched' if ok else 'NOT    '} {original[i][:70]}")
    print(f"\n{name}: {matched} of {len(original)} paragraphs matched")
    print("\n".join(lines))
    return matched, len(original)


@pytest.mark.parametrize("kind", ["docx", "odt"])
@pytest.mark.parametrize("folder,number", FIDELITY)
def test_fidelity_set_paragraph_by_paragraph(folder, number, kind, tmp_path):
    markdown = corpus_text(folder, number)
    blob = _office_bytes(markdown, kind, tmp_path)
    converted = word.convert(f"{folder}.{kind}", blob)
    blocks = splitter.split(markdown)
    original = [_words(b.text) for b in blocks]
    imported = [_words(b.text) for b in splitter.split(converted.markdown)]
    matched, total = _report(f"{folder} v{number} ({kind})", original, imported)
    # Nothing is lost: every word of the text is there, in order.
    assert _words(" ".join(imported)) == _words(" ".join(original))
    if folder in STRUCTURE_WORD_CANNOT_HOLD:
        assert matched >= 0.85 * total
    elif kind == "odt" and any(b.kind == "code" for b in blocks):
        # Pandoc reads an OpenDocument code block as one paragraph per line.
        assert matched >= 0.9 * total
    else:
        assert imported == original


def test_awkward_parts_headings_numbering_tables_footnotes_changes_images():
    blob, expect = awkward_docx()
    converted = word.convert("vig.docx", blob)
    blocks = splitter.split(converted.markdown)
    texts = [_words(b.text) for b in blocks]
    print("\n".join(f"{b.kind:10} {b.number:6} {_words(b.text)[:90]}" for b in blocks))
    # The Title is the title; Word's Heading 1 are sections under it.
    assert blocks[0].kind == "heading" and blocks[0].number == ""
    assert texts[0].startswith("Gesetz zur Verbesserung")
    headings = [b for b in blocks if b.kind == "heading"][1:]
    assert [b.level for b in headings[:2]] == [2, 2]
    assert [b.number for b in headings[:2]] == ["1", "2"]
    # Bold and the footnote's marker kept in the paragraph; the note itself at the end.
    para = next(b for b in blocks if "Durch dieses Gesetz" in b.text)
    assert "**freien**" in para.source and para.text.endswith("Informationen[1].")
    assert texts[-1] == "[1] Neugefasst durch Bek. v. 17.10.2012 I 2166, 2725."
    assert any(b.kind == "heading" and b.text == "Notes" for b in blocks)
    # "(1)" numbering kept as the author sees it.
    assert "(1) Jeder hat nach Maßgabe dieses Gesetzes Anspruch auf freien Zugang." in texts
    # Multi-level numbering: one paragraph per top-level item, numbered 1. and 2. by the
    # list; its sub-items a) b) c) and (i) with their own numbers, inside item 1.
    items = [b for b in blocks if b.kind == "list_item"]
    first = next(b for b in items if expect["item1"] in _words(b.text))
    assert first.source.startswith("1.")
    for letter, words in zip("abc", expect["letters"], strict=True):
        assert f"{letter}) {words}" in _words(first.text)
    assert "(i) soweit nichts anderes bestimmt ist," in _words(first.text)
    second = next(b for b in items if "Verbraucherprodukte" in b.text)
    assert second.source.startswith("2.")
    # Tracked changes: accepted.
    assert (
        "Die Vorschriften dieses Gesetzes gelten nicht, soweit in anderen Rechtsvorschriften "
        "entsprechende Vorschriften vorgesehen sind." in texts
    )
    # A link with its address, italics kept.
    link = next(b for b in blocks if "Bundesgesetzblatt" in b.text)
    assert "[*das Bundesgesetzblatt*](https://www.bgbl.de/)" in link.source
    # Bullets: one paragraph per item.
    assert [t for t in texts if t.startswith("Behörden")] == [
        "Behörden des Bundes",
        "Behörden der Länder",
    ]
    # The table: merged cells cut into the cells they cover, the words in the first.
    table = next(b for b in blocks if b.kind == "table")
    rows = [r.strip().strip("|").split("|") for r in table.source.splitlines()]
    rows = [[c.strip() for c in r] for r in rows if not set("".join(r)) <= set("-: ")]
    assert rows == [
        ["Stelle", "Frist", "Kosten"],
        ["Behörde", "ein Monat, kostenfrei", ""],
        ["", "zwei Monate", "bis 250 Euro"],
    ]
    # The image is reported, with where it was; nothing else is.
    assert len(converted.warnings) == 2, converted.warnings
    assert converted.warnings[0].startswith("An image (“map.png”) was not imported")
    assert "Die Stellen im Überblick" in converted.warnings[0]
    assert "footnote" in converted.warnings[1]


def test_embedded_objects_and_pending_changes_are_reported(tmp_path):
    blob = _office_bytes(corpus_text("us-https-only-standard-m-15-13", 1), "docx", tmp_path)
    z = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    chart = (
        '<w:p><w:r><w:drawing><c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/'
        '2006/chart" r:id="rId999"/></w:drawing></w:r></w:p>'
        '<w:p><w:r><w:object><o:OLEObject xmlns:o="urn:schemas-microsoft-com:office:office" '
        'ProgID="Excel.Sheet.12"/></w:object></w:r></w:p>'
    )
    with zipfile.ZipFile(out, "w") as dst:
        for item in z.infolist():
            data = z.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:sectPr", chart.encode() + b"<w:sectPr", 1)
            dst.writestr(item, data)
    converted = word.convert("https.docx", out.getvalue())
    assert any(w.startswith("1 chart was not imported") for w in converted.warnings)
    assert any(w.startswith("1 embedded object") for w in converted.warnings)


def _version_texts(v: Version) -> list[tuple[str, str]]:
    return [(p.kind, _words(p.text)) for p in v.paragraphs]


@pytest.mark.parametrize(
    "folder,number",
    [("us-https-only-standard-m-15-13", 4), ("fr-code-civil-titre-v-mariage", 5)],
)
def test_consult_word_export_round_trips(folder, number, make_document, make_user):
    doc = make_document(text=corpus_text(folder, number))
    v1 = doc.latest
    blob = version_docx(v1)
    converted = word.convert("export.docx", blob)
    assert converted.properties[word.PROP_HASH] == v1.content_hash
    assert converted.warnings == []
    docs.close(v1, by=make_user("secretariat"))
    v2 = docs.import_version(doc, converted.markdown, by=None)
    db.session.commit()
    assert _version_texts(v2) == _version_texts(v1)
    assert [p.number for p in v2.paragraphs] == [p.number for p in v1.paragraphs]
    assert [p.level for p in v2.paragraphs if p.is_heading] == [
        p.level for p in v1.paragraphs if p.is_heading
    ]


def test_export_carries_version_hash_and_paragraph_bookmarks(make_document):
    doc = make_document()
    v = doc.latest
    everything = {p.lineage for p in v.paragraphs}
    numbered = {p.lineage for p in v.paragraphs if p.number}  # the pack has its own title
    for blob, lineages in ((version_docx(v), everything), (pack_docx(v), numbered)):
        props = word.custom_properties(blob)
        assert props == {
            word.PROP_DOCUMENT: doc.slug,
            word.PROP_VERSION: "1",
            word.PROP_HASH: v.content_hash,
        }
        xml = zipfile.ZipFile(io.BytesIO(blob)).read("word/document.xml").decode()
        names = re.findall(r'w:bookmarkStart w:id="\d+" w:name="cp_([0-9a-f]+)"', xml)
        assert sorted(names) == sorted(lineages)


# --------------------------------------------------------------- the ways in


def test_cli_imports_a_word_file_and_reports_the_image(runner, tmp_path, make_user):
    make_user("admin")
    blob, _ = awkward_docx()
    path = tmp_path / "vig.docx"
    path.write_bytes(blob)
    r = runner.invoke(args=["import-version", "vig", str(path), "--title", "VIG", "--draft"])
    assert r.exit_code == 0, r.output
    assert "vig: version 1 (draft)" in r.output
    assert "Warning: An image (“map.png”) was not imported" in r.output
    v = db.session.scalar(select(Version))
    assert v.paragraphs[0].text.startswith("Gesetz zur Verbesserung")


def test_cli_refuses_a_file_that_is_not_word(runner, tmp_path, make_user):
    make_user("admin")
    for name, data, says in [
        ("broken.docx", b"not a zip at all", "could not be opened"),
        ("old.doc", b"\xd0\xcf\x11\xe0", "Old Word files (.doc) cannot be read"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        r = runner.invoke(args=["import-version", "vig", str(path), "--draft"])
        assert r.exit_code == 1
        assert says in r.output
    assert count(Version) == 0


def test_page_upload_of_odt_makes_a_draft(client, login, make_user, tmp_path):
    user = make_user("secretariat")
    doc = docs.create_document("https", "HTTPS-Only Standard", by=user)
    db.session.commit()
    login(user)
    blob = _office_bytes(corpus_text("us-https-only-standard-m-15-13", 2), "odt", tmp_path)
    page = client.get(f"/documents/{doc.slug}/versions/new")
    assert ".docx" in page.get_data(as_text=True)
    r = client.post(
        f"/documents/{doc.slug}/versions/new",
        data={
            "source": "import",
            "label": "From LibreOffice",
            "upload": (io.BytesIO(blob), "m.odt"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert "Version 1 created as a draft." in r.get_data(as_text=True)
    v = doc.latest
    original = [
        _words(b.text) for b in splitter.split(corpus_text("us-https-only-standard-m-15-13", 2))
    ]
    assert [_words(p.text) for p in v.paragraphs] == original


def test_page_upload_refuses_a_spreadsheet(client, login, make_user):
    user = make_user("secretariat")
    doc = docs.create_document("https", "HTTPS-Only Standard", by=user)
    db.session.commit()
    login(user)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<x/>")
    r = client.post(
        f"/documents/{doc.slug}/versions/new",
        data={"source": "import", "upload": (io.BytesIO(out.getvalue()), "sheet.odt")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    assert "holds no text document" in r.get_data(as_text=True)
    assert count(Version) == 0


def test_api_imports_a_docx_upload_with_its_warnings(client, make_user):
    user = make_user("secretariat")
    doc = docs.create_document("vig", "VIG", by=user)
    db.session.commit()
    blob, _ = awkward_docx()
    r = client.post(
        f"/api/v1/documents/{doc.slug}/versions",
        data={"file": (io.BytesIO(blob), "vig.docx"), "label": "Referentenentwurf"},
        content_type="multipart/form-data",
        headers=bearer(user),
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["label"] == "Referentenentwurf"
    assert any("map.png" in w for w in body["warnings"])
    assert body["paragraphs"][0]["text"].startswith("Gesetz zur Verbesserung")
    # The JSON way still works, and the description lists both kinds of body.
    spec = client.get("/api/v1/openapi.json").get_json()
    content = spec["paths"]["/documents/{slug}/versions"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    assert content["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"


def test_api_refuses_a_missing_or_markdown_file(client, make_user):
    user = make_user("secretariat")
    doc = docs.create_document("vig", "VIG", by=user)
    db.session.commit()
    r = client.post(
        f"/api/v1/documents/{doc.slug}/versions",
        data={"label": "x"},
        content_type="multipart/form-data",
        headers=bearer(user),
    )
    assert assert_error(r, 400, "field_required")["field"] == "file"
    r = client.post(
        f"/api/v1/documents/{doc.slug}/versions",
        data={"file": (io.BytesIO(b"# Title\n"), "text.md")},
        content_type="multipart/form-data",
        headers=bearer(user),
    )
    assert_error(r, 400, "unreadable_file")
    assert count(Version) == 0
