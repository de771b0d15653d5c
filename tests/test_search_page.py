"""The search page: facets as links, filters kept across pages, did-you-mean,
sorting and dates, and visibility (drafts only for their committee), on the
same world as the backend tests."""

from __future__ import annotations

import html as htmllib
import re


def page(client, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def facet(html: str, heading: str) -> dict[str, tuple[int, str, bool]]:
    """label → (count, href, selected) of one facet's values."""
    part = html.split(f"<h2>{heading}</h2>", 1)[1].split("</section>", 1)[0]
    out = {}
    for li in re.findall(
        r"<li( class=\"selected\")?><a href=\"([^\"]+)\"[^>]*>(?:✓ )?([^<]+)</a> "
        r"<span class=\"n\">(\d+)</span>",
        part,
    ):
        selected, href, label, n = li
        out[htmllib.unescape(label)] = (int(n), htmllib.unescape(href), bool(selected))
    return out


def trackings(html: str) -> set[str]:
    return set(re.findall(r'<a href="/comments/\d+">([^<]+)</a>', html))


def test_facets_are_links_that_narrow_and_widen_the_search(client, world):
    html = page(client, "/search?q=type:comment")
    decisions = facet(html, "Decision")
    assert decisions["Accepted"][0] == 1 and decisions["Noted"][0] == 1
    kinds = facet(html, "Kind of result")
    assert kinds == {"Comment": (4, kinds["Comment"][1], True)}

    narrowed = page(client, decisions["Accepted"][1])
    assert "decision=accepted" in decisions["Accepted"][1]
    assert trackings(narrowed) == {world.c1.tracking}
    again = facet(narrowed, "Decision")
    assert again["Accepted"][2]  # shown as chosen, and its link removes it
    assert "Clear the filters" in narrowed
    widened = page(client, again["Accepted"][1])
    assert world.c2.tracking in trackings(widened)


def test_filters_combine_with_the_query_and_survive_paging(client, world):
    html = page(client, "/search?q=type:comment&country=PH")
    assert trackings(html) == {world.c2.tracking}
    # The form keeps the filter, so a new query stays inside it.
    assert '<input type="hidden" name="country" value="PH">' in html
    organisations = facet(page(client, "/search?q=hearings"), "Organisation")
    assert organisations["Youth Forum Thailand"][0] == 1


def test_did_you_mean_links_to_the_corrected_search(client, world):
    html = page(client, "/search?q=submision")
    assert "Did you mean" in html
    link = re.search(r'Did you mean <a href="([^"]+)">([^<]+)</a>', html)
    assert link and link.group(2) == "submission"
    assert "Every <mark" in page(client, htmllib.unescape(link.group(1)))


def test_malformed_query_falls_back_to_words_and_says_so(client, world):
    html = page(client, '/search?q=written+AND+(answer+OR+"')
    assert 'class="notice"' in html and "result" in html


def test_sort_and_date_range(client, world):
    newest = page(client, "/search?q=type:comment&sort=date")
    order = re.findall(r'<a href="/comments/\d+">([^<]+)</a>', newest)
    assert order[0] == world.c4.tracking and order[-1] == world.c1.tracking
    oldest = page(client, "/search?q=type:comment&sort=oldest")
    reverse = re.findall(r'<a href="/comments/\d+">([^<]+)</a>', oldest)
    assert reverse[0] == world.c1.tracking and reverse[-1] == world.c4.tracking
    february = page(client, "/search?q=type:comment&from=2026-02-01&to=2026-02-28")
    assert trackings(february) == {world.c2.tracking, world.c3.tracking}
    months = facet(newest, "Month")
    assert months["February 2026"][0] == 2
    assert trackings(page(client, months["February 2026"][1])) == {
        world.c2.tracking,
        world.c3.tracking,
    }


def test_latest_version_switch(client, world):
    both = page(client, "/search?q=written+answer&type=paragraph")
    latest = page(client, "/search?q=written+answer&type=paragraph&latest=yes")
    assert "version 1 · paragraph" in both and "version 2 · paragraph" in both
    assert "version 1 · paragraph" not in latest and "version 2 · paragraph" in latest


def test_drafts_are_found_by_their_committee_only(client, as_user, world):
    assert (
        "Zebra"
        not in page(client, "/search?q=zebra").split("<h1>Search</h1>")[1].split("</form>")[1]
    )
    as_user(world.drafter)
    html = page(client, "/search?q=zebra")
    assert "Zebra Protocol · version 1 (draft)" in html


def test_empty_search_shows_the_form_only(client, world):
    html = page(client, "/search")
    assert 'name="q"' in html and 'class="hits"' not in html
