"""The pages as a reader, a CSO member and the secretariat see them."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from consult.consultation import services as consultation
from consult.consultation.models import Comment, Response
from consult.documents import services as docs
from consult.documents.models import Document, Version
from consult.extensions import db
from consult.timeutil import utcnow

from .conftest import SAMPLE, count

V2 = SAMPLE.replace(
    "Every submission receives a written answer.",
    "Every submission receives a reasoned written answer within thirty days.",
).replace("- Written submissions by e-mail or on paper.\n", "- Online consultations.\n")


def paragraph_with(version: Version, words: str):
    return next(p for p in version.paragraphs if words in p.text)


def two_versions(make_document, secretariat):
    """A document with version 1 closed and version 2 (imported from V2) open for comments."""
    doc = make_document("closed", by=secretariat)
    v2 = docs.import_version(doc, V2, by=secretariat, label="Second draft")
    docs.publish(v2, by=secretariat, closes_at=utcnow() + timedelta(days=5))
    db.session.commit()
    return doc


def comment_form(paragraph, **fields):
    data = {
        "paragraph": str(paragraph.id) if paragraph else "",
        "kind": "comment",
        "body": "Please say who answers.",
        "suggested_text": "",
        "quote": "",
    }
    data.update(fields)
    return data


# ---------------------------------------------------------------- home and document


def test_home_lists_documents_with_stage_and_open_deadlines(client, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("consultation", by=secretariat, days=3)
    doc.timezone = "Asia/Bangkok"
    make_document("closed", slug="older-framework", by=secretariat)
    make_document("draft", slug="secret-draft", by=secretariat)
    db.session.commit()

    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Open for comments" in html
    assert "closes in 2 days" in html or "closes in 3 days" in html
    assert "UTC+7" in html  # the deadline in the document's time zone…
    assert "UTC" in html  # …and in UTC
    assert f'href="/documents/{doc.slug}"' in html
    assert 'href="/documents/older-framework"' in html
    assert "Closed" in html
    assert "secret-draft" not in html


def test_secretariat_sees_drafts_on_home_and_can_start_a_document(
    client, as_user, make_document, make_user
):
    secretariat = as_user(make_user("secretariat"))
    make_document("draft", slug="secret-draft", by=secretariat)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/documents/secret-draft"' in html
    assert "No published version yet" in html
    assert 'href="/documents/new"' in html


def test_document_page_lists_versions_with_counts_and_compare_link(
    client, make_document, make_user
):
    secretariat = make_user("secretariat")
    doc = two_versions(make_document, secretariat)
    member = make_user("cso")
    v2 = doc.latest
    consultation.post_comment(
        version=v2,
        paragraph=v2.paragraphs[2],
        organisation=member.organisation,
        kind="comment",
        body="Good.",
        by=member,
    )
    db.session.commit()

    resp = client.get(f"/documents/{doc.slug}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Sample Framework" in html
    assert "Version 1 — First draft" in html and "Version 2 — Second draft" in html
    assert "Closed" in html and "Open for comments" in html
    assert "1 comment" in html
    assert f'href="/documents/{doc.slug}/compare/1/2"' in html
    assert "Add a version" not in html  # not for the public


def test_document_with_only_a_draft_is_not_found_by_the_public(client, make_document):
    doc = make_document("draft")
    assert client.get(f"/documents/{doc.slug}").status_code == 404
    assert client.get("/documents/no-such-thing").status_code == 404


# ---------------------------------------------------------------- version page


def test_version_page_shows_numbered_paragraphs_headings_and_facts(client, make_document):
    doc = make_document("consultation")
    v = doc.latest
    resp = client.get(f"/documents/{doc.slug}/versions/1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<h3>Principles</h3>" in html  # headings of the text shown as headings
    assert 'id="para-1.2"' in html
    assert ">1.2</a>" in html
    assert "Every submission receives a written answer." in html
    assert v.content_hash in html
    assert f"/documents/{doc.slug}/versions/1/export.md" in html
    assert f"/documents/{doc.slug}/versions/1/export.html" in html
    assert "closes in 6 days" in html
    # Anonymous readers are told to sign in, and get no comment form.
    assert "Sign in</a> or" in html
    assert 'name="body"' not in html


def test_draft_version_is_visible_to_the_secretariat_only(
    client, as_user, make_document, make_user
):
    secretariat = make_user("secretariat")
    doc = make_document("closed", by=secretariat)
    docs.copy_version(doc, by=secretariat, label="Next")
    db.session.commit()
    url = f"/documents/{doc.slug}/versions/2"
    assert client.get(url).status_code == 404
    as_user(make_user("cso"))
    assert client.get(url).status_code == 404
    as_user(secretariat)
    resp = client.get(url)
    assert resp.status_code == 200
    assert "visible only to the secretariat" in resp.get_data(as_text=True)


def test_cso_member_gets_a_comment_link_per_paragraph_and_one_form(
    client, as_user, make_document, make_user
):
    doc = make_document("consultation")
    org_user = as_user(make_user("cso"))
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    n = len(doc.latest.paragraphs)
    assert html.count('class="comment-on"') == n  # a link in each paragraph
    # One paragraph form (kept in a <template> for the script) and the version's.
    assert html.count('name="body"') == 2
    assert 'name="kind"' in html and "Suggestion" in html and "Question" in html
    assert 'name="suggested_text"' in html and 'name="quote"' in html
    assert f"On behalf of <strong>{org_user.organisation.name}</strong>" in html


def test_member_of_two_organisations_chooses_one(
    client, as_user, make_document, make_user, make_org
):
    from consult.accounts.models import Membership

    doc = make_document("consultation")
    user = make_user("cso")
    other = make_org(name="Second Network")
    db.session.add(Membership(user=user, organisation=other))
    db.session.commit()
    as_user(user)
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert '<select id="organisation-version" name="organisation">' in html
    assert "Second Network" in html


def test_version_page_makes_no_query_per_paragraph(client, as_user, make_document, make_user, app):
    """The heavy page: the number of queries does not grow with the paragraphs."""
    secretariat = make_user("secretariat")
    member = make_user("cso")
    short = make_document("consultation", by=secretariat, slug="short")
    long_text = SAMPLE + "".join(f"\nParagraph number {i} of a long text.\n" for i in range(60))
    long = make_document("consultation", by=secretariat, slug="long", text=long_text)
    for doc in (short, long):
        for p in doc.latest.paragraphs[:4]:
            consultation.post_comment(
                version=doc.latest,
                paragraph=p,
                organisation=member.organisation,
                kind="comment",
                body="Noted.",
                by=member,
            )
    db.session.commit()
    as_user(member)

    def queries(url):
        seen = []

        def note(conn, cursor, statement, *args):
            seen.append(statement)

        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        return len(seen)

    assert queries("/documents/long/versions/1") == queries("/documents/short/versions/1")


# ---------------------------------------------------------------- posting comments


def test_anonymous_comment_goes_to_sign_in_and_stores_nothing(client, make_document):
    doc = make_document("consultation")
    p = doc.latest.paragraphs[2]
    resp = client.post(f"/documents/{doc.slug}/versions/1/comments", data=comment_form(p))
    assert resp.status_code == 302
    assert "/sign-in" in resp.headers["Location"]
    assert count(Comment) == 0


def test_secretariat_cannot_post_as_a_cso_on_the_web_form(
    client, as_user, make_document, make_user
):
    doc = make_document("consultation")
    as_user(make_user("secretariat"))
    p = doc.latest.paragraphs[2]
    resp = client.post(f"/documents/{doc.slug}/versions/1/comments", data=comment_form(p))
    assert resp.status_code == 403
    assert "may not do this" in resp.get_data(as_text=True)
    assert '<code class="hint">comment.create</code>' in resp.get_data(as_text=True)
    assert count(Comment) == 0


def test_cso_member_posts_a_comment_and_gets_a_receipt(client, as_user, make_document, make_user):
    doc = make_document("consultation")
    member = as_user(make_user("cso", name="Mali Srisuk"))
    p = doc.latest.paragraphs[3]
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(p, organisation=str(member.organisation.id), body="Add a *deadline*."),
    )
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    assert c.paragraph_id == p.id and c.author_id == member.id and c.channel == "web"
    assert resp.headers["Location"].endswith(f"/comments/{c.id}")

    page = client.get(f"/comments/{c.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"tracking number is {c.tracking}" in html  # the flash message
    assert c.content_hash in html
    assert "Add a <em>deadline</em>." in html
    assert "Mali Srisuk" in html and member.organisation.name in html
    assert "Not answered yet." in html
    # The version page now counts it against the paragraph.
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert "1 comment<span" in html


def test_comment_for_an_organisation_one_does_not_belong_to_is_refused(
    client, as_user, make_document, make_user, make_org
):
    doc = make_document("consultation")
    as_user(make_user("cso"))
    stranger = make_org(name="Not Mine")
    p = doc.latest.paragraphs[2]
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(p, organisation=str(stranger.id)),
    )
    assert resp.status_code in (400, 403)
    assert count(Comment) == 0


def test_comment_after_the_deadline_is_refused_and_kept_for_the_writer(
    client, as_user, make_document, make_user
):
    doc = make_document("consultation")
    v = doc.latest
    v.closes_at = utcnow() - timedelta(minutes=5)  # the deadline passed; not yet closed
    db.session.commit()
    member = as_user(make_user("cso"))
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(
            v.paragraphs[2], organisation=str(member.organisation.id), body="Too late, sadly."
        ),
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "not open for comments" in html
    assert "Too late, sadly." in html  # what was typed is not lost
    assert count(Comment) == 0


def test_invalid_comment_shows_the_form_again_with_what_was_typed(
    client, as_user, make_document, make_user
):
    doc = make_document("consultation")
    member = as_user(make_user("cso"))
    p = doc.latest.paragraphs[2]
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(
            p, organisation=str(member.organisation.id), kind="suggestion", body="Reword it."
        ),
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "A suggestion needs the wording you propose." in html
    assert "Reword it.</textarea>" in html
    assert p.text in html
    assert count(Comment) == 0


def test_quoted_words_must_be_in_the_paragraph(client, as_user, make_document, make_user):
    doc = make_document("consultation")
    member = as_user(make_user("cso"))
    p = doc.latest.paragraphs[2]
    base = comment_form(p, organisation=str(member.organisation.id))
    bad = client.post(
        f"/documents/{doc.slug}/versions/1/comments", data={**base, "quote": "not there"}
    )
    assert bad.status_code == 400 and count(Comment) == 0
    good = client.post(
        f"/documents/{doc.slug}/versions/1/comments", data={**base, "quote": "in good faith"}
    )
    assert good.status_code == 302
    html = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "“in good faith”" in html


def test_version_wide_comment(client, as_user, make_document, make_user):
    doc = make_document("consultation")
    member = as_user(make_user("cso"))
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(
            None,
            organisation=str(member.organisation.id),
            kind="question",
            body="When is the next workshop?",
        ),
    )
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    assert c.paragraph_id is None and c.kind == "question"
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert "1 in all</a>, of which 1 on the version as a whole" in html


def test_secretariat_enters_a_comment_received_on_paper(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("consultation", by=secretariat)
    doc.timezone = "Asia/Manila"
    db.session.commit()
    org = make_user("cso").organisation
    as_user(secretariat)
    p = doc.latest.paragraphs[3]
    day = (utcnow() - timedelta(days=2)).astimezone(ZoneInfo("Asia/Manila")).date()
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments/received",
        data={
            **comment_form(p, body="Handwritten at the workshop."),
            "organisation": str(org.id),
            "channel": "paper",
            "received_on": day.isoformat(),
        },
    )
    assert resp.status_code == 302
    c = db.session.scalar(select(Comment))
    assert c.channel == "paper" and c.author_id is None and c.entered_by_id == secretariat.id
    assert c.created_at == datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Asia/Manila"))
    html = client.get(f"/paragraphs/{p.id}").get_data(as_text=True)
    assert "entered by the secretariat" in html and "Paper" in html


def test_cso_member_cannot_enter_comments_for_others(client, as_user, make_document, make_user):
    doc = make_document("consultation")
    member = as_user(make_user("cso"))
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/comments/received",
        data={
            **comment_form(None),
            "organisation": str(member.organisation.id),
            "channel": "email",
        },
    )
    assert resp.status_code == 403
    assert count(Comment) == 0


# ---------------------------------------------------------------- drafting


def test_frozen_version_cannot_be_edited(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("consultation", by=secretariat)
    as_user(secretariat)
    url = f"/documents/{doc.slug}/versions/1/edit"
    resp = client.post(url, data={"text": "# Rewritten after the fact\n"})
    assert resp.status_code == 409
    assert "frozen" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert docs.to_markdown(db.session.get(Version, doc.latest.id)) == SAMPLE
    assert client.get(url).status_code == 409


def test_draft_is_edited_through_its_page(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("draft", by=secretariat)
    as_user(secretariat)
    url = f"/documents/{doc.slug}/versions/1/edit"
    form = client.get(url).get_data(as_text=True)
    assert "Parliaments engage civil society openly" in form
    resp = client.post(url, data={"text": "# New Title\n\nOne paragraph only.\n"})
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "One paragraph only." in html and "Parliaments engage" not in html
    empty = client.post(url, data={"text": ""})
    assert empty.status_code == 400


def test_only_the_secretariat_edits(client, as_user, make_document, make_user):
    doc = make_document("draft")
    as_user(make_user("cso"))
    # A draft the user may not see is not found at all.
    assert (
        client.post(f"/documents/{doc.slug}/versions/1/edit", data={"text": "x"}).status_code == 404
    )


def test_secretariat_creates_a_document_and_adds_versions(client, as_user, make_user):
    as_user(make_user("secretariat"))
    resp = client.post(
        "/documents/new",
        data={
            "title": "Regional Charter",
            "slug": "regional-charter",
            "committee": "Standing Committee",
            "timezone": "Asia/Jakarta",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        "/documents/regional-charter/versions/new"
    )
    doc = db.session.scalar(select(Document))
    assert doc.timezone == "Asia/Jakarta" and doc.committee == "Standing Committee"

    bad_zone = client.post(
        "/documents/new",
        data={
            "title": "X",
            "slug": "another-one",
            "timezone": "Mars/Olympus",
        },
    )
    assert bad_zone.status_code == 400 and "not a time zone" in bad_zone.get_data(as_text=True)

    pasted = client.post(
        "/documents/regional-charter/versions/new",
        data={"source": "import", "label": "Zero draft", "text": SAMPLE},
    )
    assert pasted.status_code == 302
    v1 = doc.latest
    assert v1.state == "draft" and v1.label == "Zero draft"
    assert docs.to_markdown(v1) == SAMPLE
    # A second version while the first is a draft is refused, and the text is kept.
    again = client.post(
        "/documents/regional-charter/versions/new", data={"source": "import", "text": "# Another\n"}
    )
    assert again.status_code == 409 and "still a draft" in again.get_data(as_text=True)
    assert "# Another" in again.get_data(as_text=True)


def test_version_from_an_uploaded_file_and_from_a_copy(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("closed", by=secretariat)
    as_user(secretariat)
    url = f"/documents/{doc.slug}/versions/new"
    bad = client.post(
        url,
        data={"source": "import", "upload": (io.BytesIO(b"\xff\xfe"), "v2.md")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "UTF-8" in bad.get_data(as_text=True)
    up = client.post(
        url,
        data={
            "source": "import",
            "label": "Uploaded",
            "upload": (io.BytesIO(V2.encode()), "v2.md"),
        },
        content_type="multipart/form-data",
    )
    assert up.status_code == 302
    db.session.expire_all()
    v2 = docs.get_version(doc, 2)
    assert docs.to_markdown(v2) == V2

    # The copy button needs version 2 published and closed first.
    docs.publish(v2, by=secretariat)
    db.session.commit()
    copy = client.post(url, data={"source": "copy", "label": "Third"})
    assert copy.status_code == 302
    v3 = docs.get_version(doc, 3)
    assert v3.label == "Third" and docs.to_markdown(v3) == V2


def test_publish_with_a_deadline_in_the_document_time_zone(
    client, as_user, make_document, make_user
):
    secretariat = make_user("secretariat")
    doc = make_document("draft", by=secretariat)
    doc.timezone = "Asia/Bangkok"
    db.session.commit()
    as_user(secretariat)
    page = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    assert 'type="datetime-local"' in page and "Publish without comments" in page
    day = (utcnow() + timedelta(days=10)).date()
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/publish",
        data={"mode": "open", "closes_at": f"{day.isoformat()}T17:00"},
    )
    # The confirmation page names the deadline in the document's zone, then UTC.
    assert resp.status_code == 200 and "17:00 UTC+7" in resp.get_data(as_text=True)
    assert db.session.get(Version, doc.latest.id).state == "draft"
    resp = client.post(
        f"/documents/{doc.slug}/versions/1/publish",
        data={"mode": "open", "closes_at": f"{day.isoformat()}T17:00", "confirmed": "1"},
    )
    assert resp.status_code == 302
    v = db.session.get(Version, doc.latest.id)
    assert v.state == "consultation"
    # 17:00 in Bangkok (UTC+7) is 10:00 UTC.
    assert v.closes_at == datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "is published and open for comments" in html
    assert "17:00 UTC+7" in html and "10:00 UTC" in html


def test_publish_refuses_a_past_or_unreadable_deadline(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("draft", by=secretariat)
    as_user(secretariat)
    url = f"/documents/{doc.slug}/versions/1/publish"
    past = client.post(url, data={"mode": "open", "closes_at": "2020-01-01T10:00"})
    assert past.status_code == 400 and "future" in past.get_data(as_text=True)
    garbled = client.post(url, data={"mode": "open", "closes_at": "next friday"})
    assert garbled.status_code == 400 and "not a date" in garbled.get_data(as_text=True)
    assert db.session.get(Version, doc.latest.id).state == "draft"


def test_publish_closed_then_finalize(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("draft", by=secretariat)
    as_user(secretariat)
    base = f"/documents/{doc.slug}/versions/1"
    assert client.post(f"{base}/publish", data={"mode": "closed"}).status_code == 200  # confirm
    confirm = {"mode": "closed", "confirmed": "1"}
    assert client.post(f"{base}/publish", data=confirm).status_code == 302
    assert db.session.get(Version, doc.latest.id).state == "closed"
    page = client.get(base).get_data(as_text=True)
    assert "Make this the final text" in page and "Answer the comments" in page
    assert client.post(f"{base}/finalize").status_code == 200  # the confirmation page
    assert db.session.get(Version, doc.latest.id).state == "closed"
    assert client.post(f"{base}/finalize", data={"confirmed": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Version, doc.latest.id).state == "final"
    assert client.post(f"{base}/finalize").status_code == 409


def test_close_a_consultation(client, as_user, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("consultation", by=secretariat)
    base = f"/documents/{doc.slug}/versions/1"
    as_user(make_user("cso"))
    assert client.post(f"{base}/close").status_code == 403
    as_user(secretariat)
    assert "Close for comments" in client.get(base).get_data(as_text=True)
    # Before the deadline the reason is asked for (and kept).
    assert client.post(f"{base}/close").status_code == 400
    resp = client.post(
        f"{base}/close", data={"reason": "The workshop moved forward.", "confirmed": "1"}
    )
    assert resp.status_code == 302
    assert db.session.get(Version, doc.latest.id).state == "closed"
    assert "closed for comments" in client.get(resp.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------- paragraphs and answers


def test_paragraph_page_shows_comments_suggestions_and_history(client, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("consultation", by=secretariat)
    member = make_user("cso")
    v1 = doc.latest
    p1 = paragraph_with(v1, "Every submission")
    consultation.post_comment(
        version=v1,
        paragraph=p1,
        organisation=member.organisation,
        kind="suggestion",
        body="Give a time limit.",
        by=member,
        suggested_text="Every submission receives a written answer within thirty days.",
    )
    docs.close(v1, by=secretariat)
    v2 = docs.import_version(doc, V2, by=secretariat, label="Second draft")
    docs.publish(v2, by=secretariat)
    db.session.commit()

    resp = client.get(f"/paragraphs/{p1.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Paragraph 1.2" in html and "Every submission receives a written answer." in html
    assert member.organisation.name in html and "Give a time limit." in html
    assert "Suggestion" in html and "Web" in html
    assert re.search(r"<ins><span class=\"sr\">\[inserted: </span> within thirty days", html)
    p2 = paragraph_with(v2, "Every submission")
    assert f'href="/paragraphs/{p2.id}"' in html
    assert "edited</span>" in html  # its relation in version 2

    assert client.get("/paragraphs/999999").status_code == 404


def test_paragraph_of_a_draft_is_not_found_by_the_public(client, make_document):
    doc = make_document("draft")
    assert client.get(f"/paragraphs/{doc.latest.paragraphs[1].id}").status_code == 404


def _commented(make_document, make_user, state="closed"):
    secretariat = make_user("secretariat")
    doc = make_document("consultation", by=secretariat)
    member = make_user("cso")
    v = doc.latest
    c = consultation.post_comment(
        version=v,
        paragraph=v.paragraphs[2],
        organisation=member.organisation,
        kind="comment",
        body="Say who answers.",
        by=member,
    )
    if state == "closed":
        docs.close(v, by=secretariat)
    db.session.commit()
    return doc, c, secretariat


def test_secretariat_answers_a_comment_and_a_new_answer_keeps_the_old(
    client, as_user, make_document, make_user
):
    doc, c, secretariat = _commented(make_document, make_user)
    as_user(secretariat)
    page = client.get(f"/paragraphs/{c.paragraph_id}").get_data(as_text=True)
    assert "Save the answer" in page and 'name="decision"' in page

    resp = client.post(
        f"/comments/{c.id}/responses",
        data={
            "decision": "partly_accepted",
            "reason": "The secretariat answers, within 30 days.",
            "next": f"/paragraphs/{c.paragraph_id}",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/paragraphs/{c.paragraph_id}"
    )
    html = client.get(f"/paragraphs/{c.paragraph_id}").get_data(as_text=True)
    assert "Partly accepted" in html and "The secretariat answers, within 30 days." in html
    assert secretariat.display_name in html and "Give a new answer" in html

    client.post(
        f"/comments/{c.id}/responses", data={"decision": "accepted", "reason": "Reconsidered."}
    )
    html = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "Earlier answer:" in html and "Partly accepted" in html
    assert "Accepted" in html and "Reconsidered." in html
    assert count(Response) == 2


def test_answers_are_refused_while_open_and_to_non_secretariat(
    client, as_user, make_document, make_user
):
    doc, c, secretariat = _commented(make_document, make_user, state="consultation")
    as_user(secretariat)
    assert "Save the answer" not in client.get(f"/paragraphs/{c.paragraph_id}").get_data(
        as_text=True
    )
    resp = client.post(
        f"/comments/{c.id}/responses", data={"decision": "noted", "reason": "Early."}
    )
    assert resp.status_code == 409
    docs.close(db.session.get(Version, doc.latest.id), by=secretariat)
    db.session.commit()
    as_user(make_user("cso"))
    resp = client.post(f"/comments/{c.id}/responses", data={"decision": "noted", "reason": "Me."})
    assert resp.status_code == 403
    as_user(secretariat)
    empty = client.post(f"/comments/{c.id}/responses", data={"decision": "noted", "reason": " "})
    assert empty.status_code == 400
    undecided = client.post(f"/comments/{c.id}/responses", data={"decision": "", "reason": "Hm."})
    assert undecided.status_code == 400
    assert count(Response) == 0


def test_answer_does_not_redirect_elsewhere(client, as_user, make_document, make_user):
    doc, c, secretariat = _commented(make_document, make_user)
    as_user(secretariat)
    resp = client.post(
        f"/comments/{c.id}/responses",
        data={
            "decision": "noted",
            "reason": "Thanks.",
            "next": "https://evil.example/",
        },
    )
    assert resp.headers["Location"].endswith(f"/comments/{c.id}")


def test_version_comments_page_filters_the_unanswered(client, as_user, make_document, make_user):
    doc, c, secretariat = _commented(make_document, make_user)
    member = make_user("cso")
    v = db.session.get(Version, doc.latest.id)
    other = consultation.post_comment(
        version=v,
        paragraph=None,
        organisation=member.organisation,
        kind="comment",
        body="Overall fine.",
        by=secretariat,
        channel="email",
        on_behalf=True,
    )
    consultation.respond(other, decision="noted", reason="Thank you.", by=secretariat)
    db.session.commit()
    url = f"/documents/{doc.slug}/versions/1/comments"
    html = client.get(url).get_data(as_text=True)
    assert "Say who answers." in html and "Overall fine." in html
    assert "1 waiting for an answer" in html
    html = client.get(url + "?unanswered=1").get_data(as_text=True)
    assert "Say who answers." in html and "Overall fine." not in html


def test_comment_page_is_not_found_for_unknown_ids(client):
    resp = client.get("/comments/424242")
    assert resp.status_code == 404
    assert "There is no comment 424242." in resp.get_data(as_text=True)


# ---------------------------------------------------------------- compare


def test_compare_page_shows_word_diffs_and_a_summary(client, make_document, make_user):
    doc = two_versions(make_document, make_user("secretariat"))
    resp = client.get(f"/documents/{doc.slug}/compare/1/2")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r"<ins><span class=\"sr\">\[inserted: </span>[^<]*reasoned", html)
    assert "<del>" in html
    assert "added</span>" in html and "removed</span>" in html and "edited</span>" in html
    assert "<strong>1</strong> added" in html and "<strong>1</strong> removed" in html
    assert '<select id="pick-a" name="a">' in html
    changes = client.get(f"/documents/{doc.slug}/compare/1/2?changes=1").get_data(as_text=True)
    assert "Parliaments engage civil society openly" not in changes  # unchanged, hidden
    assert "Parliaments engage civil society openly" in html


def test_compare_pickers_lead_to_the_citable_address(client, make_document, make_user):
    doc = two_versions(make_document, make_user("secretariat"))
    resp = client.get(f"/documents/{doc.slug}/compare?a=2&b=1")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/documents/{doc.slug}/compare/2/1")


def test_compare_unknown_or_draft_versions_is_not_found(client, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("closed", by=secretariat)
    docs.copy_version(doc, by=secretariat)
    db.session.commit()
    assert client.get(f"/documents/{doc.slug}/compare/1/7").status_code == 404
    assert client.get(f"/documents/{doc.slug}/compare/1/2").status_code == 404  # a draft


# ---------------------------------------------------------------- search


def test_search_finds_a_paragraph_with_a_highlighted_snippet(client, make_document):
    doc = make_document("consultation")
    resp = client.get("/search?q=submission")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r"Every <mark[^>]*>submission</mark> receives", html)
    assert "2 results for" in html  # and "submissions", the same word
    p = paragraph_with(doc.latest, "submission")
    assert f'href="/paragraphs/{p.id}"' in html
    assert "Sample Framework · version 1 · paragraph 1.2" in html


def test_search_finds_a_posted_comment_with_its_organisation_and_decision(
    client, as_user, make_document, make_user
):
    doc = make_document("consultation")
    member = as_user(make_user("cso"))
    client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(
            doc.latest.paragraphs[2],
            organisation=str(member.organisation.id),
            body="Ombudsman oversight is missing.",
        ),
    )
    html = client.get("/search?q=ombudsman").get_data(as_text=True)
    assert re.search(r"<mark[^>]*>Ombudsman</mark> oversight", html)
    assert member.organisation.name in html and "Not answered yet" in html
    c = db.session.scalar(select(Comment))
    assert f'href="/comments/{c.id}"' in html and c.tracking in html


def test_search_snippets_do_not_let_markup_through(client, as_user, make_document, make_user):
    doc = make_document("consultation")
    member = as_user(make_user("cso"))
    client.post(
        f"/documents/{doc.slug}/versions/1/comments",
        data=comment_form(
            None,
            organisation=str(member.organisation.id),
            body="Watch out <script>alert(1)</script> zebra",
        ),
    )
    html = client.get("/search?q=zebra").get_data(as_text=True)
    assert re.search(r"<mark[^>]*>zebra</mark>", html)
    assert "<script>" not in html


def test_search_pages_and_notes(client, make_document):
    text = "# Many\n\n" + "".join(f"Transparency clause number {i}.\n\n" for i in range(45))
    make_document("consultation", text=text)
    first = client.get("/search?q=transparency").get_data(as_text=True)
    assert "45 results" in first and "page 1 of 3" in first
    assert 'href="/search?q=transparency&amp;page=2"' in first
    third = client.get("/search?q=transparency&page=3").get_data(as_text=True)
    assert third.count('class="hit"') == 5
    assert client.get("/search?q=transparency&page=9").status_code == 302
    odd = client.get("/search?q=transparency+AND+%28").get_data(as_text=True)
    assert "could not be read as written" in odd or "results" in odd
    assert client.get("/search").status_code == 200


# ---------------------------------------------------------------- every page


@pytest.mark.parametrize("who", ["anonymous", "cso", "secretariat"])
def test_pages_carry_no_inline_script_or_style(client, as_user, make_document, make_user, who):
    """The CSP forbids inline scripts and styles; pages must not need them."""
    secretariat = make_user("secretariat")
    doc = two_versions(make_document, secretariat)
    member = make_user("cso")
    v2 = doc.latest
    c = consultation.post_comment(
        version=v2,
        paragraph=v2.paragraphs[2],
        organisation=member.organisation,
        kind="comment",
        body="Fine.",
        by=member,
    )
    db.session.commit()
    if who != "anonymous":
        as_user(secretariat if who == "secretariat" else member)
    urls = [
        "/",
        f"/documents/{doc.slug}",
        f"/documents/{doc.slug}/versions/1",
        f"/documents/{doc.slug}/versions/2",
        f"/paragraphs/{v2.paragraphs[2].id}",
        f"/comments/{c.id}",
        f"/documents/{doc.slug}/compare/1/2",
        "/search?q=answer",
        f"/documents/{doc.slug}/versions/2/comments",
        "/sign-in",
        "/sign-up",
    ]
    for url in urls:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        # Scripts only from files (src=...): no inline code, no inline style.
        inline_script = re.search(r"<script(?![^>]*\ssrc=)", html)
        assert not inline_script and " style=" not in html and "<style" not in html, url
        assert '<a class="skip" href="#main">' in html and '<main id="main"' in html, url
        assert "Content-Security-Policy" in resp.headers
