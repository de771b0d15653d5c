"""Translations of a version's text: alignment by structure, the command, the API, the
pages, out-of-date marks, answers in other languages, exports in a language."""

from __future__ import annotations

import json

from sqlalchemy import select

from consult.documents import services as docs
from consult.extensions import db
from consult.record.models import Event
from consult.translations import align as talign
from consult.translations import services as tr
from consult.translations.models import Translation
from tests.conftest import SAMPLE, bearer

THAI = """# กรอบการดำเนินงานตัวอย่าง

## หลักการ

รัฐสภามีส่วนร่วมกับภาคประชาสังคมอย่างเปิดเผยและด้วยความสุจริตใจ

ข้อเสนอทุกฉบับได้รับคำตอบเป็นลายลักษณ์อักษร

## กลไก

- การรับฟังความคิดเห็นสาธารณะสำหรับร่างกฎหมายทุกฉบับ
- ข้อเสนอเป็นลายลักษณ์อักษรทางอีเมลหรือทางไปรษณีย์
"""


def _linked(t: Translation) -> list[tuple[str, str | None]]:
    return [(p.number, p.paragraph.number if p.paragraph else None) for p in t.paragraphs]


def test_align_by_structure_numbers_and_names():
    B = talign.Block
    orig = [
        B("1", "heading", 2, "Roadmap"),
        B("1.1", "paragraph", 0, "Within 6 months AIPA designates a focal point."),
        B("1.2", "paragraph", 0, "Every two years a report."),
        B("2", "heading", 2, "Review"),
        B("2.1", "paragraph", 0, "Reviewed after 5 years."),
    ]
    # The translator merged nothing but added an introductory paragraph, which shifts the
    # numbers of section 1: Thai digits and the kept acronym still find the pairs.
    trans = [
        B("1", "heading", 2, "แผนงาน"),
        B("1.1", "paragraph", 0, "บทนำของผู้แปล"),
        B("1.2", "paragraph", 0, "ภายใน ๖ เดือน AIPA แต่งตั้งผู้ประสานงาน"),
        B("1.3", "paragraph", 0, "รายงานทุกสองปี"),
        B("2", "heading", 2, "การทบทวน"),
        B("2.1", "paragraph", 0, "ทบทวนหลังจาก 5 ปี"),
    ]
    got = [(m.translated, m.original) for m in talign.align(orig, trans)]
    assert got[0] == (0, 0) and got[4] == (4, 3) and got[5] == (5, 4)
    assert got[2] == (2, 1)  # the number 6 (๖) and AIPA
    assert talign.marks(trans[2]) >= {"#6", "$AIPA"}


def test_cli_imports_aligns_publishes_and_records(runner, make_document, tmp_path):
    doc = make_document("consultation")
    f = tmp_path / "th.md"
    f.write_text(THAI, encoding="utf-8")
    r = runner.invoke(args=["import-translation", doc.slug, "1", "th", str(f)])
    assert r.exit_code == 0, r.output
    assert "in th, 7 paragraphs, 7 linked, 0 not linked (published)" in r.output
    t = db.session.scalar(select(Translation))
    assert t.state == "published" and t.content_hash
    assert _linked(t) == [(p.number, p.number) for p in t.version.paragraphs]
    ev = db.session.scalar(select(Event).where(Event.kind == "translation.published"))
    payload = json.loads(ev.payload)
    assert payload["language"] == "th" and payload["content_hash"] == t.content_hash
    # Refusals: an unknown language, an unknown version, the authoritative language.
    for args, message in [
        (["import-translation", doc.slug, "1", "xx", str(f)], "not a language of Consult"),
        (["import-translation", doc.slug, "9", "th", str(f)], "no version 9"),
        (["import-translation", doc.slug, "1", "en", str(f)], "authoritative language"),
    ]:
        r = runner.invoke(args=args)
        assert r.exit_code != 0 and message in r.output, r.output


