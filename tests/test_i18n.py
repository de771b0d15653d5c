"""The interface in the region's languages (issue 19): no string a person reads is left
outside the catalogs, every offered locale's catalog is complete, the language is chosen
from the account, the switcher's cookie or Accept-Language, and the switcher is a plain
form that works without JavaScript."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

from consult import i18n
from consult.extensions import db

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
TRANSLATIONS = ROOT / "translations"

# --- (a) nothing readable outside _() / {% trans %} ------------------------------------

#: Elements whose text is code or data, not words to translate.
VERBATIM = {"script", "style", "pre", "code", "kbd", "samp"}
#: Attributes a person reads (or hears: aria-label).
READ_ATTRS = {"title", "alt", "placeholder", "aria-label", "label"}
ENV = Environment(extensions=["jinja2.ext.i18n"], keep_trailing_newline=True, autoescape=True)


def _wordy(text: str) -> bool:
    """Letters that make a word: entities, numbers and punctuation are not."""
    return bool(re.search(r"[^\W\d_]", re.sub(r"&#?\w+;", " ", text)))


def _template_source_without_jinja(source: str) -> str:
    """The template's static text: data tokens kept, every Jinja construct and the text
    of {% trans %} blocks replaced by a space (so HTML stays parseable)."""
    out: list[str] = []
    in_trans = 0
    block: list[str] = []
    for _line, kind, value in ENV.lex(source):
        if kind == "data":
            out.append(" " if in_trans else value)
        elif kind == "block_begin":
            block = []
        elif kind == "name" and block is not None:
            block.append(value)
        elif kind == "block_end":
            if block and block[0] == "trans":
                in_trans += 1
            elif block and block[0] == "endtrans":
                in_trans -= 1
            block = None
            out.append(" ")
        elif kind in ("variable_end", "comment_end", "raw_end"):
            out.append(" ")
    return "".join(out)


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self.verbatim = 0

    def handle_starttag(self, tag, attrs):
        if tag in VERBATIM:
            self.verbatim += 1
        attrs = dict(attrs)
        shown = set(READ_ATTRS)
        if tag == "input" and (attrs.get("type") or "").lower() in ("submit", "button", "reset"):
            shown.add("value")
        for name, value in attrs.items():
            if name in shown and value and _wordy(value):
                self.found.append(f'{tag} {name}="{value}"')

    def handle_endtag(self, tag):
        if tag in VERBATIM and self.verbatim:
            self.verbatim -= 1

    def handle_data(self, data):
        if not self.verbatim and _wordy(data):
            self.found.append(data.strip())


def untranslated_in_template(source: str, path: str) -> list[str]:
    text = _template_source_without_jinja(source)
    if path.endswith(".txt"):
        return [line.strip() for line in text.splitlines() if _wordy(line)]
    finder = _TextFinder()
    finder.feed(text)
    finder.close()
    return finder.found


def test_every_template_text_is_in_the_catalog():
    paths = sorted(p for ext in ("html", "txt", "xml") for p in TEMPLATES.rglob(f"*.{ext}"))
    assert len(paths) > 50
    left = {}
    for path in paths:
        rel = str(path.relative_to(ROOT))
        found = untranslated_in_template(path.read_text(encoding="utf-8"), rel)
        if found:
            left[rel] = found[:3]
    assert not left, "text outside _() in templates: " + repr(left)


def test_the_template_check_finds_text_and_passes_wrapped_text():
    bad = '<p title="Open it">Hello {{ name }}</p><input type="submit" value="Send">'
    assert len(untranslated_in_template(bad, "x.html")) == 3
    good = (
        "<p title=\"{{ _('Open it') }}\">{{ _('Hello %(name)s', name=name) }}</p>"
        "<code>lang:th</code> · 42 &mdash; {% trans %}Some words{% endtrans %}"
        '<input type="hidden" value="yes">'
    )
    assert untranslated_in_template(good, "x.html") == []
    assert untranslated_in_template("{{ _('Hello') }}\n\n{{ link }}\n", "m.txt") == []
    assert untranslated_in_template("Hello {{ name }},\n", "m.txt") == ["Hello  ,"]


#: Calls whose message a person reads: flashes, errors shown as 4xx pages or API
#: errors, form labels and validator messages, CLI output.
MESSAGE_CALLS = {
    "flash",
    "ConsultError",
    "Unauthenticated",
    "NotAllowed",
    "NotFound",
    "Conflict",
    "TextRefused",
    "InvalidInput",
    "RecordRange",
    "MessageTooLarge",
    "TooManyMessages",
    "WordError",
    "ValidationError",
    "ClickException",
    "UsageError",
    "BadParameter",
}
VALIDATORS = {"DataRequired", "InputRequired", "Length", "Email", "EqualTo", "NumberRange"}


def _literal_message(node) -> bool:
    if isinstance(node, ast.IfExp):  # flash("Saved." if changed else "Nothing changed.")
        return _literal_message(node.body) or _literal_message(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2,}", node.value))
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return bool(re.search(r"[A-Za-z]{2,}", text))
    return False


def untranslated_in_python(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        messages = []
        if name in MESSAGE_CALLS or (name == "abort" and len(node.args) > 1):
            messages = node.args[1:2] if name == "abort" else node.args[:1]
        elif name in ("echo", "secho") and getattr(f.value, "id", "") == "click":
            messages = node.args[:1]
        elif name.endswith("Field") and name != "Field" and name[:1].isupper():
            messages = node.args[:1] + [k.value for k in node.keywords if k.arg == "label"]
        elif name in VALIDATORS:
            messages = [k.value for k in node.keywords if k.arg == "message"]
        # An error handed to a page to show (render(..., error="…")).
        messages += [k.value for k in node.keywords if k.arg == "error"]
        lines += [m.lineno for m in messages if _literal_message(m)]
    # error, status = "…", 400: the message a page shows next.
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Tuple)
            and getattr(node.targets[0].elts[0], "id", "") == "error"
            and isinstance(node.value, ast.Tuple)
            and _literal_message(node.value.elts[0])
        ):
            lines.append(node.lineno)
    return lines


def test_every_python_message_is_in_the_catalog():
    left = {}
    for path in sorted((ROOT / "consult").rglob("*.py")):
        found = untranslated_in_python(path.read_text(encoding="utf-8"))
        if found:
            left[str(path.relative_to(ROOT))] = found[:5]
    assert not left, "messages outside _() (file: lines): " + repr(left)


def test_the_python_check_finds_plain_messages():
    assert untranslated_in_python('flash("Saved.")\nraise NotFound(f"No {x}.")\n') == [1, 2]
    assert untranslated_in_python('flash(_("Saved."))\nclick.echo(f"{a}\\t{b}")\n') == []
    assert untranslated_in_python('flash("Saved." if x else _("No."))\npage(error="Wrong.")\n') == [
        1,
        2,
    ]
    assert untranslated_in_python('error, status = "Say why.", 400\nerror, status = "", 200\n') == [
        1
    ]


# --- (b) catalogs ---------------------------------------------------------------------


def _msgids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_catalogs_exist_for_every_locale_and_offered_ones_are_complete(app):
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        template = _msgids(read_po(f))
    assert len(template) > 1000
    with app.app_context():
        offered = i18n.offered_locales()
    assert offered[0] == "en"
    for code in i18n.LOCALES:
        if code == "en":
            continue
        po = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
        assert po.exists(), f"no catalog for {code}"
        if code not in offered:
            continue
        with open(po, "rb") as f:
            catalog = read_po(f, locale=code)
        assert _msgids(catalog) >= template, f"{code}: catalog is older than messages.pot"
        for m in catalog:
            strings = m.string if isinstance(m.string, tuple | list) else [m.string]
            assert m.id == "" or (all(strings) and not m.fuzzy), f"{code}: {m.id!r}"


def test_a_locale_with_an_untranslated_or_fuzzy_message_is_not_offered(tmp_path):
    def write(code, body, comment="# Thai.\n"):
        d = tmp_path / code / "LC_MESSAGES"
        d.mkdir(parents=True)
        head = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        (d / "messages.po").write_text(comment + head + body, encoding="utf-8")

    write(
        "th",
        'msgid "Search"\nmsgstr "ค้นหา"\n',
        "# The translation needs review by a native speaker.\n",
    )
    write("km", 'msgid "Search"\nmsgstr ""\n')
    write("lo", '#, fuzzy\nmsgid "Search"\nmsgstr "ຊອກຫາ"\n')
    write("vi", 'msgid "%(n)s file"\nmsgid_plural "%(n)s files"\nmsgstr[0] ""\n')
    assert i18n.catalog_state(str(tmp_path), "th") == (True, True)
    assert i18n.catalog_state(str(tmp_path), "km") == (False, False)
    assert i18n.catalog_state(str(tmp_path), "lo")[0] is False
    assert i18n.catalog_state(str(tmp_path), "vi")[0] is False
    assert i18n.catalog_state(str(tmp_path), "my") == (False, False)


# --- (c) the choice: account > cookie > Accept-Language ------------------------------


@pytest.fixture
def every_locale(monkeypatch):
    """Every locale offered, as if each catalog were complete."""
    monkeypatch.setattr(i18n, "offered_locales", lambda: list(i18n.LOCALES))


def _lang(resp) -> str:
    return re.search(r'<html lang="([^"]+)"', resp.get_data(as_text=True)).group(1)


def test_accept_language_then_cookie_then_account_choose_the_language(
    client, every_locale, make_user, as_user
):
    assert _lang(client.get("/")) == "en"
    assert _lang(client.get("/", headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"})) == "th"
    assert _lang(client.get("/", headers={"Accept-Language": "de, km;q=0.8"})) == "km"
    client.set_cookie(i18n.COOKIE, "vi")
    assert _lang(client.get("/", headers={"Accept-Language": "th"})) == "vi"
    client.set_cookie(i18n.COOKIE, "xx")  # not a locale: ignored
    assert _lang(client.get("/", headers={"Accept-Language": "th"})) == "th"
    user = make_user("cso")
    user.locale = "lo"
    db.session.commit()
    as_user(user)
    client.set_cookie(i18n.COOKIE, "vi")
    assert _lang(client.get("/", headers={"Accept-Language": "th"})) == "lo"


def test_a_locale_is_chosen_only_when_offered(client, monkeypatch):
    monkeypatch.setattr(i18n, "offered_locales", lambda: ["en", "th"])
    assert _lang(client.get("/", headers={"Accept-Language": "km"})) == "en"
    client.set_cookie(i18n.COOKIE, "km")
    assert _lang(client.get("/", headers={"Accept-Language": "th"})) == "th"
    page = client.get("/").get_data(as_text=True)
    assert 'value="th"' in page and 'value="km"' not in page


# --- (d) the switcher: a plain form --------------------------------------------------


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_switcher_is_a_form_with_csrf_that_sets_the_cookie_and_goes_back(
    app, client, every_locale
):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/search?q=budget").get_data(as_text=True)
        form = re.search(r'<form class="lang-switch".*?</form>', page, re.S).group(0)
        assert 'method="post"' in form and "<select" in form and "<button" in form
        assert "<script" not in page.split("<footer", 1)[1]
        assert 'name="next" value="/search?q=budget"' in form
        assert client.post("/language", data={"lang": "th", "next": "/"}).status_code == 400
        resp = client.post(
            "/language", data={"lang": "th", "next": "/search?q=budget", "csrf_token": _csrf(form)}
        )
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/search?q=budget")
        cookie = resp.headers["Set-Cookie"]
        assert "consult_lang=th" in cookie and "HttpOnly" in cookie
        assert _lang(client.get("/search?q=budget")) == "th"
        for away in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
            resp = client.post(
                "/language", data={"lang": "en", "next": away, "csrf_token": _csrf(form)}
            )
            assert resp.headers["Location"] in ("/", "http://localhost/")
        resp = client.post("/language", data={"lang": "zz", "csrf_token": _csrf(form)})
        assert resp.status_code == 400 and "zz" in resp.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_account_page_sets_the_accounts_language(client, every_locale, make_user, login):
    user = make_user("cso")
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert 'name="lang"' in page and ">ไทย</option>" in page
    resp = client.post("/account/language", data={"lang": "km"})
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.locale == "km"
    client.delete_cookie(i18n.COOKIE)
    assert _lang(client.get("/account")) == "km"
    client.post("/account/language", data={"lang": ""})
    db.session.refresh(user)
    assert user.locale is None
    assert client.post("/account/language", data={"lang": "xx"}).status_code == 400


def test_dates_and_times_follow_the_language(app):
    from datetime import UTC, datetime, timedelta

    from flask_babel import force_locale

    from consult.web import format_dt, time_left

    moment = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    soon = datetime.now(UTC) + timedelta(days=3, hours=1)
    with app.test_request_context():
        assert format_dt(moment, "Asia/Bangkok") == "26 Nov 2026, 17:00 UTC+7"
        assert time_left(soon) == "in 3 days"
        with force_locale("th"):
            text = format_dt(moment, "Asia/Bangkok")
            assert "พ.ย." in text and "17:00" in text and text.endswith(" UTC+7")
            assert "3" in time_left(soon) and "days" not in time_left(soon)


def test_a_mail_is_written_in_its_recipients_language(app, every_locale, make_document, make_user):
    from sqlalchemy import select

    from consult.mail.models import MailOutbox
    from tests.conftest import post_comment

    doc = make_document("consultation")
    thai = make_user("cso", email="somchai@example.org")
    thai.locale = "th"
    db.session.commit()
    version = doc.latest
    with app.test_request_context(headers={"Accept-Language": "en"}):
        c = post_comment(version, version.paragraphs[1], thai)
    from consult.mail.outbox import render_waiting

    render_waiting()  # the receipt is made by the mail job, after the request
    mail = db.session.scalars(
        select(MailOutbox).where(MailOutbox.to_email == "somchai@example.org")
    ).first()
    assert mail is not None and c.tracking in mail.subject
    # its dates are written the Thai way (Babel: "6 ธ.ค. 2026 06:20 น."), though the
    # request that sent it asked for English
    assert "น. UTC" in mail.body


def test_pages_and_pdfs_name_a_font_for_every_script_of_the_region():
    families = ("Noto Sans Thai", "Noto Sans Khmer", "Noto Sans Lao", "Noto Sans Myanmar")
    for css in ("static/style.css", "static/print-export.css"):
        text = (ROOT / css).read_text(encoding="utf-8")
        assert all(f'"{f}"' in text for f in families), css
    assert "fonts-noto-core" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_labels_are_read_in_the_pages_language(app):
    from flask_babel import force_locale

    from consult.consultation.models import DECISIONS
    from consult.documents.models import STATE_LABELS

    assert STATE_LABELS["consultation"] == "Open for comments"
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        ids = _msgids(read_po(f))
    assert {"Open for comments", "Partly accepted"} <= ids
    with app.test_request_context(), force_locale("en"):
        from consult.documents.models import Version

        assert Version(state="consultation").state_label == "Open for comments"
    assert DECISIONS["noted"] == "Noted"


def test_an_open_deadline_reads_as_open_in_every_language(client, every_locale, make_document):
    """The deadline's words come from comparing times, not from the English words."""
    from flask_babel import force_locale, gettext

    doc = make_document("consultation")
    for loc in ("th", "id"):
        with force_locale(loc):
            closes = gettext("closes %(left)s:", left="").strip(" :")
            passed = gettext("deadline passed %(left)s:", left="").strip(" :")
        client.set_cookie(i18n.COOKIE, loc)
        html = client.get(f"/documents/{doc.slug}/versions/1").get_data(as_text=True)
        assert closes in html, loc
        assert passed not in html, loc


