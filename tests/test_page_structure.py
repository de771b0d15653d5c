"""Page structure a screen reader and a keyboard rely on (issue 22), checked on the HTML
without a browser; the browser walk (test_accessibility) checks the demo with axe-core."""

from __future__ import annotations

import re

from consult.documents.models import Paragraph


def _headings(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<h([1-6])[\s>]", html)]


def _in_order(levels: list[int]) -> bool:
    """No heading skips a level below the one before it (h1 → h3 does)."""
    return all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


def test_a_quoted_heading_is_not_one_of_the_pages_headings(client, make_document):
    doc = make_document()
    v = doc.versions[0]
    heading = next(p for p in v.paragraphs if p.kind == "heading" and "Principles" in p.source)
    assert isinstance(heading, Paragraph)
    html = client.get(f"/paragraphs/{heading.id}").get_data(as_text=True)
    # Shown, in bold, but not an <h3> under the page's <h1> before its <h2>s.
    assert re.search(r'<p class="quoted-heading h\d">Principles</p>', html)
    levels = _headings(html)
    assert levels[0] == 1
    assert _in_order(levels), levels


def test_the_version_page_skips_to_its_text(client, make_document):
    doc = make_document()
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    link = html.index('href="#version-text"')
    assert "Skip to the text" in html[link : link + 80]
    target = html.index('id="version-text"')
    # The link comes before the download links; the text it skips to comes after them.
    assert link < html.index("/export") < target if "/export" in html else link < target
    assert target < html.index('id="para-1"')


def test_report_chart_tables_have_named_header_cells(client, make_document, make_user):
    from consult.documents import services as docs
    from consult.extensions import db
    from tests.conftest import post_comment

    doc = make_document()
    v = doc.versions[0]
    post_comment(v, v.paragraphs[2], make_user("cso"))
    docs.close(v, by=make_user("secretariat"))
    db.session.commit()
    html = client.get(f"/documents/{doc.slug}/versions/1/report").get_data(as_text=True)
    assert 'class="chart-pair"' in html  # the charts are there, with their tables
    assert '<th scope="col"></th>' not in html
    assert '<th scope="col"><span class="sr">Category</span></th>' in html
    levels = _headings(html)
    assert _in_order(levels), levels


def test_search_filters_wait_behind_a_disclosure(client, world):
    """On a phone the ~25 filter links no longer come before the first result: they are
    in a closed <details> (shown beside the results on a wide screen, by style.css)."""
    html = client.get("/search?q=type:comment").get_data(as_text=True)
    box = html.index('<details class="facets-box">')
    assert html.index("<summary>Narrow the results</summary>", box) < html.index(
        "<h2>Decision</h2>"
    )
    assert html.index("</details>", box) < html.index('<ol class="hits">')
    assert html.index('<a href="/comments/') > html.index("</details>", box)
