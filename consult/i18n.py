"""The interface's languages: Flask-Babel with the locale chosen per request.

The choice, strongest first: the account's setting (``User.locale`` once accounts
carry one), the cookie set by the language switcher, then the browser's
Accept-Language. Catalogs live in ``translations/`` (``make messages`` extracts and
updates them, ``make translations`` compiles them)."""

from __future__ import annotations

import os
import re
from functools import cache, cached_property
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_app_context,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask.globals import _cv_app
from flask_babel import Babel, Domain, LazyString, get_locale, get_translations, refresh
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup

#: The interface's locales, in the switcher's order (fixed: scripts rely on the codes).
LOCALES: dict[str, str] = {
    "en": "English",
    "id": "Bahasa Indonesia",
    "ms": "Bahasa Melayu",
    "fil": "Filipino",
    "th": "ไทย",
    "vi": "Tiếng Việt",
    "km": "ខ្មែរ",
    "lo": "ລາວ",
    "my": "မြန်မာ",
}
DEFAULT_LOCALE = "en"
#: The switcher's cookie: one year, readable by the server only.
COOKIE = "consult_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
#: Scripts written right to left (none of the region's today; kept for `dir`).
RTL: frozenset[str] = frozenset()


class _Domain(Domain):
    """Flask-Babel's domain with the catalog of the locale in force kept in the context
    beside that locale (and this domain), found again only when they change: a new
    request, a forced locale (a mail in its recipient's language). Flask-Babel looks it
    up on every call through several context lookups (about 20 microseconds), and a page
    with a few dozen comments makes a few hundred calls. Python's gettext and the
    templates' (Flask-Babel's callables ask the domain) both go through it."""

    def get_translations(self):
        ctx = _cv_app.get(None)
        ns = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
        kept = ns.__dict__.get("consult_catalog") if ns is not None else None
        if kept is not None and kept[:2] == (ns.__dict__.get("babel_locale"), self):
            return kept[2]
        catalog = super().get_translations()
        ns = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
        if ns is not None and ns.__dict__.get("babel_locale") is not None:
            ns.consult_catalog = (ns.babel_locale, self, catalog)
        return catalog


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _Domain(domain=self.domain)


babel = _Babel()


def N_(text: str) -> str:
    """Marks a label kept in English in a table (a state, a decision) for the catalog;
    the code that shows it translates it then (gettext(label))."""
    return text


#: The words in a catalog's header comment that mark a first translation nobody who
#: speaks the language has read yet: the pages in it carry a discreet note.
REVIEW_MARK = "needs review by a native speaker"


def select_locale() -> str:
    """The account's language, else the switcher's cookie, else Accept-Language; only
    languages whose catalog is complete are chosen (see offered_locales)."""
    if has_request_context():
        from flask_login import current_user

        offered = offered_locales()
        chosen = getattr(current_user, "locale", None)
        if chosen in offered:
            return chosen
        cookie = request.cookies.get(COOKIE)
        if cookie in offered:
            return cookie
        best = request.accept_languages.best_match(list(offered))
        if best:
            return best
    return DEFAULT_LOCALE


def current_locale() -> str:
    """The locale of this request, or the one forced (flask_babel.force_locale: a mail
    in its recipient's language); English outside any application context."""
    if not has_app_context():
        return DEFAULT_LOCALE
    return str(get_locale() or DEFAULT_LOCALE)


