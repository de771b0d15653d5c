"""Small helpers shared by the page blueprints and templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta, get_datetime_format
from flask import request
from flask_login import current_user

from consult.accounts import policy
from consult.documents.render import render_markdown
from consult.timeutil import utcnow
from consult.tracing.diff import diff_html


def _locale() -> str:
    from consult.i18n import current_locale

    return current_locale()


def format_dt(value: datetime | None, tz: str = "UTC") -> str:
    """A moment in the document's time zone, written the way the page's language
    writes dates (Babel): '26 Nov 2026, 17:00 +07' in English, '26 พ.ย. 2026 17:00 น. +07'
    in Thai. The zone's short name follows, as the deadlines need it."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    loc = _locale()
    if loc == "en":
        text = local.strftime("%d %b %Y, %H:%M")
    else:
        pattern = get_datetime_format("medium", locale=loc)
        text = pattern.replace("{1}", format_date(local, "medium", locale=loc)).replace(
            "{0}", format_time(local, "short", locale=loc)
        )
    return f"{text} {local.tzname() or tz}"


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
            "time_left": time_left,
            "diff_html": diff_html,
        }
    return {"can": can, "is_past": is_past}


def is_past(value: datetime | None) -> bool:
    """Whether a moment has passed (for templates: compare times, never their words)."""
    return value is not None and value <= utcnow()
