"""Pages of the documents part: the list, a document, a version, drafting and publication."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult import fragments, textpolicy
from consult.accounts import policy
from consult.accounts.routes import current_actor
from consult.accounts.services import all_organisations
from consult.consultation.forms import CommentForm, ReceivedCommentForm
from consult.documents import drafting, splitter, word
from consult.documents import services as docs
from consult.documents.drafting import EditConflict
from consult.documents.forms import (
    COMMON_ZONES,
    MAX_UPLOAD_NAMES,
    CloseForm,
    DocumentForm,
    EditTextForm,
    NewVersionForm,
    NoteForm,
    PublishForm,
    parse_local_datetime,
)
from consult.documents.models import Document, Paragraph, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.tracing.compare_cache import compare_versions
from consult.tracing.guard import unanswered_count
from consult.tracing.summary import change_summary, count_changes
from consult.tracing.views import considered

bp = Blueprint("documents", __name__)


def visible_document(slug: str) -> Document:
    """The document, or 404 when it has no public version and the user may not see drafts."""
    doc = docs.get_document(slug)
    if not policy.can(current_user, "document.view", doc):
        raise NotFound(_("There is no document '%(slug)s'.", slug=slug))
    return doc


def visible_version(slug: str, number: int) -> tuple[Document, Version]:
    """The document and its version `number`, or 404 — also for drafts the user may not see,
    so that their existence is not revealed."""
    doc = visible_document(slug)
    version = docs.get_version(doc, number)
    if not policy.can(current_user, "version.view", version):
        raise NotFound(_("'%(title)s' has no version %(number)s.", title=doc.title, number=number))
    return doc, version


def visible_paragraph(paragraph_id: int) -> Paragraph:
    p = db.session.get(Paragraph, paragraph_id)
    if p is None or not policy.can(current_user, "version.view", p.version):
        raise NotFound(_("There is no paragraph %(paragraph_id)s.", paragraph_id=paragraph_id))
    return p


def received_comment_form(v: Version) -> ReceivedCommentForm | None:
    """The secretariat's form for a comment that came by e-mail, on paper or at a workshop,
    when the version takes them (open or closed) and the user may enter them; the caller
    sets its paragraph choices."""
    if v.state not in ("consultation", "closed") or not policy.can(
        current_user, "comment.enter_on_behalf", v
    ):
        return None
    return ReceivedCommentForm(all_organisations())


def _comment_counts(version_ids: list[int], by: str) -> dict:
    """Comments per version (by="version") or per paragraph (by="paragraph"), read from
    the counts kept as comments arrive (a few rows, whatever the number of comments)."""
    from consult.tracing import counters

    if by == "version":
        return counters.per_version(version_ids)
    return counters.per_paragraph(version_ids[0]) if version_ids else {}


@bp.get("/")
def home():
    documents = db.session.scalars(
        select(Document).options(selectinload(Document.versions)).order_by(Document.title)
    ).all()
    drafting = policy.can(current_user, "document.create")
    listed = [d for d in documents if policy.can(current_user, "document.view", d)]
    open_versions = sorted(
        (v for d in documents for v in d.versions if docs.accepting_comments(v)),
        key=lambda v: (v.closes_at is None, v.closes_at),
    )
    return render_template(
        "documents/home.html", documents=listed, open_versions=open_versions, drafting=drafting
    )


@bp.route("/documents/new", methods=["GET", "POST"])
@login_required
def new_document():
    policy.require(current_user, "document.create")
    form = DocumentForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                slug = (form.slug.data or "").strip() or docs.slug_from_title(form.title.data)
                doc = docs.create_document(
                    slug,
                    form.title.data,
                    by=current_actor(),
                    committee=form.committee.data or "",
                    timezone=form.timezone.data.strip(),
                    kind=form.kind.data or "resolution",
                )
            except ConsultError as e:
                db.session.rollback()
                # The service's refusals concern the slug (its form or a taken one).
                form.slug.errors = [*form.slug.errors, e.message]
                return _document_form(form), e.status
            db.session.commit()
            flash(_("Document '%(title)s' created. Add its first version.", title=doc.title))
            return redirect(url_for("documents.new_version", slug=doc.slug))
        return _document_form(form), 400
    return _document_form(form)


def _document_form(form: DocumentForm, error: str = ""):
    return render_template(
        "documents/new_document.html", form=form, zones=COMMON_ZONES, error=error
    )


@bp.get("/documents/<slug>")
def document(slug: str):
    doc = visible_document(slug)
    if any([docs.refresh_state(v) for v in doc.versions]):
        db.session.commit()  # a deadline passed: the version shows as closed
    versions = policy.versions_seen_by(current_user, doc)
    counts = _comment_counts([v.id for v in versions], by="version")
    latest = doc.latest
    return render_template(
        "documents/document.html",
        doc=doc,
        versions=versions,
        counts=counts,
        pairs=list(zip(versions, versions[1:], strict=False)),
        considered=considered(doc, versions),
        # The service refuses a new version while the latest is a draft, open or final;
        # the page only offers the forms when it would be accepted.
        may_add=latest is None or latest.state == "closed",
    )


@bp.route("/documents/<slug>/versions/new", methods=["GET", "POST"])
@login_required
def new_version(slug: str):
    doc = docs.get_document(slug)
    policy.require(current_user, "version.create", doc)
    form = NewVersionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _new_version_form(doc, form, "Check the form."), 400
        if request.form.get("preview") and form.source.data != "copy":
            return _structure_preview(doc, form)
        try:
            if form.source.data == "copy":
                version = drafting.start_version(
                    doc, by=current_actor(), label=form.label.data or ""
                )
            else:
                text = _uploaded_text(form) or form.text.data or ""
                version = drafting.start_version(
                    doc, by=current_actor(), label=form.label.data or "", text=text
                )
        except ConsultError as e:
            db.session.rollback()
            return _new_version_form(doc, form, e.message), e.status
        db.session.commit()
        flash(_("Version %(number)s created as a draft.", number=version.number))
        for warning in getattr(form, "word_warnings", []):
            flash(_("Not imported from the file: %(warning)s", warning=warning))
        return redirect(url_for("documents.version", slug=doc.slug, number=version.number))
    return _new_version_form(doc, form)


def _structure_preview(doc: Document, form: NewVersionForm):
    """The import's structure before anything is stored: headings and numbering, how
    many paragraphs, in-page links that will not resolve, a warning when it looks flat.
    An uploaded file's text goes into the text box, so the import sends what was seen."""
    try:
        text = _uploaded_text(form) or form.text.data or ""
    except ConsultError as e:
        return _new_version_form(doc, form, e.message), e.status
    if not text.strip():
        return _new_version_form(doc, form, "Paste a text or choose a file to preview."), 400
    form.text.data = text
    return _new_version_form(doc, form, structure=splitter.structure(text))


