"""Public tracing pages ("you said, we did"): a paragraph's history across versions,
the annotated comparison, the provenance of a text, the consultation report, an
organisation's account; and the committee's grouped answers and the organisations'
replies to answers."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from consult import fragments
from consult.accounts import policy
from consult.accounts.models import Organisation
from consult.accounts.routes import current_actor, safe_next
from consult.consultation import services as consultation
from consult.consultation.listing import page_number
from consult.consultation.models import DECISIONS, Comment, Response
from consult.consultation.redaction import shown_to
from consult.converters import parse_id
from consult.documents.models import Version
from consult.documents.routes import visible_document, visible_version
from consult.errors import ConsultError, NotFound
from consult.extensions import db
from consult.forms import Form, choices, shown_as
from consult.tracing import counters, grouping, views
from consult.tracing.cli import recount_cmd
from consult.tracing.compare import LABELS as RELATION_LABELS
from consult.tracing.guard import override_for
from consult.tracing.models import ResponseGroup
from consult.tracing.stored import FLAG_LABELS, UPTAKE_LABELS, flag_label, text_loads

#: cli_group=None: its commands (`flask recount`) are top-level commands.
bp = Blueprint("tracing", __name__, cli_group=None)
bp.cli.add_command(recount_cmd)


class GroupAnswerForm(Form):
    decision = SelectField(
        _l("Decision"),
        choices=choices(DECISIONS, first=("", _l("Choose a decision"))),
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=10_000)])


class FeedbackForm(Form):
    satisfied = RadioField(
        _l("Is your organisation satisfied with this answer?"),
        choices=shown_as({"yes": _l("Satisfied"), "no": _l("Not satisfied")}),
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("Note (optional)"), validators=[Optional(), Length(max=grouping.MAX_NOTE)]
    )
    next = HiddenField()


@bp.app_template_global()
def trace_comment(c: Comment) -> views.Outcome:
    """The outcome of a comment (uptake, flag, group, reply) for the comment pages."""
    return views.comment_outcome(c)


@bp.app_template_global()
def trace_comments(comments) -> dict[int, views.Outcome]:
    """Outcomes of a page's comments by id, in a few queries for all of them."""
    comments = list(comments)
    return {o.comment.id: o for o in views.outcomes(comments)} if comments else {}


@bp.app_template_global()
def trace_version(v: Version) -> dict:
    """The finalize override of a version (or None) and its unanswered comments."""
    return {
        "override": override_for(v) if v.state == "final" else None,
        # Kept as comments arrive (tracing.counters): no count over the comments.
        "unanswered": counters.unanswered(v) if v.state == "closed" else 0,
    }


@bp.app_template_filter()
def relation_label(relation: str) -> str:
    """A lineage relation in words ("formatting only", "split and merged")."""
    return _(RELATION_LABELS.get(relation, relation))


# Globals, not context: macros imported without context see them too.
bp.add_app_template_global(UPTAKE_LABELS, "UPTAKE_LABELS")
bp.add_app_template_global(FLAG_LABELS, "FLAG_LABELS")
bp.add_app_template_global(flag_label, "flag_label")


@bp.get("/documents/<slug>/lineages/<lineage>")
def lineage(slug: str, lineage: str):
    doc = visible_document(slug)
    show_all = bool(request.args.get("all"))
    history = views.lineage_history(
        doc, lineage, policy.versions_seen_by(current_user, doc), show_all=show_all
    )
    if history is None:
        raise NotFound(
            _(
                "'%(title)s' has no paragraph with lineage %(lineage)s.",
                title=doc.title,
                lineage=lineage,
            )
        )
    return render_template("tracing/lineage.html", doc=doc, h=history, show_all=show_all)


