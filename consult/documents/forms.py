"""Forms of the drafting pages: documents, versions, publication."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from consult.errors import ConsultError

#: Offered first in the time-zone field; any IANA name is accepted.
COMMON_ZONES = [
    "Asia/Bangkok", "Asia/Brunei", "Asia/Dili", "Asia/Ho_Chi_Minh", "Asia/Jakarta",
    "Asia/Jayapura", "Asia/Kuala_Lumpur", "Asia/Makassar", "Asia/Manila", "Asia/Phnom_Penh",
    "Asia/Singapore", "Asia/Vientiane", "Asia/Yangon", "UTC",
]  # fmt: skip
MAX_UPLOAD_NAMES = (".md", ".markdown", ".txt")


def parse_local_datetime(value: str, tz: str, *, date_means: str = "end") -> datetime:
    """A date and time typed in the document's time zone, as an aware UTC datetime.

    Accepts what a datetime-local input sends ("2026-05-31T17:00") and what
    people type where browsers show a plain text box ("2026-05-31 17:00",
    "2026-05-31"). A date alone means the end of that day (for deadlines) or
    its start (for dates received).
    """
    value = (value or "").strip()
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d")
            local = day.replace(hour=23, minute=59) if date_means == "end" else day
        else:
            local = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise ConsultError(
            f"'{value}' is not a date and time; write it like 2026-05-31 17:00."
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


class DocumentForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired(), Length(max=300)])
    slug = StringField(
        "Short name for the address (slug)",
        validators=[InputRequired(), Length(min=3, max=120)],
        description="Lower-case letters, digits and hyphens, e.g. aipa-cso-framework.",
    )
    committee = StringField("Committee", validators=[Optional(), Length(max=300)])
    timezone = StringField(
        "Time zone",
        default="Asia/Jakarta",
        validators=[InputRequired(), Length(max=64)],
        description="Deadlines are set and shown in this zone, e.g. Asia/Jakarta.",
    )

    def validate_timezone(self, field) -> None:
        if field.data.strip() not in available_timezones():
            raise ValidationError(
                f"'{field.data}' is not a time zone name; use one such as Asia/Bangkok or UTC."
            )


class NewVersionForm(FlaskForm):
    #: "copy" starts from the latest version; "import" takes pasted text or a file.
    source = HiddenField(default="import")
    label = StringField(
        "Label",
        validators=[Optional(), Length(max=200)],
        description='For example "Workshop 2 draft".',
    )
    text = TextAreaField("Paste the whole text (Markdown)", validators=[Optional()])
    upload = FileField("…or upload a Markdown file (.md)")


class EditTextForm(FlaskForm):
    text = TextAreaField("Whole text (Markdown)", validators=[InputRequired()])


class PublishForm(FlaskForm):
    #: "open" (for comments until the deadline) or "closed" (publish as a readable text).
    mode = HiddenField(default="open")
    closes_at = StringField("Comments close at", validators=[Optional()])
