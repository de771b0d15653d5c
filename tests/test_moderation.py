"""Moderation: anyone signed in flags, moderators hide with a public reason, nothing is
deleted, every step is in the record, hidden comments are not found by search, and
search follows a comment's current text."""

from __future__ import annotations

import json
import re

import pytest
from flask import g
from sqlalchemy import select

from consult.consultation import services as cs
from consult.consultation.models import Comment, CommentRevision, Flag, ModerationAction, Reply
from consult.extensions import db
from consult.record.models import Event
from consult.record.service import verify

from .conftest import count

OPENLY = 2


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def found(client, words: str) -> set[int]:
    """Ids of the comments that the public finds with these words."""
    hits = client.get(f"/api/v1/search?q={words}").get_json()["hits"]
    return {h["id"] for h in hits if h["type"] == "comment"}


@pytest.fixture
def world(make_document, make_user):
    doc = make_document("consultation")
    v = doc.latest
    author = make_user("cso", name="Lan Pham")
    reader = make_user("cso", name="Reader")
    moderator = make_user("secretariat", name="Mod Erator")
    c = cs.post_comment(
        version=v,
        paragraph=v.paragraphs[OPENLY],
        organisation=author.organisation,
        kind="comment",
        body="Ombudsman oversight is missing; call me on 555-0100.",
        by=author,
    )
    db.session.commit()
    return doc, v, author, reader, moderator, c


def test_anyone_signed_in_flags_once_with_a_reason(client, as_user, world):
    doc, v, author, reader, moderator, c = world
    assert client.post(f"/comments/{c.id}/flag", data={"reason": "x"}).status_code == 302
    assert count(Flag) == 0  # the public is sent to sign in
    as_user(reader)
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "Flag this comment for the moderators" in page
    assert client.post(f"/comments/{c.id}/flag", data={"reason": " "}).status_code == 400
    assert (
        client.post(f"/comments/{c.id}/flag", data={"reason": "Personal data"}).status_code == 302
    )
    again = client.post(f"/comments/{c.id}/flag", data={"reason": "Still there"})
    assert again.status_code == 409
    assert [(f.user_id, f.reason) for f in db.session.scalars(select(Flag))] == [
        (reader.id, "Personal data")
    ]
    (ev,) = db.session.scalars(select(Event).where(Event.kind == "comment.flagged"))
    assert (ev.actor_id, json.loads(ev.payload)["comment"]) == (reader.id, c.tracking)
    # Flagging hides nothing by itself.
    assert c.id in found(client, "ombudsman")


def test_moderators_hide_with_a_public_reason_and_nothing_is_deleted(
    client, as_user, world, make_user
):
    doc, v, author, reader, moderator, c = world
    as_user(reader)
    client.post(f"/comments/{c.id}/flag", data={"reason": "Phone number"})
    hide = {"action": "hide", "reason": "It gave a private phone number."}
    assert client.post(f"/comments/{c.id}/moderate", data=hide).status_code == 403
    as_user(make_user("committee"))
    assert client.post(f"/comments/{c.id}/moderate", data=hide).status_code == 403
    assert count(ModerationAction) == 0

    as_user(moderator)
    queue = text_of(client.get("/moderation").get_data(as_text=True))
    assert "1 flag " in queue and c.tracking in queue
    assert client.post(f"/comments/{c.id}/moderate", data={"action": "hide"}).status_code == 400
    assert client.post(f"/comments/{c.id}/moderate", data=hide).status_code == 302
    assert client.post(f"/comments/{c.id}/moderate", data=hide).status_code == 409
    # The moderators still read what they hid; the queue is empty again.
    own = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "shown to moderators only" in own and "555-0100" in own
    assert "Nothing is waiting for the moderators." in client.get("/moderation").get_data(
        as_text=True
    )

    g.pop("_login_user", None)
    with client.session_transaction() as s:
        s.clear()
    for url in (f"/comments/{c.id}", f"/paragraphs/{v.paragraphs[OPENLY].id}"):
        page = text_of(client.get(url).get_data(as_text=True))
        assert "Hidden by the moderators: It gave a private phone number." in page, url
        assert "555-0100" not in page and "Ombudsman" not in page, url
    api = client.get(f"/api/v1/comments/{c.id}").get_json()
    assert api["body"] is None and api["hidden"]["reason"] == "It gave a private phone number."

    # Nothing deleted: the comment and its hash are intact, the action is a row.
    stored = db.session.get(Comment, c.id)
    assert stored.body.startswith("Ombudsman") and verify().ok
    (m,) = db.session.scalars(select(ModerationAction))
    assert (m.action, m.moderator_id, m.reply_id) == ("hide", moderator.id, None)
    (ev,) = db.session.scalars(select(Event).where(Event.kind == "comment.moderated"))
    assert json.loads(ev.payload)["reason"] == "It gave a private phone number."


