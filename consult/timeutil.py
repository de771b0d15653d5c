"""Time helpers: everything is stored in UTC, naive-free."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

_frozen: ContextVar[datetime | None] = ContextVar("frozen_clock", default=None)


def utcnow() -> datetime:
    return _frozen.get() or datetime.now(UTC)


def replaying() -> bool:
    """True inside `clock()`: history is being replayed, so nobody is to be told of it."""
    return _frozen.get() is not None


@contextmanager
def clock(at: datetime) -> Iterator[None]:
    """Run with the clock set to `at`: for replaying a past consultation (the demo,
    imports of earlier records), so that every date and guard agrees with history."""
    token = _frozen.set(at)
    try:
        yield
    finally:
        _frozen.reset(token)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values come back naive; this puts UTC back on them
    and refuses naive input so that no local time slips in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def parse_iso(value: str) -> datetime:
    """Parse an ISO date or datetime; a date alone means the end of that day, UTC."""
    value = value.strip()
    if len(value) == 10:
        d = datetime.fromisoformat(value)
        return d.replace(hour=23, minute=59, second=59, tzinfo=UTC)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
