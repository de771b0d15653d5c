"""Every body API v1 reads and every answer it gives, declared once as pydantic models.

Request models (Body, Query) are what consult.api.contract validates before a view
runs; answer models describe what consult.api.serializers builds (they allow fields
added later, so an older description never refuses a newer answer). Both feed
/api/v1/openapi.json. Lengths are the services' own limits, ranges the INTEGER
columns', enumerations the domain's constants.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from consult.accounts.models import ORG_KINDS
from consult.api.contract import Body, Count, Id, Query, Text
from consult.consultation.languages import LANGUAGES
from consult.consultation.models import DECISIONS, KINDS, MODERATION_ACTIONS
from consult.consultation.services import MAX_BODY, MAX_REASON, MAX_REPLY, MAX_SUGGESTION
from consult.documents.drafting import MAX_SOURCE
from consult.documents.models import DOCUMENT_KINDS
from consult.tracing.compare import RELATIONS

#: A whole text sent for import: bounded by the request size (MAX_CONTENT_LENGTH).
MAX_IMPORT = 2_000_000
#: A slug of an organisation or a document (String(120) at most).
Slug = Annotated[Text, Field(max_length=120)]
Reason = Annotated[Text, Field(max_length=MAX_REASON)]

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Decision = Literal[tuple(DECISIONS)]  # type: ignore[valid-type]
Language = Literal[tuple(LANGUAGES)]  # type: ignore[valid-type]


# --- request bodies ---------------------------------------------------------------------------


class NewComment(Body):
    """A comment on a paragraph or on the version as a whole."""

    kind: Kind | None = Field(None, description="comment (default), suggestion or question.")
    body: Annotated[Text, Field(max_length=MAX_BODY)] | None = None
    suggested_text: Annotated[Text, Field(max_length=MAX_SUGGESTION)] | None = Field(
        None, description="A suggestion's replacement wording."
    )
    quote: Annotated[Text, Field(max_length=MAX_SUGGESTION)] | None = Field(
        None, description="The span of the paragraph commented on, word for word."
    )
    organisation: Slug | None = Field(
        None, description="The organisation's slug; needed when the author has several."
    )
    jointly_with: Annotated[Text, Field(max_length=2_000)] | None = Field(
        None,
        description="Comma-separated slugs of the author's other organisations that sign "
        "the comment from the start (a joint submission).",
    )
    language: Language | None = Field(
        None,
        description="The language it is written in (en, id, ms, fil, th, vi, km, lo, my); "
        "found from the text when left out.",
    )
    withhold_name: bool | None = Field(
        None,
        description="An individual's name is withheld from the public pages (where the "
        "version allows it); the secretariat still sees it.",
    )
    campaign: bool | None = Field(
        None,
        description="The organisation's comment is a campaign: a template supporters sign.",
    )


class CommentEdit(Body):
    """A new text; fields left out keep their current value."""

    body: Annotated[Text, Field(max_length=MAX_BODY)] | None = None
    suggested_text: Annotated[Text, Field(max_length=MAX_SUGGESTION)] | None = None
    quote: Annotated[Text, Field(max_length=MAX_SUGGESTION)] | None = None


class Withdrawal(Body):
    reason: Reason | None = None


class OrganisationChoice(Body):
    organisation: Slug | None = Field(None, description="Slug; needed with several.")


class NewReply(Body):
    body: Annotated[Text, Field(max_length=MAX_REPLY)] | None = None
    organisation: Slug | None = Field(None, description="Slug; needed with several.")


class NewFlag(Body):
    reason: Reason | None = None
    reply: Id | None = Field(None, description="The id of one of the comment's replies.")


class Moderation(Body):
    action: Literal[tuple(MODERATION_ACTIONS)] | None = None  # type: ignore[valid-type]
    reason: Reason | None = Field(None, description="Public reason (required to hide).")
    reply: Id | None = Field(None, description="The id of one of the comment's replies.")


class NewResponse(Body):
    decision: Decision | None = None
    reason: Reason | None = None


class Feedback(Body):
    satisfied: bool
    note: Annotated[Text, Field(max_length=MAX_REASON)] | None = None


class NewDocument(Body):
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    slug: Annotated[Text, Field(max_length=120)] | None = Field(
        None, description="The address's short name; made from the title when left out."
    )
    kind: Literal[tuple(DOCUMENT_KINDS)] | None = Field(  # type: ignore[valid-type]
        None, description="resolution (default), framework, guidance, plan, strategy, law, other."
    )
    committee: Annotated[Text, Field(max_length=300)] | None = None
    timezone: Annotated[Text, Field(max_length=64)] | None = Field(
        None, description="IANA time zone of its deadlines (default UTC)."
    )


class NewVersion(Body):
    source: Literal["copy", "import"] | None = Field(
        None, description="copy (default): a copy of the latest version; import: `text`."
    )
    label: Annotated[Text, Field(max_length=200)] | None = None
    text: Annotated[Text, Field(max_length=MAX_IMPORT)] | None = Field(
        None, description="The whole text in Markdown (with source=import)."
    )


class VersionNote(Body):
    note: Annotated[Text, Field(max_length=MAX_SOURCE)]


class Publication(Body):
    closes_at: Annotated[Text, Field(max_length=64)] | None = Field(
        None,
        description="ISO 8601 date and time with its zone; opens the version for comments "
        "until then. Without it the version is published closed.",
        json_schema_extra={"format": "date-time"},
    )
    participants: Literal["organisations", "everyone"] | None = Field(
        None,
        description="Who may comment: organisations (default), or everyone (individuals "
        "with a confirmed e-mail address too).",
    )
    withheld_names: bool | None = Field(
        None, description="Individuals may ask for their name to be withheld (default no)."
    )
    personal_data: Literal["hold", "mask"] | None = Field(
        None,
        description="A comment with personal data is held for review (hold, default) or "
        "published with the data masked (mask).",
    )


class CampaignSigning(Body):
    organisation: Slug | None = Field(
        None, description="The organisation that signs; left out, an individual signs."
    )
    named: bool | None = Field(
        None, description="An individual agrees to be named among the supporters."
    )


class RedactionReview(Body):
    masked: list[Annotated[int, Field(ge=0, le=10_000)]] = Field(
        default_factory=list,
        description="Indexes of the spans that stay masked; the others are published.",
    )
    reason: Reason | None = None


class Closing(Body):
    reason: Reason | None = Field(None, description="Required before the deadline.")


class Finalizing(Body):
    override_reason: Reason | None = Field(
        None, description="Required while comments are unanswered; shown publicly."
    )


Source = Annotated[Text, Field(max_length=MAX_SOURCE)]


class ParagraphEdit(Body):
    source: Source
    revision: Count = Field(description="The revision the edit was made on.")
    base_source: Source | None = Field(None, description="The text the edit started from.")


class NewParagraph(Body):
    source: Source


class Revision(Body):
    revision: Count | None = None


class Move(Body):
    direction: Literal["up", "down"]


class Split(Body):
    offset: Count = Field(description="Character offset in the Markdown source.")
    revision: Count | None = None


class TakeUp(Body):
    version: Id | None = Field(None, description="The draft's number (default: the latest).")
    reason: Reason | None = Field(None, description="Records a new answer.")
    decision: Literal["accepted", "partly_accepted"] | None = None
    revision: Count | None = Field(None, description="The revision from the preview.")


class Correction(Body):
    paragraph: Id
    predecessors: Annotated[list[Id], Field(max_length=1_000)] = []


class LineageConfirmation(Body):
    corrections: Annotated[list[Correction], Field(max_length=20_000)] | None = None


# --- query strings ----------------------------------------------------------------------------

Param = Annotated[str, Field(max_length=500)]
Params = Annotated[list[Annotated[Text, Field(max_length=200)]], Field(max_length=50)]


class SearchQuery(Query):
    q: Annotated[Text, Field(max_length=500)] | None = Field(
        None, description="The words to look for (quotes for a phrase, -word to exclude)."
    )
    type: Params = []
    kind: Params = []
    decision: Params = []
    org: Params = []
    orgkind: Params = []
    country: Params = []
    document: Params = []
    version: Params = []
    from_: Annotated[Text, Field(max_length=40)] | None = Field(
        None, alias="from", description="From this date (YYYY-MM-DD)."
    )
    to: Annotated[Text, Field(max_length=40)] | None = Field(
        None, description="Up to this date (YYYY-MM-DD)."
    )
    sort: Annotated[Text, Field(max_length=20)] | None = Field(
        None, description="relevance (default), newest or oldest."
    )
    latest: Annotated[Text, Field(max_length=10)] | None = Field(
        None, description="1: only the latest version of each document."
    )
    page: Annotated[int, Field(ge=1, le=10_000)] = Field(1, description="Page number from 1.")

    error_codes = {"page": "invalid_page"}


class VersionQuery(Query):
    lang: Literal[tuple(LANGUAGES)] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "A language code (en, id, ms, fil, th, vi, km, lo, my): each paragraph in its "
            "published translation, with the same id and lineage, plus language, "
            "translated and out_of_date."
        ),
    )


class OrganisationsQuery(Query):
    country: Annotated[Text, Field(max_length=2)] | None = Field(
        None, description="ISO 3166-1 alpha-2 code, e.g. TH."
    )
    kind: Literal[tuple(ORG_KINDS)] | None = None  # type: ignore[valid-type]
    verified: Literal["yes", "no", ""] | None = None


class PreviewQuery(Query):
    preview: Annotated[Text, Field(max_length=10)] | None = Field(
        None, description="1: preview only, nothing is saved."
    )


# --- answers ----------------------------------------------------------------------------------


class Answer(BaseModel):
    """An answer's shape; fields added later are allowed."""

    model_config = ConfigDict(extra="allow")