@bp.get("/documents/<slug>/compare/<int:a>/<int:b>/annotated")
def annotated(slug: str, a: int, b: int):
    doc, va = visible_version(slug, a)
    _, vb = visible_version(slug, b)
    changes_only = request.args.get("all") is None
    cmp = views.annotated_compare(
        doc, va, vb, changes_only=changes_only, page=page_number(request.args.get("page"))
    )
    more = {} if changes_only else {"all": 1}
    return render_template(
        "tracing/annotated.html",
        doc=doc,
        va=va,
        vb=vb,
        rows=cmp.rows,
        page=cmp.page,
        page_url=lambda n: url_for(
            "tracing.annotated", slug=doc.slug, a=va.number, b=vb.number, page=n, **more
        ),
        changes_only=changes_only,
        unchanged=cmp.unchanged,
    )


@bp.get("/documents/<slug>/versions/<int:number>/provenance")
def provenance(slug: str, number: int):
    doc, v = visible_version(slug, number)
    # ?page=N: the page of the sources list shown under the text (the text is whole).
    asked = page_number(request.args.get("page"))

    def text_part() -> tuple[str, list[int]]:
        """The text with its marks (the same for every reader of a language), and the
        credited suggestions' ids in order of first credit."""
        paragraphs, refs = views.provenance_passages(v)
        page, _pages = views.sources_page(asked, len(refs))
        html = render_template(
            "tracing/_provenance_text.html",
            doc=doc,
            version=v,
            paragraphs=paragraphs,
            page=page,
            page_of=views.source_page_of,
        )
        return html, list(refs)

    # Kept while what it is made from holds (provenance_key); a draft's is made each time.
    key = ("provenance", v.id, views.provenance_key(v), asked) if v.frozen else None
    html, refs = fragments.remembered(key, text_part)
    prov = views.provenance_sources(v, refs, asked)
    return render_template(
        "tracing/provenance.html",
        doc=doc,
        version=v,
        prov=prov,
        text_html=Markup(html),  # noqa: S704 - rendered by a template, escaped there
    )


@bp.get("/documents/<slug>/versions/<int:number>/report")
def report(slug: str, number: int):
    doc, v = visible_version(slug, number)
    # ?scope=consultation: every round up to this version (a version without comments of
    # its own, such as a final text, gets that by default).
    whole = True if request.args.get("scope") == "consultation" else None
    return render_template(
        "tracing/report.html", doc=doc, version=v, r=views.report(v, whole=whole)
    )


@bp.get("/organisations/<slug>/accountability")
def accountability(slug: str):
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(_("There is no organisation '%(slug)s'.", slug=slug))
    visible = set(db.session.scalars(select(Version.id).where(Version.state != "draft")))
    return render_template(
        "tracing/organisation.html",
        org=org,
        acc=views.organisation_account(org, visible),
    )


@bp.get("/groups/<int:group_id>")
def group(group_id: int):
    g = db.session.get(ResponseGroup, group_id)
    if g is None or not policy.can(current_user, "version.view", g.version):
        raise NotFound(_("There is no grouped answer %(group_id)s.", group_id=group_id))
    comments = [m.comment for m in g.members]
    return render_template(
        "tracing/group.html",
        g=g,
        doc=g.version.document,
        version=g.version,
        outcomes=views.outcomes(comments, diffs=True),
    )


#: Comments ticked on the page answering several together, at most (a form letter of
#: any size is answered once on its own page).
MAX_TOGETHER = 1000


def _answer_loads() -> tuple:
    return (
        selectinload(Comment.organisation),
        selectinload(Comment.paragraph),
        selectinload(Comment.responses).selectinload(Response.responder),
        *text_loads(),
    )


def _chosen(v: Version, ids: set[int]) -> list[Comment]:
    """The ticked comments of the version, not withdrawn: only those are read."""
    if len(ids) > MAX_TOGETHER:
        raise ConsultError(
            _(
                "Answer at most %(n)s comments together; a form letter is answered once, "
                "for all its copies, on its own page.",
                n=f"{MAX_TOGETHER:,}",
            )
        )
    if not ids:
        return []
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.version_id == v.id, Comment.id.in_(sorted(ids)))
        .options(*_answer_loads())
        .order_by(Comment.id)
    ).all()
    return [c for c in comments if not c.withdrawn]


