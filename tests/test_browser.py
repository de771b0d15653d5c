"""Browser smoke test: a CSO member signs in, comments on a paragraph and sees it.

Drives Debian's chromium through Playwright against the app served on a free
loopback port. CI installs chromium (.ci/run); without it this module fails in
CI rather than being skipped.
"""

from __future__ import annotations

import shutil
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from consult import warm_up
from consult.consultation.models import Comment
from consult.extensions import db

from .conftest import PASSWORD

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    # Served as wsgi.py serves it: the language model loaded and the templates compiled
    # before the first request.
    warm_up(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def sign_in(page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit], form.stack input[type=submit]")
    page.wait_for_load_state()


def test_sign_in_comment_on_a_paragraph_and_see_it(
    app, live_server, browser, make_document, make_user
):
    doc = make_document("consultation")
    member = make_user("cso", email="lan@example.org", name="Lan Pham")
    paragraph = doc.latest.paragraphs[3]  # "Every submission receives a written answer."
    org_name = member.organisation.name
    db.session.remove()  # the live server uses its own sessions

    page = browser.new_page()
    sign_in(page, live_server, "lan@example.org")
    assert "Lan Pham" in page.inner_text("header")

    page.goto(f"{live_server}/documents/{doc.slug}/versions/1")
    # The page's one paragraph form opens under the paragraph, for that paragraph.
    page.locator("a.comment-on", has_text=f"Comment on paragraph {paragraph.number}").click()
    form = page.locator(f'[id="para-{paragraph.number}"] form.comment-form')
    assert form.locator("input[name=paragraph]").input_value() == str(paragraph.id)
    assert page.locator("form.comment-form").count() == 2  # this one and the version's
    form.locator("select[name=kind]").select_option("suggestion")
    form.locator("textarea[name=body]").fill("Say when the answer comes.")
    form.locator("textarea[name=suggested_text]").fill(
        "Every submission receives a written answer within 30 days."
    )
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    body = page.inner_text("main")
    assert "Say when the answer comes." in body
    assert org_name in body
    # The proposed change is shown as a word diff against the paragraph.
    assert page.locator("ins", has_text="within 30 days").count() >= 1
    page.screenshot(path=str(app.instance_path) + "/browser-comment.png", full_page=True)

    stored = db.session.scalars(db.select(Comment)).all()
    assert [(c.kind, c.paragraph_id, c.organisation.name) for c in stored] == [
        ("suggestion", paragraph.id, org_name)
    ]


CHARTER = (
    "# Outreach Charter\n\n## Principles\n\n"
    + "\n\n".join(
        f"Principle {n}: parliaments consult civil society on matter {n} in good time."
        for n in range(1, 11)
    )
    + "\n"
)


def test_committee_member_turns_a_closed_version_into_a_published_next_version(
    app, live_server, browser, make_document, make_user, make_org
):
    """From version 1 closed with 60 comments to version 2 open for comments, in the
    browser alone: start the copy, take up three suggestions, edit a paragraph, write
    the note, publish with a deadline."""
    from consult.consultation import services as cs
    from consult.documents import services as docs
    from consult.documents.models import ResponseEffect, Version
    from consult.timeutil import utcnow

    sec = make_user("secretariat")
    doc = make_document("consultation", text=CHARTER, by=sec)
    v1 = doc.latest
    chair = make_user("committee", email="chair@example.org", name="Dara Chair")
    docs.add_committee_member(doc, chair, role="chair", by=sec)
    members = [make_user("cso", org=make_org()) for _ in range(4)]
    principles = v1.paragraphs[2:]
    suggestions = []
    for i in range(60):
        member = members[i % 4]
        p = principles[i % 10]
        if i < 6:  # six suggestions, on principles 1–6
            c = cs.post_comment(
                version=v1,
                paragraph=p,
                organisation=member.organisation,
                kind="suggestion",
                body="Say how early.",
                suggested_text=p.text.replace("in good time", "at least 30 days ahead"),
                by=member,
            )
            suggestions.append(c)
        else:
            c = cs.post_comment(
                version=v1,
                paragraph=p,
                organisation=member.organisation,
                kind="comment" if i % 3 else "question",
                body=f"Comment number {i} on this principle.",
                by=member,
            )
    docs.close(v1, by=sec, reason="Workshop moved.")
    for c in suggestions:
        cs.respond(c, decision="accepted", reason="Notice periods help.", by=sec)
    db.session.commit()
    taken = [c.tracking for c in suggestions[:3]]
    slug = doc.slug
    db.session.remove()

    page = browser.new_page()
    sign_in(page, live_server, "chair@example.org")

    page.goto(f"{live_server}/documents/{slug}/versions/1")
    assert "60 in all" in page.inner_text("main")
    page.fill("#copy-label", "Second draft")
    page.click("text=Start version 2 as a copy")
    page.wait_for_load_state()
    assert "Version 2 created as a draft." in page.inner_text("main")

    page.click("text=Take up suggestions")
    page.wait_for_load_state()
    assert "0 of 6 suggestions taken up" in page.inner_text("main")
    for tracking in taken:
        page.click(f"a.button:has-text('{tracking}')")
        page.wait_for_load_state()
        assert page.locator("ins", has_text="at least 30 days ahead").count() >= 1
        page.click("text=Take up this wording")
        page.wait_for_load_state()
        assert f"Suggestion {tracking} is taken up" in page.inner_text("main")
    assert "3 of 6 suggestions taken up" in page.inner_text("main")

    page.click("text=paragraph editor")
    page.wait_for_load_state()
    page.click("a:has-text('Edit paragraph 1.10')")
    page.wait_for_load_state()
    page.fill(
        "textarea[name=source]",
        "Principle 10: parliaments answer every submission in writing.",
    )
    page.click("text=Save the paragraph")
    page.wait_for_load_state()
    assert "Paragraph 1.10 is saved." in page.inner_text("main")

    page.click("a:has-text('Version 2 — Second draft')")
    page.wait_for_load_state()
    page.fill("textarea[name=note]", "Three notice periods taken up; principle 10 rewritten.")
    page.click("text=Save the note")
    page.wait_for_load_state()
    deadline = (utcnow() + timedelta(days=14)).date().isoformat()
    page.fill("#closes-at", f"{deadline}T17:00")
    page.click("text=Publish and open for comments")
    page.wait_for_load_state()
    page.click("text=Yes, publish version 2")  # the confirmation page
    page.wait_for_load_state()

    main = page.inner_text("main")
    assert "Version 2 is published and open for comments." in main
    assert "4 paragraphs edited" in main and "3 of 6 suggestions taken up" in main
    assert "Three notice periods taken up" in main
    page.screenshot(path=str(app.instance_path) + "/browser-drafting.png", full_page=True)

    v2 = db.session.scalar(db.select(Version).where(Version.number == 2))
    assert v2.state == "consultation" and v2.closes_at > utcnow() + timedelta(days=13)
    assert v2.note == "Three notice periods taken up; principle 10 rewritten."
    texts = [p.text for p in v2.paragraphs]
    assert texts[2:5] == [
        f"Principle {n}: parliaments consult civil society on matter {n} at least 30 days ahead."
        for n in (1, 2, 3)
    ]
    assert texts[11] == "Principle 10: parliaments answer every submission in writing."
    effects = db.session.scalars(db.select(ResponseEffect)).all()
    assert sorted(e.response.comment.tracking for e in effects) == sorted(taken)
    assert {e.paragraph_id for e in effects} == {p.id for p in v2.paragraphs[2:5]}


def test_select_words_to_quote_preview_a_suggestion_and_post_it(
    app, live_server, browser, make_document, make_user
):
    doc = make_document("consultation")
    make_user("cso", email="mai@example.org", name="Mai Tran")
    paragraph = doc.latest.paragraphs[3]  # "Every submission receives a written answer."
    db.session.remove()

    page = browser.new_page()
    sign_in(page, live_server, "mai@example.org")

    page.goto(f"{live_server}/paragraphs/{paragraph.id}")
    # Drag the mouse from inside "written" to inside "answer", as a reader would: the
    # quote grows to whole words.
    box = page.evaluate(
        """(words) => {
            const node = document.querySelector('.para.focus .body p').firstChild;
            const at = node.textContent.indexOf(words);
            const rect = (i) => { const r = document.createRange();
                r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect(); };
            const a = rect(at + 2), b = rect(at + words.length - 3);
            return {x1: a.left + 1, y1: a.top + a.height / 2,
                    x2: b.right - 1, y2: b.top + b.height / 2};
        }""",
        "written answer",
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()
    form = page.locator("form.comment-form")
    assert form.locator("input[name=quote]").input_value() == "written answer"
    assert "Filled from your selection (2 words)" in page.inner_text("main")

    form.locator("select[name=kind]").select_option("suggestion")
    form.locator("textarea[name=body]").fill("Name a delay.")
    form.locator("textarea[name=suggested_text]").fill("reasoned written answer within 30 days")
    form.locator("input[name=preview]").click()
    page.wait_for_load_state()
    preview = page.locator("section.preview")
    assert preview.locator("ins", has_text="reasoned").count() == 1
    assert preview.locator("ins", has_text="within 30 days").count() == 1
    assert preview.locator("del").count() == 0
    assert db.session.scalars(db.select(Comment)).all() == []  # nothing stored yet
    page.screenshot(path=str(app.instance_path) + "/browser-preview.png", full_page=True)

    page.locator("form.comment-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "“written answer”" in page.inner_text("article.comment")
    assert page.locator("article.comment ins", has_text="within 30 days").count() == 1
    page.screenshot(path=str(app.instance_path) + "/browser-posted.png", full_page=True)
    (c,) = db.session.scalars(db.select(Comment)).all()
    assert (c.kind, c.paragraph_id, c.quote) == ("suggestion", paragraph.id, "written answer")
    assert paragraph.text[c.quote_start : c.quote_end] == "written answer"


def _drag_over(page, root: str, words: str) -> None:
    """Select `words` in the first text of `root` with the mouse, starting and ending
    inside a word, as a reader would."""
    box = page.evaluate(
        """([root, words]) => {
            document.querySelector(root).scrollIntoView({block: "center"});
            const node = document.querySelector(root).firstChild;
            const at = node.textContent.indexOf(words);
            const rect = (i) => { const r = document.createRange();
                r.setStart(node, i); r.setEnd(node, i + 1); return r.getBoundingClientRect(); };
            const a = rect(at + 2), b = rect(at + words.length - 3);
            return {x1: a.left + 1, y1: a.top + a.height / 2,
                    x2: b.right - 1, y2: b.top + b.height / 2};
        }""",
        [root, words],
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()


def test_on_the_version_page_one_form_moves_to_the_paragraph_commented_on(
    app, live_server, browser, make_document, make_user
):
    """Selecting words in a paragraph opens the page's one paragraph form under it with
    the quote; another paragraph's link moves it there, emptied of the quote; a second
    click closes it. What is sent is the paragraph the form stands under."""
    doc = make_document("consultation")
    make_user("cso", email="mai@example.org", name="Mai Tran")
    first, second = doc.latest.paragraphs[3], doc.latest.paragraphs[2]
    db.session.remove()

    page = browser.new_page()
    sign_in(page, live_server, "mai@example.org")
    page.goto(f"{live_server}/documents/{doc.slug}/versions/1")
    assert page.locator("form.comment-form").count() == 1  # the version's, until asked
    _drag_over(page, f'[id="para-{first.number}"] .body p', "written answer")
    form = page.locator(f'[id="para-{first.number}"] form.comment-form')
    assert form.locator("input[name=quote]").input_value() == "written answer"
    assert form.locator("input[name=paragraph]").input_value() == str(first.id)
    heading = page.locator(".inline-comment-h")
    assert heading.inner_text() == f"Comment on paragraph {first.number}"

    other = page.locator(f'[id="para-{second.number}"] a.comment-on')
    other.click()
    assert page.locator(f'[id="para-{first.number}"] form').count() == 0
    form = page.locator(f'[id="para-{second.number}"] form.comment-form')
    assert form.locator("input[name=quote]").input_value() == ""
    assert form.locator("input[name=paragraph]").input_value() == str(second.id)
    assert other.get_attribute("aria-expanded") == "true"
    other.click()  # closes it
    assert page.locator(f'[id="para-{second.number}"] form').count() == 0
    assert other.get_attribute("aria-expanded") == "false"
    other.click()
    form.locator("textarea[name=body]").fill("Say who hears whom.")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Say who hears whom." in page.inner_text("article.comment")
    (c,) = db.session.scalars(db.select(Comment)).all()
    assert c.paragraph_id == second.id and c.quote is None


def test_without_javascript_the_link_leads_to_the_paragraphs_form(
    app, live_server, browser, make_document, make_user
):
    doc = make_document("consultation")
    make_user("cso", email="mai@example.org", name="Mai Tran")
    paragraph = doc.latest.paragraphs[3]
    db.session.remove()

    page = browser.new_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, "mai@example.org")
    page.goto(f"{live_server}/documents/{doc.slug}/versions/1")
    page.locator("a", has_text=f"Comment on paragraph {paragraph.number}").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/paragraphs/{paragraph.id}#new-comment")
    form = page.locator("#new-comment form.comment-form")
    form.locator("textarea[name=body]").fill("Within how many days?")
    form.locator("input[name=quote]").fill("written answer")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "“written answer”" in page.inner_text("article.comment")
    (c,) = db.session.scalars(db.select(Comment)).all()
    assert (c.paragraph_id, c.quote) == (paragraph.id, "written answer")
