"""Pages: the committee's translations of a version (import, review of links, publish),
the committee's answers in other languages, and what the version page needs to show a
text in the reader's chosen language."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consult import textpolicy
from consult.accounts import policy
from consult.accounts.routes import current_actor
from consult.consultation import services as consultation
from consult.documents.models import Version
from consult.documents.routes import visible_version
from consult.errors import ConsultError, NotFound
from consult.extensions import db
from consult.i18n import LOCALES
from consult.translations import services as tr
from consult.translations.cli import read_text_file

bp = Blueprint("translations", __name__)


def reading_facts(version: Version, lang: str | None) -> dict:
    """For the version page: the languages it can be read in, the one chosen (None: the
    authoritative text) and, when one is chosen, each paragraph's text in it by id."""
    languages = tr.languages_of(version)
    own = tr.authoritative_language(version.document)
    chosen = lang if lang in languages and lang != own else None
    rows = tr.read_in(version, chosen) if chosen else []
    return {
        "text_languages": languages,
        "text_language": chosen,
        "own_language": own,
        "translated": {r.paragraph.id: r for r in rows if r.text is not None},
        "LANGUAGE_NAMES": LOCALES,
    }


def _ref(p) -> str:
    return p.number or f"#{p.position + 1}"


def _managed(slug: str, number: int):
    doc, v = visible_version(slug, number)
    policy.require(current_user, "translation.manage", v)
    return doc, v


@bp.route("/documents/<slug>/versions/<int:number>/translations", methods=["GET", "POST"])
@login_required
def manage(slug: str, number: int):
    """The version's translations and the form that imports one."""
    doc, v = _managed(slug, number)
    error = ""
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is not None and upload.filename:
                text, _warnings = read_text_file(upload.filename, upload.read())
            else:
                text = request.form.get("text", "")
            text = textpolicy.clean(text)
            t = tr.import_translation(v, request.form.get("language", ""), text, by=current_actor())
        except ConsultError as e:
            db.session.rollback()
            error, status = e.message, e.status
        else:
            db.session.commit()
            flash(_("The translation is imported: review its links, then publish it."))
            return redirect(url_for("translations.review", slug=slug, number=number, tid=t.id))
    return render_template(
        "translations/manage.html",
        doc=doc,
        version=v,
        translations=tr.translations_of(v, published_only=False),
        own=tr.authoritative_language(doc),
        LANGUAGE_NAMES=LOCALES,
        error=error,
        form=request.form,
    ), status


@bp.route("/documents/<slug>/versions/<int:number>/translations/<int:tid>", methods=["GET", "POST"])
@login_required
def review(slug: str, number: int, tid: int):
    """The drafters' review: each translated block beside the paragraph it was aligned
    to; a number typed in a row links it to another paragraph, an empty one unlinks it."""
    doc, v = _managed(slug, number)
    t = tr.get_translation(tid, v)
    refs = {}
    for p in v.paragraphs:
        refs.setdefault(_ref(p), p.id)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "publish":
                tr.publish_translation(t, by=current_actor())
                message = _(
                    "The translation into %(language)s is published.", language=LOCALES[t.language]
                )
            else:
                links: dict[int, int | None] = {}
                for tp in t.paragraphs:
                    value = request.form.get(f"to-{tp.id}")
                    if value is None:
                        continue
                    value = value.strip()
                    if value and value not in refs:
                        raise ConsultError(
                            _("There is no paragraph %(ref)s in this version.", ref=value)
                        )
                    links[tp.id] = refs[value] if value else None
                changed = tr.relink(t, links, by=current_actor())
                message = _("Links saved: %(n)s changed.", n=changed)
        except ConsultError as e:
            db.session.rollback()
            error, status = e.message, e.status
        else:
            db.session.commit()
            flash(message)
            return redirect(url_for("translations.review", slug=slug, number=number, tid=t.id))
    return render_template(
        "translations/review.html",
        doc=doc,
        version=v,
        t=t,
        ref=_ref,
        LANGUAGE_NAMES=LOCALES,
        error=error,
    ), status


@bp.post("/comments/<int:comment_id>/response/translations")
@login_required
def translate_response(comment_id: int):
    c = consultation.get_comment(comment_id)
    policy.require(current_user, "response.translate", c)
    if c.response is None:
        raise NotFound(_("This comment has no answer to translate yet."))
    try:
        tr.translate_response(
            c.response,
            request.form.get("language", ""),
            request.form.get("text", ""),
            by=current_actor(),
        )
    except ConsultError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("consultation.comment", comment_id=c.id) + "#answer-h")
    db.session.commit()
    flash(_("The answer in another language is added."))
    return redirect(url_for("consultation.comment", comment_id=c.id) + "#answer-h")


@bp.app_template_global()
def response_translations_of(response) -> list:
    """The newest translation of an answer in each language (for the comment page)."""
    if response is None:
        return []
    return tr.response_translations([response.id]).get(response.id, [])
