"""JSON API v1 for translations: import a version's text in another language, review
its links, publish it; the committee's answers in other languages. Reading a version in
a language is `GET /documents/<slug>/versions/<n>?lang=th` (consult/api/routes.py),
whose answer `translated_version` below builds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import Field

from consult.accounts import policy
from consult.api import schemas, serializers
from consult.api.contract import Body, Text, operation
from consult.api.routes import (
    POST_LIMIT,
    WRITE_ERRORS,
    _actor,
    _created,
    _document,
    _signed_in_actor,
    _version,
    bp,
)
from consult.consultation import services as consultation
from consult.documents.models import Version
from consult.errors import NotFound
from consult.extensions import db, limiter
from consult.i18n import LOCALES
from consult.translations import services as tr
from consult.translations.models import Translation

Language = Literal[tuple(LOCALES)]  # type: ignore[valid-type]
#: The longest text a translation may have (as a version's import).
MAX_TEXT = 2_000_000


class NewTranslation(Body):
    language: Language
    text: Annotated[Text, Field(min_length=1, max_length=MAX_TEXT)]
    publish: bool | None = Field(
        None, description="true: publish at once (else a draft for the drafters' review)."
    )


class LinkCorrection(Body):
    translated_paragraph: Annotated[int, Field(ge=1, le=2**31 - 1)]
    paragraph: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="The authoritative paragraph's id; null: not linked."
    )


class LinkCorrections(Body):
    links: Annotated[list[LinkCorrection], Field(min_length=1, max_length=10_000)]


class NewResponseTranslation(Body):
    language: Language
    text: Annotated[Text, Field(min_length=1, max_length=20_000)]


class TranslatedBlock(schemas.Answer):
    id: int
    position: int
    number: str
    kind: str
    text: str
    source: str
    paragraph: int | None = Field(None, description="The authoritative paragraph it translates.")
    method: str
    score: float


class TranslationAnswer(schemas.Answer):
    id: int
    document: str
    version: int
    language: str
    state: Literal["draft", "published"]
    content_hash: str | None = None
    published_at: schemas.DateTime = None
    linked: int
    not_linked: int
    paragraphs: list[TranslatedBlock]
    links: schemas.Links


class TranslationList(schemas.Answer):
    authoritative_language: str
    translations: list[dict[str, Any]]


class ResponseTranslationAnswer(schemas.Answer):
    id: int
    response: int
    language: str
    text: str
    created_at: schemas.DateTime


def _translation_json(t: Translation) -> dict[str, Any]:
    v = t.version
    linked = sum(1 for p in t.paragraphs if p.paragraph_id is not None)
    return {
        "id": t.id,
        "document": v.document.slug,
        "version": v.number,
        "language": t.language,
        "state": t.state,
        "content_hash": t.content_hash,
        "published_at": t.published_at.isoformat() if t.published_at else None,
        "linked": linked,
        "not_linked": len(t.paragraphs) - linked,
        "paragraphs": [
            {
                "id": p.id,
                "position": p.position,
                "number": p.number,
                "kind": p.kind,
                "text": p.text,
                "source": p.source,
                "paragraph": p.paragraph_id,
                "method": p.method,
                "score": p.score,
            }
            for p in t.paragraphs
        ],
        "links": {
            "version": url_for("api.version", slug=v.document.slug, number=v.number),
            "read": url_for("api.version", slug=v.document.slug, number=v.number, lang=t.language),
        },
    }


def translated_version(version: Version, language: str, comment_counts) -> dict[str, Any]:
    """The version's answer with each paragraph's text in `language` where a translation
    has it: same ids and lineage, plus `language`, `translated` and `out_of_date`."""
    body = serializers.version_detail(version, comment_counts)
    rows = tr.read_in(version, language)
    if language != tr.authoritative_language(version.document) and not any(
        r.text is not None for r in rows
    ):
        raise NotFound(
            _(
                "Version %(number)s of '%(title)s' has no published "
                "translation into '%(language)s'.",
                number=version.number,
                title=version.document.title,
                language=language,
            ),
            code="no_translation",
        )
    own = tr.authoritative_language(version.document)
    for out, row in zip(body["paragraphs"], rows, strict=True):
        translated = row.text is not None and language != own
        if translated:
            out["authoritative"] = {"language": own, "text": out["text"], "source": out["source"]}
            out["text"], out["source"] = row.text, row.source
        out["language"] = language if translated or language == own else own
        out["translated"] = translated
        out["out_of_date"] = row.out_of_date
        out["translated_from_version"] = row.from_version
    body["language"] = language
    body["authoritative_language"] = own
    body["languages"] = tr.languages_of(version)
    return body


@bp.get("/documents/<slug>/versions/<int:number>/translations")
@operation(
    summary="The version's translations (drafts too, for its committee)",
    tag="documents",
    answer=TranslationList,
    errors=(404,),
)
def translations(slug: str, number: int) -> ResponseReturnValue:
    user = _actor()
    v = _version(_document(slug, user), number, user)
    drafts = policy.can(user, "translation.manage", v)
    return jsonify(
        authoritative_language=tr.authoritative_language(v.document),
        translations=[
            _translation_json(t) for t in tr.translations_of(v, published_only=not drafts)
        ],
    )


@bp.post("/documents/<slug>/versions/<int:number>/translations")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Import the version's text in another language, aligned to its paragraphs",
    tag="documents",
    body=NewTranslation,
    empty_ok=False,
    answer=TranslationAnswer,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def translation_import(slug: str, number: int, body: NewTranslation) -> ResponseReturnValue:
    """{"language": "th", "text": "<Markdown>", "publish": false}: a draft translation
    whose links to the authoritative paragraphs the drafters review, unless published."""
    user = _signed_in_actor()
    v = _version(_document(slug, user), number, user)
    policy.require(user, "translation.manage", v)
    t = tr.import_translation(v, body.language, body.text, by=user)
    if body.publish:
        tr.publish_translation(t, by=user)
    db.session.commit()
    return _created(
        _translation_json(t),
        url_for("api.translations", slug=slug, number=number),
    )


def _managed(slug: str, number: int, translation_id: int):
    user = _signed_in_actor()
    v = _version(_document(slug, user), number, user)
    policy.require(user, "translation.manage", v)
    return user, tr.get_translation(translation_id, v)


@bp.post("/documents/<slug>/versions/<int:number>/translations/<int:translation_id>/links")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Correct a draft translation's links to the authoritative paragraphs",
    tag="documents",
    body=LinkCorrections,
    empty_ok=False,
    answer=TranslationAnswer,
    auth=True,
    errors=WRITE_ERRORS,
)
def translation_links(
    slug: str, number: int, translation_id: int, body: LinkCorrections
) -> ResponseReturnValue:
    user, t = _managed(slug, number, translation_id)
    tr.relink(t, {c.translated_paragraph: c.paragraph for c in body.links}, by=user)
    db.session.commit()
    return jsonify(_translation_json(t))


@bp.post("/documents/<slug>/versions/<int:number>/translations/<int:translation_id>/publish")
@limiter.limit(POST_LIMIT)
@operation(
    summary="Publish a draft translation beside its version (a record event)",
    tag="documents",
    answer=TranslationAnswer,
    auth=True,
    errors=WRITE_ERRORS,
)
def translation_publish(slug: str, number: int, translation_id: int) -> ResponseReturnValue:
    user, t = _managed(slug, number, translation_id)
    tr.publish_translation(t, by=user)
    db.session.commit()
    return jsonify(_translation_json(t))


@bp.post("/comments/<int:comment_id>/response/translations")
@limiter.limit(POST_LIMIT)
@operation(
    summary="The committee's latest answer to a comment, in another language",
    tag="responses",
    body=NewResponseTranslation,
    empty_ok=False,
    answer=ResponseTranslationAnswer,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
)
def response_translation(comment_id: int, body: NewResponseTranslation) -> ResponseReturnValue:
    user = _signed_in_actor()
    c = consultation.get_comment(comment_id)
    policy.require(user, "response.translate", c)
    if not c.responses:
        raise NotFound(_("This comment has no answer to translate yet."), code="no_response")
    rt = tr.translate_response(c.responses[-1], body.language, body.text, by=user)
    db.session.commit()
    return _created(
        {
            "id": rt.id,
            "response": rt.response_id,
            "language": rt.language,
            "text": rt.text,
            "created_at": rt.created_at.isoformat(),
        },
        url_for("api.comment", comment_id=c.id),
    )
