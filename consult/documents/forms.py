"""Forms of the drafting pages: documents, versions, publication."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from consult.documents.models import DOCUMENT_KINDS, kind_label
from consult.errors import ConsultError
from consult.forms import Form, shown_as

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
            _("'%(value)s' is not a date and time; write it like 2026-05-31 17:00.", value=value)
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


class DocumentForm(Form):
    title = StringField(
        _l("Title"),
        validators=[InputRequired(_l("Give the document its title.")), Length(max=300)],
    )
    kind = SelectField(
        _l("Kind of document"),
        default="resolution",
        validators=[Optional()],
        description=_l("Named on the covers of its PDF files."),
    )
    slug = StringField(
        _l("Short name for the address (slug)"),
        validators=[Optional(), Length(min=3, max=120)],
        description=_l("Left empty, it is made from the title, e.g. aipa-cso-framework."),
    )
    committee = StringField(_l("Committee"), validators=[Optional(), Length(max=300)])
    timezone = StringField(
        _l("Time zone"),
        default="Asia/Jakarta",
        validators=[InputRequired(), Length(max=64)],
        description=_l("Deadlines are set and shown in this zone, e.g. Asia/Jakarta."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, kind_label(k)) for k in DOCUMENT_KINDS]

    def validate_timezone(self, field) -> None:
        if field.data.strip() not in available_timezones():
            raise ValidationError(
                _(
                    "'%(data)s' is not a time zone name; use one such as Asia/Bangkok or UTC.",
                    data=field.data,
                )
            )


class NewVersionForm(Form):
    #: "copy" starts from the latest version; "import" takes pasted text or a file.
    source = HiddenField(default="import")
    label = StringField(
        _l("Label"),
        validators=[Optional(), Length(max=200)],
        description=_l('For example "Workshop 2 draft".'),
    )
    text = TextAreaField(_l("Paste the whole text (Markdown)"), validators=[Optional()])
    upload = FileField(_l("…or upload a Markdown (.md), Word (.docx) or OpenDocument (.odt) file"))


class EditTextForm(Form):
    text = TextAreaField(_l("Whole text (Markdown)"), validators=[InputRequired()])
    #: The text the drafter started from: a save over someone else's change is a conflict.
    base_text = HiddenField()


class PublishForm(Form):
    #: "open" (for comments until the deadline) or "closed" (publish as a readable text).
    mode = HiddenField(default="open")
    closes_at = StringField(_l("Comments close at"), validators=[Optional()])


#: Marks where a paragraph is split in two, on the split page.
SPLIT_MARK = "||"


class ParagraphForm(Form):
    """One paragraph's Markdown, saved over the revision the drafter saw."""

    source = TextAreaField(_l("Text of the paragraph (Markdown)"), validators=[InputRequired()])
    revision = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    #: The text the drafter started from, so that a conflict can offer a merge.
    base_source = HiddenField()


class InsertForm(Form):
    #: The id of the paragraph the new one follows; empty for the top of the text.
    after = HiddenField()
    source = TextAreaField(_l("New paragraph (Markdown)"), validators=[InputRequired()])


class SplitForm(Form):
    source = TextAreaField(
        _l("Put || where the paragraph splits"),
        validators=[InputRequired()],
        description=_l(
            "Type the two bars between the last word of the first part "
            "and the first word of the second; change nothing else."
        ),
    )
    revision = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


def split_offset(marked: str, source: str) -> int:
    """Where the drafter put SPLIT_MARK in the paragraph's source, as a character
    offset of the source; ConsultError when the text was changed or not marked."""
    marked = marked.replace("\r\n", "\n")
    at = marked.find(SPLIT_MARK)
    found = False
    while at != -1:
        if marked[:at] + marked[at + len(SPLIT_MARK) :] == source:
            found = True
            break
        at = marked.find(SPLIT_MARK, at + 1)
    if not found:
        if SPLIT_MARK not in marked:
            raise ConsultError(_("Put || where the paragraph should be split."))
        raise ConsultError(
            _(
                "Apart from the || mark the text must stay as it is: split "
                "first, then edit the parts."
            )
        )
    # Spaces around the mark belong to neither part.
    return at


class NoteForm(Form):
    note = TextAreaField(
        _l("Explanatory note: what changed and why (Markdown)"), validators=[Optional()]
    )


class CloseForm(Form):
    reason = TextAreaField(_l("Reason for closing before the deadline"), validators=[Optional()])


class CommitteeForm(Form):
    email = StringField(_l("E-mail address of the account"), validators=[InputRequired()])
    role = SelectField(
        _l("Role"),
        choices=shown_as({"drafter": _l("Drafter"), "chair": _l("Chair")}),
        default="drafter",
    )


class TakeUpForm(Form):
    decision = SelectField(
        _l("Answer"),
        choices={"accepted": "Accepted", "partly_accepted": "Partly accepted"},
        default="accepted",
    )
    reason = TextAreaField(_l("Reason for the answer"), validators=[Optional()])
    #: The draft paragraph's revision in the preview: a change made meanwhile is a conflict.
    revision = IntegerField(widget=HiddenField.widget, validators=[Optional()])
