"""Browser smoke test: a CSO member signs in, comments on a paragraph and sees it.

Drives Debian's chromium through Playwright against the app served on a free
loopback port. CI installs chromium (.ci/run); without it this module fails in
CI rather than being skipped.
"""

from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

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


def test_sign_in_comment_on_a_paragraph_and_see_it(
    app, live_server, browser, make_document, make_user
):
    doc = make_document("consultation")
    member = make_user("cso", email="lan@example.org", name="Lan Pham")
    paragraph = doc.latest.paragraphs[3]  # "Every submission receives a written answer."
    org_name = member.organisation.name
    db.session.remove()  # the live server uses its own sessions

    page = browser.new_page()
    page.goto(f"{live_server}/sign-in")
    page.fill("input[name=email]", "lan@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit], form.stack input[type=submit]")
    page.wait_for_load_state()
    assert "Lan Pham" in page.inner_text("header")

    page.goto(f"{live_server}/documents/{doc.slug}/versions/1")
    summary = page.locator("summary", has_text=f"Comment on paragraph {paragraph.number}")
    summary.click()
    form = summary.locator("xpath=..").locator("form")
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