def _uploaded_text(form: NewVersionForm) -> str | None:
    upload = form.upload.data
    if not upload or not upload.filename:
        return None
    if word.is_word_name(upload.filename):
        # A Word or OpenDocument file becomes Markdown; what it cannot carry is reported.
        converted = word.convert(upload.filename, upload.read())
        form.word_warnings = converted.warnings
        return textpolicy.clean(converted.markdown, what=_("The file"))
    if not upload.filename.lower().endswith(MAX_UPLOAD_NAMES):
        raise ConsultError(
            _("Upload a Markdown (.md or .txt), Word (.docx) or OpenDocument (.odt) file.")
        )
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConsultError(
            _("The file is not UTF-8 text; save it as UTF-8 and upload it again.")
        ) from None
    return textpolicy.clean(text, what=_("The file"))


def _new_version_form(doc: Document, form: NewVersionForm, error: str = "", structure=None):
    return render_template(
        "documents/new_version.html", doc=doc, form=form, error=error, structure=structure
    )


@bp.get("/documents/<slug>/versions/<int:number>")
def version(slug: str, number: int):
    doc, v = visible_version(slug, number)
    if docs.refresh_state(v):
        db.session.commit()  # the deadline passed: the page shows the version closed
    counts = _comment_counts([v.id], by="paragraph")
    accepting = docs.accepting_comments(v)
    may_comment = accepting and policy.can(current_user, "comment.create", v)
    received_form = received_comment_form(v)
    if received_form is not None:
        received_form.paragraph.choices = _paragraph_choices(v)
    from consult.translations.routes import reading_facts

    reading = reading_facts(v, request.args.get("lang"))
    new_comment = CommentForm(current_user.organisations) if may_comment else None
    if new_comment is not None and reading["text_language"]:
        # A comment made on the text read in a language is taken to be written in it.
        new_comment.language.data = reading["text_language"]
    return render_template(
        "documents/version.html",
        doc=doc,
        version=v,
        paragraphs=v.paragraphs,
        counts=counts,
        accepting=accepting,
        may_comment=may_comment,
        cannot_comment=_why_no_comment_form(v) if accepting and not may_comment else None,
        anchors=_paragraph_anchors(v.paragraphs),
        new_comment=new_comment,
        received_form=received_form,
        previous=number - 1 if number > 1 else None,
        **_drafting_facts(doc, v),
        **reading,
    )


