"""Issue 22, "no dead ends": every page says why and what to do; irreversible steps
are confirmed on a second page; co-signatures and replies to answers can change while
the consultation is open, kept in the history."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from consult.accounts import services as accounts
from consult.consultation import services as cs
from consult.consultation.models import Comment, CoSignatureWithdrawal
from consult.documents import services as docs
from consult.extensions import db
from consult.record.models import Event
from consult.timeutil import utcnow
from consult.tracing import grouping, views
from consult.tracing.models import ResponseFeedback

from .conftest import PASSWORD, post_comment


def text_of(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def test_a_member_awaiting_approval_is_told_why_there_is_no_comment_form(
    client, as_user, make_document, make_org
):
    doc = make_document("consultation")
    org = make_org(name="Mekong Voices")
    user, _ = accounts.sign_up("new@example.org", PASSWORD, name="New", organisation=org)
    db.session.commit()
    as_user(user)
    page = client.get(f"/documents/{doc.slug}/versions/1")
    html = page.get_data(as_text=True)
    assert 'id="why-no-comment"' in html and "comment-form" not in html
    words = text_of(page)
    assert "your request to join Mekong Voices is waiting for approval" in words
    assert f'href="/organisations/{org.slug}"' in html


def test_publish_without_comments_and_make_final_ask_first(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("draft", by=sec)
    base = f"/documents/{doc.slug}/versions/1"
    as_user(sec)
    first = client.post(f"{base}/publish", data={"mode": "closed"})
    assert first.status_code == 200
    page = text_of(first)
    assert "Publish version 1 without comments?" in page and "cannot be undone" in page
    assert 'name="confirmed" value="1"' in first.get_data(as_text=True)
    assert docs.get_version(doc, 1).state == "draft"
    assert (
        client.post(f"{base}/publish", data={"mode": "closed", "confirmed": "1"}).status_code == 302
    )
    ask = text_of(client.post(f"{base}/finalize"))
    assert "Make version 1 the final text?" in ask and "resolution" in ask
    assert docs.get_version(doc, 1).state == "closed"


def test_compare_without_versions_lets_the_reader_choose(client, make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("closed", by=sec)
    docs.copy_version(doc, by=sec, label="Second")
    docs.publish(doc.latest, by=sec)
    db.session.commit()
    resp = client.get(f"/documents/{doc.slug}/compare")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Compare two versions" in html and 'name="a"' in html and 'name="b"' in html
    assert f"/documents/{doc.slug}/compare/1/2" in html
    single = make_document("consultation")
    assert "only one version" in text_of(client.get(f"/documents/{single.slug}/compare"))


def test_our_input_shows_first_words_the_right_flag_and_the_documents_zone(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    doc.timezone = "Asia/Yangon"
    db.session.commit()
    member = make_user("cso")
    v1 = doc.latest
    p = v1.paragraphs[2]
    c = post_comment(
        v1,
        p,
        member,
        kind="suggestion",
        body="Add that engagement starts early in the cycle of every bill.",
        suggested_text=p.text.replace("openly", "early and openly"),
    )
    docs.close(v1, by=sec)
    cs.respond(c, decision="partly_accepted", reason="In part.", by=sec)
    docs.copy_version(doc, by=sec, label="Second")
    docs.publish(doc.latest, by=sec, closes_at=utcnow() + timedelta(days=5))
    db.session.commit()
    as_user(member)
    resp = client.get(f"/organisations/{member.organisation.slug}/input")
    html = resp.get_data(as_text=True)
    assert re.search(r"<h1>\s*Our input\s*</h1>", html)
    words = text_of(resp)
    assert "“Add that engagement starts early in the cycle of every bill.”" in words
    assert "Partly accepted, but none of the asked-for change is in the text" in words
    assert "Accepted, but the asked-for change" not in words
    assert "UTC+6:30" in words  # Yangon, not UTC
    assert " UTC</time>" not in html


def test_a_suggestion_says_what_it_replaces_and_shows_the_paragraph_after(
    client, as_user, make_document, make_user
):
    doc = make_document("consultation")
    member = make_user("cso")
    as_user(member)
    v = doc.latest
    p = v.paragraphs[2]
    url = f"/documents/{doc.slug}/versions/1/comments"
    form = {
        "paragraph": str(p.id),
        "organisation": str(member.organisation.id),
        "kind": "suggestion",
        "body": "Be precise.",
        "suggested_text": "Parliaments engage civil society early.",
        "preview": "Preview",
    }
    whole = text_of(client.post(url, data=form))
    assert "replaces the whole of paragraph 1.1" in whole
    assert "The paragraph would then read: Parliaments engage civil society early." in whole
    quoted = text_of(
        client.post(url, data={**form, "quote": "openly", "suggested_text": "early and openly"})
    )
    assert "replaces only the quoted words “openly”" in quoted
    assert (
        "would then read: Parliaments engage civil society early and openly and in good faith."
        in quoted
    )
    assert db.session.scalar(select(func.count(Comment.id))) == 0
    page = client.get(f"/documents/{doc.slug}/versions/1/comments/new?paragraph={p.id}")
    assert "replaces the whole paragraph" in text_of(page)


def test_an_exact_repeat_is_stopped_until_confirmed(client, as_user, make_document, make_user):
    doc = make_document("consultation")
    member = make_user("cso")
    as_user(member)
    p = doc.latest.paragraphs[3]
    url = f"/documents/{doc.slug}/versions/1/comments"
    form = {
        "paragraph": str(p.id),
        "organisation": str(member.organisation.id),
        "kind": "comment",
        "body": "Every answer should be public.",
    }
    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form)
    assert again.status_code == 409
    words = text_of(again)
    assert "already sent exactly these words" in words and "Send it again anyway" in words
    assert 'name="repeat" value="1"' in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Comment.id))) == 1
    # A different paragraph, or different words, is no repeat.
    other = {**form, "body": "Every answer should be public, and quick."}
    assert client.post(url, data=other).status_code == 302
    assert client.post(url, data={**form, "repeat": "1"}).status_code == 302
    assert db.session.scalar(select(func.count(Comment.id))) == 3


def test_a_cosignature_can_be_withdrawn_while_open_and_stays_in_history(
    client, as_user, make_document, make_user, make_org
):
    doc = make_document("consultation")
    author, supporter = make_user("cso"), make_user("cso", org=make_org(name="Delta Rights"))
    c = post_comment(doc.latest, doc.latest.paragraphs[2], author)
    cs.cosign(c, supporter.organisation, by=supporter)
    db.session.commit()
    as_user(supporter)
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "Withdraw the co-signature of Delta Rights" in page
    resp = client.post(
        f"/comments/{c.id}/cosign/withdraw", data={"organisation": supporter.organisation.id}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    c = db.session.get(Comment, c.id)
    assert c.cosignatures == [] and len(c.all_cosignatures) == 1
    assert db.session.scalar(select(func.count(CoSignatureWithdrawal.id))) == 1
    kinds = set(db.session.scalars(select(Event.kind)))
    assert {"comment.cosigned", "comment.cosignature_withdrawn"} <= kinds
    words = text_of(client.get(f"/comments/{c.id}"))
    assert "No other organisation has co-signed it yet." in words
    assert "Delta Rights co-signed on" in words and "withdrew on" in words
    # Once withdrawn it cannot be signed again, nor withdrawn twice.
    again = client.post(
        f"/comments/{c.id}/cosign/withdraw", data={"organisation": supporter.organisation.id}
    )
    assert again.status_code == 403
    assert views.report(doc.latest).top_cosigned == []


def test_a_reply_to_an_answer_can_change_and_the_report_counts_the_latest(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    member = make_user("cso")
    c = post_comment(doc.latest, doc.latest.paragraphs[2], member)
    docs.close(doc.latest, by=sec)
    cs.respond(c, decision="noted", reason="Thank you.", by=sec)
    db.session.commit()
    as_user(member)
    url = f"/comments/{c.id}/feedback"
    assert client.post(url, data={"satisfied": "yes"}).status_code == 302
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "Change your organisation" in page
    assert (
        client.post(url, data={"satisfied": "no", "note": "On reflection, no."}).status_code == 302
    )
    assert (
        client.post(url, data={"satisfied": "no", "note": "On reflection, no."}).status_code == 409
    )
    rows = db.session.scalars(select(ResponseFeedback).order_by(ResponseFeedback.id)).all()
    assert [r.satisfied for r in rows] == [True, False]
    words = text_of(client.get(f"/comments/{c.id}"))
    assert (
        "not satisfied with this answer" in words and "Changed; earlier replies: satisfied" in words
    )
    sat = {b.label: b.value for b in views.report(doc.latest).satisfaction}
    assert sat == {"Satisfied": 0, "Not satisfied": 1, "No reply yet": 0}
    assert grouping.feedback_for([c.response.id])[c.response.id].satisfied is False
    # Once the document has its final text, the reply no longer changes.
    docs.finalize(doc.latest, by=sec)
    db.session.commit()
    assert client.post(url, data={"satisfied": "yes"}).status_code == 409


ANCHORED = """# Regional Charter

