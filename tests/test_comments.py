"""Commenting as CSO members and the secretariat do it on the pages: on a paragraph, a
quoted span or the whole version, suggestions previewed as a diff, joint submissions,
co-signing, replies, edits and withdrawal until the deadline, rate limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult import create_app
from consult.accounts.models import Membership
from consult.consultation import services as cs
from consult.consultation.models import (
    Comment,
    CommentRevision,
    CommentWithdrawal,
    CoSignature,
    Reply,
)
from consult.extensions import db, limiter
from consult.record.models import Event
from consult.timeutil import clock

from .conftest import count, post_comment

# SAMPLE's paragraphs: "" title, "1" Principles, "1.1", "1.2", "2" Mechanisms, "2.1", "2.2".
OPENLY = 2  # "Parliaments engage civil society openly and in good faith."
ANSWER = 3  # "Every submission receives a written answer."


def events(kind: str) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.kind == kind)))


def form(user, paragraph, **fields):
    data = {
        "organisation": user.organisation.id,
        "paragraph": str(paragraph.id) if paragraph else "",
        "kind": "comment",
        "body": "Please say who answers.",
        "suggested_text": "",
        "quote": "",
    }
    data.update(fields)
    return data


def inserted(html: str) -> list[str]:
    """The words a diff shows as inserted, without the screen-reader markers."""
    return [
        re.sub(r'<span class="sr">[^<]*</span>', "", m).strip()
        for m in re.findall(r"<ins[^>]*>(.*?)</ins>", html)
    ]


def text_of(html: str) -> str:
    """The page's text without tags, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def setting(make_document, make_user):
    """A document open for comments, a member and an organisation of another member."""
    doc = make_document("consultation")
    member = make_user("cso", name="Lan Pham")
    other = make_user("cso", name="Somchai K")
    return doc, doc.latest, member, other


# ---------------------------------------------------------------- posting


def test_comment_on_a_quoted_span_pasted_with_other_white_space(client, as_user, setting):
    doc, v, member, _ = setting
    p = v.paragraphs[OPENLY]
    as_user(member)
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=form(member, p, quote="  civil\n society   openly ", body="Say *how* often."),
    )
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    # Stored as it appears in the paragraph, with its offsets there.
    assert c.quote == "civil society openly"
    assert p.text[c.quote_start : c.quote_end] == "civil society openly"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "“civil society openly”" in page
    assert "Say <em>how</em> often." in page


def test_a_quote_that_is_not_in_the_paragraph_is_refused_and_nothing_stored(
    client, as_user, setting
):
    doc, v, member, _ = setting
    as_user(member)
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=form(member, v.paragraphs[OPENLY], quote="behind closed doors"),
    )
    assert resp.status_code == 400
    assert "not in this paragraph" in resp.get_data(as_text=True)
    assert count(Comment) == 0


