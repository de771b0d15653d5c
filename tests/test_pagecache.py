"""Public pages kept a few seconds for readers who are not signed in (consult.pagecache):
what an anonymous reader gets, what a signed-in one gets, and their forms' tokens."""

from __future__ import annotations

import re

import pytest

from consult import create_app, pagecache
from consult.extensions import db

from .conftest import PASSWORD, REDIS_URL, post_comment

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _caching_app(app, url: str):
    """An app on the suite's database that keeps public pages 60 s at `url` (memory or
    Redis), with CSRF checked: another process of the same site."""
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "INDEX_DIR", "SERVER_NAME", "RATELIMIT_ENABLED")
    return create_app(
        {
            **{k: app.config[k] for k in keys},
            "PAGE_CACHE_SECONDS": 60,
            "PAGE_CACHE_URL": url,
            "WTF_CSRF_ENABLED": True,
        }
    )


@pytest.fixture(params=["memory", "redis"])
def cached(request, app, monkeypatch):
    """A caching app, its pages kept in the process or on Redis; its clocks (those of
    consult.pagecache) are `cached.clock[0]`, moved by tests."""
    other = _caching_app(app, "memory" if request.param == "memory" else REDIS_URL)
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_monotonic", lambda: clock[0])
    monkeypatch.setattr(pagecache, "_wall", lambda: clock[0])
    other.clock = clock
    pagecache.forget()
    yield other
    pagecache.forget()
    with other.app_context():
        db.engine.dispose()


def _kept(app) -> int:
    """How many answers `app` keeps (in its process, or its site's on Redis)."""
    store = app.extensions["consult_pagecache"].store
    if isinstance(store, pagecache.MemoryStore):
        return len(store)
    return sum(1 for _ in store._redis().scan_iter(match=store.prefix + "*"))


def _text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_an_anonymous_reader_gets_the_kept_page_until_it_expires(cached, make_document, make_user):
    doc = make_document()
    version, paragraph = doc.versions[0], doc.versions[0].paragraphs[1]
    url = f"/paragraphs/{paragraph.id}"
    reader = cached.test_client()
    before = _text(reader.get(url))

    author = make_user()
    post_comment(version, paragraph, author, body="Kept pages say this only later.")
    # Another anonymous reader within the 60 s: the page kept before the comment.
    assert "Kept pages say this only later." not in _text(cached.test_client().get(url))
    # A page not kept yet is made now (the same paragraph in another language).
    other = cached.test_client()
    other.set_cookie("consult_lang", "th")
    assert "Kept pages say this only later." in _text(other.get(url))
    # The author, signed in, gets a page made for them at once.
    signed = cached.test_client()
    page = _text(signed.get("/sign-in"))
    resp = signed.post(
        "/sign-in",
        data={"email": author.email, "password": PASSWORD, "csrf_token": TOKEN.search(page)[1]},
    )
    assert resp.status_code == 302
    mine = _text(signed.get(url))
    assert "Kept pages say this only later." in mine and "Sign out" in mine
    # …and what was made for them is never given to anyone else.
    assert "Sign out" not in _text(cached.test_client().get(url))

    cached.clock[0] += 61  # past PAGE_CACHE_SECONDS: made again
    fresh = _text(cached.test_client().get(url))
    assert "Kept pages say this only later." in fresh and before != fresh


def test_each_reader_gets_their_own_token_in_a_kept_page(cached, make_document):
    doc = make_document()
    url = f"/documents/{doc.slug}"
    first, second = cached.test_client(), cached.test_client()
    one, two = TOKEN.search(_text(first.get(url)))[1], TOKEN.search(_text(second.get(url)))[1]
    assert one != two  # the second page is the kept one, with the second reader's token
    # Each token works for its reader's form (the language switcher), not for the other's.
    switch = {"lang": "th", "next": url}
    assert second.post("/language", data={**switch, "csrf_token": one}).status_code == 400
    resp = second.post("/language", data={**switch, "csrf_token": two})
    assert resp.status_code == 302 and "consult_lang=th" in resp.headers["Set-Cookie"]
    # The language is part of what names a kept page: the reader now reads Thai.
    assert 'lang="th"' in _text(second.get(url)) and 'lang="en"' in _text(first.get(url))


