"""Forms of the accounts pages: sign up, sign in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from consult.accounts.models import ORG_KINDS
from consult.accounts.services import MIN_PASSWORD

#: The ASEAN member states and Timor-Leste, the first users' countries; others use "".
COUNTRIES = {
    "": "Other, or several countries",
    "BN": "Brunei Darussalam",
    "KH": "Cambodia",
    "ID": "Indonesia",
    "LA": "Lao PDR",
    "MY": "Malaysia",
    "MM": "Myanmar",
    "PH": "Philippines",
    "SG": "Singapore",
    "TH": "Thailand",
    "TL": "Timor-Leste",
    "VN": "Viet Nam",
}
NEW_ORGANISATION = ""


class SignInForm(FlaskForm):
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired()])
    remember = BooleanField("Keep me signed in on this device")


class SignUpForm(FlaskForm):
    name = StringField("Your name", validators=[InputRequired(), Length(max=200)])
    email = EmailField("E-mail", validators=[InputRequired(), Length(max=254)])
    password = PasswordField(
        f"Password (at least {MIN_PASSWORD} characters)",
        validators=[
            InputRequired(),
            Length(min=MIN_PASSWORD, message=f"A password has at least {MIN_PASSWORD} characters."),
        ],
    )
    organisation = SelectField("Your organisation", choices={})
    org_name = StringField("Name of the new organisation", validators=[Length(max=200)])
    org_country = SelectField("Country", choices=COUNTRIES)
    org_kind = SelectField("Kind of organisation", choices=dict(ORG_KINDS))

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = {
            NEW_ORGANISATION: "— A new organisation (describe it below) —",
            **{o.slug: o.display_name for o in organisations},
        }

    def validate_org_name(self, field) -> None:
        # Exactly one of "existing" and "new": a name typed beside a chosen
        # organisation would be silently ignored otherwise.
        chosen = self.organisation.data != NEW_ORGANISATION
        if chosen and field.data.strip():
            raise ValidationError(
                "Either choose an existing organisation or name a new one, not both."
            )
        if not chosen and not field.data.strip():
            raise ValidationError("Name your organisation, or choose it from the list.")
