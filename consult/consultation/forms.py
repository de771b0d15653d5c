"""Forms of the consultation pages: comments and the committee's responses."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from consult.consultation.models import CHANNELS, DECISIONS, KINDS
from consult.consultation.services import MAX_BODY, MAX_SUGGESTION

WHOLE_VERSION = ""


class CommentForm(FlaskForm):
    """A comment by a CSO member, for one of the member's organisations."""

    #: The paragraph's id, or empty for a comment on the version as a whole.
    paragraph = HiddenField(default=WHOLE_VERSION)
    organisation = SelectField("On behalf of", coerce=int, choices={})
    kind = SelectField("Kind", choices=dict(KINDS), default="comment")
    body = TextAreaField("Your comment", validators=[InputRequired(), Length(max=MAX_BODY)])
    suggested_text = TextAreaField(
        "Proposed wording (for a suggestion)", validators=[Optional(), Length(max=MAX_SUGGESTION)]
    )
    quote = StringField(
        "Words you comment on (optional, copied from the paragraph)",
        validators=[Optional(), Length(max=2000)],
    )

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = {o.id: o.display_name for o in organisations}


class ReceivedCommentForm(CommentForm):
    """A comment received by e-mail, on paper or at a workshop, entered by the secretariat."""

    paragraph = SelectField("Paragraph", choices={}, default=WHOLE_VERSION, validate_choice=False)
    channel = SelectField(
        "Received by", choices={k: v for k, v in CHANNELS.items() if k != "web"}, default="email"
    )
    received_on = StringField("Date received", validators=[Optional()])


class ResponseForm(FlaskForm):
    # No decision is preselected, so that none is given by accident.
    decision = SelectField(
        "Decision", choices={"": "Choose a decision", **DECISIONS}, validators=[InputRequired()]
    )
    reason = TextAreaField("Reason", validators=[InputRequired(), Length(max=MAX_BODY)])
    #: Where to go back to after answering (a path on this site).
    next = HiddenField()
