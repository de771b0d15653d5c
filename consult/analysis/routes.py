"""Pages of form-letter groups and themes.

Public: a version's groups ("form letter · 10,000 comments", the master text once and
what the variants add), a group's page. Staff (policy "analysis.view" and friends):
answer a group once, take a variant out, the document's themes, tagging, suggested
themes.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from consult.accounts import policy
from consult.accounts.routes import current_actor, safe_next
from consult.analysis import grouping, suggest, themes
from consult.analysis.models import LetterGroup
from consult.consultation import services as consultation
from consult.consultation.listing import page_number
from consult.consultation.models import Comment, Response
from consult.converters import parse_id
from consult.documents.routes import visible_document, visible_version
from consult.errors import ConsultError, NotFound
from consult.extensions import db
from consult.forms import Form
from consult.paging import page_count
from consult.tracing import grouping as answers
from consult.tracing.routes import GroupAnswerForm

bp = Blueprint("analysis", __name__)


class TakeOutForm(Form):
    reason = TextAreaField(
        _l("Why it is answered alone"), validators=[InputRequired(), Length(max=5_000)]
    )


class ThemeForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=themes.MAX_NAME)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=themes.MAX_DESCRIPTION)]
    )
    retired = BooleanField(_l("Retired (kept on tagged comments, no longer offered)"))


class TagForm(Form):
    theme = SelectField(_l("Theme"), coerce=str, validators=[InputRequired()])
    action = HiddenField(default="tag")


class AdoptForm(Form):
    cluster = HiddenField(validators=[InputRequired()])
    fingerprint = HiddenField(validators=[InputRequired()])
    name = StringField(
        _l("Name it as a new theme"), validators=[Optional(), Length(max=themes.MAX_NAME)]
    )
    theme = SelectField(_l("or add it to a theme"), coerce=str, validators=[Optional()])


def _group(group_id: int) -> LetterGroup:
    g = db.session.get(LetterGroup, group_id)
    if g is None or g.size < 2 or not policy.can(current_user, "version.view", g.version):
        raise NotFound(_("There is no form-letter group %(id)s.", id=group_id))
    return g


def _comments(ids) -> dict[int, Comment]:
    ids = list(ids)
    if not ids:
        return {}
    # Their organisations and moderation in two more queries, not two per comment.
    return {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(ids))
            .options(
                selectinload(Comment.organisation),
                selectinload(Comment.moderation),
                selectinload(Comment.revisions),  # which text is current (its public copy)
            )
        )
    }


@bp.get("/documents/<slug>/versions/<int:number>/groups")
def version_groups(slug: str, number: int):
    """The version's form letters, largest first: each shown once."""
    doc, v = visible_version(slug, number)
    page = page_number(request.args.get("page"))
    groups, total = grouping.groups_page(v, page)
    n_groups, n_members = grouping.totals(v)
    # Five of what each letter's variants add (a sixth read says whether there are more).
    parts = {g.id: grouping.unique_parts(g, 1, 6) for g in groups}
    shown = _comments(
        [g.master_comment_id for g in groups] + [cid for p in parts.values() for cid, _t in p]
    )
    # As the reader may read them: personal data masked, a held comment's text left out.
    parts = {gid: grouping.shown_parts(p, shown, current_user) for gid, p in parts.items()}
    masters = {g.id: grouping.master_text(g, current_user) for g in groups}
    pages = page_count(total, grouping.GROUPS_PAGE)
    return render_template(
        "analysis/version_groups.html",
        doc=doc,
        version=v,
        groups=groups,
        parts=parts,
        shown=shown,
        masters=masters,
        page=page,
        pages=pages,
        n_groups=n_groups,
        n_members=n_members,
        page_url=lambda n: url_for(
            "analysis.version_groups", slug=doc.slug, number=v.number, page=n
        ),
    )


@bp.get("/letter-groups/<int:group_id>")
def group(group_id: int):
    """One form letter: its master text, what each variant adds, its members page by
    page; for the committee, one answer for all and taking a variant out."""
    g = _group(group_id)
    v = g.version
    page = page_number(request.args.get("page"))
    members = grouping.members(g, page)
    parts = grouping.unique_parts(g, page)
    shown = _comments(set(members) | {cid for cid, _t in parts} | {g.master_comment_id})
    parts = grouping.shown_parts(parts, shown, current_user)
    staff = policy.can(current_user, "response.create", v)
    answered = (
        set(db.session.scalars(select(Response.comment_id).where(Response.comment_id.in_(members))))
        if members
        else set()
    )
    return render_template(
        "analysis/group.html",
        g=g,
        doc=v.document,
        version=v,
        members=members,
        parts=parts,
        shown=shown,
        answered=answered,
        page=page,
        # Members and unique parts go page by page together (a variant has one part).
        pages=page_count(g.size, grouping.MEMBERS_PAGE),
        staff=staff,
        may_answer=staff and v.state in ("closed", "final"),
        may_take_out=policy.can(current_user, "group.take_out", v),
        form=GroupAnswerForm(),
        take_out_form=TakeOutForm(),
        master_text=grouping.master_text(g, current_user),
        page_url=lambda n: url_for("analysis.group", group_id=g.id, page=n),
    )


