"""Running in production: a strong secret key, rate limits not kept per process, HSTS
over HTTPS (behind a trusted proxy too), 503 when the database cannot be reached, and
an API that refuses a deadline without a time zone."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from consult import config, create_app
from consult.errors_pages import database_unavailable
from consult.extensions import db

from .conftest import bearer

STRONG = "k" * 40


@pytest.fixture
def env(monkeypatch):
    for name in ("CONSULT_SECRET_KEY", "CONSULT_RATELIMIT_STORAGE", "CONSULT_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONSULT_ENV", "production")
    monkeypatch.setenv("CONSULT_BASE_URL", "https://consult.example.org")
    return monkeypatch


def test_production_refuses_a_short_secret_key(env, tmp_path):
    env.setenv("CONSULT_SECRET_KEY", "x")
    with pytest.raises(config.ConfigError, match="at least 32 random characters"):
        config.load(str(tmp_path))
    env.setenv("CONSULT_SECRET_KEY", STRONG)
    assert config.load(str(tmp_path))["SECRET_KEY"] == STRONG
    env.setenv("CONSULT_ENV", "development")
    env.setenv("CONSULT_SECRET_KEY", "x")  # a developer's own machine may use any key
    assert config.load(str(tmp_path))["SECRET_KEY"] == "x"


def test_production_refuses_mail_links_to_this_machine(env, tmp_path):
    """Links in mails (receipts, confirmations, resets) must reach their readers."""
    env.setenv("CONSULT_SECRET_KEY", STRONG)
    assert config.load(str(tmp_path))["BASE_URL"] == "https://consult.example.org"
    env.delenv("CONSULT_BASE_URL")
    with pytest.raises(config.ConfigError, match="CONSULT_BASE_URL must be set in production"):
        config.load(str(tmp_path))
    for local in ("http://localhost:5000", "http://127.0.0.1:8000/", "https://LOCALHOST"):
        env.setenv("CONSULT_BASE_URL", local)
        with pytest.raises(config.ConfigError, match="points at this machine"):
            config.load(str(tmp_path))
    env.setenv("CONSULT_BASE_URL", "consult.example.org")
    with pytest.raises(config.ConfigError, match="not a web address"):
        config.load(str(tmp_path))
    env.setenv("CONSULT_ENV", "development")  # a developer's machine keeps the default
    env.delenv("CONSULT_BASE_URL")
    assert config.load(str(tmp_path))["BASE_URL"] == "http://localhost:5000"


def test_production_refuses_rate_limits_kept_per_process(env, tmp_path):
    env.setenv("CONSULT_SECRET_KEY", STRONG)
    default = config.load(str(tmp_path))["RATELIMIT_STORAGE_URI"]
    assert default == f"consult+sqlite://{tmp_path / 'ratelimits.db'}"
    env.setenv("CONSULT_RATELIMIT_STORAGE", "memory://")
    with pytest.raises(config.ConfigError, match="once per worker"):
        config.load(str(tmp_path))
    env.setenv("CONSULT_WORKERS", "1")
    assert config.load(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"
    env.setenv("CONSULT_RATELIMIT_STORAGE", "redis://127.0.0.1:6379")
    assert config.load(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"


def test_proxy_setting_is_a_number_of_proxies(env, tmp_path):
    env.setenv("CONSULT_SECRET_KEY", STRONG)
    for value, n in (("1", 1), ("true", 1), ("0", 0), ("2", 2)):
        env.setenv("CONSULT_PROXY_FIX", value)
        assert config.load(str(tmp_path))["PROXY_FIX"] == n
    env.setenv("CONSULT_PROXY_FIX", "nginx")
    with pytest.raises(config.ConfigError, match="number of trusted proxies"):
        config.load(str(tmp_path))


# ------------------------------------------------------------------ HSTS, proxies


def _other_app(app, **overrides):
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "INDEX_DIR", "SERVER_NAME", "RATELIMIT_ENABLED")
    return create_app({**{k: app.config[k] for k in keys}, **overrides})


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    # Without a trusted proxy, a client cannot claim HTTPS with a header.
    spoofed = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers


def test_behind_a_trusted_proxy_its_forwarded_scheme_and_address_count(app):
    proxied = _other_app(app, PROXY_FIX=1)
    seen = []

    @proxied.get("/_test_remote_addr")
    def _addr():
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    try:
        client = proxied.test_client()
        resp = client.get("/", headers={"X-Forwarded-Proto": "https"})
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        # The client's address (what rate limits count by) is the one the proxy saw.
        client.get("/_test_remote_addr", headers={"X-Forwarded-For": "203.0.113.9"})
        assert seen == ["203.0.113.9"]
    finally:
        with proxied.app_context():
            db.engine.dispose()


# ------------------------------------------------------------------ database down

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-folder/consult/nothing.db",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2",
}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_an_unreachable_database_gives_a_503_page(app, kind):
    down = _other_app(app, SQLALCHEMY_DATABASE_URI=UNREACHABLE[kind])
    client = down.test_client()
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    text = page.get_data(as_text=True)
    assert "cannot reach its database" in text and "try again in a minute" in text
    api = client.get("/api/v1/documents")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"
    assert "cannot reach its database" in api.get_json()["error"]["message"]


def test_a_wrong_query_is_not_mistaken_for_an_unreachable_database():
    wrong = OperationalError("SELECT x", {}, sqlite3.OperationalError("no such column: x"))
    assert not database_unavailable(wrong)
    locked = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    assert database_unavailable(locked)


# ------------------------------------------------------------------ closes_at


def test_the_api_refuses_a_deadline_without_a_time_zone(client, make_document, make_user):
    secretariat = make_user("secretariat")
    doc = make_document("draft", by=secretariat)
    headers = bearer(secretariat)
    url = f"/api/v1/documents/{doc.slug}/versions/1/publish"
    for naive in ("2031-07-01T17:00:00", "2031-07-01"):
        resp = client.post(url, json={"closes_at": naive}, headers=headers)
        assert resp.status_code == 400, naive
        error = resp.get_json()["error"]
        assert error["code"] == "invalid_field" and "time zone" in error["message"]
    resp = client.post(url, json={"closes_at": "2031-07-01T17:00:00+07:00"}, headers=headers)
    assert resp.status_code == 200
    assert resp.get_json()["closes_at"].startswith("2031-07-01T10:00:00")
    assert doc.latest.closes_at == datetime(2031, 7, 1, 10, 0, tzinfo=UTC)
