"""Settings from the environment, with embedded defaults that need nothing installed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("CONSULT_SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError(
            "CONSULT_SECRET_KEY must be set in production (CONSULT_ENV=production); "
            "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    # In development a key is made once and kept, so sessions survive restarts.
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(instance_path: str) -> dict:
    """Build the Flask config mapping from CONSULT_* environment variables."""
    ipath = Path(instance_path)
    production = os.environ.get("CONSULT_ENV", "development") == "production"
    db_url = os.environ.get("CONSULT_DATABASE_URL") or f"sqlite:///{ipath / 'consult.db'}"
    if db_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://") :]
    backend = os.environ.get("CONSULT_SEARCH_BACKEND", "whoosh").strip().lower()
    if backend not in ("whoosh", "postgres"):
        raise ConfigError(
            f"CONSULT_SEARCH_BACKEND={backend!r} is not known; use 'whoosh' (embedded, the "
            "default) or 'postgres' (PostgreSQL full-text search)."
        )
    if backend == "postgres" and not db_url.startswith("postgresql"):
        raise ConfigError(
            "CONSULT_SEARCH_BACKEND=postgres searches inside a PostgreSQL database: set "
            "CONSULT_DATABASE_URL to a postgresql:// URL, or use CONSULT_SEARCH_BACKEND=whoosh."
        )
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": _secret_key(ipath, production),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SEARCH_BACKEND": backend,
        "INDEX_DIR": os.environ.get("CONSULT_INDEX_DIR") or str(ipath / "index"),
        "RATELIMIT_STORAGE_URI": os.environ.get("CONSULT_RATELIMIT_STORAGE", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
    }
