"""The shapes passed between the search service and its backends.

`Spec` is a query as a backend runs it: the words (already read by query.py) and
filters on indexed values (ids, not names), with visibility decided by the
service. `Found` is what a backend answers. `Results` and `Hit` are what callers
(pages, API) get: hits described from the database, facets with labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from consult.paging import page_count
from consult.search.query import Item

#: Facet fields counted by the backends, in index values.
#: Searches with more matches than this count, facet and rank only this many of the newest
#: (SEARCH_EXACT_LIMIT); benchmarks/search.py shows why: at a million comments, counting
#: and ranking a common word's hundred thousand matches takes seconds on either backend.
EXACT_LIMIT = 2_000
RAW_FACETS = (
    "type",
    "document",
    "version",
    "kind",
    "decision",
    "organisation",
    "month",
    "language",
)


@dataclass
class Spec:
    groups: list[tuple[Item, ...]] = field(default_factory=list)
    excluded: list[Item] = field(default_factory=list)
    #: Index field → accepted values; an empty set matches nothing. Fields: type,
    #: document (id), version (number), kind, decision, organisation (id), language,
    #: theme (ids: comments tagged with any of them).
    filters: dict[str, set] = field(default_factory=dict)
    exclude: dict[str, set] = field(default_factory=dict)
    date_from: datetime | None = None
    date_to: datetime | None = None
    #: Draft entries are found only in these versions (those the user may see).
    draft_versions: set[int] = field(default_factory=set)
    #: When set, paragraphs and comments only of these versions ("only the latest version").
    versions: set[int] | None = None
    sort: str = "relevance"
    offset: int = 0
    limit: int = 20
    facets: bool = True

    @property
    def has_text(self) -> bool:
        return bool(self.groups or self.excluded)


@dataclass
class FoundHit:
    doc_type: str
    object_id: int
    score: float
    snippet: str
    #: Which part of the entry the snippet comes from: body, suggested, quote, response, title.
    part: str = "body"


@dataclass
class Found:
    total: int
    hits: list[FoundHit]
    #: RAW_FACETS field → {index value: count}
    facets: dict[str, dict] = field(default_factory=dict)
    #: True when the words were all too common to search (stop words).
    empty_query: bool = False
    #: False when there were too many matches to count: `total` is an estimate and the
    #: facets and ranking cover a bounded part of the matches (the newest).
    exact: bool = True


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    #: True when this value is one of the filters of the search.
    selected: bool = False


@dataclass
class Hit:
    doc_type: str
    object_id: int
    snippet: str  # safe HTML: escaped text with the matches in <mark>
    score: float
    #: body, suggested (the suggested wording), quote, response (the committee's reason), title
    matched_in: str = "body"
    title: str = ""
    document_slug: str | None = None
    document_title: str | None = None
    version_number: int | None = None
    version_state: str | None = None
    paragraph_id: int | None = None
    paragraph_number: str | None = None
    organisation: str | None = None
    organisation_slug: str | None = None
    comment_kind: str | None = None
    decision: str | None = None
    decision_label: str | None = None
    tracking: str | None = None
    date: datetime | None = None


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    note: str = ""
    page: int = 1
    per_page: int = 20
    #: name → values, most frequent first. Names: type, document, version, kind, decision,
    #: organisation, orgkind, country, date, language.
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    #: "Did you mean": the query with its unknown words corrected, or None.
    suggestion: str | None = None
    sort: str = "relevance"
    #: False when `total` is an estimate (see Found.exact).
    total_exact: bool = True

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)
