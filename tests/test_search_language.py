"""The language of a comment: given on the page or in the API, else detected; shown on
the comment; searched with lang:th and counted in the search page's language facet."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consult.consultation import services as cs
from consult.consultation.languages import by_script, detect
from consult.consultation.models import Comment
from consult.extensions import db
from consult.search.service import SearchParams, search
from tests.conftest import assert_error, bearer, count
from tests.search_world import BACKENDS

THAI = "ทุกคนมีสิทธิในการมีชีวิตเสรีภาพและความมั่นคงแห่งบุคคล"
KHMER = "បុគ្គលម្នាក់ៗមានសិទ្ធិរស់រានមានជីវិតសេរីភាពនិងសន្ដិសុខផ្ទាល់ខ្លួន។"
LAO = "ບຸກຄົນທຸກຄົນມີສິດດຳລົງຊີວິດມີສິດເສລີພາບແລະຄວາມປອດໄພໃນຕົວ."
BURMESE = "လူတိုင်း၌အသက်ရှင်ရန်လွတ်လပ်ခွင့်နှင့်လုံခြုံစိတ်ချခွင့်ရှိသည်။"


def test_languages_are_detected_by_script_or_by_their_words():
    assert [detect(t) for t in (THAI, KHMER, LAO, BURMESE)] == ["th", "km", "lo", "my"]
    # A Thai comment quoting an English name is still Thai.
    assert by_script(f"{THAI} (AIPA Secretariat)") == "th"
    assert detect("Parliaments should publish every answer within thirty days.") == "en"
    assert detect("Quốc hội cần công bố mọi câu trả lời trong vòng ba mươi ngày.") == "vi"
    assert detect("Dapat ilathala ng mga parlamento ang bawat sagot sa loob ng isang buwan.") == (
        "fil"
    )
    # Too short to tell, or a language Consult does not name.
    assert detect("OK!") is None
    assert detect("人人生而自由，在尊严和权利上一律平等。") is None


@pytest.fixture
def open_doc(make_document, make_user):
    doc = make_document("consultation")
    return doc, doc.latest, make_user("cso")


def test_the_page_form_takes_a_language_and_the_comment_shows_it(client, as_user, open_doc):
    doc, v, member = open_doc
    as_user(member)
    url = f"/documents/{doc.slug}/versions/1/comments"
    page = client.get(f"{url}/new").get_data(as_text=True)
    assert 'name="language"' in page and "Found from the text" in page and "ខ្មែរ" in page
    data = {"organisation": member.organisation.id, "paragraph": "", "kind": "comment"}
    # Chosen: kept as chosen, even where the detector would say otherwise.
    resp = client.post(url, data={**data, "body": "Setuju dengan usulan ini.", "language": "ms"})
    assert resp.status_code == 302
    assert db.session.scalar(select(Comment.language)) == "ms"
    # Left as it is: found from the text, and shown on the comment with its lang.
    resp = client.post(url, data={**data, "body": THAI, "language": ""})
    c = db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert c.language == "th"
    shown = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'lang="th"' in shown and "ไทย" in shown
    # Not a language of the list: refused, nothing stored.
    resp = client.post(url, data={**data, "body": "Hello there, friends.", "language": "xx"})
    assert resp.status_code == 400 and count(Comment) == 2


def test_the_api_takes_a_language_and_answers_it(client, open_doc):
    doc, v, member = open_doc
    url = f"/api/v1/documents/{doc.slug}/versions/1/comments"
    headers = bearer(member)
    resp = client.post(url, json={"kind": "comment", "body": KHMER}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["language"] == "km"
    resp = client.post(
        url, json={"kind": "comment", "body": "Good.", "language": "vi"}, headers=headers
    )
    assert resp.get_json()["language"] == "vi"
    assert_error(
        client.post(
            url, json={"kind": "comment", "body": "Hi", "language": "klingon"}, headers=headers
        ),
        400,
    )
    assert count(Comment) == 2
    comment = client.get(f"/api/v1/comments/{resp.get_json()['id']}").get_json()
    assert comment["language"] == "vi"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "language" in spec["components"]["schemas"]["NewComment"]["properties"]


@pytest.mark.parametrize(
    "search_backend_name",
    [b if b == "whoosh" else pytest.param(b, marks=pytest.mark.postgres) for b in BACKENDS],
)
def test_lang_filter_and_language_facet(app, client, make_document, make_user, search_backend_name):
    previous = app.config["SEARCH_BACKEND"]
    app.config["SEARCH_BACKEND"] = search_backend_name
    try:
        doc = make_document("consultation")  # indexed by the backend of the test
        v, member = doc.latest, make_user("cso")
        for body in (THAI, THAI + " อีกครั้ง", KHMER, "We agree with the proposed wording."):
            cs.post_comment(
                version=v,
                paragraph=None,
                organisation=member.organisation,
                kind="comment",
                body=body,
                by=member,
            )
        db.session.commit()
        thai = search(SearchParams(q="lang:th"))
        assert thai.total == 2 and {h.doc_type for h in thai.hits} == {"comment"}
        assert search(SearchParams(q="สิทธิ lang:km")).total == 0
        assert search(SearchParams(q="-lang:th type:comment")).total == 2
        res = search(SearchParams(q="type:comment"))
        assert {f.value: f.count for f in res.facets["language"]} == {"th": 2, "km": 1, "en": 1}
        assert next(f.label for f in res.facets["language"] if f.value == "km") == "ខ្មែរ"
        # Paragraphs are in their document's authoritative language.
        paragraphs = search(SearchParams(q="type:paragraph"))
        assert {f.value for f in paragraphs.facets["language"]} == {doc.language} == {"en"}
        note = search(SearchParams(q="lang:xx")).note
        assert "'xx' is not a language code" in note
        page = client.get("/search?q=type:comment").get_data(as_text=True)
        assert "Language" in page and "lang=th" in page and "ไทย" in page
        only = client.get("/search?q=type:comment&lang=km").get_data(as_text=True)
        assert "1 result" in only or ">1<" in only
    finally:
        app.config["SEARCH_BACKEND"] = previous
