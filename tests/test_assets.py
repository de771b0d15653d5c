"""Answers on a slow link: pages and static text compressed, static files fingerprinted
and cached for a year, an old fingerprint never cached."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_pages_are_compressed_with_brotli_or_gzip(client, make_document):
    doc = make_document("consultation")
    url = f"/documents/{doc.slug}/versions/1"
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == plain.data
    assert len(br.data) < len(plain.data) / 3
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == plain.data
    api = client.get(f"/api/v1/documents/{doc.slug}", headers={"Accept-Encoding": "gzip"})
    assert api.headers["Content-Encoding"] == "gzip"


def test_static_links_carry_a_fingerprint_and_are_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'href="(/static/style\.css\?v=([0-9a-f]{12}))"', page)
    assert link, "the stylesheet link has no fingerprint"
    digest = hashlib.sha256((STATIC / "style.css").read_bytes()).hexdigest()
    assert link.group(2) == digest[:12]
    css = client.get(link.group(1), headers={"Accept-Encoding": "br"})
    assert css.status_code == 200
    cache = css.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
    assert "no-cache" not in cache
    assert css.headers["Content-Encoding"] == "br"
    assert brotli.decompress(css.data) == (STATIC / "style.css").read_bytes()


def test_a_stale_or_missing_fingerprint_is_never_cached(client):
    for url in ("/static/style.css", "/static/style.css?v=000000000000"):
        resp = client.get(url)
        assert resp.status_code == 200
        assert "no-cache" in resp.headers["Cache-Control"]
        assert "immutable" not in resp.headers["Cache-Control"]
    assert client.get("/static/nothing-here.css").status_code == 404