def test_api_import_review_publish_and_read(client, make_document, make_user):
    chair = make_user("secretariat")
    doc = make_document("consultation", by=chair)
    url = f"/api/v1/documents/{doc.slug}/versions/1"
    r = client.post(url + "/translations", json={"language": "th", "text": THAI})
    assert r.status_code == 401
    cso = make_user("cso")
    r = client.post(
        url + "/translations", json={"language": "th", "text": THAI}, headers=bearer(cso)
    )
    assert r.status_code == 403
    r = client.post(
        url + "/translations", json={"language": "tlh", "text": THAI}, headers=bearer(chair)
    )
    assert r.status_code == 400
    r = client.post(
        url + "/translations", json={"language": "th", "text": THAI}, headers=bearer(chair)
    )
    assert r.status_code == 201, r.get_json()
    t = r.get_json()
    assert t["state"] == "draft" and t["not_linked"] == 0
    # Not public yet: reading in Thai finds nothing.
    assert client.get(url + "?lang=th").status_code == 404
    # The drafters unlink one block, then link it again, and publish.
    first = t["paragraphs"][2]
    r = client.post(
        url + f"/translations/{t['id']}/links",
        json={"links": [{"translated_paragraph": first["id"], "paragraph": None}]},
        headers=bearer(chair),
    )
    assert r.get_json()["not_linked"] == 1
    r = client.post(
        url + f"/translations/{t['id']}/links",
        json={"links": [{"translated_paragraph": first["id"], "paragraph": first["paragraph"]}]},
        headers=bearer(chair),
    )
    assert r.get_json()["not_linked"] == 0
    r = client.post(url + f"/translations/{t['id']}/publish", headers=bearer(chair))
    assert r.get_json()["state"] == "published"
    assert (
        client.post(url + f"/translations/{t['id']}/publish", headers=bearer(chair)).status_code
        == 409
    )
    plain = client.get(url).get_json()
    thai = client.get(url + "?lang=th").get_json()
    assert thai["language"] == "th" and thai["languages"] == ["en", "th"]
    assert [p["id"] for p in thai["paragraphs"]] == [p["id"] for p in plain["paragraphs"]]
    assert [p["lineage"] for p in thai["paragraphs"]] == [p["lineage"] for p in plain["paragraphs"]]
    para = thai["paragraphs"][3]
    assert para["text"] == "ข้อเสนอทุกฉบับได้รับคำตอบเป็นลายลักษณ์อักษร"
    assert para["language"] == "th" and para["out_of_date"] is False
    assert para["authoritative"]["text"] == "Every submission receives a written answer."
    assert client.get(url + "?lang=km").status_code == 404
    assert client.get(url + "?lang=klingon").status_code == 400


def test_out_of_date_when_the_paragraph_changes_in_a_later_version(
    client, make_document, make_user
):
    chair = make_user("secretariat")
    doc = make_document("consultation", by=chair)
    v1 = doc.versions[0]
    t = tr.import_translation(v1, "th", THAI, by=chair)
    tr.publish_translation(t, by=chair)
    docs.close(v1, by=chair)
    v2 = docs.import_version(
        doc, SAMPLE.replace("a written answer", "a written answer within 60 days"), by=chair
    )
    docs.publish(v2, by=chair)
    db.session.commit()
    rows = {r.paragraph.number: r for r in tr.read_in(v2, "th")}
    assert rows["1.2"].out_of_date is True and rows["1.2"].from_version == 1
    assert rows["1.1"].out_of_date is False
    assert rows["1.1"].text == "รัฐสภามีส่วนร่วมกับภาคประชาสังคมอย่างเปิดเผยและด้วยความสุจริตใจ"
    assert tr.languages_of(v2) == ["en", "th"]
    api = client.get(f"/api/v1/documents/{doc.slug}/versions/2?lang=th").get_json()
    flags = {
        p["number"]: (p["out_of_date"], p["translated_from_version"]) for p in api["paragraphs"]
    }
    assert flags["1.2"] == (True, 1) and flags["1.1"] == (False, 1)


