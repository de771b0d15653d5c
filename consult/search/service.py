"""Search, as pages and the API ask for it: search(params, user) → Results.

The service reads the query (query.py), turns names into indexed ids (document
slugs, organisations by slug or acronym, countries and kinds of organisation),
decides what the user may find (drafts: accounts.policy "version.view"; hidden
comments: never), asks the backend, then describes the hits and labels the
facets from the database, so names are always current. Backends only see ids.

Facet counts are "drill-down" counts: each is counted over the results of the
search as filtered, so a count is what the user gets by adding that filter.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import joinedload, selectinload

from consult.accounts import policy
from consult.accounts.models import ORG_KINDS, Organisation
from consult.consultation.languages import LANGUAGES
from consult.consultation.models import DECISIONS, KINDS, Comment
from consult.documents.models import Document, Paragraph, Version
from consult.errors import ConsultError
from consult.extensions import db
from consult.i18n import N_, country_name
from consult.search import query as Q
from consult.search import spelling, vocabulary
from consult.search.entries import comment_visible_to_public
from consult.search.results import FacetValue, Hit, Results, Spec

MAX_PER_PAGE = 100
#: The largest page number read; larger ones are read as this (see SearchParams.from_args).
MAX_PAGE = 100_000
FACET_SIZE = 30  # values shown per facet, most frequent first
PARAM_FILTERS = (
    "type",
    "kind",
    "decision",
    "org",
    "orgkind",
    "country",
    "document",
    "version",
    "lang",
)
DECISION_LABELS = {**DECISIONS, "unanswered": N_("Not answered yet")}


@dataclass
class SearchParams:
    """A search as asked: the query text plus filters chosen outside it (facet links,
    form fields). Filters in both places add up."""

    q: str = ""
    #: Filter name (PARAM_FILTERS) → values, as in the query language (org: slug or acronym,
    #: document: slug, version: number, country: ISO code, …).
    filters: dict[str, list[str]] = field(default_factory=dict)
    #: ISO dates (or 2026-03, 2026); `date_to` is inclusive.
    date_from: str | None = None
    date_to: str | None = None
    #: "relevance", "date" (newest first) or "oldest"; by default relevance when there
    #: are words, else date.
    sort: str | None = None
    #: Only the latest version (that the user may see) of each document.
    latest: bool = False
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args: Mapping, per_page: int = 20) -> SearchParams:
        """From request arguments (a MultiDict): q, type, kind, decision, org, orgkind,
        country, document, version (each may repeat), from, to, sort, latest, page.
        A bad page number is a ConsultError; other bad values are notes, not errors."""
        getlist = getattr(args, "getlist", lambda k: [args[k]] if k in args else [])
        try:
            page = int(args.get("page", "1"))
        except ValueError:
            page = 0
        if page < 1:
            raise ConsultError(_("'page' is a whole number from 1."), code="invalid_page")
        # Beyond any real result list; the page then goes to the last page, and the
        # offset stays within what the databases take (10**30 overflowed them).
        page = min(page, MAX_PAGE)
        filters = {n: [v for v in getlist(n) if v.strip()] for n in PARAM_FILTERS}
        return cls(
            q=(args.get("q") or "").strip(),
            filters={n: v for n, v in filters.items() if v},
            date_from=(args.get("from") or "").strip() or None,
            date_to=(args.get("to") or "").strip() or None,
            sort=(args.get("sort") or "").strip() or None,
            latest=(args.get("latest") or "").strip().lower() in ("1", "yes", "true", "on"),
            page=page,
            per_page=per_page,
        )

    @property
    def empty(self) -> bool:
        return not (self.q or self.filters or self.date_from or self.date_to)


def _backend(backend):
    if backend is not None:
        return backend
    from consult.search.backend import get

    return get(current_app)


def _read(params: SearchParams) -> Q.Parsed:
    parsed = Q.parse(params.q)
    for name, values in params.filters.items():
        if name not in PARAM_FILTERS:
            parsed.notes.append(f"'{name}' is not a filter; it was left out.")
            continue
        for value in values:
            Q.add_filter(parsed, name, value, False)
    if params.date_from:
        Q.add_filter(parsed, "from", params.date_from, False)
    if params.date_to:
        Q.add_filter(parsed, "to", params.date_to, False)
    if params.sort:
        Q.add_filter(parsed, "sort", params.sort, False)
    if params.latest:
        parsed.latest = True
    return parsed


class _OrgRow(NamedTuple):
    id: int
    slug: str
    acronym: str | None
    name: str
    kind: str
    countries: tuple[str, ...]


@lru_cache(maxsize=1024)
def _codes(countries_json: str | None) -> tuple[str, ...]:
    return tuple(json.loads(countries_json)) if countries_json else ()


#: Up to this many organisations are read by id; more, and all are read.
_ORGS_BY_ID = 50


class _Orgs:
    """Organisations (id, slug, acronym, name, kind, countries), loaded when a filter or
    a facet needs them: plain rows, so that hundreds of them cost little."""

    def __init__(self) -> None:
        self.rows: dict[int, Any] = {}
        self._all = False

    def _load(self, ids: Iterable[int] | None = None) -> None:
        if self._all:
            return
        o = Organisation.__table__.c
        # The countries as their JSON text, decoded once per distinct value (a few dozen
        # lists for hundreds of organisations).
        countries = cast(o.countries, Text).label("countries_json")
        query = select(o.id, o.slug, o.acronym, o.name, o.kind, countries)
        if ids is not None:
            missing = sorted(set(ids) - self.rows.keys())
            if not missing:
                return
            if len(missing) <= _ORGS_BY_ID:
                query = query.where(o.id.in_(missing))
            else:  # reading them all costs less than a statement with hundreds of ids
                ids = None
        self.rows.update(
            (r[0], _OrgRow(*r[:5], _codes(r[5]))) for r in db.session.execute(query).all()
        )
        self._all = ids is None

    def matching(self, name: str, value: str) -> set[int]:
        self._load()
        v = value.lower()
        if name == "org":
            return {
                i
                for i, o in self.rows.items()
                if o.slug.lower() == v or (o.acronym or "").lower() == v
            }
        if name == "orgkind":
            return {i for i, o in self.rows.items() if o.kind == v}
        return {i for i, o in self.rows.items() if value.upper() in (o.countries or [])}

    def get(self, ids: Iterable[int]) -> dict[int, Any]:
        ids = list(ids)
        self._load(ids)
        return {i: self.rows[i] for i in ids if i in self.rows}


def _display(org) -> str:
    return f"{org.name} ({org.acronym})" if org.acronym else org.name


def _themes(values, notes: list[str]) -> set[int]:
    """The ids of the themes named (any document's; names compared folded)."""
    from consult.analysis.models import Theme
    from consult.analysis.themes import key

    wanted = set(values)
    found = {
        t.id: key(t.name)
        for t in db.session.execute(select(Theme.id, Theme.name)).all()
        if key(t.name) in wanted
    }
    for v in sorted(wanted - set(found.values())):
        notes.append(f"No theme is called '{v}'.")
    return set(found)


def _resolve(parsed: Q.Parsed, spec: Spec, notes: list[str]) -> _Orgs:
    """Filters by name → filters by indexed id."""
    orgs = _Orgs()
    slugs = set(parsed.filters.get("document", [])) | set(
        parsed.excluded_filters.get("document", [])
    )
    docs = {}
    if slugs:
        docs = {
            d.slug.lower(): d.id
            for d in db.session.scalars(select(Document).where(Document.slug.in_(sorted(slugs))))
        }
    for source, target in ((parsed.filters, spec.filters), (parsed.excluded_filters, spec.exclude)):
        allowed_orgs: set[int] | None = None
        for name, values in source.items():
            if name in ("type", "kind", "decision"):
                target[name] = set(values)
            elif name == "lang":
                target["language"] = set(values)
            elif name == "theme":
                target["theme"] = _themes(values, notes)
            elif name == "version":
                target["version"] = {int(v) for v in values}
            elif name == "document":
                for v in values:
                    if v not in docs:
                        notes.append(f"There is no document '{v}'.")
                target["document"] = {docs[v] for v in values if v in docs}
            else:  # org, orgkind, country: all become organisation ids
                ids: set[int] = set()
                for v in values:
                    found = orgs.matching(name, v)
                    if not found and name == "org":
                        notes.append(f"No organisation is called '{v}'.")
                    ids |= found
                if target is spec.exclude:
                    target["organisation"] = target.get("organisation", set()) | ids
                else:
                    allowed_orgs = ids if allowed_orgs is None else allowed_orgs & ids
        if allowed_orgs is not None:
            target["organisation"] = allowed_orgs
    return orgs


def _visible_versions(user) -> tuple[set[int], dict[int, int]]:
    """(drafts the user may see, {document id: latest version id the user may see})."""
    v = Version.__table__.c
    rows = db.session.execute(select(v.id, v.document_id, v.number, v.state)).all()
    draft_ids = [r.id for r in rows if r.state == "draft"]
    drafts: set[int] = set()
    if draft_ids:  # the policy decides on the objects; only drafts need them
        objects = db.session.scalars(
            select(Version).where(Version.id.in_(draft_ids)).options(selectinload(Version.document))
        )
        drafts = {d.id for d in objects if policy.can(user, "version.view", d)}
    latest: dict[int, tuple[int, int]] = {}
    for r in rows:
        if r.state == "draft" and r.id not in drafts:
            continue
        if r.document_id not in latest or latest[r.document_id][0] < r.number:
            latest[r.document_id] = (r.number, r.id)
    return drafts, {d: vid for d, (_, vid) in latest.items()}


def _sort(parsed: Q.Parsed) -> str:
    sort = parsed.sort or ("relevance" if parsed.has_text else "date")
    return "date" if sort == "relevance" and not parsed.groups else sort  # nothing to rank by


def backend_spec(parsed: Q.Parsed, user, offset: int, limit: int) -> tuple[Spec, _Orgs]:
    """What the backend is asked for `parsed`: filters by indexed id (names that match
    nothing become notes on `parsed`), the versions `user` may see, and the page."""
    spec = Spec(
        groups=parsed.groups,
        excluded=parsed.excluded,
        date_from=parsed.date_from,
        date_to=parsed.date_to,
        sort=_sort(parsed),
        offset=offset,
        limit=limit,
    )
    orgs = _resolve(parsed, spec, parsed.notes)
    spec.draft_versions, latest = _visible_versions(user)
    if parsed.latest:
        spec.versions = set(latest.values())
    return spec, orgs


def search(params: SearchParams, user=None, *, backend=None) -> Results:
    """Search everything `user` may see (None: the public)."""
    be = _backend(backend)
    per_page = max(1, min(params.per_page, MAX_PER_PAGE))
    page = max(1, params.page)
    parsed = _read(params)
    notes = parsed.notes
    results = Results(params.q, 0, page=page, per_page=per_page, sort=_sort(parsed))
    if not parsed.has_text and not parsed.has_filters:
        results.note = " ".join(notes)
        return results

    spec, orgs = backend_spec(parsed, user, (page - 1) * per_page, per_page)
    found = be.run(spec, parsed.positive_words())
    if found.empty_query:
        notes.append("Your search has only very common words; try more specific ones.")
    results.total = found.total
    results.total_exact = found.exact
    if not found.exact:
        notes.append(
            f"About {found.total:,} results: counts and ranking cover the newest of them; "
            "add words or filters to narrow the search."
        )
    results.hits = _describe(found.hits, spec.draft_versions)
    results.facets = _facets(found.facets, parsed, orgs)
    if parsed.groups:
        results.suggestion = spelling.suggest_query(
            parsed.raw,
            parsed.positive_words(),
            lambda words: vocabulary.known(db.session, words),
            lambda prefix, a, b: vocabulary.prefixed(db.session, prefix, a, b),
        )
    results.note = " ".join(notes)
    return results


# --- describing hits ------------------------------------------------------------------------


def _describe(found, draft_versions: set[int]) -> list[Hit]:
    """Hits with where they are, loaded in one query per kind. Hits whose object is gone
    or, by a change not yet indexed, no longer visible are left out."""
    ids: dict[str, list[int]] = {}
    for h in found:
        ids.setdefault(h.doc_type, []).append(h.object_id)
    paragraphs = comments = organisations = documents = {}
    if ids.get("paragraph"):
        paragraphs = {
            p.id: p
            for p in db.session.scalars(
                select(Paragraph)
                .where(Paragraph.id.in_(ids["paragraph"]))
                .options(joinedload(Paragraph.version).joinedload(Version.document))
            )
        }
    if ids.get("comment"):
        comments = {
            c.id: c
            for c in db.session.scalars(
                select(Comment)
                .where(Comment.id.in_(ids["comment"]))
                .options(
                    joinedload(Comment.organisation),
                    joinedload(Comment.paragraph),
                    joinedload(Comment.version).joinedload(Version.document),
                    selectinload(Comment.moderation),
                    selectinload(Comment.responses),
                )
            )
        }
    if ids.get("organisation"):
        organisations = {
            o.id: o
            for o in db.session.scalars(
                select(Organisation).where(Organisation.id.in_(ids["organisation"]))
            )
        }
    if ids.get("document"):
        documents = {
            d.id: d
            for d in db.session.scalars(
                select(Document)
                .where(Document.id.in_(ids["document"]))
                .options(selectinload(Document.versions))
            )
        }

    def visible(version: Version) -> bool:
        return version.state != "draft" or version.id in draft_versions

    hits = []
    for f in found:
        hit = Hit(f.doc_type, f.object_id, f.snippet, f.score, matched_in=f.part)
        if f.doc_type == "paragraph":
            p = paragraphs.get(f.object_id)
            if p is None or not visible(p.version):
                continue
            _place(hit, p.version)
            hit.paragraph_id, hit.paragraph_number = p.id, p.number
            hit.title, hit.date = f"{p.version.document.title}, {p.number}", _date(p.version)
        elif f.doc_type == "comment":
            c = comments.get(f.object_id)
            if c is None or not visible(c.version) or not comment_visible_to_public(c):
                continue
            _place(hit, c.version)
            if c.paragraph is not None:
                hit.paragraph_id, hit.paragraph_number = c.paragraph.id, c.paragraph.number
            r = c.response
            hit.title, hit.tracking, hit.date = c.tracking, c.tracking, c.created_at
            hit.organisation, hit.organisation_slug = (
                c.organisation.display_name,
                c.organisation.slug,
            )
            hit.comment_kind = c.kind
            hit.decision = r.decision if r else "unanswered"
            hit.decision_label = _(DECISION_LABELS[hit.decision])
        elif f.doc_type == "organisation":
            o = organisations.get(f.object_id)
            if o is None:
                continue
            hit.title, hit.date = o.display_name, o.created_at
            hit.organisation, hit.organisation_slug = o.display_name, o.slug
        elif f.doc_type == "document":
            d = documents.get(f.object_id)
            shown = [v for v in d.versions if visible(v)] if d else []
            if d is None or not shown:
                continue
            public = [v for v in shown if v.state != "draft"]
            _place(hit, (public or shown)[-1])
            hit.title, hit.date = d.title, d.created_at
        hits.append(hit)
    return hits


def _place(hit: Hit, version: Version) -> None:
    hit.document_slug = version.document.slug
    hit.document_title = version.document.title
    hit.version_number = version.number
    hit.version_state = version.state


def _date(version: Version) -> datetime:
    return version.published_at or version.created_at


# --- facets ---------------------------------------------------------------------------------


def _month_label(value: str) -> str:
    try:
        return datetime.strptime(value, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return value


def _values(counts: dict[str, int], label, selected=(), by_count=True, size=FACET_SIZE):
    items = [FacetValue(v, label(v), n, v in selected) for v, n in counts.items() if n]
    if by_count:
        items.sort(key=lambda x: (-x.count, x.label))
    return items[:size]


def _facets(raw: dict[str, dict], parsed: Q.Parsed, orgs: _Orgs) -> dict[str, list[FacetValue]]:
    if not raw:
        return {}
    chosen = parsed.filters
    out: dict[str, list[FacetValue]] = {}
    out["type"] = _values(
        raw.get("type", {}), lambda v: _(Q.TYPES.get(v, v)), chosen.get("type", ())
    )
    doc_counts = {int(k): n for k, n in raw.get("document", {}).items()}
    docs = {}
    if doc_counts:
        docs = {
            d.id: d
            for d in db.session.scalars(select(Document).where(Document.id.in_(sorted(doc_counts))))
        }
    out["document"] = _values(
        {docs[i].slug: n for i, n in doc_counts.items() if i in docs},
        lambda s: next(d.title for d in docs.values() if d.slug == s),
        chosen.get("document", ()),
    )
    versions = {str(int(k)): n for k, n in raw.get("version", {}).items()}
    out["version"] = sorted(
        _values(
            versions,
            lambda v: _("Version %(number)s", number=v),
            chosen.get("version", ()),
            size=1000,
        ),
        key=lambda x: int(x.value),
    )
    out["kind"] = _values(raw.get("kind", {}), lambda v: _(KINDS.get(v, v)), chosen.get("kind", ()))
    out["decision"] = _values(
        raw.get("decision", {}), lambda v: _(DECISION_LABELS.get(v, v)), chosen.get("decision", ())
    )
    rows = orgs.get(int(k) for k in raw.get("organisation", {}))
    org_counts = {
        rows[int(k)].slug: n for k, n in raw.get("organisation", {}).items() if int(k) in rows
    }
    by_slug = {o.slug: o for o in rows.values()}
    chosen_orgs = {
        o.slug
        for o in by_slug.values()
        for v in chosen.get("org", ())
        if v.lower() in (o.slug.lower(), (o.acronym or "").lower())
    }
    out["organisation"] = _values(org_counts, lambda s: _display(by_slug[s]), chosen_orgs)
    kinds: Counter = Counter()
    countries: Counter = Counter()
    for slug, n in org_counts.items():
        kinds[by_slug[slug].kind] += n
        for code in by_slug[slug].countries or []:
            countries[code] += n
    out["orgkind"] = _values(
        dict(kinds), lambda v: _(ORG_KINDS.get(v, v)), chosen.get("orgkind", ())
    )
    out["country"] = _values(dict(countries), country_name, chosen.get("country", ()))
    out["date"] = sorted(
        _values(raw.get("month", {}), _month_label, size=1000), key=lambda x: x.value
    )
    out["language"] = _values(
        raw.get("language", {}), lambda v: LANGUAGES.get(v, v), chosen.get("lang", ())
    )
    return {k: v for k, v in out.items() if v}
