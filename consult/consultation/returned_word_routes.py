"""The page where a marked-up Word file returned by an organisation is previewed (every
comment and suggestion it would become, with the errors of each) and then stored.

The uploaded file waits in the file store's "returned-word-pending" area, named by its
sha256, between the preview and the confirmation; nothing else is kept until then.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import BooleanField, HiddenField, SelectField

from consult import blobs
from consult.accounts import policy
from consult.accounts.routes import current_actor
from consult.accounts.services import all_organisations, get_organisation
from consult.consultation import returned_word
from consult.consultation.routes import bp
from consult.documents import word
from consult.documents.routes import visible_version
from consult.errors import ConsultError
from consult.extensions import db
from consult.forms import Form


class ReturnedWordForm(Form):
    organisation = SelectField(_l("Organisation that sent the file"), choices=[])
    #: After a preview: the sha256 of the file waiting to be stored.
    sha256 = HiddenField()
    store = BooleanField()


def _organisations(version):
    if policy.can(current_user, "comment.enter_on_behalf", version):
        return all_organisations()
    return list(current_user.organisations)


@bp.route("/documents/<slug>/versions/<int:number>/returned-word", methods=["GET", "POST"])
@login_required
def returned_word_page(slug: str, number: int):
    """Upload → preview (nothing stored) → store every comment, or none."""
    doc, v = visible_version(slug, number)
    orgs = _organisations(v)
    if not orgs:
        policy.require(current_user, "comment.enter_on_behalf", v)
    form = ReturnedWordForm()
    form.organisation.choices = [(o.slug, o.display_name) for o in orgs]
    if request.method == "GET":
        return _page(doc, v, form)
    if not form.validate_on_submit():
        return _page(doc, v, form, error=_("Check the fields marked below."), status=400)
    try:
        org = get_organisation(form.organisation.data)
        returned_word.authorise(current_user, v, org)
        blob, filename = _file(form)
        returned = returned_word.read(v, org, blob, filename)
    except ConsultError as e:
        return _page(doc, v, form, error=e.message, status=e.status)
    if form.store.data and returned.ok:
        try:
            made = returned_word.store(returned, blob, by=current_actor())
        except ConsultError as e:
            db.session.rollback()
            return _page(doc, v, form, returned=returned, error=e.message, status=e.status)
        db.session.commit()
        blobs.remove("returned-word-pending", returned.sha256)
        flash(
            ngettext(
                "%(num)s comment or suggestion from the Word file stored for %(display_name)s.",
                "%(num)s comments and suggestions from the Word file stored for %(display_name)s.",
                len(made),
                display_name=org.display_name,
            ),
            "success",
        )
        return redirect(url_for("consultation.version_comments", slug=doc.slug, number=v.number))
    form.sha256.data = returned.sha256
    error = (
        None
        if returned.ok
        else (
            "Nothing can be stored yet: correct what is marked below in the Word file and upload "
            "it again."
        )
    )
    return _page(doc, v, form, returned=returned, error=error, status=200 if returned.ok else 400)


def _file(form) -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload and upload.filename:
        blob = upload.read(word.MAX_BYTES + 1)
        word.file_kind(upload.filename, blob)  # refuses what is not a readable .docx
        blobs.put("returned-word-pending", blob)
        return blob, upload.filename
    kept = blobs.find("returned-word-pending", form.sha256.data or "")
    if kept is not None:
        return kept, "returned.docx"
    raise ConsultError(_("Choose the marked-up Word file (.docx) to upload."))


def _page(doc, v, form, *, returned=None, error=None, status=200):
    return (
        render_template(
            "consultation/returned_word.html",
            doc=doc,
            version=v,
            form=form,
            returned=returned,
            error=error,
        ),
        status,
    )
