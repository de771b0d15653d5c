"""Forms of the exports part."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import Optional

from consult.consultation.models import CHANNELS
from consult.forms import Form, choices


class ReturnedFormsForm(Form):
    """Filled response forms sent back by e-mail, on paper or at a workshop. The file
    itself is read from request.files; after a preview its rows travel in `rows`."""

    channel = SelectField(
        _l("Received by"),
        choices=choices(CHANNELS, skip=("web",)),
        default="paper",
    )
    received_on = StringField(_l("Date received"), validators=[Optional()])
    rows = HiddenField()
    store = BooleanField()