## Contents

- [Introduction](#intro)
- [Scope](#scope)
- [Nowhere](#missing)

##<a id="intro"></a>Introduction

Parliaments open their doors.[^1]

##<a id="scope"></a>Scope

The charter covers every committee. See [the introduction](#intro).

[^1]: As agreed in 2026.
"""


def test_anchors_before_headings_keep_the_headings_and_links_reach_the_paragraph(
    client, as_user, make_document, make_user
):
    from consult.documents import splitter

    blocks = splitter.split(ANCHORED)
    heads = [(b.number, b.text) for b in blocks if b.kind == "heading"]
    assert heads == [
        ("", "Regional Charter"),
        ("1", "Contents"),
        ("2", "Introduction"),
        ("3", "Scope"),
    ]
    assert splitter.join(blocks) == ANCHORED  # the source is kept as it was
    found = splitter.structure(ANCHORED)
    assert found.broken_links == ["missing"] and not found.flat
    assert found.unnumbered == 0 and found.blocks == len(blocks)

    sec = make_user("secretariat")
    doc = make_document("draft", by=sec, text=ANCHORED)
    as_user(sec)
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert '<span id="intro" class="anchor"></span>' in html
    assert '<span id="scope" class="anchor"></span>' in html
    assert 'href="#intro"' in html
    assert "<h3>Introduction</h3>" in html  # a heading, not "##Introduction"


def test_the_import_previews_its_structure_before_storing(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("closed", by=sec)
    as_user(sec)
    url = f"/documents/{doc.slug}/versions/new"
    resp = client.post(url, data={"source": "import", "text": ANCHORED, "preview": "Preview"})
    assert resp.status_code == 200
    words = text_of(resp)
    assert "What the import will make of this text" in words
    assert "4 headings" in words and "1 in-page link will not resolve: #missing" in words
    assert "2 Introduction" in words and "3 Scope" in words
    assert len(doc.versions) == 1  # nothing stored
    flat = "\n\n".join(f"Paragraph {i} of a text without headings." for i in range(8))
    warned = text_of(client.post(url, data={"source": "import", "text": flat, "preview": "1"}))
    assert "This text looks flat: 8 of its 8 paragraphs" in warned
    # Sent without the preview button, the version is made.
    assert client.post(url, data={"source": "import", "text": ANCHORED}).status_code == 302


def test_the_record_page_names_what_happened_and_checks_a_tracking_number(
    client, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    member = make_user("cso")
    c = post_comment(doc.latest, doc.latest.paragraphs[2], member)
    docs.close(doc.latest, by=sec)
    cs.respond(c, decision="partly_accepted", reason="In part.", by=sec)
    db.session.commit()
    resp = client.get("/record/")
    html, words = resp.get_data(as_text=True), text_of(resp)
    assert f"Comment {c.tracking} sent for {member.organisation.name}" in words
    assert f"Answer to {c.tracking}: partly accepted" in words
    assert "Version 1 of Sample Framework published" in words
    assert f'href="/record/receipts/{c.tracking}"' in html
    assert f'href="/documents/{doc.slug}/versions/1"' in html
    assert "comment 1" not in words  # no internal ids
    # The box, and the explanation for someone without a server.
    assert 'action="/record/check"' in html
    assert "Check it yourself, without trusting this site" in words
    assert f"python3 verify_standalone.py {doc.slug}-opendata.zip" in words
    assert f"/documents/{doc.slug}/versions/1/export/opendata" in html
    found = client.get(f"/record/check?tracking={c.tracking.lower()}")
    assert found.status_code == 302 and found.headers["Location"].endswith(
        f"/record/receipts/{c.tracking}"
    )
    missing = client.get("/record/check?tracking=C-NOPE")
    assert missing.status_code == 404
    assert "No comment has the tracking number C-NOPE" in text_of(missing)