#: Ids the page itself uses: an anchor of the text never takes one of them.
_PAGE_IDS = frozenset({"main", "content", "top", "skip", "search", "changes-h", "manage-h"})


def _paragraph_anchors(paragraphs) -> dict[int, list[str]]:
    """The in-page link targets of each paragraph (HTML anchors, kramdown ids, a
    heading's automatic id), each given once on the page, so that a table of contents or
    a footnote link of an imported text lands on its paragraph."""
    seen: set[str] = set(_PAGE_IDS)
    out: dict[int, list[str]] = {}
    for p in paragraphs:
        mine = [a for a in splitter.anchors(p.source, p.text, p.kind) if a not in seen]
        seen.update(mine)
        if mine:
            out[p.id] = mine
    return out


def _why_no_comment_form(v: Version) -> str | None:
    """Why a signed-in reader sees no comment form on an open version (the page says it,
    with what to do): "pending" (a request to join an organisation awaits approval),
    "no_organisation" (a CSO account with no approved membership), "not_cso" (the
    secretariat and the committee answer comments rather than make them)."""
    if not current_user.is_authenticated:
        return None  # the page asks them to sign in
    if current_user.role != "cso":
        return "not_cso"
    if current_user.pending_organisations:
        return "pending"
    return "no_organisation"


def _drafting_facts(doc: Document, v: Version) -> dict:
    """What the version page shows about drafting: the change summary, and for the
    committee the note form, the lineage still to review, the early close and the copy."""
    facts: dict = {"changes": change_summary(v) if v.number > 1 else None}
    if v.state == "draft" and policy.can(current_user, "version.edit", v):
        note = NoteForm(formdata=None)
        note.note.data = v.note
        facts.update(note_form=note, unreviewed=drafting.unreviewed_links(v))
    facts["early"] = docs.closes_early(v)
    facts["may_copy"] = (
        doc.latest is v and v.state == "closed" and policy.can(current_user, "version.create", doc)
    )
    return facts


def _paragraph_choices(v: Version) -> dict[str, str]:
    choices = {"": _("The version as a whole")}
    for p in v.paragraphs:
        words = " ".join(p.text.split()[:8])
        choices[str(p.id)] = f"{p.number or '–'} {words}…"
    return choices


