"""Pages of the exports part: a version in every export format, and the import of
returned response forms by the secretariat."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from consult.accounts import policy
from consult.accounts.routes import current_actor
from consult.documents.forms import parse_local_datetime
from consult.documents.routes import visible_version
from consult.errors import ConsultError
from consult.exports import pack, stored, text
from consult.exports.formats import get_format
from consult.exports.forms import ReturnedFormsForm
from consult.extensions import db

bp = Blueprint("exports", __name__)


def _download(body: str | bytes, mimetype: str, name: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/documents/<slug>/versions/<int:number>/export.md")
def markdown(slug: str, number: int):
    _, v = visible_version(slug, number)
    return _download(text.markdown_export(v), "text/markdown", text.filename(v, "md"))


@bp.get("/documents/<slug>/versions/<int:number>/export.html")
def html(slug: str, number: int):
    _, v = visible_version(slug, number)
    return _download(text.html_export(v), "text/html", text.filename(v, "html"))


# --------------------------------------------------------------- every other format


@bp.get("/documents/<slug>/versions/<int:number>/export/<fmt>")
def download(slug: str, number: int, fmt: str):
    """Any format of formats.FORMATS: the text (PDF, Word, Akoma Ntoso), the tracked
    changes since the version before, the consultation report, open data, the pack.
    Heavy files are made once and served stored (consult.exports.stored)."""
    _, v = visible_version(slug, number)
    if request.args.get("lang"):
        from consult.translations import exports as translated

        return translated.serve(v, fmt, request.args["lang"])
    return stored.serve(v, get_format(fmt))


# --------------------------------------------------------------- returned response forms

MAX_UPLOAD = 5 * 1024 * 1024


@bp.route("/documents/<slug>/versions/<int:number>/returned-forms", methods=["GET", "POST"])
def returned_forms(slug: str, number: int):
    """The secretariat imports filled response forms (Word or CSV): preview with the
    errors of each row, then store them all, or nothing."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "comment.enter_on_behalf", v)
    form = ReturnedFormsForm()
    if request.method == "GET":
        return render_template("exports/returned_forms.html", doc=doc, version=v, form=form)
    if not form.validate_on_submit():
        return _forms_page(doc, v, form, error=_("Check the fields marked below."), status=400)
    try:
        received_at = (
            parse_local_datetime(form.received_on.data, doc.timezone, date_means="start")
            if (form.received_on.data or "").strip()
            else None
        )
        rows = _uploaded_rows(form)
    except ConsultError as e:
        return _forms_page(doc, v, form, error=e.message, status=e.status)
    ok = pack.check_rows(v, rows)
    if form.store.data and ok:
        try:
            stored = pack.import_rows(
                v, rows, by=current_actor(), channel=form.channel.data, received_at=received_at
            )
        except ConsultError as e:
            db.session.rollback()
            return _forms_page(doc, v, form, rows=rows, error=e.message, status=e.status)
        db.session.commit()
        flash(
            ngettext(
                "%(num)s comment entered on behalf of its organisation.",
                "%(num)s comments entered on behalf of their organisations.",
                len(stored),
            ),
            "success",
        )
        return redirect(url_for("consultation.version_comments", slug=doc.slug, number=v.number))
    form.rows.data = json.dumps([r.as_dict() for r in rows], ensure_ascii=False)
    error = (
        None
        if ok
        else _("Nothing was stored: correct the rows marked below in the file and upload it again.")
    )
    return _forms_page(doc, v, form, rows=rows, ok=ok, error=error, status=200 if ok else 400)


def _uploaded_rows(form) -> list[pack.FormRow]:
    upload = request.files.get("file")
    if upload and upload.filename:
        blob = upload.read(MAX_UPLOAD + 1)
        if len(blob) > MAX_UPLOAD:
            raise ConsultError(_("The file is larger than 5 MB."))
        return pack.parse_returned(upload.filename, blob)
    if form.rows.data:
        try:
            raw = json.loads(form.rows.data)
            return [
                pack.FormRow(
                    int(r["line"]),
                    str(r["organisation"]),
                    str(r["paragraph"]),
                    str(r["comment"]),
                    str(r["suggested"]),
                )
                for r in raw
            ]
        except (ValueError, KeyError, TypeError):
            raise ConsultError(
                _("The previewed rows were damaged; upload the file again.")
            ) from None
    raise ConsultError(_("Choose the filled form (.docx) or a CSV file to upload."))


def _forms_page(doc, v, form, *, rows=None, ok=False, error=None, status=200):
    return (
        render_template(
            "exports/returned_forms.html",
            doc=doc,
            version=v,
            form=form,
            rows=rows,
            ok=ok,
            error=error,
        ),
        status,
    )