def test_pages_import_review_publish_read_and_comment(
    client, make_document, make_user, login, as_user
):
    chair = make_user("secretariat")
    doc = make_document("consultation", by=chair)
    base = f"/documents/{doc.slug}/versions/1"
    login(chair)
    r = client.post(base + "/translations", data={"language": "th", "text": THAI})
    assert r.status_code == 302
    t = db.session.scalar(select(Translation))
    page = client.get(base + f"/translations/{t.id}").get_data(as_text=True)
    assert "ข้อเสนอทุกฉบับได้รับคำตอบเป็นลายลักษณ์อักษร" in page and 'name="to-' in page
    # A wrong number is refused with a readable message; nothing changes.
    first = t.paragraphs[2]
    r = client.post(
        base + f"/translations/{t.id}", data={"action": "links", f"to-{first.id}": "9.9"}
    )
    assert r.status_code == 400 and "There is no paragraph 9.9" in r.get_data(as_text=True)
    r = client.post(base + f"/translations/{t.id}", data={"action": "publish"})
    assert r.status_code == 302
    # The reader: a plain link to each language, the Thai text with the English on demand.
    cso = as_user(make_user("cso"))
    page = client.get(base).get_data(as_text=True)
    assert f'href="{base}?lang=th"' in page
    page = client.get(base + "?lang=th").get_data(as_text=True)
    assert 'lang="th"' in page and "รัฐสภามีส่วนร่วมกับภาคประชาสังคม" in page
    assert '<details class="authoritative' in page and "Parliaments engage civil society" in page
    # A CSO member reading in Thai comments on a Thai paragraph: the comment attaches to
    # the authoritative paragraph and is recorded as Thai.
    assert '<option selected value="th">' in page
    para = t.paragraphs[3].paragraph
    r = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data={
            "paragraph": str(para.id),
            "kind": "comment",
            "body": "ควรกำหนดระยะเวลาตอบกลับที่ชัดเจน เช่น ภายในหกสิบวัน",
            "language": "th",
            "organisation": str(cso.organisations[0].id),
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    from consult.consultation.models import Comment

    c = db.session.scalar(select(Comment))
    assert c.paragraph_id == para.id and c.language == "th"


def test_response_translation_shown_under_the_answer(client, make_document, make_user, login):
    from consult.consultation import services as consultation
    from tests.conftest import post_comment

    chair = make_user("secretariat")
    doc = make_document("consultation", by=chair)
    v = doc.versions[0]
    cso = make_user("cso")
    c = post_comment(v, v.paragraphs[3], cso)
    docs.close(v, by=chair)
    consultation.respond(c, decision="accepted", reason="We agree.", by=chair)
    db.session.commit()
    login(chair)
    r = client.post(
        f"/comments/{c.id}/response/translations", data={"language": "th", "text": "เราเห็นด้วย"}
    )
    assert r.status_code == 302
    r = client.post(f"/comments/{c.id}/response/translations", data={"language": "zz", "text": "x"})
    assert r.status_code == 302  # refused with a message on the comment page
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "เราเห็นด้วย" in page and "We agree." in page and "not a language of Consult" in page
    assert c.response.reason == "We agree."  # the original never changes


def test_exports_in_a_language_and_side_by_side(client, make_document, make_user):
    import io
    import zipfile

    from lxml import etree

    chair = make_user("secretariat")
    doc = make_document("consultation", by=chair)
    v = doc.versions[0]
    tr.publish_translation(tr.import_translation(v, "th", THAI, by=chair), by=chair)
    db.session.commit()
    base = f"/documents/{doc.slug}/versions/1/export"
    r = client.get(base + "/akn?lang=th")
    assert r.status_code == 200
    root = etree.fromstring(r.data)
    ns = {"a": "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"}
    assert root.find("a:doc", ns).get("{http://www.w3.org/XML/1998/namespace}lang") == "th"
    assert root.find(".//a:FRBRlanguage", ns).get("language") == "tha"
    assert "ข้อเสนอทุกฉบับได้รับคำตอบเป็นลายลักษณ์อักษร" in r.get_data(as_text=True)
    r = client.get(base + "/docx?lang=th")
    xml = zipfile.ZipFile(io.BytesIO(r.data)).read("word/document.xml").decode()
    assert "รัฐสภามีส่วนร่วมกับภาคประชาสังคม" in xml
    styles = zipfile.ZipFile(io.BytesIO(r.data)).read("word/styles.xml").decode()
    assert 'w:bidi="th"' in styles
    r = client.get(base + "/md?lang=th")
    assert r.get_data(as_text=True).startswith("# กรอบการดำเนินงานตัวอย่าง")
    for fmt in ("pdf", "bilingual"):
        r = client.get(base + f"/{fmt}?lang=th")
        assert r.status_code == 200 and r.data.startswith(b"%PDF")
        assert (
            f"-th{'-bilingual' if fmt == 'bilingual' else ''}.pdf"
            in r.headers["Content-Disposition"]
        )
    assert client.get(base + "/pdf?lang=km").status_code == 404
    assert client.get(base + "/pdf?lang=zz").status_code == 400
    assert client.get(base + "/opendata?lang=th").status_code == 400


def test_the_record_covers_a_published_translation(client, make_document, make_user, tmp_path):
    """verify recomputes the translation's digest and names a changed block; the
    open-data zip carries the translation, and its standalone verifier agrees."""
    import subprocess
    import sys
    import zipfile

    from sqlalchemy import text

    from consult.exports.opendata import opendata_zip
    from consult.record.service import verify

    chair = make_user("secretariat")
    doc = make_document("consultation", by=chair)
    t = tr.import_translation(doc.versions[0], "th", THAI, by=chair)
    tr.publish_translation(t, by=chair)
    db.session.commit()
    ev = db.session.scalar(select(Event).where(Event.kind == "translation.published"))
    assert "covers" in json.loads(ev.payload)
    assert verify().ok
    page = client.get("/record/").get_data(as_text=True)
    assert f"Translation of version 1 of {doc.slug} into ไทย published" in page
    blob = opendata_zip(doc)
    with zipfile.ZipFile(__import__("io").BytesIO(blob)) as z:
        data = json.loads(z.read(next(n for n in z.namelist() if n.endswith("data.json"))))
        script = z.read(next(n for n in z.namelist() if n.endswith("verify_standalone.py")))
    assert len(data["translated_paragraphs"]) == 7 and data["translations"][0]["language"] == "th"
    (tmp_path / "verify_standalone.py").write_bytes(script)
    (tmp_path / "dump.zip").write_bytes(blob)
    run = subprocess.run(  # noqa: S603 - our own script on a file the test wrote
        [sys.executable, "-I", "verify_standalone.py", "dump.zip"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    block = t.paragraphs[3]
    db.session.execute(
        text("UPDATE translated_paragraph SET text = 'แก้ไขแล้ว' WHERE id = :id"), {"id": block.id}
    )
    db.session.commit()
    result = verify()
    assert not result.ok
    assert any(
        f"paragraph 1.2 of translation {t.id}: text changed" in p for p in result.problems
    ), result.problems