def test_markdown_body_is_rendered_safely_and_limited(client, as_user, setting):
    doc, v, member, _ = setting
    as_user(member)
    url = f"/documents/{doc.slug}/versions/1/comments"
    resp = client.post(
        url,
        data=form(member, None, body="<script>alert(1)</script> [x](javascript:alert(1)) **ok**"),
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and 'href="javascript' not in page
    assert "<strong>ok</strong>" in page
    too_long = client.post(url, data=form(member, None, body="x" * (cs.MAX_BODY + 1)))
    assert too_long.status_code == 400
    assert count(Comment) == 1


def test_suggestion_is_previewed_as_a_diff_and_nothing_is_stored_until_posted(
    client, as_user, setting
):
    doc, v, member, _ = setting
    p = v.paragraphs[ANSWER]
    as_user(member)
    url = f"/documents/{doc.slug}/versions/1/comments"
    data = form(
        member,
        p,
        kind="suggestion",
        body="Name a delay.",
        quote="a written answer",
        suggested_text="a reasoned written answer within 30 days",
    )
    resp = client.post(url, data={**data, "preview": "Preview"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert count(Comment) == 0
    assert "Nothing is stored yet" in html
    # Only the quoted span is replaced: the rest of the paragraph is unchanged text.
    preview = html[html.index('id="preview-h"') : html.index("</section>", html.index("preview-h"))]
    assert inserted(preview) == ["reasoned", "within 30 days"]
    assert "<del" not in preview
    assert "Every submission receives" in text_of(preview)
    # The form comes back filled in, ready to post.
    assert "a reasoned written answer within 30 days</textarea>" in html
    assert 'value="a written answer"' in html
    resp = client.post(url, data=data)
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    assert (c.kind, c.quote, c.suggested_text) == (
        "suggestion",
        "a written answer",
        "a reasoned written answer within 30 days",
    )


def test_preview_shows_the_same_refusals_as_posting(client, as_user, setting):
    doc, v, member, _ = setting
    as_user(member)
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data={**form(member, v.paragraphs[ANSWER], kind="suggestion"), "preview": "Preview"},
    )
    assert resp.status_code == 400
    assert "needs the wording you propose" in resp.get_data(as_text=True)


def test_comment_on_the_version_as_a_whole_and_a_question(client, as_user, setting):
    doc, v, member, _ = setting
    as_user(member)
    url = f"/documents/{doc.slug}/versions/1/comments"
    assert (
        client.post(url, data=form(member, None, kind="question", body="Who decides?")).status_code
        == 302
    )
    c = db.session.scalar(select(Comment))
    assert (c.paragraph_id, c.kind) == (None, "question")
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "as a whole" in page and "Question" in page


def test_joint_submission_by_a_member_of_several_organisations(client, as_user, setting, make_org):
    doc, v, member, _ = setting
    second = make_org(name="Mekong Youth Forum")
    stranger = make_org(name="Not Mine")
    db.session.add(Membership(user=member, organisation=second))
    db.session.commit()
    as_user(member)
    url = f"/documents/{doc.slug}/versions/1/comments"
    page = client.get(f"/paragraphs/{v.paragraphs[OPENLY].id}").get_data(as_text=True)
    assert "Submit jointly with" in page and "Mekong Youth Forum" in page
    refused = client.post(
        url,
        data=form(member, v.paragraphs[OPENLY], cosigners=stranger.id),
    )
    assert refused.status_code == 400
    assert count(Comment) == 0
    resp = client.post(
        url,
        data=form(member, v.paragraphs[OPENLY], cosigners=second.id),
    )
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    assert [(s.organisation.name, s.joint) for s in c.cosignatures] == [
        ("Mekong Youth Forum", True)
    ]
    page = text_of(client.get(f"/comments/{c.id}").get_data(as_text=True))
    assert "jointly with Mekong Youth Forum" in page
    assert "No other organisation has co-signed it yet." in page


def test_secretariat_enters_a_joint_paper_submission(client, as_user, setting, make_user, make_org):
    doc, v, member, _ = setting
    sec = make_user("secretariat")
    a, b = make_org(name="Village Association"), make_org(name="Farmers Union")
    as_user(sec)
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments/received",
        data={
            **form(member, v.paragraphs[ANSWER]),
            "organisation": a.id,
            "channel": "paper",
            "received_on": "",
            "cosigners": [b.id, a.id],
        },
    )
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    assert (c.organisation.name, c.channel, c.entered_by_id, c.author_id) == (
        "Village Association",
        "paper",
        sec.id,
        None,
    )
    # The comment's own organisation is not a co-signer of itself.
    assert [s.organisation.name for s in c.cosignatures] == ["Farmers Union"]


# ---------------------------------------------------------------- co-signing


def test_co_signing_once_per_organisation_and_counts_shown(client, as_user, setting):
    doc, v, member, other = setting
    c = post_comment(v, v.paragraphs[OPENLY], member)
    as_user(member)
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "support</button>" not in page  # one's own organisation cannot co-sign
    assert (
        client.post(
            f"/comments/{c.id}/cosign", data={"organisation": member.organisation.id}
        ).status_code
        == 403
    )
    as_user(other)
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert f"Add the support of {other.organisation.name}</button>" in page
    resp = client.post(f"/comments/{c.id}/cosign", data={"organisation": other.organisation.id})
    assert resp.status_code == 302
    again = client.post(f"/comments/{c.id}/cosign", data={"organisation": other.organisation.id})
    assert again.status_code == 409
    assert count(CoSignature) == 1
    page = text_of(client.get(f"/paragraphs/{v.paragraphs[OPENLY].id}").get_data(as_text=True))
    assert f"Co-signed by 1 organisation: {other.organisation.name}." in page
    assert [e.subject_id for e in events("comment.cosigned")] == [c.cosignatures[0].id]


# ---------------------------------------------------------------- replies


def test_replies_form_a_thread_apart_from_the_committees_answer(
    client, as_user, setting, make_user
):
    doc, v, member, other = setting
    sec = make_user("secretariat")
    c = post_comment(v, v.paragraphs[OPENLY], member)
    as_user(other)
    resp = client.post(f"/comments/{c.id}/replies", data={"body": "We *agree*."})
    assert resp.status_code == 302
    as_user(sec)
    assert (
        client.post(f"/comments/{c.id}/replies", data={"body": "Which bills?"}).status_code == 302
    )
    replies = db.session.scalars(select(Reply).order_by(Reply.id)).all()
    assert [(r.organisation_id, r.author_id) for r in replies] == [
        (other.organisation.id, other.id),
        (None, sec.id),
    ]
    html = client.get(f"/comments/{c.id}").get_data(as_text=True)
    answer = html.index("The committee's answer")
    thread = html.index("2 replies")
    assert answer < thread
    assert "Not answered yet" in html[answer:thread]
    assert "We <em>agree</em>." in html[thread:] and "for the committee" in html[thread:]
    assert "Which bills?" not in html[answer:thread]
    listing = text_of(client.get(f"/paragraphs/{v.paragraphs[OPENLY].id}").get_data(as_text=True))
    assert "2 replies" in listing
    assert len(events("reply.posted")) == 2


def test_replies_need_an_account_in_an_organisation_or_the_committee(
    client, as_user, setting, make_user
):
    doc, v, member, _ = setting
    c = post_comment(v, v.paragraphs[OPENLY], member)
    assert client.post(f"/comments/{c.id}/replies", data={"body": "Hi"}).status_code == 302
    assert count(Reply) == 0  # sent to sign in
    as_user(make_user("committee"))  # not on this document's committee
    assert client.post(f"/comments/{c.id}/replies", data={"body": "Hi"}).status_code == 403
    as_user(member)
    empty = client.post(f"/comments/{c.id}/replies", data={"body": "  "})
    assert empty.status_code == 400
    assert count(Reply) == 0


# ---------------------------------------------------------------- edits and withdrawal


def test_author_edits_until_the_deadline_and_earlier_texts_stay(client, as_user, setting):
    doc, v, member, other = setting
    c = post_comment(
        v,
        v.paragraphs[ANSWER],
        member,
        kind="suggestion",
        body="Name a delay.",
        suggested_text="Every submission receives a written answer soon.",
    )
    first_hash = c.content_hash
    as_user(other)
    assert client.get(f"/comments/{c.id}/edit").status_code == 403
    as_user(member)
    form_page = client.get(f"/comments/{c.id}/edit").get_data(as_text=True)
    assert "Name a delay.</textarea>" in form_page
    new = {
        "body": "Name a delay in days.",
        "suggested_text": "Every submission receives a written answer within 30 days.",
        "quote": "",
    }
    preview = client.post(f"/comments/{c.id}/edit", data={**new, "preview": "Preview"})
    assert preview.status_code == 200 and count(CommentRevision) == 0
    assert "within 30 days" in inserted(preview.get_data(as_text=True))
    resp = client.post(f"/comments/{c.id}/edit", data=new)
    assert resp.status_code == 302
    same = client.post(f"/comments/{c.id}/edit", data=new)
    assert same.status_code == 400 and "Nothing changed" in same.get_data(as_text=True)

    db.session.expire_all()
    c = db.session.get(Comment, c.id)
    # The comment row keeps the first text; the revision is the current one.
    assert (c.body, c.content_hash) == ("Name a delay.", first_hash)
    assert [r.number for r in c.revisions] == [2]
    assert c.current.body == "Name a delay in days."
    html = client.get(f"/comments/{c.id}").get_data(as_text=True)
    texts = html.index('id="texts"')
    assert "Name a delay in days." in html[:texts]
    assert "Name a delay." in html[texts:] and "Text 1" in html[texts:]
    assert [e.subject_id for e in events("comment.edited")] == [c.revisions[0].id]

    with clock(v.closes_at + timedelta(minutes=1)):
        late = client.post(f"/comments/{c.id}/edit", data={**new, "body": "Later."})
        assert late.status_code == 409
        assert "no longer possible" in late.get_data(as_text=True)
        assert client.post(f"/comments/{c.id}/withdraw", data={}).status_code == 409
    assert count(CommentRevision) == 1 and count(CommentWithdrawal) == 0


def test_withdrawn_comment_stays_readable_and_waits_for_no_answer(
    client, as_user, setting, make_user
):
    doc, v, member, other = setting
    c = post_comment(v, v.paragraphs[OPENLY], member, body="Please add youth councils.")
    as_user(other)
    assert client.post(f"/comments/{c.id}/withdraw", data={}).status_code == 403
    as_user(member)
    resp = client.post(f"/comments/{c.id}/withdraw", data={"reason": "Covered by 2.1."})
    assert resp.status_code == 302
    assert client.post(f"/comments/{c.id}/withdraw", data={}).status_code == 409
    assert count(Comment) == 1 and count(CommentWithdrawal) == 1
    page = text_of(client.get(f"/paragraphs/{v.paragraphs[OPENLY].id}").get_data(as_text=True))
    assert "Withdrawn by its author" in page and "Covered by 2.1." in page
    assert "Please add youth councils." in page
    # Nothing more happens to it: no edit, no reply, no co-signing.
    assert client.post(f"/comments/{c.id}/edit", data={"body": "x"}).status_code == 409
    as_user(other)
    assert client.post(f"/comments/{c.id}/replies", data={"body": "x"}).status_code == 409
    assert (
        client.post(f"/comments/{c.id}/cosign", data={"organisation": other.organisation.id})
    ).status_code == 409
    listing = client.get(f"/documents/{doc.slug}/versions/1/comments").get_data(as_text=True)
    assert "0 waiting for an answer" in listing
    assert len(events("comment.withdrawn")) == 1


def test_secretariat_corrects_a_comment_it_entered(client, as_user, setting, make_user):
    doc, v, member, _ = setting
    sec = make_user("secretariat")
    c = cs.post_comment(
        version=v,
        paragraph=None,
        organisation=member.organisation,
        kind="comment",
        body="Typed from the letter, with a typo.",
        by=sec,
        channel="email",
        on_behalf=True,
    )
    db.session.commit()
    as_user(member)  # the organisation's member did not write it
    assert client.post(f"/comments/{c.id}/edit", data={"body": "x"}).status_code == 403
    as_user(sec)
    resp = client.post(f"/comments/{c.id}/edit", data={"body": "Typed from the letter."})
    assert resp.status_code == 302
    assert db.session.get(Comment, c.id).current.body == "Typed from the letter."


def test_nothing_changes_after_the_deadline(client, as_user, setting):
    doc, v, member, other = setting
    c = post_comment(v, v.paragraphs[OPENLY], member)
    before = count(Event)
    with clock(v.closes_at + timedelta(seconds=1)):
        as_user(member)
        url = f"/documents/{doc.slug}/versions/1/comments"
        assert client.post(url, data=form(member, None)).status_code == 409
        as_user(other)
        assert client.post(f"/comments/{c.id}/replies", data={"body": "x"}).status_code == 409
        resp = client.post(f"/comments/{c.id}/cosign", data={"organisation": other.organisation.id})
        assert resp.status_code == 409
    assert (count(Comment), count(Reply), count(CoSignature)) == (1, 0, 0)
    # Only the automatic close at the deadline may have been recorded.
    kinds = {e.kind for e in db.session.scalars(select(Event).where(Event.seq > before))}
    assert kinds <= {"version.state_changed"}


# ---------------------------------------------------------------- rate limits


@pytest.fixture
def limited_client(app):
    """A client of a second app on the same database with rate limits on."""
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "INDEX_DIR", "SERVER_NAME", "WTF_CSRF_ENABLED")
    other = create_app({**{k: app.config[k] for k in keys}, "RATELIMIT_ENABLED": True})
    yield other.test_client()
    with other.app_context():
        db.engine.dispose()
    limiter.enabled = app.config["RATELIMIT_ENABLED"]


def test_posting_comments_replies_and_flags_is_rate_limited(limited_client, setting):
    doc, v, member, _ = setting
    c = post_comment(v, None, member)
    with limited_client.session_transaction() as s:
        s["_user_id"] = member.get_id()
    url = f"/documents/{doc.slug}/versions/1/comments"
    statuses = [
        limited_client.post(url, data=form(member, None, body=f"n{i}")).status_code
        for i in range(10)
    ]
    statuses += [
        limited_client.post(f"/comments/{c.id}/replies", data={"body": f"r{i}"}).status_code
        for i in range(5)
    ]
    assert statuses == [302] * 15
    # The budget is shared: the sixteenth post of any kind is refused, and nothing stored.
    for attempt in (
        limited_client.post(url, data=form(member, None, body="one more")),
        limited_client.post(f"/comments/{c.id}/replies", data={"body": "one more"}),
        limited_client.post(f"/comments/{c.id}/flag", data={"reason": "spam"}),
    ):
        assert attempt.status_code == 429
        assert "Too many" in attempt.get_data(as_text=True)
    assert count(Comment) == 11 and count(Reply) == 5
    assert limited_client.get(f"/comments/{c.id}").status_code == 200  # reading is not limited