Links = dict[str, str]
DateTime = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]


class ErrorDetail(Answer):
    code: str
    message: str
    field: str | None = Field(None, description="The field at fault, for bad input.")


class Error(Answer):
    """Every error: {"error": {"code", "message", ...}}."""

    error: ErrorDetail


class VersionSummary(Answer):
    number: int
    label: str
    state: str
    links: Links


class DocumentSummary(Answer):
    slug: str
    title: str
    kind: str
    committee: str
    versions: list[VersionSummary]
    links: Links


class DocumentList(Answer):
    documents: list[DocumentSummary]


class Document(Answer):
    slug: str
    title: str
    kind: str
    committee: str
    timezone: str
    created_at: DateTime
    versions: list[dict[str, Any]]
    links: Links


class Paragraph(Answer):
    id: int
    number: str
    kind: str
    level: int | None = None
    lineage: str | None = None
    text: str
    source: str
    comment_count: int
    links: Links


class Version(Answer):
    """A version with its paragraphs."""

    document: str
    number: int
    label: str
    state: Literal["draft", "consultation", "closed", "final"]
    note: str | None = None
    closes_at: DateTime = None
    accepting_comments: bool
    content_hash: str | None = None
    paragraphs: list[Paragraph]
    links: Links


class ParagraphRef(Answer):
    id: int
    number: str


