"""The committee's pages: the paragraph editor, conflicts, taking up suggestions, the
lineage review, the note and change summary, closing early and the committee."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from consult.consultation import services as cs
from consult.consultation.models import Response
from consult.documents import drafting
from consult.documents import services as docs
from consult.documents.models import LineageLink, ResponseEffect, Version
from consult.extensions import db
from consult.record.models import Event
from consult.timeutil import utcnow

from .conftest import SAMPLE, count, post_comment

# SAMPLE's paragraphs: "" title, "1" Principles, "1.1", "1.2", "2" Mechanisms, "2.1", "2.2".
OPENLY, ANSWER, HEARINGS = 2, 3, 5


def fresh(version: Version) -> Version:
    db.session.expire_all()
    return db.session.get(Version, version.id)


def relations(version: Version) -> dict:
    """paragraph text (or the removed one's, prefixed '-') → relation."""
    out = {}
    for lk in db.session.scalars(select(LineageLink).where(LineageLink.version_id == version.id)):
        if lk.paragraph is None:
            out["-" + lk.predecessor.text] = lk.relation
        else:
            out[lk.paragraph.text] = lk.relation
    return out


@pytest.fixture
def committee(make_document, make_user):
    """Version 1 closed with two suggestions; version 2 a draft copied from it; the
    drafter and a second drafter on the committee; the secretariat."""
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    v1 = doc.latest
    member = make_user("cso")
    whole = cs.post_comment(
        version=v1,
        paragraph=v1.paragraphs[ANSWER],
        organisation=member.organisation,
        kind="suggestion",
        body="Say when.",
        suggested_text="Every submission receives a written answer within 30 days.",
        by=member,
    )
    quoted = cs.post_comment(
        version=v1,
        paragraph=v1.paragraphs[OPENLY],
        organisation=member.organisation,
        kind="suggestion",
        body="Plainer.",
        suggested_text="honestly",
        quote="in good faith",
        by=member,
    )
    docs.close(v1, by=sec, reason="Test.")
    drafter, other = make_user("committee"), make_user("committee")
    docs.add_committee_member(doc, drafter, by=sec)
    docs.add_committee_member(doc, other, by=sec)
    v2 = docs.copy_version(doc, by=drafter)
    db.session.commit()
    return doc, v2, drafter, other, sec, whole, quoted


def base(doc, number=2) -> str:
    return f"/documents/{doc.slug}/versions/{number}"


# ---------------------------------------------------------------- the editor


def test_the_editor_lists_paragraphs_with_their_actions(client, as_user, committee):
    doc, v2, drafter, *_ = committee
    as_user(drafter)
    html = client.get(f"{base(doc)}/draft").get_data(as_text=True)
    assert "Every submission receives a written answer." in html
    assert html.count('value="move_up"') == len(v2.paragraphs) - 1
    assert html.count('value="merge"') == len(v2.paragraphs) - 1
    assert "rel-unchanged" not in html  # only changes are marked
    version_page = client.get(base(doc)).get_data(as_text=True)
    assert "Edit paragraph by paragraph" in version_page


def test_only_the_committee_opens_the_editor(client, as_user, committee, make_user):
    doc, *_ = committee
    as_user(make_user("cso"))
    assert client.get(f"{base(doc)}/draft").status_code == 404  # a draft they may not see
    as_user(make_user("committee"))  # on no committee
    assert client.get(f"{base(doc)}/draft").status_code == 404
    as_user(make_user("secretariat"))  # sees drafts, does not edit them
    assert client.get(f"{base(doc)}/draft").status_code == 403


def test_edit_a_paragraph_keeps_its_lineage_and_is_recorded(client, as_user, committee):
    doc, v2, drafter, *_ = committee
    p = v2.paragraphs[ANSWER]
    lineage = p.lineage
    as_user(drafter)
    url = f"{base(doc)}/paragraphs/{p.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="revision" type="hidden" value="1"' in form
    resp = client.post(
        url,
        data={
            "source": "Every submission receives a reasoned answer.\r\n",
            "revision": "1",
            "base_source": p.source,
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#p-{p.id}")
    v2 = fresh(v2)
    p = v2.paragraphs[ANSWER]
    assert p.source == "Every submission receives a reasoned answer."
    assert p.lineage == lineage and p.revision == 2
    assert relations(v2)["Every submission receives a reasoned answer."] == "edited"
    editor = client.get(f"{base(doc)}/draft").get_data(as_text=True)
    assert 'class="badge rel rel-edited">edited</span>' in editor
    recorded = db.session.scalars(select(Event).where(Event.kind == "draft.changed")).all()
    assert [json.loads(e.payload)["operation"] for e in recorded] == ["edit"]


def test_second_save_gets_a_conflict_page_with_both_texts_and_a_merge(client, as_user, committee):
    doc, v2, drafter, other, *_ = committee
    p = v2.paragraphs[ANSWER]
    url = f"{base(doc)}/paragraphs/{p.id}/edit"
    original = p.source
    as_user(other)
    first = client.post(
        url,
        data={
            "source": "Every submission receives a written answer in time.",
            "revision": "1",
            "base_source": original,
        },
    )
    assert first.status_code == 302
    as_user(drafter)
    second = client.post(
        url,
        data={
            "source": "Each submission receives a written answer.",
            "revision": "1",
            "base_source": original,
        },
    )
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else saved this paragraph" in html
    assert "Every submission receives a written answer in time." in html  # theirs
    assert "Each submission receives a written answer." in html  # yours, never lost
    # The merge of both edits, ready to save over revision 2.
    assert "Each submission receives a written answer in time.</textarea>" in html
    assert 'name="revision" type="hidden" value="2"' in html
    assert (
        fresh(v2).paragraphs[ANSWER].source == "Every submission receives a written answer in time."
    )
    again = client.post(
        url,
        data={
            "source": "Each submission receives a written answer in time.",
            "revision": "2",
            "base_source": "Every submission receives a written answer in time.",
        },
    )
    assert again.status_code == 302
    assert (
        fresh(v2).paragraphs[ANSWER].source == "Each submission receives a written answer in time."
    )


def test_a_failed_save_shows_what_was_typed(client, as_user, committee):
    doc, v2, drafter, _, sec, *_ = committee
    p = v2.paragraphs[ANSWER]
    as_user(drafter)
    url = f"{base(doc)}/paragraphs/{p.id}/edit"
    docs.publish(v2, by=sec, closes_at=utcnow() + timedelta(days=3))  # frozen meanwhile
    db.session.commit()
    resp = client.post(url, data={"source": "My careful new wording.", "revision": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "frozen" in html
    assert "My careful new wording.</textarea>" in html


def test_a_paragraph_deleted_meanwhile_offers_to_insert_the_typed_text(client, as_user, committee):
    doc, v2, drafter, other, *_ = committee
    p = v2.paragraphs[ANSWER]
    as_user(other)
    act = f"{base(doc)}/paragraphs/{p.id}/act"
    assert client.post(act, data={"action": "delete"}).status_code == 302
    as_user(drafter)
    resp = client.post(
        f"{base(doc)}/paragraphs/{p.id}/edit", data={"source": "Kept words.", "revision": "1"}
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "was deleted" in html
    assert "Kept words.</textarea>" in html and "Insert it at the top" in html


def test_insert_move_merge_split_and_delete_keep_lineage(client, as_user, committee):
    doc, v2, drafter, *_ = committee
    as_user(drafter)
    ps = v2.paragraphs
    answer, openly = ps[ANSWER], ps[OPENLY]
    ins = client.post(
        f"{base(doc)}/insert", data={"after": str(answer.id), "source": "A new promise."}
    )
    assert ins.status_code == 302
    act = f"{base(doc)}/paragraphs/{answer.id}/act"
    assert client.post(act, data={"action": "move_up"}).status_code == 302
    v2 = fresh(v2)
    assert [p.text for p in v2.paragraphs[2:5]] == [
        "Every submission receives a written answer.",
        "Parliaments engage civil society openly and in good faith.",
        "A new promise.",
    ]
    rel = relations(v2)
    assert rel["A new promise."] == "added" and "moved" in rel.values()
    # Split at a marked point, then merge back.
    split_url = f"{base(doc)}/paragraphs/{openly.id}/split"
    page = client.get(split_url).get_data(as_text=True)
    assert "||" in page
    bad = client.post(
        split_url, data={"source": "Parliaments engage || everyone.", "revision": "1"}
    )
    assert bad.status_code == 400 and "must stay as it is" in bad.get_data(as_text=True)
    assert "Parliaments engage || everyone." in bad.get_data(as_text=True)  # kept
    ok = client.post(
        split_url,
        data={
            "source": "Parliaments engage civil society openly ||and in good faith.",
            "revision": "1",
        },
    )
    assert ok.status_code == 302
    v2 = fresh(v2)
    rel = relations(v2)
    assert rel["Parliaments engage civil society openly"] == "split"
    assert rel["and in good faith."] == "split"
    merge = client.post(f"{base(doc)}/paragraphs/{openly.id}/act", data={"action": "merge"})
    assert merge.status_code == 302
    v2 = fresh(v2)
    assert relations(v2)["Parliaments engage civil society openly and in good faith."] == "moved"
    new = next(p for p in v2.paragraphs if p.text == "A new promise.")
    client.post(f"{base(doc)}/paragraphs/{new.id}/act", data={"action": "delete"})
    assert "A new promise." not in relations(fresh(v2))
    # A refused move says why and changes nothing.
    first = fresh(v2).paragraphs[0]
    resp = client.post(
        f"{base(doc)}/paragraphs/{first.id}/act", data={"action": "move_up"}, follow_redirects=True
    )
    assert "already the first paragraph" in resp.get_data(as_text=True)


def test_whole_text_edits_do_not_overwrite_each_other(client, as_user, committee):
    doc, v2, drafter, other, *_ = committee
    url = f"{base(doc)}/edit"
    as_user(drafter)
    page = client.get(url).get_data(as_text=True)
    assert 'name="base_text" type="hidden"' in page
    start = docs.to_markdown(v2)
    as_user(other)
    mine = start.replace("openly", "openly and early")
    assert client.post(url, data={"text": mine, "base_text": start}).status_code == 302
    as_user(drafter)
    yours = start.replace("Public hearings", "Open public hearings")
    resp = client.post(url, data={"text": yours, "base_text": start})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "Someone else saved this text" in html
    assert "openly and early" in html and "Open public hearings" in html


# ---------------------------------------------------------------- taking up suggestions


def test_take_up_a_suggestion_from_the_preview(client, as_user, committee):
    doc, v2, drafter, _, _, whole, quoted = committee
    as_user(drafter)
    listing = client.get(f"{base(doc)}/suggestions").get_data(as_text=True)
    assert "0 of 2 suggestions taken up" in listing
    assert whole.tracking in listing and quoted.tracking in listing
    url = f"{base(doc)}/suggestions/{whole.id}"
    preview = client.get(url).get_data(as_text=True)
    assert "<ins>" in preview and "within 30 days" in preview
    assert count(Response) == 0  # nothing saved by looking
    no_reason = client.post(url, data={"decision": "accepted", "reason": "", "revision": "1"})
    assert no_reason.status_code == 400 and "give the reason" in no_reason.get_data(as_text=True)
    resp = client.post(
        url, data={"decision": "accepted", "reason": "A deadline helps.", "revision": "1"}
    )
    assert resp.status_code == 302
    v2 = fresh(v2)
    assert (
        v2.paragraphs[ANSWER].text == "Every submission receives a written answer within 30 days."
    )
    [effect] = db.session.scalars(select(ResponseEffect)).all()
    assert effect.paragraph_id == v2.paragraphs[ANSWER].id
    assert effect.response.comment_id == whole.id and effect.response.reason == "A deadline helps."
    listing = client.get(f"{base(doc)}/suggestions").get_data(as_text=True)
    assert "1 of 2 suggestions taken up" in listing and "Taken up in" in listing
    # The quoted one replaces only its words.
    client.post(
        f"{base(doc)}/suggestions/{quoted.id}",
        data={"decision": "partly_accepted", "reason": "Plainer.", "revision": "1"},
    )
    assert (
        fresh(v2).paragraphs[OPENLY].text == "Parliaments engage civil society openly and honestly."
    )
    # The change summary on the version page counts them.
    page = client.get(base(doc)).get_data(as_text=True)
    assert "2 of 2 suggestions taken up" in page and "2 paragraphs edited" in page


def test_the_list_shows_an_edited_suggestion_as_it_stands(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    v1 = doc.latest
    member = make_user("cso")
    c = post_comment(
        v1,
        v1.paragraphs[ANSWER],
        member,
        kind="suggestion",
        body="Say when.",
        suggested_text="Every submission receives a written answer within 60 days.",
    )
    cs.edit_comment(
        c,
        body="Say when, and sooner.",
        suggested_text="Every submission receives a written answer within 30 days.",
        quote=None,
        by=member,
    )
    docs.close(v1, by=sec, reason="Test.")
    drafter = make_user("committee")
    docs.add_committee_member(doc, drafter, by=sec)
    docs.copy_version(doc, by=drafter)
    db.session.commit()
    as_user(drafter)
    listing = client.get(f"{base(doc)}/suggestions").get_data(as_text=True)
    # The wording taken up is the current one, so the list shows that one.
    assert "within 30 days" in listing and "within 60 days" not in listing
    page = client.get(f"{base(doc)}/suggestions/{c.id}").get_data(as_text=True)
    assert "Say when, and sooner." in page and "within 30 days" in page


def test_a_stale_preview_is_a_conflict_that_shows_the_new_text(client, as_user, committee):
    doc, v2, drafter, other, _, whole, _ = committee
    p = v2.paragraphs[ANSWER]
    as_user(other)
    client.post(
        f"{base(doc)}/paragraphs/{p.id}/edit",
        data={"source": "Every submission receives a kind answer.", "revision": "1"},
    )
    as_user(drafter)
    resp = client.post(
        f"{base(doc)}/suggestions/{whole.id}",
        data={"decision": "accepted", "reason": "Yes.", "revision": "1"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "Someone else saved" in html
    assert "kind" in html and 'name="revision" type="hidden" value="2"' in html
    assert count(ResponseEffect) == 0 and count(Response) == 0


# ---------------------------------------------------------------- lineage review and publishing


V2 = SAMPLE.replace(
    "Every submission receives a written answer.",
    "Every submission receives a reasoned written answer within thirty days.",
)


def test_an_imported_draft_is_reviewed_before_it_is_published(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("closed", by=sec)
    as_user(sec)
    resp = client.post(f"/documents/{doc.slug}/versions/new", data={"source": "import", "text": V2})
    assert resp.status_code == 302
    v2 = docs.get_version(doc, 2)
    page = client.get(base(doc)).get_data(as_text=True)
    assert "not reviewed yet" in page
    day = (utcnow() + timedelta(days=9)).date().isoformat()
    refused = client.post(f"{base(doc)}/publish", data={"mode": "open", "closes_at": day})
    assert refused.status_code == 409 and "lineage" in refused.get_data(as_text=True)
    assert fresh(v2).state == "draft"
    review = client.get(f"{base(doc)}/lineage").get_data(as_text=True)
    assert "edited" in review and "%" in review
    v2 = fresh(v2)
    edited = v2.paragraphs[ANSWER]
    form = {}
    for p in v2.paragraphs:
        was = next(
            lk.predecessor.number or f"#{lk.predecessor.position + 1}"
            for lk in db.session.scalars(
                select(LineageLink).where(LineageLink.paragraph_id == p.id)
            )
        )
        form[f"from-{p.id}"] = form[f"was-{p.id}"] = was
    form[f"from-{edited.id}"] = "9.9"
    bad = client.post(f"{base(doc)}/lineage", data=form)
    assert bad.status_code == 400 and "no paragraph 9.9" in bad.get_data(as_text=True)
    assert 'value="9.9"' in bad.get_data(as_text=True)
    form[f"from-{edited.id}"] = "new"  # the committee says: a new paragraph
    ok = client.post(f"{base(doc)}/lineage", data=form)
    assert ok.status_code == 302
    links = db.session.scalars(select(LineageLink).where(LineageLink.version_id == v2.id)).all()
    assert {lk.method for lk in links if lk.paragraph_id == edited.id} == {"corrected"}
    assert "alignment" not in {lk.method for lk in links}
    assert drafting.unreviewed_links(v2) == 0
    published = client.post(
        f"{base(doc)}/publish", data={"mode": "open", "closes_at": day, "confirmed": "1"}
    )
    assert published.status_code == 302 and fresh(v2).state == "consultation"


def test_note_and_change_summary_on_the_version_page(client, as_user, committee):
    doc, v2, drafter, *_ = committee
    as_user(drafter)
    resp = client.post(f"{base(doc)}/note", data={"note": "Answers now come *on time*."})
    assert resp.status_code == 302
    assert fresh(v2).note == "Answers now come *on time*."
    page = client.get(base(doc)).get_data(as_text=True)
    assert "<em>on time</em>" in page and "What changed since version 1" in page
    assert "0 of 2 suggestions taken up" in page and "0 of 2 comments answered" in page


# ---------------------------------------------------------------- the version's life


def test_closing_early_needs_a_reason_which_is_shown(client, as_user, make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("consultation", by=sec)
    as_user(sec)
    page = client.get(base(doc, 1)).get_data(as_text=True)
    assert "Reason for closing before the deadline" in page
    assert client.post(f"{base(doc, 1)}/close", data={"reason": " "}).status_code == 400
    assert fresh(doc.latest).state == "consultation"
    resp = client.post(
        f"{base(doc, 1)}/close", data={"reason": "The summit moved.", "confirmed": "1"}
    )
    assert resp.status_code == 302
    v = fresh(doc.latest)
    assert v.state == "closed" and v.close_reason == "The summit moved."
    assert "early: The summit moved." in client.get(base(doc, 1)).get_data(as_text=True)


def test_a_passed_deadline_shows_the_version_closed(client, make_document):
    doc = make_document("consultation")
    v = doc.latest
    v.closes_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    page = client.get(base(doc, 1)).get_data(as_text=True)
    assert "Open for comments" not in page and 'state-closed">Closed' in page
    assert fresh(v).state == "closed" and fresh(v).close_reason == "deadline"


def test_start_the_next_version_as_a_copy_and_the_race_for_its_number(
    client, as_user, make_document, make_user
):
    sec = make_user("secretariat")
    doc = make_document("closed", by=sec)
    as_user(sec)
    page = client.get(base(doc, 1)).get_data(as_text=True)
    assert "Start version 2 as a copy" in page
    assert len(doc.versions) == 1  # the page saw version 1 as the latest
    # Someone else starts version 2 in another request, after this one looked.
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO version (document_id, number, label, state, note, created_at) "
                "VALUES (:d, 2, 'theirs', 'draft', '', :now)"
            ),
            {"d": doc.id, "now": utcnow()},
        )
    resp = client.post(f"/documents/{doc.slug}/versions/new", data={"source": "copy"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "started version 2" in html and "same time" in html
    db.session.expire_all()
    assert [v.label for v in doc.versions] == ["First draft", "theirs"]


def test_the_secretariat_forms_the_committee(client, as_user, make_document, make_user):
    sec = make_user("secretariat")
    doc = make_document("draft", by=sec)
    chair = make_user("committee", email="chair@example.org", name="Ms Chair")
    as_user(sec)
    url = f"/documents/{doc.slug}/committee"
    resp = client.post(url, data={"email": "chair@example.org", "role": "chair"})
    assert resp.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Ms Chair" in html and "Chair" in html
    unknown = client.post(url, data={"email": "nobody@example.org", "role": "drafter"})
    assert unknown.status_code == 404 and "nobody@example.org" in unknown.get_data(as_text=True)
    cso = make_user("cso", email="cso@example.org")
    refused = client.post(url, data={"email": "cso@example.org", "role": "drafter"})
    assert refused.status_code == 400 and "CSO account" in refused.get_data(as_text=True)
    assert client.post(f"{url}/{sec.id}/remove").status_code == 302
    db.session.expire_all()
    assert [(m.user.email, m.role) for m in doc.committee_members] == [
        ("chair@example.org", "chair")
    ]
    as_user(chair)
    assert client.get(url).status_code == 403
    as_user(cso)
    assert client.get(url).status_code == 404  # the document is not public yet


def test_drafting_pages_carry_no_inline_script_or_style(client, as_user, committee, make_user):
    doc, v2, drafter, _, sec, whole, _ = committee
    p = v2.paragraphs[ANSWER]
    as_user(drafter)
    urls = [
        f"{base(doc)}/draft",
        f"{base(doc)}/paragraphs/{p.id}/edit",
        f"{base(doc)}/paragraphs/{p.id}/split",
        f"{base(doc)}/insert?after={p.id}",
        f"{base(doc)}/suggestions",
        f"{base(doc)}/suggestions/{whole.id}",
        f"{base(doc)}/lineage",
        f"{base(doc)}/edit",
        base(doc),
    ]
    for url in urls:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        # Scripts only from static files (the CSP forbids inline ones), no inline styles.
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), url
        assert " style=" not in html and "<style" not in html, url
    as_user(sec)
    resp = client.get(f"/documents/{doc.slug}/committee")
    assert resp.status_code == 200 and " style=" not in resp.get_data(as_text=True)
