"""Settings from the environment, with embedded defaults that need nothing installed."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


#: A production secret key signs sessions and e-mailed links: short keys can be guessed.
MIN_SECRET_KEY = 32


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("CONSULT_SECRET_KEY")
    if key and production and len(key.strip()) < MIN_SECRET_KEY:
        raise ConfigError(
            f"CONSULT_SECRET_KEY is {len(key.strip())} characters long; production "
            f"(CONSULT_ENV=production) needs at least {MIN_SECRET_KEY} random characters. "
            "Generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
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
    limit = os.environ.get("CONSULT_SEARCH_EXACT_LIMIT", "2000").strip()
    if not limit.isdigit() or int(limit) < 1:
        raise ConfigError(
            f"CONSULT_SEARCH_EXACT_LIMIT={limit!r}: a whole number of matches from 1 "
            "(searches with more facet and rank only that many of the newest)."
        )
    mail = _mail_settings(ipath)
    jobs = _jobs_url(ipath)
    if production:
        _check_base_url(mail["BASE_URL"])
    return {
        **mail,
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": _secret_key(ipath, production),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SEARCH_BACKEND": backend,
        "SEARCH_EXACT_LIMIT": int(limit),
        "INDEX_DIR": os.environ.get("CONSULT_INDEX_DIR") or str(ipath / "index"),
        # werkzeug's scrypt (n=2**15): about 0.1 s a hash on purpose. The test suite,
        # which makes thousands of accounts, sets a cheap method; nothing else should.
        "PASSWORD_HASH_METHOD": "scrypt",
        "RATELIMIT_STORAGE_URI": _ratelimit_storage(ipath, production),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=REMEMBER_DAYS),
        "PROXY_FIX": _proxy_fix(),
        "EXPORT_DIR": os.environ.get("CONSULT_EXPORT_DIR") or str(ipath / "exports"),
        "EXPORT_SLOTS": _whole_number("CONSULT_EXPORT_SLOTS", "2", minimum=1),
        # Public pages kept this many seconds for readers not signed in (consult.pagecache).
        "PAGE_CACHE_SECONDS": _whole_number("CONSULT_PAGE_CACHE_SECONDS", "5", minimum=0),
        "JOBS_URL": jobs,
        # A job asked for by every comment (search, mail, record, grouping) runs at most
        # once in this many milliseconds in a worker: what comes meanwhile waits for the
        # next run and is done with the rest (consult.jobs.gather).
        "JOBS_GATHER_MS": _whole_number(
            "CONSULT_JOBS_GATHER_MS", "1000", minimum=0, maximum=60_000
        ),
        # A publication measures the uptake of at most this many suggestions itself; more
        # are measured by the job worker (consult.tracing.stored, about 1-2.5 ms each).
        "UPTAKE_IN_REQUEST_MAX": _whole_number("CONSULT_UPTAKE_IN_REQUEST_MAX", "2000", minimum=0),
        # Where those pages are kept: in each process, or on Redis for all of them.
        "PAGE_CACHE_URL": _page_cache_url(jobs),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        **_mail_in_settings(ipath),
        "WTF_CSRF_TIME_LIMIT": None,
    }


def _jobs_url(ipath: Path) -> str:
    """Where background jobs wait (consult.jobs): 'inline' unless CONSULT_JOBS names a
    queue ('sqlite' under instance/, or redis://…) that a worker runs."""
    from consult.jobs import JobsConfigError, parse

    try:
        return parse(os.environ.get("CONSULT_JOBS", ""), str(ipath))
    except JobsConfigError as e:
        raise ConfigError(str(e)) from None


def _page_cache_url(jobs_url: str) -> str:
    """'memory' (each process keeps its own pages) or a Redis URL (shared by all):
    CONSULT_PAGE_CACHE_URL, else the job queue's Redis when the queue is on Redis."""
    value = os.environ.get("CONSULT_PAGE_CACHE_URL", "").strip()
    redis = ("redis://", "rediss://", "unix://")
    if not value:
        return jobs_url if jobs_url.startswith(redis) else "memory"
    if value == "memory" or value.startswith(redis):
        return value
    raise ConfigError(
        f"CONSULT_PAGE_CACHE_URL={value!r}: 'memory' (pages kept in each process) or "
        "redis://host:6379/0 (kept on Redis, shared by every process)."
    )


#: "Remember me" keeps a person signed in this long (Flask-Login's default is a year).
REMEMBER_DAYS = 14


def _whole_number(name: str, default: str, *, minimum: int, maximum: int | None = None) -> int:
    value = os.environ.get(name, default).strip()
    too_big = maximum is not None and value.isdigit() and int(value) > maximum
    if not value.isdigit() or int(value) < minimum or too_big:
        upto = f" to {maximum}" if maximum is not None else ""
        raise ConfigError(f"{name}={value!r}: a whole number from {minimum}{upto}.")
    return int(value)


def _ratelimit_storage(ipath: Path, production: bool) -> str:
    """Where rate limits count. Per-process storage (memory://) gives every worker its
    own allowance, so production refuses it unless it runs a single worker."""
    uri = os.environ.get("CONSULT_RATELIMIT_STORAGE", "").strip()
    if not uri:
        # Shared by every process on this machine, nothing to install (consult.ratelimit).
        return f"consult+sqlite://{ipath / 'ratelimits.db'}"
    if uri.startswith("memory://") and production:
        workers = os.environ.get("CONSULT_WORKERS", "").strip()
        if workers != "1":
            raise ConfigError(
                "CONSULT_RATELIMIT_STORAGE=memory:// counts rate limits inside each process, "
                "so with several workers a client gets every limit once per worker. Use "
                "redis://host:6379, or leave CONSULT_RATELIMIT_STORAGE unset for the shared "
                "default (a SQLite file under instance/), or set CONSULT_WORKERS=1 when you "
                "run a single process."
            )
    return uri


def _proxy_fix() -> int:
    """How many proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: trust
    none of these headers, the default)."""
    value = os.environ.get("CONSULT_PROXY_FIX", "0").strip().lower()
    if value in ("true", "yes", "on"):
        return 1
    if value in ("false", "no", "off", ""):
        return 0
    if not value.isdigit():
        raise ConfigError(
            f"CONSULT_PROXY_FIX={value!r}: the number of trusted proxies in front of the app "
            "(1 for one nginx), or 0 to ignore X-Forwarded-* headers."
        )
    return int(value)


MAIL_BACKENDS = ("console", "file", "smtp")
SMTP_TLS = ("starttls", "ssl", "none")


def _mail_settings(ipath: Path) -> dict:
    """Outgoing mail (see consult.mail): SMTP when CONSULT_SMTP_HOST is set, else the
    console; links in mail point at CONSULT_BASE_URL."""
    host = os.environ.get("CONSULT_SMTP_HOST", "").strip()
    backend = os.environ.get("CONSULT_MAIL_BACKEND", "smtp" if host else "console").strip().lower()
    if backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"CONSULT_MAIL_BACKEND={backend!r} is not known; use console, file or smtp."
        )
    if backend == "smtp" and not host:
        raise ConfigError("CONSULT_MAIL_BACKEND=smtp needs CONSULT_SMTP_HOST.")
    tls = os.environ.get("CONSULT_SMTP_TLS", "starttls").strip().lower()
    if tls not in SMTP_TLS:
        raise ConfigError(f"CONSULT_SMTP_TLS={tls!r} is not known; use starttls, ssl or none.")
    port = os.environ.get("CONSULT_SMTP_PORT", "").strip()
    try:
        port_number = int(port) if port else {"ssl": 465, "starttls": 587}.get(tls, 25)
    except ValueError:
        raise ConfigError(f"CONSULT_SMTP_PORT={port!r} is not a port number.") from None
    return {
        "MAIL_BACKEND": backend,
        "MAIL_FROM": os.environ.get("CONSULT_MAIL_FROM", "Consult <consult@localhost>"),
        "MAIL_DIR": os.environ.get("CONSULT_MAIL_DIR") or str(ipath / "mail"),
        "SMTP_HOST": host,
        "SMTP_PORT": port_number,
        "SMTP_USER": os.environ.get("CONSULT_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("CONSULT_SMTP_PASSWORD", ""),
        "SMTP_TLS": tls,
        "BASE_URL": os.environ.get("CONSULT_BASE_URL", "http://localhost:5000").rstrip("/"),
    }


#: Hosts that only the server itself reaches: a link to them in a mail leads nowhere.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")  # noqa: S104 (refused, not bound)


def _check_base_url(url: str) -> None:
    """Production mails carry links to this site: they must name its public address."""
    from urllib.parse import urlsplit

    if not os.environ.get("CONSULT_BASE_URL", "").strip():
        raise ConfigError(
            "CONSULT_BASE_URL must be set in production (CONSULT_ENV=production): links "
            "in mails (receipts, confirmations, password resets) point at it. Set it to "
            "the site's public address, e.g. CONSULT_BASE_URL=https://consult.example.org"
        )
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(
            f"CONSULT_BASE_URL={url!r} is not a web address; give the site's public "
            "address with its scheme, e.g. https://consult.example.org"
        )
    if host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127."):
        raise ConfigError(
            f"CONSULT_BASE_URL={url!r} points at this machine ({host}): links in mails "
            "would lead nowhere for their readers. Set it to the site's public address, "
            "e.g. CONSULT_BASE_URL=https://consult.example.org"
        )


def _mail_in_settings(ipath: Path) -> dict:
    """Comments by e-mail (consult.intake) and attachments (consult.consultation.attachments):
    the domain of the consultations' addresses (<document slug>@domain), an IMAP box to
    fetch from, and the size and count limits."""
    mib = 1024 * 1024
    return {
        "MAIL_IN_DOMAIN": os.environ.get("CONSULT_MAIL_IN_DOMAIN", "").strip().lower(),
        "IMAP_URL": os.environ.get("CONSULT_IMAP_URL", "").strip(),
        #: A larger message is refused by the receiver (SMTP 552) and skipped by mail-fetch.
        "MAIL_IN_MAX_BYTES": _whole_number("CONSULT_MAIL_IN_MAX_BYTES", str(15 * mib), minimum=1),
        "ATTACHMENT_MAX_BYTES": _whole_number(
            "CONSULT_ATTACHMENT_MAX_BYTES", str(10 * mib), minimum=1
        ),
        "ATTACHMENT_MAX_COUNT": _whole_number("CONSULT_ATTACHMENT_MAX_COUNT", "5", minimum=0),
        "ATTACHMENT_DIR": os.environ.get("CONSULT_ATTACHMENT_DIR") or str(ipath / "attachments"),
        "INTAKE_DIR": os.environ.get("CONSULT_INTAKE_DIR") or str(ipath / "intake"),
        "RETURNED_WORD_DIR": str(ipath / "returned-word"),
        "RETURNED_WORD_PENDING_DIR": str(ipath / "returned-word" / "pending"),
        #: Empty: the folders above. s3://bucket/prefix: an S3-compatible store (consult.blobs).
        "BLOB_STORE": os.environ.get("CONSULT_BLOB_STORE", "").strip(),
        "S3_ENDPOINT_URL": os.environ.get("CONSULT_S3_ENDPOINT_URL", "").strip(),
        #: Messages taken into the intake queue from one sender address per hour; more are
        #: refused (SMTP 450, try later) and counted, so a loop or a flood cannot fill it.
        "MAIL_IN_PER_SENDER_HOUR": _whole_number(
            "CONSULT_MAIL_IN_PER_SENDER_HOUR", "30", minimum=1
        ),
    }