class ComparedRow(Answer):
    """One paragraph of the comparison, or one group of paragraphs joined by a split (one
    old paragraph became several), a merge (several became one) or both. `olds` and
    `news` list the group's paragraphs in order; `old` and `new` are the first of each
    (null on the missing side of added and removed). `diff` is one word diff of the
    group: its old texts joined by a blank line to its new texts joined the same way (a
    space that became a paragraph break, or the reverse, is not marked as a change: the
    equal text is the newer side's)."""

    relation: Literal[tuple(RELATIONS)]  # type: ignore[valid-type]
    label: str = Field(description='The relation in words, e.g. "formatting only".')
    old: ParagraphRef | None
    new: ParagraphRef | None
    olds: list[ParagraphRef]
    news: list[ParagraphRef]
    diff: list[tuple[Literal["equal", "insert", "delete"], str]]


class VersionRef(Answer):
    number: int
    label: str
    state: str


class Comparison(Answer):
    document: str
    from_: VersionRef = Field(alias="from")
    to: VersionRef
    summary: dict[str, int] = Field(
        description="Paragraphs by what happened to them, counted the same way as the "
        "change summary and the lineage review: unchanged, formatting (the same words, "
        "other Markdown), edited, moved, split, merged, added, removed."
    )
    paragraphs: list[ComparedRow]


