"""What a long text costs on a slow link (issue 22): the version page of a 250-paragraph
draft weighs under 150 KB on the wire, signed out and signed in, and a member who may
comment gets one comment form for the page, not one hidden in every paragraph.

Sizes, not times: the bytes a response carries (the throttled load times are measured
in the browser, tests/test_page_budget.py)."""

from __future__ import annotations

import random
import re

import brotli
from flask import g

#: What chromium sends.
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}
BUDGET = 150_000
PARAGRAPHS = 250

_WORDS = (  # noqa: SIM905 (a sentence of words reads better than a column of them)
    "parliament committee civil society organisation consultation submission hearing public "
    "member secretariat framework engagement outreach accountability feedback response report "
    "youth women disability community rural language translation summary plain deadline period "
    "review annual regional national focal point platform online offline paper workshop budget "
    "information access transparency participation dialogue capacity training resource "
    "evaluation shall should may will must within days months reasonable appropriate "
    "effective inclusive the of and to in for on with by every each its their all"
).split()


def long_text(paragraphs: int = PARAGRAPHS, seed: int = 22) -> str:
    """A numbered text of `paragraphs` paragraphs (a heading every tenth) of 25–70 words
    drawn from a policy vocabulary plus made-up rarer words: about as compressible as a
    real text, unlike one sentence repeated."""
    rng = random.Random(seed)
    rare = [
        "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))
        for _ in range(3000)
    ]

    def words(n: int) -> str:
        out = [rng.choice(_WORDS) if rng.random() < 0.7 else rng.choice(rare) for _ in range(n)]
        return " ".join(out).capitalize() + "."

    parts = ["# A Long Framework", ""]
    for i in range(paragraphs):
        if i % 10 == 0:
            parts += [f"## {words(rng.randint(2, 5)).rstrip('.')}", ""]
        else:
            parts += [words(rng.randint(25, 70)), ""]
    return "\n".join(parts)


def _version_page(client, make_document, make_user, login):
    """(url, the public answer, the signed-in member's answer), each compressed as sent."""
    doc = make_document("consultation", text=long_text())
    assert len(doc.latest.paragraphs) >= PARAGRAPHS
    url = f"/documents/{doc.slug}/versions/1"
    public = client.get(url, headers=BROWSER)
    g.pop("_login_user", None)
    login(make_user("cso"))
    member = client.get(url, headers=BROWSER)
    return doc, public, member


def test_a_long_version_page_is_under_150_kb_on_the_wire(client, make_document, make_user, login):
    doc, public, member = _version_page(client, make_document, make_user, login)
    for resp in (public, member):
        assert resp.status_code == 200
        assert resp.headers["Content-Encoding"] == "br"
        assert len(resp.data) < BUDGET, len(resp.data)
    # Compressed, and compressed well: a long text is mostly words.
    assert len(brotli.decompress(public.data)) > 3 * len(public.data)


def test_a_member_gets_one_form_and_a_link_in_each_paragraph(
    client, make_document, make_user, login
):
    doc, public, member = _version_page(client, make_document, make_user, login)
    public_html = brotli.decompress(public.data).decode()
    html = brotli.decompress(member.data).decode()
    # Near the public page's size, uncompressed too (what a phone has to read): no
    # hidden form in every paragraph.
    assert len(html) < 1.3 * len(public_html), (len(html), len(public_html))
    # Two forms: the paragraph one (in a <template>, for the script) and the version's.
    assert html.count('<form class="comment-form"') == 2
    assert html.count("<template") == 1
    assert "Comment on the version as a whole" in html
    # Each paragraph links to its own page's form, by its number.
    links = re.findall(
        r'<a class="comment-on" href="/paragraphs/(\d+)#new-comment">([^<]+)</a>', html
    )
    paragraphs = doc.latest.paragraphs
    assert [int(pid) for pid, _ in links] == [p.id for p in paragraphs]
    assert links[5][1] == f"Comment on paragraph {paragraphs[5].number}"
    assert links[0][1] == "Comment on the title"
    # A visitor gets neither links nor forms.
    assert "comment-on" not in public_html and "comment-form" not in public_html
    # Every script is asked for from the head, beside the style sheets: one placed after
    # the text would wait for all of it to arrive (a latency more on a slow link).
    for page in (html, public_html):
        head, body = page.split("</head>", 1)
        assert "select-quote.js" in head and "<script src" not in body


def test_the_link_leads_to_the_one_form_for_that_paragraph(client, make_document, make_user, login):
    doc = make_document("consultation")
    login(make_user("cso"))
    p = doc.latest.paragraphs[3]
    html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
    href = f"/paragraphs/{p.id}#new-comment"
    assert f'href="{href}"' in html
    page = client.get(href.split("#")[0]).get_data(as_text=True)
    form = page[page.index('id="new-comment"') :]
    assert "Comment on this paragraph" in form
    assert f'<input type="hidden" name="paragraph" value="{p.id}">' in form
    assert 'name="quote"' in form
    assert page.count('<form class="comment-form"') == 1