def test_what_is_not_kept(cached, make_document, make_user):
    from consult.accounts.services import issue_token

    reader = cached.test_client()
    # Errors are made each time: a document published after a 404 is found at once.
    assert reader.get("/documents/later").status_code == 404
    doc = make_document(slug="later")
    assert reader.get("/documents/later").status_code == 200
    kept = _kept(cached)
    # API answers to a token holder are theirs alone; anonymous ones are kept.
    api = f"/api/v1/documents/{doc.slug}"
    assert cached.test_client().get(api).status_code == 200
    assert _kept(cached) == kept + 1
    token = issue_token(make_user())
    db.session.commit()
    resp = cached.test_client().get(api, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and _kept(cached) == kept + 1
    # Nor is a page shown with a message waiting for its reader (flashed to the session).
    with reader.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this reader only.")]
    page = _text(reader.get(f"/documents/{doc.slug}/versions/1"))
    assert "A message for this reader only." in page
    assert "A message for this reader only." not in _text(
        cached.test_client().get(f"/documents/{doc.slug}/versions/1")
    )


def test_kept_answers_stay_within_their_bytes(cached, make_document, monkeypatch):
    store = cached.extensions["consult_pagecache"].store
    if not isinstance(store, pagecache.MemoryStore):
        # On Redis the only bound is the period: each answer expires there.
        resp = cached.test_client().get("/")
        assert resp.status_code == 200 and _kept(cached) == 1
        name = next(store._redis().scan_iter(match=store.prefix + "*"))
        assert 0 < store._redis().pttl(name) <= 60_000
        return
    doc = make_document()
    pages = [f"/documents/{doc.slug}", f"/documents/{doc.slug}/versions/1", "/"]
    sizes = [len(cached.test_client().get(url).get_data()) for url in pages]
    assert len(store) == 3 and store.bytes >= sum(sizes) - 3 * 64
    # A budget that holds the last two only: the least recently used goes.
    pagecache.forget()
    monkeypatch.setattr(pagecache, "TOTAL_BYTES", sizes[1] + sizes[2] + 200)
    for url in pages:
        cached.test_client().get(url)
    assert [k[2].rstrip("?") for k in store.kept] == pages[1:]
    assert store.bytes <= pagecache.TOTAL_BYTES


def test_processes_of_a_site_share_the_pages_kept_on_redis(app, make_document, make_user):
    """Two apps on one Redis, as two gunicorn workers: a page one of them made is given by
    the other, with that reader's own token; a site with another secret key does not get
    it."""
    first, second = _caching_app(app, REDIS_URL), _caching_app(app, REDIS_URL)
    apps = [first, second]
    pagecache.forget()
    try:
        doc = make_document()
        version, paragraph = doc.versions[0], doc.versions[0].paragraphs[1]
        url = f"/paragraphs/{paragraph.id}"
        one = first.test_client()
        made = _text(one.get(url))
        post_comment(version, paragraph, make_user(), body="Shared pages say this only later.")
        db.session.commit()
        two = second.test_client()
        kept = _text(two.get(url))
        assert "Shared pages say this only later." not in kept
        assert "Shared pages say this only later." in _text(app.test_client().get(url))
        token_one, token_two = TOKEN.search(made)[1], TOKEN.search(kept)[1]
        assert token_one != token_two and TOKEN.sub("", made) == TOKEN.sub("", kept)
        # The token in the kept page is the second reader's: their form works with it.
        switch = {"lang": "th", "next": url, "csrf_token": token_two}
        assert two.post("/language", data=switch).status_code == 302
        # Another site on the same Redis makes its own page.
        keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "INDEX_DIR", "SERVER_NAME")
        elsewhere = create_app(
            {
                **{k: app.config[k] for k in keys},
                "SECRET_KEY": "another site's secret " * 3,
                "PAGE_CACHE_SECONDS": 60,
                "PAGE_CACHE_URL": REDIS_URL,
            }
        )
        apps.append(elsewhere)
        assert "Shared pages say this only later." in _text(elsewhere.test_client().get(url))
    finally:
        pagecache.forget()
        for other in apps:  # each app's connections closed (PostgreSQL warns of others)
            with other.app_context():
                db.engine.dispose()


def test_pages_are_made_each_time_when_redis_cannot_be_reached(
    app, make_document, make_user, caplog, monkeypatch
):
    down = _caching_app(app, "redis://:s3cret@127.0.0.1:1/0")  # nothing listens there
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_monotonic", lambda: clock[0])
    store = down.extensions["consult_pagecache"].store
    try:
        doc = make_document()
        version, paragraph = doc.versions[0], doc.versions[0].paragraphs[1]
        url = f"/paragraphs/{paragraph.id}"
        assert "Said while Redis was down." not in _text(down.test_client().get(url))
        assert "Page cache: Redis at redis://…@127.0.0.1:1/0 cannot be used" in caplog.text
        assert "s3cret" not in caplog.text
        post_comment(version, paragraph, make_user(), body="Said while Redis was down.")
        db.session.commit()
        # Left alone for a few seconds (each try could cost a reader its timeout)…
        tries = []
        real = store._redis
        monkeypatch.setattr(store, "_redis", lambda: tries.append(1) or real())
        assert "Said while Redis was down." in _text(down.test_client().get(url))
        assert tries == []
        # …then tried again.
        clock[0] += pagecache.RedisStore.RETRY_AFTER
        assert "Said while Redis was down." in _text(down.test_client().get(url))
        assert tries and caplog.text.count("cannot be used") == 1  # one warning a minute
    finally:
        with down.app_context():
            db.engine.dispose()


def test_where_pages_are_kept_is_checked_when_the_app_starts(monkeypatch, tmp_path):
    from consult import config

    monkeypatch.delenv("CONSULT_PAGE_CACHE_URL", raising=False)
    monkeypatch.setenv("CONSULT_JOBS", "redis://127.0.0.1:6379/3")
    assert config.load(str(tmp_path))["PAGE_CACHE_URL"] == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("CONSULT_JOBS", "sqlite")
    assert config.load(str(tmp_path))["PAGE_CACHE_URL"] == "memory"
    monkeypatch.setenv("CONSULT_PAGE_CACHE_URL", "memcached://x")
    with pytest.raises(config.ConfigError, match="CONSULT_PAGE_CACHE_URL='memcached://x'"):
        config.load(str(tmp_path))
