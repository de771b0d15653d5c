"""Forms of the consultation pages: comments and the committee's responses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from consult.consultation.languages import LANGUAGES
from consult.consultation.models import CHANNELS, DECISIONS, KINDS, MODERATION_ACTIONS
from consult.consultation.services import MAX_BODY, MAX_REASON, MAX_REPLY, MAX_SUGGESTION
from consult.forms import Form, choices

WHOLE_VERSION = ""


class CommentForm(Form):
    """A comment by a CSO member, for one of the member's organisations."""

    #: The paragraph's id, or empty for a comment on the version as a whole.
    paragraph = HiddenField(default=WHOLE_VERSION)
    organisation = SelectField(_l("On behalf of"), coerce=int, choices={})
    kind = SelectField(_l("Kind"), choices=choices(KINDS), default="comment")
    body = TextAreaField(_l("Your comment"), validators=[InputRequired(), Length(max=MAX_BODY)])
    suggested_text = TextAreaField(
        _l("Proposed wording (for a suggestion)"),
        validators=[Optional(), Length(max=MAX_SUGGESTION)],
    )
    quote = StringField(
        _l("Words you comment on (optional, copied from the paragraph)"),
        validators=[Optional(), Length(max=2000)],
    )
    #: A joint submission: other organisations that sign the comment from the start.
    cosigners = SelectMultipleField(_l("Submitted jointly with"), coerce=int, choices={})
    #: The language it is written in; empty: found from the text.
    language = SelectField(_l("Language"), choices={}, default="")

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = {o.id: o.display_name for o in organisations}
        self.cosigners.choices = dict(self.organisation.choices)
        self.language.choices = {"": str(_l("Found from the text")), **LANGUAGES}


class ReceivedCommentForm(CommentForm):
    """A comment received by e-mail, on paper or at a workshop, entered by the secretariat."""

    paragraph = SelectField(
        _l("Paragraph"), choices={}, default=WHOLE_VERSION, validate_choice=False
    )
    channel = SelectField(
        _l("Received by"),
        choices=choices(CHANNELS, skip=("web",)),
        default="email",
    )
    received_on = StringField(_l("Date received"), validators=[Optional()])


class EditCommentForm(Form):
    """A new text for one's comment, until the deadline (the kind stays)."""

    body = TextAreaField(_l("Your comment"), validators=[InputRequired(), Length(max=MAX_BODY)])
    suggested_text = TextAreaField(
        _l("Proposed wording"), validators=[Optional(), Length(max=MAX_SUGGESTION)]
    )
    quote = StringField(_l("Quoted words"), validators=[Optional(), Length(max=2000)])


class WithdrawForm(Form):
    reason = TextAreaField(
        _l("Why (optional, shown)"), validators=[Optional(), Length(max=MAX_REASON)]
    )


class CosignForm(Form):
    organisation = SelectField(_l("Co-sign for"), coerce=int, choices={})

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = {o.id: o.display_name for o in organisations}


class ReplyForm(Form):
    body = TextAreaField(_l("Your reply"), validators=[InputRequired(), Length(max=MAX_REPLY)])
    organisation = SelectField(_l("For"), coerce=int, choices={}, validate_choice=False)


class FlagForm(Form):
    reason = TextAreaField(
        _l("What is wrong with it"), validators=[InputRequired(), Length(max=MAX_REASON)]
    )
    #: Set when the flag is about a reply in the thread.
    reply = IntegerField(validators=[Optional()])


class ModerateForm(Form):
    action = SelectField(_l("Action"), choices=choices(MODERATION_ACTIONS), default="hide")
    reason = TextAreaField(
        _l("Public reason"), validators=[InputRequired(), Length(max=MAX_REASON)]
    )
    reply = IntegerField(validators=[Optional()])


class ResponseForm(Form):
    # No decision is preselected, so that none is given by accident.
    decision = SelectField(
        _l("Decision"),
        choices=choices(DECISIONS, first=("", _l("Choose a decision"))),
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=MAX_BODY)])
    #: Where to go back to after answering (a path on this site).
    next = HiddenField()
