"""Small helpers shared by the page blueprints and templates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date, format_time, format_timedelta, get_datetime_format
from flask import has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user

from consult.accounts import policy
from consult.documents.render import render_markdown
from consult.timeutil import utcnow
from consult.tracing.diff import diff_html


def _locale() -> str:
    from consult.i18n import current_locale

    return current_locale()


def zone_name(local: datetime) -> str:
    """The one way a zone is named everywhere: its offset from UTC at that moment,
    'UTC+7', 'UTC+6:30', 'UTC−3' (a true minus sign), 'UTC' for none. Never an
    abbreviation ('WIB', 'ICT'), which readers elsewhere cannot place."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "\u2212"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _written(local: datetime, with_date: bool = True) -> str:
    """A local moment as the page's language writes it (Babel), without its zone."""
    loc = _locale()
    if loc == "en":
        return local.strftime("%d %b %Y, %H:%M" if with_date else "%H:%M")
    time = format_time(local, "short", locale=loc)
    if not with_date:
        return time
    pattern = get_datetime_format("medium", locale=loc)
    return pattern.replace("{1}", format_date(local, "medium", locale=loc)).replace("{0}", time)


def format_dt(value: datetime | None, tz: str = "UTC") -> str:
    """A moment in the document's time zone, written the way the page's language
    writes dates (Babel): '26 Nov 2026, 17:00 UTC+7' in English, '26 พ.ย. 2026 17:00 น.
    UTC+7' in Thai. The zone is named by its offset (zone_name), as the deadlines need it."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return f"{_written(local)} {zone_name(local)}"


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """The IANA zone names this server knows (read once: listing them reads the disk)."""
    return frozenset(available_timezones())


def valid_zone(name: str | None) -> str | None:
    """`name` when it is a known IANA zone, else None."""
    name = (name or "").strip()
    return name if name in known_zones() else None


#: The cookie the vendored script (static/js/timezone.js) sets from the browser's zone.
ZONE_COOKIE = "tz"
_UNSET = object()
#: While a mail is rendered: the recipient's zone (or None), whoever made the request.
_forced_zone: ContextVar = ContextVar("reader_zone", default=_UNSET)


@contextmanager
def reader_zone_as(zone: str | None) -> Iterator[None]:
    """Render as for a reader in `zone` (None: no zone of their own), e.g. a mail to a
    user, made in someone else's request or by a job outside any request."""
    token = _forced_zone.set(valid_zone(zone))
    try:
        yield
    finally:
        _forced_zone.reset(token)


def reader_zone() -> str | None:
    """The reader's own time zone: their account's, else the browser's (the `tz`
    cookie, ignored when it names no known zone), else None (no JavaScript, no
    choice: pages show the document's zone and UTC only)."""
    forced = _forced_zone.get()
    if forced is not _UNSET:
        return forced
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated:
        chosen = valid_zone(getattr(current_user, "timezone", None))
        if chosen:
            return chosen
    return valid_zone(unquote(request.cookies.get(ZONE_COOKIE, ""))[:64])


def other_zones(value: datetime | None, tz: str = "UTC") -> str:
    """What follows a moment written in the document's zone `tz` (format_dt): the same
    moment in UTC when the zone is not UTC then, and in the reader's zone when its offset
    differs: ' (26 Nov 2026, 10:00 UTC) (16:30 UTC+6:30, your time)'. The reader's time
    carries its date only when their day differs from the document's. Empty when there
    is nothing to add."""
    if value is None:
        return ""
    here = value.astimezone(ZoneInfo(tz))
    parts = []
    zone = reader_zone()
    theirs = value.astimezone(ZoneInfo(zone)) if zone else None
    differs = theirs is not None and theirs.utcoffset() != here.utcoffset()
    if here.utcoffset():
        utc = value.astimezone(ZoneInfo("UTC"))
        if differs and not theirs.utcoffset():
            # the reader lives on UTC: the UTC time is theirs, said once
            parts.append(_("%(time)s, your time", time=format_dt(value, "UTC")))
            differs = False
        else:
            parts.append(format_dt(utc, "UTC"))
    if differs:
        written = _written(theirs, with_date=theirs.date() != here.date())
        parts.append(_("%(time)s, your time", time=f"{written} {zone_name(theirs)}"))
    return "".join(f" ({p})" for p in parts)


#: time_left's units: below an hour in minutes, below two days in hours, else in days.
_UNITS = ((3600, 60, "minute"), (2 * 86400, 3600, "hour"), (None, 86400, "day"))


def time_left(value: datetime | None) -> str:
    """'in 3 days', '2 hours ago', in the page's language (Babel)."""
    if value is None:
        return ""
    delta = value - utcnow()
    seconds = abs(delta.total_seconds())
    size, unit = next(
        (size, unit) for below, size, unit in _UNITS if below is None or seconds < below
    )
    amount = int(seconds // size)
    signed = timedelta(seconds=amount * size) * (1 if delta.total_seconds() > 0 else -1)
    return format_timedelta(
        signed, granularity=unit, threshold=10**9, add_direction=True, locale=_locale()
    )


def can(action: str, target=None) -> bool:
    return policy.can(current_user, action, target)


#: Beyond any real list: larger page numbers are read as this one (then the last page),
#: so that an offset never overflows the database.
MAX_PAGE = 100_000


def page_number(default: int = 1) -> int:
    try:
        return min(max(1, int(request.args.get("page", default))), MAX_PAGE)
    except ValueError:
        return default


def template_helpers(filters: bool = False) -> dict:
    if filters:
        return {
            "markdown": render_markdown,
            "dt": format_dt,
            "other_zones": other_zones,
            "time_left": time_left,
            "diff_html": diff_html,
        }
    return {"can": can, "is_past": is_past}


def is_past(value: datetime | None) -> bool:
    """Whether a moment has passed (for templates: compare times, never their words)."""
    return value is not None and value <= utcnow()
