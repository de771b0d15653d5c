"""Small helpers shared by the page blueprints and templates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import request
from flask_login import current_user

from consult.accounts import policy
from consult.documents.render import render_markdown
from consult.timeutil import utcnow
from consult.tracing.diff import diff_html


def format_dt(value: datetime | None, tz: str = "UTC") -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return local.strftime("%d %b %Y, %H:%M ") + (local.tzname() or tz)


def time_left(value: datetime | None) -> str:
    """'closes in 3 days', 'closed 2 hours ago'."""
    if value is None:
        return ""
    delta = value - utcnow()
    seconds = abs(delta.total_seconds())
    if seconds < 3600:
        amount = f"{int(seconds // 60)} minutes"
    elif seconds < 2 * 86400:
        amount = f"{int(seconds // 3600)} hours"
    else:
        amount = f"{int(seconds // 86400)} days"
    return f"in {amount}" if delta.total_seconds() > 0 else f"{amount} ago"


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
    return {"can": can}
