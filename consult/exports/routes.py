"""Pages of the exports part: a version as a Markdown or a standalone HTML download."""

from __future__ import annotations

from flask import Blueprint, Response

from consult.documents.routes import visible_version
from consult.exports import text

bp = Blueprint("exports", __name__)


def _download(body: str, mimetype: str, name: str) -> Response:
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
