"""The search page: the same search as the API (service.search), as HTML.

Everything is a GET form or a link, so the page works without JavaScript and
every search can be bookmarked or shared: facet values are links that add or
remove one filter, the form keeps the chosen filters as hidden fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from consult.search import service
from consult.search.service import PARAM_FILTERS, SearchParams

bp = Blueprint("search", __name__)

PER_PAGE = 20

#: Facets in the order they are shown, with their headings; each maps to the request
#: argument it sets (the date facet sets a one-month range).
FACETS = [
    ("type", _l("Kind of result"), "type"),
    ("document", _l("Document"), "document"),
    ("version", _l("Version"), "version"),
    ("kind", _l("Kind of comment"), "kind"),
    ("decision", _l("Decision"), "decision"),
    ("organisation", _l("Organisation"), "org"),
    ("orgkind", _l("Kind of organisation"), "orgkind"),
    ("country", _l("Country"), "country"),
    ("date", _l("Month"), None),
    ("language", _l("Language"), "lang"),
]
SORTS = {"relevance": _l("Relevance"), "date": _l("Newest first"), "oldest": _l("Oldest first")}
_KEPT = (*PARAM_FILTERS, "from", "to", "sort", "latest")


@dataclass
class FacetLink:
    label: str
    count: int
    selected: bool
    url: str


def _args(**changes) -> MultiDict:
    """The current search's arguments (without the page), with `changes` applied:
    a value of None removes the argument, a list replaces it."""
    args = MultiDict(
        [(k, v) for k, v in request.args.items(multi=True) if k in ("q", *_KEPT) and v]
    )
    for key, value in changes.items():
        args.poplist(key)
        if value is None:
            continue
        for v in value if isinstance(value, list) else [value]:
            args.add(key, v)
    return args


def _url(args: MultiDict, page: int = 1) -> str:
    if page > 1:
        args = args.copy()
        args["page"] = str(page)
    return url_for("search.search", **args.to_dict(flat=False))


def _facet_links(results) -> list[tuple[str, list[FacetLink]]]:
    out = []
    for name, heading, arg in FACETS:
        values = results.facets.get(name) or []
        links = []
        for v in values:
            if arg is None:  # a month: the range from its first to its last day
                chosen = request.args.get("from") == v.value and request.args.get("to") == v.value
                args = _args(
                    **({"from": None, "to": None} if chosen else {"from": v.value, "to": v.value})
                )
                links.append(FacetLink(v.label, v.count, chosen, _url(args)))
                continue
            current = request.args.getlist(arg)
            chosen = v.selected or v.value in current
            new = [c for c in current if c != v.value] if chosen else [*current, v.value]
            links.append(FacetLink(v.label, v.count, chosen, _url(_args(**{arg: new or None}))))
        if links and not (len(links) == 1 and not links[0].selected and arg is None):
            out.append((heading, links))
    return out


@bp.get("/search")
def search():
    params = SearchParams.from_args(request.args, per_page=PER_PAGE)
    if params.empty:
        return render_template("search/search.html", params=params, results=None, sorts=SORTS)
    results = service.search(params, current_user if current_user.is_authenticated else None)
    if params.page > results.pages and results.total:
        return redirect(_url(_args(), results.pages))
    hidden = [(k, v) for k, v in _args().items(multi=True) if k in PARAM_FILTERS]
    return render_template(
        "search/search.html",
        params=params,
        results=results,
        sorts=SORTS,
        facets=_facet_links(results),
        hidden=hidden,
        page_url=lambda n: _url(_args(), n),
        suggestion_url=_url(_args(q=results.suggestion)) if results.suggestion else None,
        clear_url=_url(MultiDict({"q": params.q})) if params.q else url_for("search.search"),
    )