#: The ASEAN member states and Timor-Leste, the first users' countries, by the names
#: ASEAN uses in English; other languages get their own names from CLDR (Babel).
COUNTRY_NAMES = {
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


def country_name(code: str) -> str:
    """A country's name (ISO 3166 code) in the reader's language; the code when unknown."""
    code = (code or "").strip().upper()
    locale = current_locale()
    if locale == DEFAULT_LOCALE and code in COUNTRY_NAMES:
        return COUNTRY_NAMES[code]
    try:
        return get_locale().territories.get(code) or COUNTRY_NAMES.get(code, code)
    except AttributeError:  # no locale outside a request
        return COUNTRY_NAMES.get(code, code)


def country_names() -> dict[str, LazyString]:
    """COUNTRY_NAMES with each name given in the language of the page it is shown on."""
    return {code: LazyString(country_name, code) for code in COUNTRY_NAMES}


def labels(table: dict[str, str]) -> dict[str, str]:
    """A table of labels kept in English and marked for the catalog (N_), each in the
    reader's language."""
    return {k: _(v) for k, v in table.items()}


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL else "ltr"


def _po_path(directory: str, locale: str) -> str:
    return os.path.join(directory, locale, "LC_MESSAGES", "messages.po")


@cache
def catalog_state(directory: str, locale: str) -> tuple[bool, bool]:
    """(complete, under review) of one locale's catalog: complete when every message
    of the catalog is translated (every plural form) and none is fuzzy."""
    from babel.messages.pofile import read_po

    path = _po_path(directory, locale)
    if not os.path.exists(path):
        return False, False
    with open(path, "rb") as f:
        catalog = read_po(f, locale=locale)
    complete = True
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if message.fuzzy or not all(strings):
            complete = False
            break
    header = re.sub(r"[#\s]+", " ", catalog.header_comment or "").lower()
    review = REVIEW_MARK in header
    return complete, review


def _translations_dir() -> str:
    return current_app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")[0]


def offered_locales() -> list[str]:
    """English, then every locale whose catalog is complete, in LOCALES' order."""
    directory = _translations_dir()
    return [code for code in LOCALES if code == DEFAULT_LOCALE or catalog_state(directory, code)[0]]


def under_review(locale: str) -> bool:
    return locale != DEFAULT_LOCALE and catalog_state(_translations_dir(), locale)[1]


def safe_next(target: str | None) -> str:
    """A local path to go back to: anything with a scheme or a host becomes '/'."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target


bp = Blueprint("i18n", __name__)


@bp.post("/language")
def choose_language():
    """The switcher: a plain form (no JavaScript) that sets the cookie, and the signed-in
    account's setting too, then goes back to the page it was sent from."""
    from flask_login import current_user

    from consult.errors import ConsultError
    from consult.extensions import db

    code = request.form.get("lang", "")
    if code not in offered_locales():
        raise ConsultError(_("There is no interface in the language '%(code)s'.", code=code))
    response = redirect(safe_next(request.form.get("next")))
    response.set_cookie(
        COOKIE,
        code,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    if current_user.is_authenticated and hasattr(current_user, "locale"):
        current_user.locale = code
        db.session.commit()
    return response


@bp.post("/account/language")
def account_language():
    """The account page's setting: a language, or none (then the cookie and the browser
    decide)."""
    from flask import flash
    from flask_login import current_user

    from consult.errors import ConsultError, Unauthenticated
    from consult.extensions import db

    if not current_user.is_authenticated:
        raise Unauthenticated(_("Sign in to choose the language of your account."))
    code = request.form.get("lang", "")
    if code and code not in offered_locales():
        raise ConsultError(_("There is no interface in the language '%(code)s'.", code=code))
    current_user.locale = code or None
    db.session.commit()
    flash(_("Your language is saved."))
    response = redirect(url_for("accounts.account"))
    if code:
        response.set_cookie(
            COOKIE,
            code,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def _bound_gettext(translations) -> dict:
    """The templates' gettext and ngettext (`_()` calls the first) bound to the catalog of
    this rendering, looked up once: Flask-Babel's look it up again on every call, about 20
    microseconds each, and a long text's page makes a thousand calls. They behave as
    Jinja's "newstyle" ones: marked safe when escaping is on, the string always formatted
    with the variables (escaped), ngettext's `num` given unless the call names another
    (the parameters are positional only, so that a variable may be called `num`)."""

    @pass_context
    def gettext(context, string: str, /, **variables):
        rv = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - our catalogs, as Jinja's own gettext marks them
        return rv % variables

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, /, **variables):
        variables.setdefault("num", num)
        rv = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - our catalogs, as Jinja's own gettext marks them
        return rv % variables

    return {"gettext": gettext, "ngettext": ngettext}


def init_app(app: Flask, translations_dir: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations_dir)
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    # Flask-Babel keeps the chosen locale in `g`, which lives as long as the application
    # context: choose again for each request (requests that share one context, as in
    # the tests and CLI-driven rendering, would otherwise keep the first one's).
    app.before_request(refresh)

    @app.context_processor
    def _locale_context():
        loc = current_locale()
        return {
            **_bound_gettext(get_translations()),
            "current_locale": loc,
            "text_dir": text_direction(loc),
            "LOCALES": LOCALES,
            "offered_locales": offered_locales,
            "translation_under_review": under_review(loc),
        }
