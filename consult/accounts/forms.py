"""Forms of the accounts and organisation pages."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from consult.accounts.models import ORG_KINDS
from consult.accounts.services import MIN_PASSWORD
from consult.forms import Form, choices, shown_as
from consult.i18n import country_names

#: The ASEAN member states and Timor-Leste, the first users' countries; others use "".
COUNTRIES = {"": _l("Other, or several countries"), **country_names()}
NEW_ORGANISATION = ""


class SignInForm(Form):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))


class SignUpForm(Form):
    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password (at least %(MIN_PASSWORD)s characters)", MIN_PASSWORD=MIN_PASSWORD),
        validators=[
            InputRequired(),
            Length(
                min=MIN_PASSWORD,
                message=_l(
                    "A password has at least %(MIN_PASSWORD)s characters.",
                    MIN_PASSWORD=MIN_PASSWORD,
                ),
            ),
        ],
    )
    organisation = SelectField(_l("Your organisation"), choices={})
    org_name = StringField(_l("Name of the new organisation"), validators=[Length(max=200)])
    org_country = SelectField(_l("Country"), choices=shown_as(COUNTRIES))
    org_kind = SelectField(_l("Kind of organisation"), choices=choices(ORG_KINDS))
    notify_consultations = BooleanField(
        _l("E-mail me when a document opens for comments, and 48 hours before it closes")
    )

    def __init__(self, organisations, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = {
            NEW_ORGANISATION: _("— A new organisation (describe it below) —"),
            **{o.slug: o.display_name for o in organisations},
        }

    def validate_org_name(self, field) -> None:
        # Exactly one of "existing" and "new": a name typed beside a chosen
        # organisation would be silently ignored otherwise.
        chosen = self.organisation.data != NEW_ORGANISATION
        if chosen and (field.data or "").strip():
            raise ValidationError(
                _("Either choose an existing organisation or name a new one, not both.")
            )
        if not chosen and not (field.data or "").strip():
            raise ValidationError(_("Name your organisation, or choose it from the list."))


class IndividualSignUpForm(Form):
    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password (at least %(n)s characters)", n=MIN_PASSWORD),
        validators=[InputRequired(), Length(min=MIN_PASSWORD)],
    )


def _password_field(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(),
            Length(
                min=MIN_PASSWORD,
                message=_(
                    "A password has at least %(MIN_PASSWORD)s characters.",
                    MIN_PASSWORD=MIN_PASSWORD,
                ),
            ),
        ],
    )


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail of your account"), validators=[InputRequired(), Length(max=254)])


class ResetPasswordForm(Form):
    password = _password_field(f"New password (at least {MIN_PASSWORD} characters)")
    confirm = PasswordField(
        _l("The same password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(ResetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])


class PlainForm(Form):
    """A form with nothing but its CSRF token: buttons that post (join, verify, …)."""


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def split_list(value: str) -> list[str]:
    """'a, b; c' → ['a', 'b', 'c']."""
    return [p.strip() for p in (value or "").replace(";", ",").split(",") if p.strip()]


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    acronym = StringField(_l("Acronym (optional)"), validators=[Length(max=40)])
    kind = SelectField(_l("Kind of organisation"), choices=choices(ORG_KINDS))
    countries = _Checkboxes(
        "Countries where it works",
        choices=shown_as({k: v for k, v in COUNTRIES.items() if k}),
        validate_choice=False,
    )
    other_countries = StringField(
        _l("Other countries (two-letter ISO codes, separated by commas)"),
        validators=[Length(max=200)],
    )
    focus = StringField(
        _l("Focus areas (separated by commas, e.g. gender equality, open budgets)"),
        validators=[Length(max=800)],
    )
    website = StringField(_l("Website (optional)"), validators=[Length(max=300)])
    description = TextAreaField(_l("Short description (optional)"), validators=[Length(max=2000)])
    contact_email = StringField(
        _l("Public contact e-mail (optional)"), validators=[Length(max=254)]
    )
    contact_phone = StringField(
        _l("Public contact telephone (optional)"), validators=[Length(max=40)]
    )

    def profile(self) -> dict:
        """The fields as accounts.services takes them."""
        return {
            "name": self.name.data or "",
            "acronym": self.acronym.data,
            "kind": self.kind.data,
            "countries": list(self.countries.data or []) + split_list(self.other_countries.data),
            "focus": split_list(self.focus.data),
            "website": self.website.data,
            "description": self.description.data,
            "contact_email": self.contact_email.data,
            "contact_phone": self.contact_phone.data,
        }

    def fill(self, org) -> None:
        listed = [c for c in org.countries if c in COUNTRIES]
        self.name.data, self.acronym.data, self.kind.data = org.name, org.acronym, org.kind
        self.countries.data = listed
        self.other_countries.data = ", ".join(c for c in org.countries if c not in listed)
        self.focus.data = ", ".join(org.focus)
        self.website.data, self.description.data = org.website, org.description
        self.contact_email.data, self.contact_phone.data = org.contact_email, org.contact_phone
