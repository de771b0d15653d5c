"""JSON API v1 for Word files: a version imported from a .docx or .odt upload (the
multipart form of POST /documents/<slug>/versions, declared in api/drafting.py), and a
marked-up Word file returned by an organisation turned into its comments
(POST /documents/<slug>/versions/<n>/returned-word).
"""

from __future__ import annotations

from typing import Annotated, Literal

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import Field

from consult import textpolicy
from consult.accounts.services import get_organisation
from consult.api import schemas
from consult.api.contract import InvalidInput, Query, Text, operation
from consult.api.routes import POST_LIMIT, WRITE_ERRORS, _document, _signed_in_actor, _version, bp
from consult.consultation import returned_word
from consult.documents import word
from consult.extensions import db, limiter

# --- contracts -------------------------------------------------------------------------------


class VersionUpload(Query):
    """The form fields sent with a Word or OpenDocument file (multipart `file`)."""

    source: Literal["import"] | None = Field(None, description="Only import: the file's text.")
    label: Annotated[Text, Field(max_length=200)] | None = None


class ImportedVersion(schemas.DraftVersion):
    """The new draft, and what the file held that could not be imported."""

    warnings: list[str] = Field(
        default_factory=list,
        description="Images, embedded objects and other things not imported, in words.",
    )


class ReturnedWordForm(Query):
    organisation: Annotated[Text, Field(min_length=1, max_length=120)] = Field(
        description="The slug of the organisation that returned the file."
    )
    dry_run: bool = Field(False, description="true: answer what would be created, store nothing.")


class ReturnedProposal(schemas.Answer):
    kind: str
    word_paragraph: int = Field(description="The paragraph's position in the Word file (1…).")
    paragraph: str | None = Field(description="Its number in the version; null: the whole.")
    paragraph_id: int | None
    body: str
    suggested_text: str | None
    quote: str | None
    word_author: str
    errors: list[str]
    tracking: str | None = Field(None, description="The comment made (not in a dry run).")


class ReturnedWord(schemas.Answer):
    document: str
    version: int
    organisation: str
    sha256: str = Field(description="sha256 of the file, kept as the comments' source.")
    found_by: Literal["hash", "alignment"]
    dry_run: bool
    created: int
    proposals: list[ReturnedProposal]


# --- helpers ---------------------------------------------------------------------------------


def uploaded(name: str = "file") -> tuple[str, bytes]:
    """The file sent as the multipart part `name`: (its name, its bytes)."""
    f = request.files.get(name)
    if f is None or not f.filename:
        raise InvalidInput(
            _("'%(name)s' is required: send the file.", name=name),
            code="field_required",
            field=name,
        )
    blob = f.read(word.MAX_BYTES + 1)
    return f.filename, blob


def version_text(form: VersionUpload) -> tuple[str, list[str]]:
    """The Markdown of the uploaded .docx or .odt file, and what was not imported."""
    filename, blob = uploaded()
    if not word.is_word_name(filename):
        raise InvalidInput(
            _(
                "Upload a Word (.docx) or OpenDocument (.odt) file; send "
                'Markdown as JSON {"source": "import", "text": "..."}.'
            ),
            code="unreadable_file",
            field="file",
        )
    converted = word.convert(filename, blob)
    return textpolicy.clean(converted.markdown, what=_("The file")), converted.warnings


# --- a returned, marked-up Word file ------------------------------------------------------------


@bp.post("/documents/<slug>/versions/<int:number>/returned-word")
@limiter.limit(POST_LIMIT)
@operation(
    summary="A marked-up Word file returned by an organisation becomes its comments",
    tag="comments",
    form=ReturnedWordForm,
    files=("file",),
    answer=ReturnedWord,
    status=201,
    auth=True,
    errors=WRITE_ERRORS,
    also={200: (ReturnedWord, "A dry run: what would be created; nothing stored")},
)
def returned_word_file(
    slug: str, number: int, form: ReturnedWordForm | None = None
) -> ResponseReturnValue:
    """Multipart `file` (.docx with tracked changes and Word comments), `organisation`
    (slug) and `dry_run`. Each paragraph's tracked changes become one suggestion (the
    paragraph as proposed), each Word comment a comment on the span it covers, channel
    "word". With any error nothing is stored (400 listing each); a dry run answers 200
    with what would be created."""
    user = _signed_in_actor()
    if form is None:
        raise InvalidInput(
            _("Send the file as multipart/form-data with the parts 'file' and 'organisation'."),
            code="invalid_json",
        )
    version = _version(_document(slug, user), number, user)
    organisation = get_organisation(form.organisation)
    returned_word.authorise(user, version, organisation)
    filename, blob = uploaded()
    returned = returned_word.read(version, organisation, blob, filename)
    made = []
    if not form.dry_run:
        made = returned_word.store(returned, blob, by=user)
        db.session.commit()
    proposals = [p.as_dict() for p in returned.proposals]
    for p, c in zip(proposals, made, strict=False):
        p["tracking"] = c.tracking
    resp = jsonify(
        document=version.document.slug,
        version=version.number,
        organisation=organisation.slug,
        sha256=returned.sha256,
        found_by=returned.found_by,
        dry_run=form.dry_run,
        created=len(made),
        proposals=proposals,
    )
    resp.status_code = 200 if form.dry_run else 201
    return resp