@bp.route("/documents/<slug>/versions/<int:number>/edit", methods=["GET", "POST"])
@login_required
def edit_version(slug: str, number: int):
    doc, v = visible_version(slug, number)
    policy.require(current_user, "version.edit", v)
    form = EditTextForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                docs.replace_text(
                    v, form.text.data, by=current_actor(), base_text=form.base_text.data or None
                )
            except EditConflict as e:
                db.session.rollback()
                return _whole_text_conflict(doc, v, e), 409
            except ConsultError as e:
                if v.frozen:
                    raise  # the error page: there is no form to go back to
                db.session.rollback()
                return _edit_form(doc, v, form, e.message), e.status
            db.session.commit()
            flash(_("The text of version %(number)s is saved.", number=v.number))
            return redirect(url_for("documents.version", slug=doc.slug, number=v.number))
        if not v.frozen:
            return _edit_form(doc, v, form, "The text is empty."), 400
    if v.frozen:
        raise Conflict(
            _(
                "Version %(number)s is %(lower)s: its text is frozen and "
                "cannot be edited. Start a new version instead.",
                number=v.number,
                lower=v.state_label.lower(),
            )
        )
    form.text.data = form.text.data or docs.to_markdown(v)
    form.base_text.data = docs.to_markdown(v)
    return _edit_form(doc, v, form)


def _whole_text_conflict(doc: Document, v: Version, e: EditConflict):
    form = EditTextForm(formdata=None)
    form.text.data = e.merged if e.merged is not None else e.yours
    form.base_text.data = e.theirs
    return render_template(
        "drafting/conflict.html", doc=doc, version=v, conflict=e, form=form, whole=True
    )


def _edit_form(doc: Document, v: Version, form: EditTextForm, error: str = ""):
    return render_template(
        "documents/edit_version.html", doc=doc, version=v, form=form, error=error
    )


@bp.post("/documents/<slug>/versions/<int:number>/publish")
@login_required
def publish(slug: str, number: int):
    doc, v = visible_version(slug, number)
    policy.require(current_user, "version.publish", v)
    form = PublishForm()
    form.validate_on_submit()
    closes_at = None
    if form.mode.data != "closed":
        if not (form.closes_at.data or "").strip():
            raise ConsultError(_("Give the date and time when comments close."))
        closes_at = parse_local_datetime(form.closes_at.data, doc.timezone)
    drafting.refuse_unreviewed(v)
    docs.check_publishable(v, closes_at)
    # The opening's settings (issue 21); check_opening refuses a value that does not exist.
    opening = {
        "participants": request.form.get("participants") or "organisations",
        "withheld_names": request.form.get("withheld_names") in ("y", "1", "on"),
        "personal_data": request.form.get("personal_data") or "hold",
    }
    docs.check_opening(opening["participants"], opening["personal_data"])
    if not _confirmed():
        return _confirm_page(
            doc,
            v,
            "publish",
            {
                "mode": form.mode.data or "open",
                "closes_at": form.closes_at.data or "",
                **{k: ("y" if val is True else val or "") for k, val in opening.items()},
            },
            closes_at=closes_at,
        )
    docs.publish(v, by=current_actor(), closes_at=closes_at, **opening)
    db.session.commit()
    if closes_at:
        flash(_("Version %(number)s is published and open for comments.", number=v.number))
    else:
        flash(_("Version %(number)s is published (closed for comments).", number=v.number))
    return redirect(url_for("documents.version", slug=doc.slug, number=v.number))


@bp.post("/documents/<slug>/versions/<int:number>/close")
@login_required
def close(slug: str, number: int):
    doc, v = visible_version(slug, number)
    policy.require(current_user, "version.close", v)
    form = CloseForm()
    form.validate_on_submit()
    reason = (form.reason.data or "").strip()
    if docs.closes_early(v) and not reason:
        raise ConsultError(
            _(
                "The deadline has not passed: give the reason for closing "
                "early (it is published with the version and kept in the "
                "record)."
            )
        )
    if v.state != "consultation":
        raise Conflict(_("Version %(number)s is not open for comments.", number=v.number))
    if not _confirmed():
        return _confirm_page(doc, v, "close", {"reason": reason}, reason=reason)
    docs.close(v, by=current_actor(), reason=reason)
    db.session.commit()
    flash(
        _(
            "Version %(number)s is closed for comments. The committee can now answer them.",
            number=v.number,
        )
    )
    return redirect(url_for("documents.version", slug=doc.slug, number=v.number))


