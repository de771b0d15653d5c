"""The interface's languages: Flask-Babel with the locale chosen per request.

The choice, strongest first: the account's setting (``User.locale`` once accounts
carry one), the cookie set by the language switcher, then the browser's
Accept-Language. Catalogs live in ``translations/`` (``make messages`` extracts and
updates them, ``make translations`` compiles them)."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_babel import Babel

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

babel = Babel()


def select_locale() -> str:
    if has_request_context():
        from flask_login import current_user

        chosen = getattr(current_user, "locale", None)
        if chosen in LOCALES:
            return chosen
        cookie = request.cookies.get(COOKIE)
        if cookie in LOCALES:
            return cookie
        best = request.accept_languages.best_match(list(LOCALES))
        if best:
            return best
    return DEFAULT_LOCALE


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL else "ltr"


def init_app(app: Flask, translations_dir: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations_dir)
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _locale_context():
        from flask_babel import get_locale

        loc = str(get_locale() or DEFAULT_LOCALE)
        return {"current_locale": loc, "text_dir": text_direction(loc), "LOCALES": LOCALES}