@bp.post("/letter-groups/<int:group_id>/answer")
@login_required
def answer_group(group_id: int):
    """The committee answers the whole group once: each member not yet answered gets
    its own response through the grouped answers (tracing.grouping.answer_together)."""
    g = _group(group_id)
    v = g.version
    policy.require(current_user, "response.create", v)
    form = GroupAnswerForm()
    if not form.validate_on_submit():
        flash(_("Choose a decision and give the reason for it."), "error")
        return redirect(url_for("analysis.group", group_id=g.id)), 303
    if v.state not in ("closed", "final"):
        raise ConsultError(_("Comments are answered once the consultation is closed."), status=409)
    waiting = [c for c in grouping.member_comments(g) if not c.responses and not c.withdrawn]
    try:
        rg = answers.answer_together(
            v, waiting, decision=form.decision.data, reason=form.reason.data, by=current_actor()
        )
    except ConsultError:
        db.session.rollback()
        raise
    db.session.commit()
    flash(_("%(n)s comments of the form letter answered together.", n=f"{len(rg.members):,}"))
    return redirect(url_for("tracing.group", group_id=rg.id))


@bp.post("/comments/<int:comment_id>/take-out")
@login_required
def take_out(comment_id: int):
    c = consultation.get_comment(comment_id)
    policy.require(current_user, "group.take_out", c.version)
    group_id = grouping.group_of(c.id)
    form = TakeOutForm()
    if not form.validate_on_submit():
        raise ConsultError(_("Say why this comment is taken out of its group."))
    grouping.take_out(c, reason=form.reason.data, by=current_actor())
    db.session.commit()
    flash(_("Comment %(t)s was taken out of its group; answer it on its own.", t=c.tracking))
    if group_id is not None:
        return redirect(url_for("analysis.group", group_id=group_id)), 303
    return redirect(url_for("consultation.comment", comment_id=c.id)), 303


# --- themes ---------------------------------------------------------------------------------


@bp.route("/documents/<slug>/themes", methods=["GET", "POST"])
def document_themes(slug: str):
    """The document's themes with their counts on a version; staff add and edit them."""
    doc = visible_document(slug)
    versions = [v for v in doc.versions if policy.can(current_user, "version.view", v)]
    number = parse_id(request.args.get("version"))
    v = next((x for x in versions if x.number == number), None) or (
        versions[-1] if versions else None
    )
    manage = policy.can(current_user, "theme.manage", doc)
    form = ThemeForm()
    error, status = "", 200
    if request.method == "POST":
        policy.require(current_user, "theme.manage", doc)
        if form.validate_on_submit():
            try:
                themes.create(doc, form.name.data, form.description.data or "", by=current_actor())
            except ConsultError as e:
                db.session.rollback()
                error, status = e.message, e.status
            else:
                db.session.commit()
                flash(_("Theme “%(name)s” added.", name=form.name.data.strip()))
                return redirect(url_for("analysis.document_themes", slug=doc.slug)), 303
        else:
            error, status = (
                _("A theme needs a name (at most %(n)s characters).", n=themes.MAX_NAME),
                400,
            )
    counted = themes.counts(v) if v is not None else [(t, 0) for t in themes.themes_of(doc)]
    return (
        render_template(
            "analysis/themes.html",
            doc=doc,
            version=v,
            counted=counted,
            manage=manage,
            form=form,
            error=error,
        ),
        status,
    )


@bp.route("/documents/<slug>/themes/<int:theme_id>/edit", methods=["GET", "POST"])
@login_required
def edit_theme(slug: str, theme_id: int):
    doc = visible_document(slug)
    policy.require(current_user, "theme.manage", doc)
    t = themes.get(doc, theme_id)
    form = ThemeForm(obj=t)
    error, status = "", 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                themes.edit(
                    t, form.name.data, form.description.data or "", retired=form.retired.data
                )
            except ConsultError as e:
                db.session.rollback()
                error, status = e.message, e.status
            else:
                db.session.commit()
                flash(_("Theme saved."))
                return redirect(url_for("analysis.document_themes", slug=doc.slug)), 303
        else:
            error, status = (
                _("A theme needs a name (at most %(n)s characters).", n=themes.MAX_NAME),
                400,
            )
    return render_template(
        "analysis/theme_edit.html", doc=doc, theme=t, form=form, error=error
    ), status


