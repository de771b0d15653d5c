"""The API's list of a version's comments, keyset-paged (issue 18): following the
`next` links gives every comment once, oldest first; bad paging is a 400."""

from __future__ import annotations

from consult.consultation import services as cs
from consult.extensions import db

from .conftest import assert_error


def test_next_links_walk_every_comment_once_in_order(client, make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    member = make_user("cso")
    made = [
        cs.post_comment(
            version=v,
            paragraph=v.paragraphs[2] if i % 2 else None,
            organisation=member.organisation,
            kind="comment",
            body=f"Remark {i}.",
            by=member,
        ).id
        for i in range(5)
    ]
    db.session.commit()
    url = f"/api/v1/documents/{doc.slug}/versions/1/comments?limit=2"
    seen, pages = [], 0
    while url:
        answer = client.get(url).get_json()
        assert answer["count"] == 5
        assert len(answer["comments"]) <= 2
        seen += [c["id"] for c in answer["comments"]]
        assert all(c["organisation"] == member.organisation.slug for c in answer["comments"])
        url = answer["links"].get("next")
        pages += 1
    assert seen == made and pages == 3
    one = client.get(f"/api/v1/documents/{doc.slug}/versions/1/comments?after={made[3]}")
    assert [c["id"] for c in one.get_json()["comments"]] == [made[4]]
    assert "next" not in one.get_json()["links"]


def test_bad_paging_is_refused_and_unknown_versions_are_not_found(client, make_document):
    doc = make_document("consultation")
    base = f"/api/v1/documents/{doc.slug}/versions/1/comments"
    assert_error(client.get(f"{base}?limit=0"), 400)
    assert_error(client.get(f"{base}?limit=5000"), 400)
    assert_error(client.get(f"{base}?after=-1"), 400)
    assert_error(client.get(f"{base}?page=2"), 400)
    assert_error(client.get(f"/api/v1/documents/{doc.slug}/versions/9/comments"), 404)
