"""JSON API v1 for drafting: versions, paragraph operations with optimistic locking,
take-up of suggestions, lineage review and the version's life."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from consult.consultation.models import Response
from consult.documents import services as docs
from consult.documents.models import LineageLink, Paragraph, ResponseEffect, Version
from consult.extensions import db
from consult.timeutil import utcnow

from .conftest import SAMPLE, assert_error, bearer, count, post_comment

OPENLY, ANSWER, HEARINGS = 2, 3, 5


def fresh(version: Version) -> Version:
    db.session.expire_all()
    return db.session.get(Version, version.id)


@pytest.fixture
def setup(make_document, make_user):
    """Version 1 closed with a suggestion; the drafter (and their token); the chair."""
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    v1 = doc.latest
    member = make_user("cso")
    suggestion = post_comment(
        v1,
        v1.paragraphs[ANSWER],
        member,
        kind="suggestion",
        body="Say when.",
        suggested_text="Every submission receives a written answer within 30 days.",
    )
    docs.close(v1, by=sec, reason="Test.")
    drafter = make_user("committee")
    docs.add_committee_member(doc, drafter, by=sec)
    db.session.commit()
    return doc, drafter, sec, member, suggestion


def start(client, doc, user, **body):
    return client.post(f"/api/v1/documents/{doc.slug}/versions", json=body, headers=bearer(user))


def test_start_a_version_as_a_copy_or_an_import(client, setup):
    doc, drafter, sec, member, _ = setup
    assert_error(
        client.post(f"/api/v1/documents/{doc.slug}/versions", json={}), 401, "unauthorized"
    )
    assert_error(start(client, doc, member), 403, "forbidden")
    resp = start(client, doc, drafter, label="Second draft")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["number"] == 2 and body["state"] == "draft" and body["label"] == "Second draft"
    assert resp.headers["Location"].endswith(f"/api/v1/documents/{doc.slug}/versions/2")
    assert [p["revision"] for p in body["paragraphs"]] == [1] * 7
    # A second start while version 2 is a draft is refused.
    assert_error(start(client, doc, drafter), 409, "conflict")
    assert_error(start(client, doc, drafter, source="paste"), 400, "invalid_field")


def test_two_starts_at_once_give_a_clear_conflict(client, setup):
    doc, drafter, *_ = setup
    headers = bearer(drafter)
    assert len(doc.versions) == 1  # this request's view: version 1 is the latest
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO version (document_id, number, label, state, note, created_at) "
                "VALUES (:d, 2, 'theirs', 'draft', '', :now)"
            ),
            {"d": doc.id, "now": utcnow()},
        )
    resp = client.post(f"/api/v1/documents/{doc.slug}/versions", json={}, headers=headers)
    error = assert_error(resp, 409, "conflict")
    assert "started version 2" in error["message"]
    assert count(Version) == 2 and count(Paragraph) == 7  # only version 1's paragraphs


def test_patch_a_paragraph_and_the_conflict_with_both_texts(client, setup):
    doc, drafter, *_ = setup
    start(client, doc, drafter)
    v2 = docs.get_version(doc, 2)
    p = v2.paragraphs[ANSWER]
    url = f"/api/v1/paragraphs/{p.id}"
    headers = bearer(drafter)
    ok = client.patch(
        url,
        json={"source": "Every submission receives a prompt answer.", "revision": 1},
        headers=headers,
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)
    [saved] = ok.get_json()["paragraphs"]
    assert saved["revision"] == 2 and saved["lineage"] == p.lineage
    stale = client.patch(
        url,
        json={
            "source": "Each submission receives a written answer.",
            "revision": 1,
            "base_source": "Every submission receives a written answer.",
        },
        headers=headers,
    )
    error = assert_error(stale, 409, "edit_conflict")
    assert error["theirs"] == "Every submission receives a prompt answer."
    assert error["yours"] == "Each submission receives a written answer."
    assert error["merged"] == "Each submission receives a prompt answer."
    assert error["revision"] == 2 and error["paragraph"] == p.id
    assert fresh(v2).paragraphs[ANSWER].text == "Every submission receives a prompt answer."
    assert_error(client.patch(url, json={"source": "x"}, headers=headers), 400, "field_required")
    assert_error(
        client.patch(url, json={"source": "x", "revision": "1"}, headers=headers),
        400,
        "invalid_field",
    )


def test_paragraph_operations_keep_lineage(client, setup):
    doc, drafter, *_ = setup
    start(client, doc, drafter)
    v2 = docs.get_version(doc, 2)
    ps = v2.paragraphs
    headers = bearer(drafter)
    openly, answer = ps[OPENLY], ps[ANSWER]
    split = client.post(
        f"/api/v1/paragraphs/{openly.id}/split",
        json={"offset": openly.source.index("and in"), "revision": 1},
        headers=headers,
    )
    assert split.status_code == 200, split.get_data(as_text=True)
    first, second = split.get_json()["paragraphs"]
    assert second["text"] == "and in good faith." and first["lineage"] == openly.lineage
    merge = client.post(f"/api/v1/paragraphs/{openly.id}/merge", json={}, headers=headers)
    assert merge.get_json()["paragraphs"][0]["text"] == openly.text
    move = client.post(
        f"/api/v1/paragraphs/{answer.id}/move", json={"direction": "up"}, headers=headers
    )
    assert [p["id"] for p in move.get_json()["version"]["paragraphs"]][OPENLY] == answer.id
    added = client.post(
        f"/api/v1/paragraphs/{answer.id}/insert-after",
        json={"source": "A new promise."},
        headers=headers,
    )
    assert added.status_code == 201
    new_id = added.get_json()["paragraphs"][0]["id"]
    top = client.post(
        f"/api/v1/documents/{doc.slug}/versions/2/insert-first",
        json={"source": "Preamble."},
        headers=headers,
    )
    assert top.get_json()["version"]["paragraphs"][0]["text"] == "Preamble."
    gone = client.post(f"/api/v1/paragraphs/{new_id}/delete", json={}, headers=headers)
    assert gone.status_code == 200
    links = {
        (lk.paragraph.text if lk.paragraph else None): lk.relation
        for lk in db.session.scalars(select(LineageLink).where(LineageLink.version_id == v2.id))
    }
    assert links["Preamble."] == "added" and "A new promise." not in links
    assert "moved" in links.values()
    assert_error(
        client.post(
            f"/api/v1/paragraphs/{answer.id}/move", json={"direction": "left"}, headers=headers
        ),
        400,
        "invalid_field",
    )
    # Version 1 is closed: its paragraphs are frozen.
    v1_paragraph = docs.get_version(doc, 1).paragraphs[ANSWER]
    assert_error(
        client.post(f"/api/v1/paragraphs/{v1_paragraph.id}/merge", json={}, headers=headers),
        409,
    )


def test_take_up_with_a_preview(client, setup):
    doc, drafter, sec, member, suggestion = setup
    start(client, doc, drafter)
    headers = bearer(drafter)
    url = f"/api/v1/comments/{suggestion.id}/take-up"
    preview = client.post(f"{url}?preview=1", json={}, headers=headers)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    body = preview.get_json()
    assert ["insert", " within 30 days"] in body["diff"] and body["revision"] == 1
    assert count(Response) == 0
    assert_error(client.post(url, json={}, headers=headers), 400)  # no answer, no reason
    assert_error(client.post(url, json={"reason": "Yes."}, headers=bearer(member)), 404)
    done = client.post(
        url, json={"reason": "A deadline helps.", "revision": body["revision"]}, headers=headers
    )
    assert done.status_code == 201, done.get_data(as_text=True)
    out = done.get_json()
    assert out["comment"]["response"]["decision"] == "accepted"
    assert out["paragraphs"][0]["text"].endswith("within 30 days.")
    [effect] = db.session.scalars(select(ResponseEffect)).all()
    assert effect.paragraph_id == out["paragraphs"][0]["id"]
    again = client.post(url, json={"reason": "Again."}, headers=headers)
    assert_error(again, 409)
    assert count(ResponseEffect) == 1


V2 = SAMPLE.replace(
    "Every submission receives a written answer.",
    "Every submission receives a reasoned written answer within thirty days.",
)


def test_lineage_review_then_publish_close_and_finalize(client, setup):
    doc, drafter, sec, *_ = setup
    resp = start(client, doc, drafter, source="import", text=V2)
    assert resp.status_code == 201
    v2 = docs.get_version(doc, 2)
    sec_headers = bearer(sec)
    publish = f"/api/v1/documents/{doc.slug}/versions/2/publish"
    closes = (utcnow() + timedelta(days=3)).isoformat()
    assert (
        "lineage"
        in assert_error(client.post(publish, json={"closes_at": closes}, headers=sec_headers), 409)[
            "message"
        ]
    )
    headers = bearer(drafter)
    review = client.get(f"/api/v1/documents/{doc.slug}/versions/2/lineage", headers=headers)
    body = review.get_json()
    assert body["unreviewed"] > 0
    edited = next(r for r in body["links"] if r["relation"] == "edited")
    assert 0 < edited["similarity"] < 1 and edited["method"] == "alignment"
    bad = client.post(
        f"/api/v1/documents/{doc.slug}/versions/2/lineage",
        json={"corrections": [{"paragraph": "x"}]},
        headers=headers,
    )
    assert_error(bad, 400, "invalid_field")
    ok = client.post(
        f"/api/v1/documents/{doc.slug}/versions/2/lineage",
        json={"corrections": [{"paragraph": edited["paragraph"]["id"], "predecessors": []}]},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.get_json()["unreviewed"] == 0
    note = client.patch(
        f"/api/v1/documents/{doc.slug}/versions/2", json={"note": "Deadlines."}, headers=headers
    )
    assert note.get_json()["note"] == "Deadlines."
    # The drafter may not publish; the secretariat may.
    assert_error(client.post(publish, json={"closes_at": closes}, headers=headers), 403)
    assert_error(client.post(publish, json={"closes_at": "soon"}, headers=sec_headers), 400)
    published = client.post(publish, json={"closes_at": closes}, headers=sec_headers)
    assert published.status_code == 200 and published.get_json()["state"] == "consultation"
    changes = client.get(f"/api/v1/documents/{doc.slug}/versions/2/changes").get_json()
    assert changes["note"] == "Deadlines." and changes["summary"]["added"] == 1
    assert changes["summary"]["partly"] == 0
    close = f"/api/v1/documents/{doc.slug}/versions/2/close"
    assert_error(client.post(close, json={}, headers=sec_headers), 400, "reason_required")
    closed = client.post(close, json={"reason": "Early."}, headers=sec_headers)
    assert closed.get_json()["state"] == "closed" and fresh(v2).close_reason == "Early."
    finalize = f"/api/v1/documents/{doc.slug}/versions/2/finalize"
    # Version 1's suggestion is unanswered: finalizing needs a stated reason.
    assert_error(client.post(finalize, json={}, headers=sec_headers), 409)
    final = client.post(finalize, json={"override_reason": "Mandate ends."}, headers=sec_headers)
    assert final.status_code == 200 and final.get_json()["state"] == "final"