@bp.get("/documents/<slug>/versions/<int:number>/themes/<int:theme_id>")
def theme_comments(slug: str, number: int, theme_id: int):
    """The version's comments with one theme, page by page."""
    doc, v = visible_version(slug, number)
    t = themes.get(doc, theme_id)
    page = page_number(request.args.get("page"))
    comments, total = themes.comments_with(v, t, page)
    return render_template(
        "analysis/theme_comments.html",
        doc=doc,
        version=v,
        theme=t,
        comments=comments,
        total=total,
        page=page,
        pages=page_count(total, themes.PAGE),
        page_url=lambda n: url_for(
            "analysis.theme_comments", slug=doc.slug, number=v.number, theme_id=t.id, page=n
        ),
    )


@bp.post("/comments/<int:comment_id>/themes")
@login_required
def tag_comment(comment_id: int):
    c = consultation.get_comment(comment_id)
    doc = c.version.document
    policy.require(current_user, "comment.tag", c.version)
    theme = themes.get(doc, parse_id(request.form.get("theme")))
    if request.form.get("action") == "untag":
        themes.untag(c, theme)
        message = _("Theme “%(name)s” taken off %(t)s.", name=theme.name, t=c.tracking)
    else:
        themes.tag(c, theme, by=current_actor())
        message = _("%(t)s tagged “%(name)s”.", name=theme.name, t=c.tracking)
    db.session.commit()
    flash(message)
    return redirect(
        safe_next(request.form.get("next")) or url_for("consultation.comment", comment_id=c.id)
    ), 303


@bp.route("/documents/<slug>/versions/<int:number>/themes/suggested", methods=["GET", "POST"])
@login_required
def suggested_themes(slug: str, number: int):
    """Clusters of the version's comments for the analyst to name, merge or discard.
    Suggestions only: nothing here is published."""
    doc, v = visible_version(slug, number)
    policy.require(current_user, "analysis.view", v)
    items = suggest.sample(v)
    fp = suggest.fingerprint(items)
    found = suggest.clusters(items)
    current = themes.themes_of(doc)
    choices = [("", _("(choose a theme)"))] + [(str(t.id), t.name) for t in current]
    error, status = "", 200
    if request.method == "POST":
        policy.require(current_user, "theme.manage", doc)
        form = AdoptForm()
        form.theme.choices = choices
        try:
            if not form.validate_on_submit():
                raise ConsultError(_("Name the theme or choose one to add these comments to."))
            if form.fingerprint.data != fp:
                raise ConsultError(
                    _("The comments changed since the clusters were shown; look at them again."),
                    status=409,
                )
            cluster = next((c for c in found if str(c.number) == form.cluster.data), None)
            if cluster is None:
                raise ConsultError(_("There is no such cluster."))
            if form.name.data and form.name.data.strip():
                theme = themes.find(doc, form.name.data) or themes.create(
                    doc, form.name.data, by=current_actor()
                )
            elif form.theme.data:
                theme = themes.get(doc, parse_id(form.theme.data))
            else:
                raise ConsultError(_("Name the theme or choose one to add these comments to."))
            n = suggest.adopt(v, cluster, theme, by=current_actor())
        except ConsultError as e:
            db.session.rollback()
            error, status = e.message, e.status
        else:
            db.session.commit()
            flash(_("%(n)s comments tagged “%(name)s”.", n=f"{n:,}", name=theme.name))
            return redirect(
                url_for("analysis.suggested_themes", slug=doc.slug, number=v.number)
            ), 303
    forms = {}
    for c in found:
        f = AdoptForm(formdata=None, cluster=str(c.number), fingerprint=fp)
        f.theme.choices = choices
        forms[c.number] = f
    typical = _comments(cid for c in found for cid in c.typical)
    return (
        render_template(
            "analysis/suggested.html",
            doc=doc,
            version=v,
            clusters=found,
            forms=forms,
            typical=typical,
            sampled=len(items),
            limit=suggest.SAMPLE,
            error=error,
        ),
        status,
    )


@bp.app_template_global("shown_for")
def shown_for(comment):
    """The comment's current text (body, suggested_text, quote) as the signed-in reader
    may read it (redaction.shown_to): personal data masked for all but the secretariat
    and its author, None while held."""
    from consult.consultation.redaction import shown_to

    return shown_to(comment, current_user)


@bp.app_template_global("shown_body")
def shown_body(comment) -> str | None:
    """shown_for(comment)'s body, None while held."""
    t = shown_for(comment)
    return None if t is None else t.body


@bp.app_template_global("comment_themes")
def comment_themes(comment):
    """(themes of the comment, the document's themes) for the comment's page."""
    return themes.themes_for([comment.id]).get(comment.id, []), themes.themes_of(
        comment.version.document
    )


@bp.app_template_global("comment_group")
def comment_group(comment):
    """The comment's form-letter group, or None."""
    gid = grouping.group_of(comment.id)
    return db.session.get(LetterGroup, gid) if gid else None


@bp.app_template_global("analysis_report")
def analysis_report(version) -> dict:
    """Form letters and comments per theme of a version, for its report (aggregate
    queries)."""
    n_groups, grouped = grouping.totals(version)
    return {
        "groups": n_groups,
        "grouped": grouped,
        "themes": [(t, n) for t, n in themes.counts(version) if n],
    }
