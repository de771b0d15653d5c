"""Dates and times the API reads: an instant must say its time zone, as the API's
description promises, rather than be read in a zone the client never named."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _

from consult.errors import ConsultError


def parse_zoned(value: str, field: str) -> datetime:
    """An ISO 8601 date and time with its zone ('Z' or '+07:00'), in UTC; a ConsultError
    (400, code invalid_field) naming the field otherwise."""
    text = (value or "").strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConsultError(
            _(
                "'%(field)s' is not an ISO 8601 date and time: %(repr)s.",
                field=field,
                repr=repr(value),
            ),
            code="invalid_field",
        ) from None
    if len(text) <= 10 or parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ConsultError(
            _(
                "'%(field)s' needs a date, a time and a time zone, such as "
                "2026-07-01T17:00:00+07:00 or 2026-07-01T10:00:00Z; %(repr)s "
                "has no zone.",
                field=field,
                repr=repr(value),
            ),
            code="invalid_field",
        )
    return parsed.astimezone(UTC)
