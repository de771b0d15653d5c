"""When comments on a version closed, said the same way everywhere.

A version closed early keeps its deadline (`closes_at`) as the *planned* one;
`closed_at` is when comments actually closed. Messages, mails, feeds and exports
that say when comments closed take the words from here, so none of them gives the
planned deadline as the closing date.

Plain functions on the version's fields: no database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from consult.timeutil import utcnow


def utc_text(value: datetime) -> str:
    return f"{value:%d %B %Y %H:%M} UTC"


def closed_early(version) -> bool:
    """Comments closed before the deadline that was announced."""
    return (
        version.closed_at is not None
        and version.closes_at is not None
        and version.closed_at < version.closes_at
    )


def closed_when(version) -> datetime | None:
    """When comments closed (or, for a consultation whose deadline has just passed and
    is not yet marked closed, the deadline); None while comments are open."""
    if version.closed_at is not None:
        return version.closed_at
    return version.closes_at


def closed_on(version, fmt: Callable[[datetime], str] = utc_text) -> str:
    """' on 03 May 2026 10:00 UTC', with ', early: the planned deadline was …' after an
    early close; '' when nothing is known."""
    when = closed_when(version)
    if when is None:
        return ""
    text = f" on {fmt(when)}"
    if closed_early(version):
        text += f", early (the planned deadline was {fmt(version.closes_at)})"
    return text


def closing_sentence(version, fmt: Callable[[datetime], str] = utc_text) -> str:
    """One sentence on the consultation's dates, for feeds and exports: open until the
    deadline, or closed (early, with the planned deadline and the reason); '' for a
    version published without a consultation."""
    if version.state == "draft" or version.closes_at is None:
        return ""
    if version.state == "consultation" and utcnow() < version.closes_at:
        return f"Open for comments until {fmt(version.closes_at)}."
    text = f"Comments closed{closed_on(version, fmt)}"
    reason = (version.close_reason or "").strip()
    if closed_early(version) and reason and reason != "deadline":
        text += f". Reason: {reason}"
    return text if text.endswith((".", "!", "?")) else text + "."