class Response(Answer):
    id: int
    decision: Decision
    decision_label: str
    reason: str
    responder: str | None
    created_at: DateTime


class OrganisationRef(Answer):
    slug: str
    name: str


class Quote(Answer):
    text: str
    start: int | None = None
    end: int | None = None


class Attachment(Answer):
    """A file attached to a comment (a position paper): PDF, DOCX or ODT."""

    id: int
    name: str
    type: str = Field(description="The content type, read from the file's bytes.")
    size: int = Field(description="In bytes.")
    sha256: str = Field(description="Of the file's bytes; also in the record's event.")
    text: str = Field(
        description="What was found in it: 'text extracted', 'no text found (scanned?)' "
        "or 'could not be read'."
    )
    pages: int | None
    created_at: DateTime
    links: Links


class Comment(Answer):
    """A comment as it stands, with the committee's current response."""

    id: int
    tracking: str
    kind: Kind
    channel: str
    body: str | None
    suggested_text: str | None
    quote: Quote | None
    organisation: OrganisationRef | None = Field(
        description="None for a comment by an individual (see individual)."
    )
    individual: dict[str, Any] | None = Field(
        None,
        description="{name}: a member of the public's comment ('A member of the public' "
        "when their name is withheld).",
    )
    personal_data: Literal["held", "masked", "reviewed"] | None = Field(
        None, description="Personal data was found: held for review, masked, or reviewed."
    )
    campaign: dict[str, Any] | None = Field(
        None, description="A campaign: {supporters: count, named: [names]}."
    )
    cosigned_by: list[OrganisationRef]
    document: str
    version: int
    paragraph: ParagraphRef | None
    created_at: DateTime
    content_hash: str
    language: str | None = Field(
        None, description="The language it is written in (given or found), or null."
    )
    group: int | None = Field(
        None, description="Its form-letter group (GET …/versions/<n>/groups), or null."
    )
    response: Response | None
    responses: list[Response]
    attachments: list[Attachment] = Field(
        [], description="Files attached to it (none while it is hidden)."
    )
    links: Links


class CommentText(Answer):
    number: int
    body: str | None
    suggested_text: str | None
    quote: Quote | None
    content_hash: str
    created_at: DateTime


class Revisions(Answer):
    """A comment's texts, earliest first (none while it is hidden)."""

    comment: str
    revisions: list[CommentText]


class Reply(Answer):
    id: int
    comment: str
    author: str | None
    organisation: OrganisationRef | None
    for_committee: bool
    body: str | None
    hidden: dict[str, Any] | None
    created_at: DateTime


class Replies(Answer):
    comment: str
    replies: list[Reply]


class Flag(Answer):
    id: int
    comment: str
    reply: int | None
    created_at: DateTime


class SearchResults(Answer):
    query: str
    page: int
    per_page: int
    total: int
    total_exact: bool
    facets: dict[str, list[dict[str, Any]]]
    hits: list[dict[str, Any]]


class DraftParagraph(Paragraph):
    position: int
    revision: int


class DraftVersion(Version):
    paragraphs: list[DraftParagraph]  # type: ignore[assignment]


class DraftAnswer(Answer):
    """The paragraphs an operation produced, and the whole draft after it."""

    paragraphs: list[DraftParagraph]
    version: DraftVersion


class Changes(Answer):
    document: str
    version: int
    previous: int | None
    note: str | None
    summary: dict[str, int]
    phrases: list[str]


class LinkedParagraph(Answer):
    id: int
    number: str
    text: str


class LineageLink(Answer):
    paragraph: LinkedParagraph | None
    predecessors: list[LinkedParagraph]
    relation: str
    similarity: float | None
    method: str | None