def test_the_templates_gettext_formats_and_escapes_as_jinja_does(app):
    """The templates' gettext and ngettext (bound to the rendering's catalog): escaped
    variables, `num` given to ngettext unless the call names its own."""
    from flask import render_template_string

    with app.test_request_context("/", headers={"Accept-Language": "th"}):
        out = render_template_string(
            "{{ ngettext('%(num)s comment', '%(num)s comments', 1234, num='1,234') }}|"
            "{{ ngettext('%(num)s comment', '%(num)s comments', 1) }}|"
            "{{ _('Sources') }}|{{ _('%(num)s in all', num='<b>') }}"
        )
    many, one, sources, escaped = out.split("|")
    assert "1,234" in many and "1" in one and "1234" not in many
    assert sources == "แหล่งที่มา"
    assert "&lt;b&gt;" in escaped and "<b>" not in escaped


def test_the_kept_catalog_follows_a_forced_locale_and_the_next_request(app, client):
    """gettext in Python code and in macros imported without the context use the catalog
    kept for the request (consult.i18n._Domain): a forced locale (a mail in its
    recipient's language) gets its own, the page's comes back after it, and the next
    request in another language does not read the one before's."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext, refresh

    macro = (
        "{% from 'macros.html' import org_label %}"
        "{{ org_label(org) }}|{{ _('Sources') }}|{{ gettext('Sources') }}"
    )

    class Unverified:
        verified_at = None

    def both() -> tuple[str, str]:
        return gettext("Sources"), render_template_string(macro, org=Unverified())

    with app.test_request_context("/", headers={"Accept-Language": "th"}):
        th_py, th_page = both()
        with force_locale("id"):
            id_py, id_page = both()
        again_py, again_page = both()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()  # as before each request (this context shares the fixture's `g`)
        en_py, en_page = both()
    assert th_py == "แหล่งที่มา" and "แหล่งที่มา" in th_page
    assert id_py not in (th_py, "Sources") and id_py in id_page and "แหล่งที่มา" not in id_page
    assert (again_py, again_page) == (th_py, th_page)
    assert en_py == "Sources" and en_page.endswith("|Sources|Sources")
    assert "unverified organisation" in en_page and "unverified organisation" not in th_page
    # The same client asks for a page in one language, then in another.
    with app.test_request_context(), force_locale("th"):
        search_th = gettext("Search")
    pages = {}
    for loc in ("th", "en", "th"):
        client.set_cookie(i18n.COOKIE, loc)
        pages.setdefault(loc, []).append(client.get("/").get_data(as_text=True))
    assert all(search_th in html for html in pages["th"])
    assert search_th not in pages["en"][0] and ">Search<" in pages["en"][0]
