"""JSON API v1: the same services as the pages, presented as JSON.

Anyone may read what is public. Writing needs `Authorization: Bearer TOKEN`;
the API never acts on a session cookie, because it is exempt from CSRF
protection and a cookie would let another site post in the user's name.
Every failure is JSON {"error": {"code", "message"}} (the app's error handlers
render ConsultError and HTTPException that way for /api/ paths).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import MethodNotAllowed

from consult.accounts import policy
from consult.accounts.auth import TOKEN_USER
from consult.accounts.models import Organisation, User
from consult.accounts.services import user_for_token
from consult.api import queries, schemas, serializers
from consult.api.contract import InvalidInput, operation
from consult.consultation import services as consultation
from consult.documents import services as documents
from consult.documents.models import Document, Paragraph, Version
from consult.errors import ConsultError, NotAllowed, NotFound, Unauthenticated
from consult.extensions import db, limiter
from consult.search import service as search_service
from consult.search.service import SearchParams
from consult.sessions import kept_through_commits
from consult.tracing.services import compare_versions
from consult.tracing.summary import count_changes

bp = Blueprint("api", __name__)

PER_PAGE = 20
POST_LIMIT = "30 per minute"  # per client address: generous for a person, a brake for a script
#: What a write may answer besides 400, 401 and 429: not allowed, not found, and a state
#: that does not allow it.
WRITE_ERRORS = (403, 404, 409)


# --- who is asking -------------------------------------------------------------------------


def _token_user() -> User | None:
    """The user of the bearer token, or None for the public.

    A header that is not a valid bearer token is refused rather than read as
    anonymous, so a client with an expired token learns it at once, whatever
    endpoint it calls.
    """
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    if not header.startswith("Bearer "):
        raise Unauthenticated(_("Send the API token as 'Authorization: Bearer <token>'."))
    user = user_for_token(header[len("Bearer ") :].strip())
    if user is None:
        raise Unauthenticated(_("The API token is not valid; ask for a new one."))
    # Flask-Login's request loader (accounts.auth) takes it from here: one lookup.
    request.environ[TOKEN_USER] = user
    return user


@bp.before_request
def _identify() -> None:
    # Set on every API request: `g` can outlive one request (an app context pushed
    # around several), so a value is never left over from an earlier one.
    g.api_actor = _token_user()


def _actor() -> User | None:
    return g.api_actor


def _signed_in_actor() -> User:
    user = _actor()
    if user is None:
        raise Unauthenticated(_("Writing needs an API token: 'Authorization: Bearer <token>'."))
    return user


@bp.errorhandler(InvalidInput)
def _invalid_input(e: InvalidInput):
    """Bad input, with the field at fault (the app's handler gives code and message)."""
    db.session.rollback()
    return jsonify(error={"code": e.code, "message": e.message, "field": e.field}), e.status


@bp.after_request
def _challenge(resp):
    if resp.status_code == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="consult"'
    return resp


@bp.after_app_request
def _allow_header(resp):
    # Routing errors never reach the blueprint, and the app's JSON error handler
    # drops the Allow header that HTTP requires on a 405; put it back.
    exc = request.routing_exception
    if (
        resp.status_code == 405
        and isinstance(exc, MethodNotAllowed)
        and exc.valid_methods
        and request.path.startswith("/api/")
    ):
        resp.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return resp


# --- loading what the URL names ------------------------------------------------------------


def _document(slug: str, user: User | None) -> Document:
    doc = documents.get_document(slug)
    if not policy.can(user, "document.view", doc):
        # A document nobody outside the committee may read yet does not exist for them.
        raise NotFound(_("There is no document '%(slug)s'.", slug=slug))
    return doc


def _version(doc: Document, number: int, user: User | None) -> Version:
    version = documents.get_version(doc, number)
    if not policy.can(user, "version.view", version):
        raise NotFound(_("'%(title)s' has no version %(number)s.", title=doc.title, number=number))
    return version


def _paragraph(paragraph_id: int, user: User | None) -> Paragraph:
    paragraph = queries.get_paragraph(paragraph_id)
    if not policy.can(user, "version.view", paragraph.version):
        raise NotFound(_("There is no paragraph %(paragraph_id)s.", paragraph_id=paragraph_id))
    return paragraph


def _created(body: dict[str, Any], location: str | None = None) -> Response:
    """201 with `body` as JSON and, when given, where the new thing can be read."""
    resp = jsonify(body)
    resp.status_code = 201
    if location is not None:
        resp.headers["Location"] = location
    return resp


def _organisation_for(user: User, slug: str | None) -> Organisation:
    """The organisation a comment is posted for: named, or the user's only one."""
    mine = user.organisations
    if slug:
        for org in mine:
            if org.slug == slug:
                return org
        raise NotAllowed(
            _(
                "You can only comment for an organisation you belong to; yours: %(x)s.",
                x=", ".join(o.slug for o in mine),
            )
        )
    if len(mine) != 1:
        raise ConsultError(
            _(
                "You belong to several organisations; name one in 'organisation': %(x)s.",
                x=", ".join(o.slug for o in mine),
            ),
            code="organisation_required",
        )
    return mine[0]


# --- documents and versions ----------------------------------------------------------------


@bp.get("/documents")
@operation(
    summary="Documents with the versions the reader may see",
    tag="documents",
    answer=schemas.DocumentList,
)
def documents_list() -> ResponseReturnValue:
    user = _actor()
    listed = []
    for doc in queries.list_documents():
        if policy.can(user, "document.view", doc):
            versions = policy.versions_seen_by(user, doc)
            listed.append(serializers.document_summary(doc, versions))
    return jsonify(documents=listed)


@bp.get("/documents/<slug>")
@operation(summary="One document", tag="documents", answer=schemas.Document, errors=(404,))
def document(slug: str) -> ResponseReturnValue:
    user = _actor()
    doc = _document(slug, user)
    versions = policy.versions_seen_by(user, doc)
    ids = [v.id for v in versions]
    return jsonify(
        serializers.document_detail(
            doc, versions, queries.paragraph_counts(ids), queries.comment_counts_by_version(ids)
        )
    )


@bp.get("/documents/<slug>/versions/<int:number>")
@operation(
    summary="A version with its paragraphs (in another language with ?lang=)",
    tag="documents",
    query=schemas.VersionQuery,
    answer=schemas.Version,
    errors=(400, 404),
)
def version(slug: str, number: int, query: schemas.VersionQuery) -> ResponseReturnValue:
    user = _actor()
    v = _version(_document(slug, user), number, user)
    if query.lang:
        from consult.api.translations import translated_version

        counts = queries.comment_counts_by_paragraph(v)
        return jsonify(translated_version(v, query.lang, counts))
    return jsonify(serializers.version_detail(v, queries.comment_counts_by_paragraph(v)))


@bp.get("/documents/<slug>/compare/<int:a>/<int:b>")
@operation(
    summary="Word diff of two versions, paragraph by paragraph, with splits and merges as groups",
    tag="documents",
    answer=schemas.Comparison,
    errors=(404,),
)
def compare(slug: str, a: int, b: int) -> ResponseReturnValue:
    user = _actor()
    doc = _document(slug, user)
    old, new = _version(doc, a, user), _version(doc, b, user)
    rows = compare_versions(old, new)
    return jsonify(serializers.comparison(doc, old, new, rows, count_changes(old, new, rows)))


# --- comments and responses ----------------------------------------------------------------


def _post_comment(
    version: Version, paragraph: Paragraph | None, user: User, data: schemas.NewComment
) -> ResponseReturnValue:
    policy.require(user, "comment.create", version)
    individual = policy.is_individual(user) and not data.organisation
    if data.withhold_name:
        policy.require(user, "comment.withhold_name", version)
    c = consultation.post_comment(
        version=version,
        paragraph=paragraph,
        organisation=None if individual else _organisation_for(user, data.organisation),
        withhold_name=bool(data.withhold_name),
        campaign=bool(data.campaign),
        kind=data.kind or "",
        body=data.body or "",
        suggested_text=data.suggested_text,
        quote=data.quote,
        by=user,
        cosigners=[
            _organisation_for(user, slug.strip())
            for slug in (data.jointly_with or "").split(",")
            if slug.strip()
        ],
        language=data.language,
    )
    # The answer shows what the request just wrote: kept through the commit rather than
    # read back (a query per relation), and made after it (outside the record's lock).
    with kept_through_commits():
        db.session.commit()
    return _created(
        serializers.comment(c, just_posted=True), url_for("api.comment", comment_id=c.id)
    )


@bp.post("/paragraphs/<int:paragraph_id>/comments")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Comment on a paragraph, or on a quoted span of it",
    tag="comments",
    body=schemas.NewComment,
    empty_ok=False,
    answer=schemas.Comment,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def paragraph_comments(paragraph_id: int, body: schemas.NewComment) -> ResponseReturnValue:
    user = _signed_in_actor()
    paragraph = _paragraph(paragraph_id, user)
    return _post_comment(paragraph.version, paragraph, user, body)


@bp.post("/documents/<slug>/versions/<int:number>/comments")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Comment on the version as a whole",
    tag="comments",
    body=schemas.NewComment,
    empty_ok=False,
    answer=schemas.Comment,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def version_comments(slug: str, number: int, body: schemas.NewComment) -> ResponseReturnValue:
    user = _signed_in_actor()
    v = _version(_document(slug, user), number, user)
    return _post_comment(v, None, user, body)


@bp.post("/comments/<int:comment_id>/response")
@limiter.limit(POST_LIMIT)
@operation(
    summary="The committee's answer to a comment (a new answer is a new row)",
    tag="responses",
    body=schemas.NewResponse,
    empty_ok=False,
    answer=schemas.Response,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def comment_response(comment_id: int, body: schemas.NewResponse) -> ResponseReturnValue:
    user = _signed_in_actor()
    c = consultation.get_comment(comment_id)
    policy.require(user, "response.create", c)
    r = consultation.respond(c, decision=body.decision or "", reason=body.reason or "", by=user)
    db.session.commit()
    return _created(serializers.response(r), url_for("api.comment", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/feedback")
@limiter.limit(POST_LIMIT)
@operation(
    summary="The commenting organisation's reply to the committee's answer (once per answer)",
    tag="responses",
    body=schemas.Feedback,
    empty_ok=False,
    answer=schemas.Comment,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def comment_feedback(comment_id: int, body: schemas.Feedback) -> ResponseReturnValue:
    """The commenting organisation's reply to the committee's answer:
    {"satisfied": true|false, "note": "..."}; once per answer."""
    from consult.tracing.grouping import give_feedback

    user = _signed_in_actor()
    c = consultation.get_comment(comment_id)
    policy.require(user, "response.feedback", c)
    give_feedback(c, satisfied=body.satisfied, note=body.note or "", by=user)
    db.session.commit()
    return _created(serializers.comment(c), url_for("api.comment", comment_id=c.id))


# --- search --------------------------------------------------------------------------------


@bp.get("/search")
@operation(
    summary="Search paragraphs, comments, responses, organisations and documents",
    tag="search",
    query=schemas.SearchQuery,
    answer=schemas.SearchResults,
)
def search(query: schemas.SearchQuery) -> ResponseReturnValue:
    params = SearchParams.from_args(request.args, per_page=PER_PAGE)
    if params.empty:
        raise ConsultError(
            _("Give the words to look for in 'q' (or a filter such as decision=accepted)."),
            code="query_required",
        )
    results = search_service.search(params, g.api_actor)
    return jsonify(serializers.search_results(results))
