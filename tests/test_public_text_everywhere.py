"""Personal data never reaches the public (issue 21): a comment with an e-mail address and a
phone number on a version that masks personal data, and one on a version that holds it,
read as a visitor on every page and API answer that can show a comment."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from consult.documents import services as docs
from consult.extensions import db
from consult.timeutil import utcnow
from tests.conftest import bearer

EMAIL = "somchai.k@example.org"
PHONE = "+66 81 234 5678"
HELD_EMAIL = "malee.held@example.org"
HELD_WORD = "Quokkaborough"
# Leaks: the data, a piece of the number as a page might wrap it, and the held text.
LEAKS = [b"somchai", b"234 5678", b"malee.held", HELD_WORD.encode()]


def _letter(email: str, extra: str = "") -> str:
    return (
        "We support the framework on open hearings. Please announce each hearing a month "
        f"ahead and publish the minutes. Contact our coordinator at {email} or {PHONE}.{extra}"
    )


def _open(make_user, slug: str, personal: str):
    by = make_user("secretariat")
    doc = docs.create_document(slug, f"Hearings {slug}", by=by)
    v = docs.import_version(
        doc, "# Hearings\n\nParliaments announce hearings.\n\nMinutes are public.\n", by=by
    )
    docs.publish(
        v,
        by=by,
        closes_at=utcnow() + timedelta(days=7),
        participants="organisations",
        personal_data=personal,
    )
    db.session.commit()
    return v


def _post(client, v, user, body):
    para = v.paragraphs[1]
    r = client.post(
        f"/api/v1/paragraphs/{para.id}/comments",
        json={
            "body": body,
            "kind": "suggestion",
            "suggested_text": f"Minutes are public; ask {EMAIL} or call {PHONE}.",
        },
        headers=bearer(user),
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()["id"]


def _texts(data: bytes) -> list[bytes]:
    """The bytes to search: the answer itself, and each member when it is a zip (open
    data, Word, Excel)."""
    out = [data]
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            out += [z.read(n) for n in z.namelist()]
    return out


def test_visitor_never_sees_personal_data_or_held_text(app, client, make_user, login):
    from consult.analysis import grouping
    from consult.search.outbox import drain

    masked = _open(make_user, "pd-mask", "mask")
    held = _open(make_user, "pd-hold", "hold")
    ids = {}
    for v in (masked, held):
        email = EMAIL if v is masked else HELD_EMAIL
        word = "" if v is masked else f" {HELD_WORD}."
        ids[v.id] = [
            _post(client, v, make_user("cso"), _letter(email, word)),
            _post(client, v, make_user("cso"), _letter(email, " We also ask for video." + word)),
        ]
    drain(app)
    grouping.drain(app)

    # (Searching for the data itself would echo the query: the search test in
    # test_voices.py checks that it finds nothing.)
    urls = ["/", "/search?q=coordinator", "/api/v1/search?q=coordinator", "/organisations"]
    urls += ["/search?q=video", "/api/v1/search?q=video"]
    for v in (masked, held):
        slug, n = v.document.slug, v.number
        base = f"/documents/{slug}/versions/{n}"
        api = f"/api/v1/documents/{slug}/versions/{n}"
        urls += [
            f"/documents/{slug}",
            f"/documents/{slug}/feed.atom",
            base,
            f"{base}/comments",
            f"{base}/groups",
            f"{base}/report",
            f"{base}/provenance",
            f"{base}/suggestions",
            f"{base}/answer-together",
            f"{base}/export.html",
            f"{base}/export.md",
            api,
            f"{api}/comments",
            f"{api}/groups",
            f"/documents/{slug}/themes",
            f"/api/v1/documents/{slug}/themes",
        ]
        urls += [f"{base}/export/{fmt}" for fmt in ("opendata", "report-csv", "report-xlsx")]
        urls += [f"{base}/export/{fmt}" for fmt in ("report-docx", "md", "html", "akn")]
        urls += [f"{base}/export/{fmt}" for fmt in ("changes-docx", "pack-docx")]
        for p in v.paragraphs:
            urls += [f"/paragraphs/{p.id}", f"/api/v1/paragraphs/{p.id}"]
        for cid in ids[v.id]:
            urls += [f"/comments/{cid}", f"/api/v1/comments/{cid}", f"{base}/suggestions/{cid}"]
            gid = grouping.group_of(cid)
            if gid is not None:
                urls += [f"/letter-groups/{gid}"]
    assert _leaks(client, urls) > 30  # the pages were read, not refused
    page = client.get(f"/comments/{ids[masked.id][0]}").get_data(as_text=True)
    assert "[e-mail removed]" in page and "[phone number removed]" in page
    assert client.get(f"/comments/{ids[held.id][0]}").status_code == 404
    assert grouping.group_of(ids[masked.id][0]) is not None

    # Closed, with every comment to answer: the public pages and exports of a closed
    # version, and the committee's pages (the committee reads the public text, as
    # policy says: only the secretariat and the author read the text as written).
    for v in (masked, held):
        docs.close(v, by=make_user("secretariat"), reason="Test.")
    member = make_user("committee")
    for v in (masked, held):
        docs.add_committee_member(v.document, member, by=make_user("secretariat"))
    db.session.commit()
    assert _leaks(client, urls) > 30
    login(member)
    staff = []
    for v in (masked, held):
        base = f"/documents/{v.document.slug}/versions/{v.number}"
        staff += [f"{base}/answer-together", f"{base}/groups", f"{base}/comments", base]
        staff += [f"/letter-groups/{grouping.group_of(cid)}" for cid in ids[v.id]]
        staff += [f"{base}/themes/suggested", f"{base}/report", f"{base}/suggestions"]
    assert _leaks(client, staff, login=True) == len(staff)
    page = client.get("/documents/pd-mask/versions/1/answer-together").get_data(as_text=True)
    assert "[e-mail removed]" in page


def _leaks(client, urls, login=False) -> int:
    """Fetch each page (signed in as the test client's session says); no leak in any. How
    many answered 200."""
    from flask import g

    g.pop("_login_user", None)  # requests share the test's app context, and its user
    seen_ok = 0
    leaks = []
    for url in urls:
        r = client.get(url)
        if r.status_code == 302 and not login:
            r = client.get(r.headers["Location"])
        assert r.status_code < 500, url
        seen_ok += r.status_code == 200
        for text in _texts(r.get_data()):
            leaks += [(url, leak) for leak in LEAKS if leak in text]
    assert not sorted(set(leaks)), "\n".join(map(str, sorted(set(leaks))))
    return seen_ok