def _answerable(v: Version, ids: list[int] | None = None) -> list[Comment]:
    """The version's comments to answer (`ids`: only those, in that order), the ones
    waiting first."""
    where = [Comment.version_id == v.id]
    if ids is not None:
        where.append(Comment.id.in_(ids or [-1]))
    comments = db.session.scalars(
        select(Comment).where(*where).options(*_answer_loads()).order_by(Comment.id)
    ).all()
    if ids is not None:
        order = {cid: k for k, cid in enumerate(ids)}
        return [c for c in sorted(comments, key=lambda c: order[c.id]) if not c.withdrawn]
    positions = {p.id: p.position for p in v.paragraphs}
    return sorted(
        (c for c in comments if not c.withdrawn),
        key=lambda c: (c.response is not None, positions.get(c.paragraph_id, -1), c.id),
    )


@bp.route("/documents/<slug>/versions/<int:number>/answer-together", methods=["GET", "POST"])
@login_required
def answer_together(slug: str, number: int):
    """The committee picks comments asking the same thing and answers them at once."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "response.create", v)
    form = GroupAnswerForm()
    error, status = "", 200
    chosen = {parse_id(x) for x in request.form.getlist("comment")} - {None}
    letters = bool(request.args.get("letters"))
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                comments = _chosen(v, chosen)
                g = grouping.answer_together(
                    v,
                    comments,
                    decision=form.decision.data,
                    reason=form.reason.data,
                    by=current_actor(),
                )
            except ConsultError as e:
                db.session.rollback()
                error, status = e.message, e.status
            else:
                db.session.commit()
                flash(_("%(n)s comments answered together.", n=len(g.members)))
                return redirect(url_for("tracing.group", group_id=g.id))
        else:
            error, status = _("Choose a decision and give the reason for it."), 400
    page = None
    if letters:
        # One row per form letter (answered once on its page), then the comments in no
        # letter, page by page: what the page reads does not grow with the copies.
        from consult.analysis import grouping as letter_groups  # a later layer

        page = letter_groups.letters_page(v, page_number(request.args.get("page")))
        comments = _answerable(v, page.comment_ids)
    else:
        comments = _answerable(v)
    return (
        render_template(
            "tracing/answer_together.html",
            doc=doc,
            version=v,
            form=form,
            comments=comments,
            chosen=chosen,
            page=page,
            page_url=lambda n: url_for(
                "tracing.answer_together", slug=doc.slug, number=v.number, letters=1, page=n
            ),
            # The wording's diff is of the text as written: only for those who read it.
            changes={
                o.comment.id: o.proposed
                for o in views.outcomes(comments, diffs=True)
                if shown_to(o.comment, current_user) is o.comment.current
            },
            error=error,
            may_answer=v.state in ("closed", "final"),
        ),
        status,
    )


@bp.post("/comments/<int:comment_id>/feedback")
@login_required
def feedback(comment_id: int):
    c = consultation.get_comment(comment_id)
    policy.require(current_user, "response.feedback", c)
    form = FeedbackForm()
    if not form.validate_on_submit():
        raise ConsultError(_("Say whether your organisation is satisfied with the answer."))
    grouping.give_feedback(
        c, satisfied=form.satisfied.data == "yes", note=form.note.data or "", by=current_actor()
    )
    db.session.commit()
    flash(
        _(
            "Your organisation's reply to the answer is published beside "
            "it; an earlier reply stays in its history."
        )
    )
    return redirect(safe_next(form.next.data) or url_for("consultation.comment", comment_id=c.id))


@bp.app_template_global()
def feedback_form() -> FeedbackForm:
    return FeedbackForm(formdata=None)


bp.add_app_template_global(grouping.feedback_history, "feedback_history")