class Lineage(Answer):
    version: int
    unreviewed: int
    counts: dict[str, int] = Field(
        description="Paragraphs by relation, counted as the comparison and the change "
        "summary count them (empty for version 1)."
    )
    links: list[LineageLink]


class TakeUpPreview(Answer):
    """?preview=1: the paragraph before and after, as a word diff; nothing is saved."""

    comment: str
    version: int
    paragraph: DraftParagraph
    before: str
    after: str
    quoted: str | None = None
    revision: int
    diff: list[tuple[Literal["equal", "insert", "delete"], str]]


class TakeUpDone(Answer):
    """The comment with its new answer, and the draft's paragraphs changed."""

    comment: Comment
    version: int
    paragraphs: list[DraftParagraph]


class OrganisationSummary(Answer):
    slug: str
    name: str
    acronym: str | None
    kind: str
    kind_label: str
    countries: list[Annotated[str, Field(pattern="^[A-Z]{2}$")]]
    verified: bool
    comment_count: int | None = None
    links: Links


class OrganisationList(Answer):
    organisations: list[OrganisationSummary]


class Uptake(Answer):
    score: float | None = Field(None, ge=0, le=1)
    label: Literal["taken_up", "partly", "not_taken_up"]


class Outcome(Answer):
    """One of the organisation's comments (or one it co-signed) and what became of it."""

    id: int
    tracking: str
    kind: str
    role: Literal["own", "cosigned"]
    document: str
    version: int
    paragraph: ParagraphRef | None
    status: Literal["open", "waiting", "answered", "withdrawn", "hidden"]
    decision: str | None
    reason: str | None
    uptake: Uptake | None
    flag: str | None
    next_version: int | None
    successors: list[dict[str, Any]]
    took_effect_in: list[dict[str, Any]]
    links: Links


class Organisation(OrganisationSummary):
    focus: list[str]
    website: str | None
    description: str | None
    contact: dict[str, Any]
    verified_at: DateTime
    verified_by: str | None
    created_at: DateTime
    comments: list[Outcome]
    cosigned: list[Outcome]


class Description(Answer):
    """This OpenAPI description."""

    openapi: str
    paths: dict[str, Any]


# --- comments by e-mail (consult.intake) ---------------------------------------------------------


class IntakeQuery(Query):
    status: Literal["waiting", "confirmed", "rejected", "all"] | None = Field(
        None, description="waiting (default), confirmed, rejected or all."
    )
    page: Annotated[int, Field(ge=1, le=10_000)] = Field(1, description="Page number from 1.")


class IntakeConfirmation(Body):
    """Make a received message a comment entered for an organisation."""

    organisation: Slug = Field(description="The slug of the organisation it is from.")
    paragraph: Id | None = Field(
        None,
        description="The paragraph's id; none: a comment on the message's version as a whole.",
    )
    kind: Literal["comment", "question"] | None = Field(None, description="comment (default).")


class IntakeRejection(Body):
    reason: Reason = Field(description="Why it is not taken (kept, its hash in the record).")


class IntakeFile(Answer):
    name: str
    type: str
    size: int
    sha256: str | None = None
    refused: str | None = Field(None, description="Why the file will not be attached.")


class IntakeItem(Answer):
    """A message received by e-mail, waiting for the secretariat (or decided)."""

    id: int
    status: Literal["waiting", "confirmed", "rejected"]
    received_at: DateTime
    via: str
    sha256: str = Field(description="Of the message's raw bytes, kept as received.")
    size: int
    sender: str
    sender_name: str
    subject: str
    body: str
    quoted: str
    flags: list[str] = Field(
        description="unknown_sender, spoofed, no_consultation, no_paragraph, not_open, "
        "attachment_refused."
    )
    flag_labels: list[str]
    document: str | None
    version: int | None
    paragraph: ParagraphRef | None
    organisation: OrganisationRef | None
    files: list[IntakeFile]
    comment: str | None = Field(description="The tracking number, once confirmed.")
    reject_reason: str | None
    links: Links


class IntakeList(Answer):
    status: str
    total: int
    page: int
    per_page: int
    messages: list[IntakeItem]
