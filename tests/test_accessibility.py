"""Every key page of the demo, as each role sees it, at 1280 and 390 pixels: no page is
wider than the screen, and axe-core (vendored from npm, tests/vendor) finds no violation
of any impact. One walk for the whole demo (loading it costs seconds); the failure lists
every page, width and rule at once.

A11Y_REPORT=path writes what was found as JSON, for whoever fixes it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.accounts.models import Organisation
from consult.consultation.models import Comment
from consult.demo import load_demo
from consult.documents.models import Document
from consult.extensions import db
from tests.test_browser import browser, live_server, sign_in  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    # The walk's outcome does not depend on the database: it runs in the SQLite pass only.
    pytest.mark.once,
    # The search page's Whoosh searcher is kept per server thread (whoosh_backend._searcher);
    # when the live server's request threads end, it is collected unclosed.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WIDTHS = (1280, 390)
#: Who walks, and the account they sign in with (None: signed out).
ROLES = {
    "visitor": None,
    "cso": "sokha.chan@example.org",
    "secretariat": "nurul.hashim@example.org",
    "chair": "maria.lim@example.org",
}


def _pages(role: str) -> list[str]:
    """The key pages of the demo for a role: what each would open in a working day."""
    doc = db.session.scalar(select(Document).order_by(Document.id).limit(1))
    slug = doc.slug
    n = max(v.number for v in doc.versions)
    commented = db.session.scalar(
        select(Comment).where(Comment.version_id == doc.versions[0].id).limit(1)
    )
    org = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    para = commented.paragraph_id if commented.paragraph_id else doc.versions[0].paragraphs[1].id
    pages = [
        "/",
        f"/documents/{slug}",
        *[f"/documents/{slug}/versions/{v.number}" for v in doc.versions],
        f"/paragraphs/{para}",
        f"/comments/{commented.id}",
        f"/documents/{slug}/versions/1/comments",
        f"/documents/{slug}/compare/1/{n}",
        f"/documents/{slug}/compare/1/{n}/annotated",
        f"/documents/{slug}/compare",
        f"/documents/{slug}/versions/1/report",
        f"/documents/{slug}/versions/{n}/report",
        f"/documents/{slug}/versions/{n}/provenance",
        "/organisations",
        f"/organisations/{org.slug}",
        f"/organisations/{org.slug}/accountability",
        "/search?q=parliament",
        "/record/",
        f"/record/receipts/{commented.tracking}",
    ]
    if role == "visitor":
        pages += ["/sign-in", "/sign-up", "/forgot-password"]
    else:
        pages += ["/account"]
    if role == "cso":
        mine = db.session.scalar(select(Organisation).where(Organisation.slug == "cchr"))
        if mine is not None:
            pages.append(f"/organisations/{mine.slug}/input")
    if role in ("secretariat", "chair"):
        pages += [
            f"/documents/{slug}/versions/{n}/draft",
            f"/documents/{slug}/committee",
            f"/documents/{slug}/versions/1/suggestions",
            "/moderation",
            "/intake",
            "/documents/new",
        ]
    return pages


def _check(page, url: str) -> list[dict]:
    """Load once at the widest width, run axe, then narrow the window (the layout reflows
    without a reload) and measure each width."""
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    resp = page.goto(url)
    if resp is None or resp.status >= 400:
        return [{"url": url, "width": WIDTHS[0], "rule": "http", "detail": resp and resp.status}]
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => "
        "({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    found = [
        {
            "url": url,
            "width": WIDTHS[0],
            "rule": v["id"],
            "impact": v["impact"],
            "detail": v["nodes"],
        }
        for v in result
    ]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width:
            found.append({"url": url, "width": width, "rule": "horizontal-scroll", "detail": wide})
    return found


def test_every_key_page_fits_a_phone_and_passes_axe(app, browser, live_server):  # noqa: F811
    load_demo()
    db.session.commit()
    found: list[dict] = []
    for role, email in ROLES.items():
        context = browser.new_context(bypass_csp=True)  # to inject axe; the pages keep theirs
        page = context.new_page()
        if email:
            sign_in(page, live_server, email)
        for path in _pages(role):
            for f in _check(page, live_server + path):
                found.append({"role": role, **f})
        context.close()
    if os.environ.get("A11Y_REPORT"):
        Path(os.environ["A11Y_REPORT"]).write_text(json.dumps(found, indent=1))
    lines = [
        f"{f['role']} {f['width']}px {f['url'].replace(live_server, '')}: {f['rule']}"
        f"{' (' + f['impact'] + ')' if f.get('impact') else ''} {f['detail']}"
        for f in found
    ]
    assert not found, f"{len(found)} problems:\n" + "\n".join(lines)