def test_hidden_comments_are_not_found_until_shown_again(client, as_user, world):
    doc, v, author, reader, moderator, c = world
    assert found(client, "ombudsman") == {c.id}
    m = cs.moderate(c, action="hide", reason="Private data.", by=moderator)
    db.session.commit()
    assert found(client, "ombudsman") == set()
    as_user(moderator)  # not found by anyone through search, moderators included
    assert f'href="/comments/{c.id}"' not in client.get("/search?q=ombudsman").get_data(
        as_text=True
    )
    assert m.reason == "Private data."
    resp = client.post(
        f"/comments/{c.id}/moderate", data={"action": "restore", "reason": "Number removed."}
    )
    assert resp.status_code == 302
    assert found(client, "ombudsman") == {c.id}
    assert [a.action for a in db.session.scalars(select(ModerationAction))] == ["hide", "restore"]


def test_an_altered_revision_is_caught_by_the_record_check(world):
    doc, v, author, reader, moderator, c = world
    r = cs.edit_comment(c, body="Second text.", suggested_text=None, quote=None, by=author)
    db.session.commit()
    assert verify().ok
    db.session.execute(
        CommentRevision.__table__.update().where(CommentRevision.id == r.id).values(body="Forged.")
    )
    db.session.commit()
    check = verify()
    assert not check.ok and f"comment {c.tracking} text 2 was altered" in check.problem


def test_search_shows_the_current_text_of_an_edited_comment(client, world):
    doc, v, author, reader, moderator, c = world
    cs.edit_comment(
        c,
        body="Add an independent parliamentary ombudsperson.",
        suggested_text=None,
        quote=None,
        by=author,
    )
    db.session.commit()
    assert found(client, "ombudsperson") == {c.id}
    assert found(client, "555") == set()


def test_a_reply_is_hidden_in_its_place(client, as_user, world):
    doc, v, author, reader, moderator, c = world
    r = cs.post_reply(c, body="Rude words here.", by=reader)
    db.session.commit()
    as_user(author)
    assert (
        client.post(f"/comments/{c.id}/flag", data={"reason": "Rude", "reply": r.id}).status_code
        == 302
    )
    as_user(moderator)
    resp = client.post(
        f"/comments/{c.id}/moderate",
        data={"action": "hide", "reason": "Insults.", "reply": r.id},
    )
    assert resp.status_code == 302
    assert (
        client.post(
            f"/comments/{c.id}/moderate", data={"action": "hide", "reason": "x", "reply": 9999}
        ).status_code
        == 404
    )
    g.pop("_login_user", None)
    with client.session_transaction() as s:
        s.clear()
    page = text_of(client.get(f"/comments/{c.id}").get_data(as_text=True))
    assert "Hidden by the moderators: Insults." in page and "Rude words" not in page
    assert "Ombudsman oversight" in page  # the comment itself is still shown
    assert db.session.get(Reply, r.id).body == "Rude words here."
    replies = client.get(f"/api/v1/comments/{c.id}/replies").get_json()["replies"]
    assert replies[0]["body"] is None and replies[0]["hidden"]["reason"] == "Insults."
