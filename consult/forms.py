"""The base of every form of the pages: the text policy and the id bounds applied as the
fields read what was posted, before any validator or view sees it.

- Text fields (StringField and its kinds: text areas, e-mail, search …) pass what was
  posted through `textpolicy.clean`: NFC, controls dropped, invisible-only text empty,
  so that `InputRequired` refuses a comment of zero-width spaces as it refuses an
  empty one. A NUL becomes the field's error. Passwords are left exactly as typed,
  and hidden fields carry what the page wrote (ids, a base text to compare with).
- Whole-number fields (IntegerField, and SelectField with coerce=int) refuse numbers
  beyond what an id column holds, with a readable error, instead of an overflow in the
  database.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SelectFieldBase, StringField
from wtforms.fields.choices import SelectChoice

from consult import textpolicy
from consult.converters import MAX_ID


def _cleaning(field):
    read = field.process_formdata

    def process_formdata(valuelist):
        try:
            # In place: InputRequired looks at raw_data, which is this list.
            valuelist[:] = [
                textpolicy.clean(v, what=f"'{field.label.text}'") if isinstance(v, str) else v
                for v in valuelist
            ]
        except textpolicy.TextRefused as e:
            raise ValueError(e.message) from None
        read(valuelist)

    return process_formdata


def _bounded(field):
    read = field.process_formdata

    def process_formdata(valuelist):
        read(valuelist)
        values = field.data if isinstance(field.data, list) else [field.data]
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_ID:
                field.data = None
                raise ValueError(f"{v} is too large a number for '{field.label.text}'.")

    return process_formdata


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField) and not isinstance(
                field, PasswordField | HiddenField
            ):
                field.process_formdata = _cleaning(field)
            elif isinstance(field, IntegerField) or (
                isinstance(field, SelectFieldBase) and getattr(field, "coerce", None) is int
            ):
                field.process_formdata = _bounded(field)
            return field


def choices(labels: dict[str, str], *, first: tuple[str, str] | None = None, skip=()) -> list:
    """A select's or radio group's choices from a table of labels kept in English and
    marked for the catalog (N_): each label shown in the language of the page (lazily,
    so a table made at import serves every request). `first`: a (value, label) put
    before them ("" and "Choose …"), its label already translated or lazy."""
    out = [SelectChoice(*first)] if first is not None else []
    out += [SelectChoice(k, lazy_gettext(v)) for k, v in labels.items() if k not in skip]
    return out


def shown_as(labels: dict[str, str]) -> list:
    """Choices whose labels are already in the page's language (or lazy): names, or
    labels translated where the table is made."""
    return [SelectChoice(k, v) for k, v in labels.items()]
