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

from consult.demo import load_demo
from consult.extensions import db
from tests.demo_pages import ROLES, pages_for
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
        for path in pages_for(role):
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