@bp.post("/documents/<slug>/versions/<int:number>/finalize")
@login_required
def finalize(slug: str, number: int):
    doc, v = visible_version(slug, number)
    policy.require(current_user, "version.finalize", v)
    # With comments unanswered the service refuses unless a reason to override is given.
    reason = textpolicy.clean_optional(request.form.get("override_reason"), what=_("The reason"))
    if not _confirmed():
        waiting = unanswered_count(v)
        if v.state != "closed" or (waiting and not (reason or "").strip()):
            docs.finalize(v, by=current_actor(), override_reason=reason)  # refuses, saying why
        return _confirm_page(
            doc, v, "finalize", {"override_reason": reason or ""}, reason=reason, waiting=waiting
        )
    docs.finalize(v, by=current_actor(), override_reason=reason)
    db.session.commit()
    flash(_("Version %(number)s is now the final text.", number=v.number))
    return redirect(url_for("documents.version", slug=doc.slug, number=v.number))


def _confirmed() -> bool:
    """An irreversible step (publish, close, make final) is taken from its confirmation
    page, which sends confirmed=1; the first POST only shows that page."""
    return request.form.get("confirmed") == "1"


def _confirm_page(doc: Document, v: Version, step: str, fields: dict, **facts):
    """The second page of an irreversible step: what will happen, and the same form
    again with confirmed=1 (a page, not a script: it works without JavaScript)."""
    return render_template(
        "documents/confirm.html",
        doc=doc,
        version=v,
        step=step,
        fields=fields,
        action=url_for(f"documents.{step}", slug=doc.slug, number=v.number),
        **facts,
    )


@bp.get("/documents/<slug>/compare")
def compare_pick(slug: str):
    """The version pickers' GET form lands here and goes on to the citable address;
    without versions named, the page to choose them."""
    doc = visible_document(slug)
    if not request.args.get("a") and not request.args.get("b"):
        # No versions named: the page lets the reader choose them (the latest two).
        versions = policy.versions_seen_by(current_user, doc)
        return render_template(
            "documents/compare_pick.html",
            doc=doc,
            versions=versions,
            a=versions[-2].number if len(versions) > 1 else None,
            b=versions[-1].number if versions else None,
        )
    try:
        a, b = int(request.args["a"]), int(request.args["b"])
    except (KeyError, ValueError):
        raise ConsultError(_("Choose two versions to compare.")) from None
    args = {"changes": "1"} if request.args.get("changes") else {}
    return redirect(url_for("documents.compare", slug=doc.slug, a=a, b=b, **args))


@bp.get("/documents/<slug>/compare/<int:a>/<int:b>")
def compare(slug: str, a: int, b: int):
    doc, va = visible_version(slug, a)
    _, vb = visible_version(slug, b)
    changes_only = bool(request.args.get("changes"))

    def rows_part() -> tuple[str, dict[str, int]]:
        """The rows (the same for every reader of a language) and the summary's counts."""
        rows = compare_versions(va, vb)
        shown = [r for r in rows if r.relation != "unchanged"] if changes_only else rows
        html = render_template("documents/_compare_rows.html", doc=doc, va=va, vb=vb, rows=shown)
        return html, count_changes(va, vb, rows)

    # Published texts and their links never change; a draft's are made each time.
    frozen = va.frozen and vb.frozen
    key = ("compare", va.id, va.content_hash, vb.id, vb.content_hash, changes_only)
    html, counts = fragments.remembered(key if frozen else None, rows_part)
    return render_template(
        "documents/compare.html",
        doc=doc,
        va=va,
        vb=vb,
        rows_html=Markup(html),  # noqa: S704 - rendered by a template, escaped there
        counts=counts,
        changes_only=changes_only,
        versions=policy.versions_seen_by(current_user, doc),
    )


# The committee's pages add their routes to this blueprint.
from consult.documents import drafting_routes  # noqa: E402, F401
