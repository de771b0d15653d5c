"""JSON API v1 for what happens to a comment after it is posted: edits, withdrawal,
co-signing, replies, flags and moderation. Same services and rules as the pages;
added to the API blueprint of consult.api.routes.

Writing needs a bearer token. Refusals are JSON errors: 401 without a token, 403
when the policy does not allow it, 404 for an unknown comment or reply, 409 when
the comment's state does not allow it (after the deadline nothing changes; a
withdrawn or hidden comment takes no edits, replies or co-signatures).
"""

from __future__ import annotations

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from consult.accounts import policy
from consult.accounts.models import Organisation, User
from consult.api import queries, schemas, serializers
from consult.api.contract import operation
from consult.api.routes import POST_LIMIT, WRITE_ERRORS, _actor, _created, _signed_in_actor, bp
from consult.consultation import services as consultation
from consult.consultation.models import Comment
from consult.errors import ConsultError, NotAllowed, NotFound
from consult.extensions import db, limiter


def _acting(comment_id: int, action: str) -> tuple[User, Comment]:
    """(the signed-in user, the comment) for an action the policy must allow."""
    user = _signed_in_actor()
    c = _comment(comment_id, user)
    policy.require(user, action, c)
    return user, c


def _write(summary: str, tag: str, body, answer, status: int = 201):
    """The contract of a write on a comment: a token, a JSON body (none at all is {}),
    the usual refusals."""
    return operation(
        summary=summary,
        tag=tag,
        body=body,
        answer=answer,
        status=status,
        auth=True,
        errors=WRITE_ERRORS,
    )


def _comment(comment_id: int, user: User | None) -> Comment:
    c = consultation.get_comment(comment_id)
    if not policy.can(user, "version.view", c.version):
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    # Held for review of personal data: only its author and the secretariat know it exists.
    if c.held and not (
        policy.can(user, "comment.review_personal_data", c) or policy.can(user, "comment.edit", c)
    ):
        raise NotFound(_("There is no comment %(comment_id)s.", comment_id=comment_id))
    return c


def _own_organisation(user: User, slug: str | None, what: str) -> Organisation:
    """One of the user's organisations: the one named, or the only one."""
    mine = user.organisations
    if slug:
        for org in mine:
            if org.slug == slug:
                return org
        raise NotAllowed(_("You can only %(what)s for an organisation you belong to.", what=what))
    if len(mine) != 1:
        raise ConsultError(
            _(
                "Name the organisation you %(what)s for in 'organisation': %(x)s.",
                what=what,
                x=", ".join(o.slug for o in mine) or _("you belong to none"),
            ),
            code="organisation_required",
        )
    return mine[0]


@bp.get("/comments/<int:comment_id>")
@operation(
    summary="One comment with its responses", tag="comments", answer=schemas.Comment, errors=(404,)
)
def comment(comment_id: int) -> ResponseReturnValue:
    return jsonify(serializers.comment(_comment(comment_id, _actor())))


@bp.patch("/comments/<int:comment_id>")
@limiter.limit(POST_LIMIT)
@_write(
    "Edit one's comment before the deadline (the earlier text is kept)",
    "comments",
    schemas.CommentEdit,
    schemas.Comment,
    200,
)
def edit_comment(comment_id: int, body: schemas.CommentEdit) -> ResponseReturnValue:
    """A new text; fields left out keep their current value. The earlier texts stay."""
    user, c = _acting(comment_id, "comment.edit")
    sent = body.model_fields_set
    if not sent:
        raise ConsultError(
            _(
                "Send at least one of: %(x)s.",
                x=", ".join(sorted(schemas.CommentEdit.model_fields)),
            ),
            code="nothing_to_change",
        )
    now = c.current
    consultation.edit_comment(
        c,
        body=body.body if "body" in sent else now.body,
        suggested_text=body.suggested_text if "suggested_text" in sent else now.suggested_text,
        quote=body.quote if "quote" in sent else now.quote,
        by=user,
    )
    db.session.commit()
    return jsonify(serializers.comment(c))


@bp.get("/comments/<int:comment_id>/revisions")
@operation(
    summary="Every text of an edited comment",
    tag="comments",
    answer=schemas.Revisions,
    errors=(404,),
)
def comment_revisions(comment_id: int) -> ResponseReturnValue:
    """Every text the comment has had, the first (as posted) first."""
    c = _comment(comment_id, _actor())
    if c.is_hidden:
        return jsonify(comment=c.tracking, revisions=[], hidden=True)
    return jsonify(
        comment=c.tracking,
        revisions=[serializers.comment_revision(c, t) for t in (c, *c.revisions)],
    )


@bp.post("/comments/<int:comment_id>/withdraw")
@limiter.limit(POST_LIMIT)
@_write(
    "Withdraw one's comment before the deadline (kept, shown as withdrawn)",
    "comments",
    schemas.Withdrawal,
    schemas.Comment,
    200,
)
def withdraw_comment(comment_id: int, body: schemas.Withdrawal) -> ResponseReturnValue:
    user, c = _acting(comment_id, "comment.withdraw")
    consultation.withdraw_comment(c, by=user, reason=body.reason)
    db.session.commit()
    return jsonify(serializers.comment(c))


@bp.post("/comments/<int:comment_id>/cosign")
@limiter.limit(POST_LIMIT)
@_write(
    "Add one's organisation's support to a comment (once per organisation)",
    "comments",
    schemas.OrganisationChoice,
    schemas.Comment,
)
def cosign_comment(comment_id: int, body: schemas.OrganisationChoice) -> ResponseReturnValue:
    """Add the support of one of the user's organisations ('organisation': its slug)."""
    user, c = _acting(comment_id, "comment.cosign")
    org = _own_organisation(user, body.organisation, _("co-sign"))
    consultation.cosign(c, org, by=user)
    db.session.commit()
    return _created(serializers.comment(c))


@bp.get("/comments/<int:comment_id>/replies")
@operation(
    summary="The replies in a comment's thread",
    tag="comments",
    answer=schemas.Replies,
    errors=(404,),
)
def comment_replies(comment_id: int) -> ResponseReturnValue:
    c = _comment(comment_id, _actor())
    return jsonify(comment=c.tracking, replies=[serializers.reply(r) for r in queries.replies(c)])


@bp.post("/comments/<int:comment_id>/replies")
@limiter.limit(POST_LIMIT)
@_write("Reply in a comment's thread", "comments", schemas.NewReply, schemas.Reply)
def post_reply(comment_id: int, body: schemas.NewReply) -> ResponseReturnValue:
    """A reply in the thread; a CSO member names the organisation when they have several."""
    user, c = _acting(comment_id, "comment.reply")
    org = None
    if user.role == "cso":
        org = _own_organisation(user, body.organisation, _("reply"))
    r = consultation.post_reply(c, body=body.body, by=user, organisation=org)
    db.session.commit()
    return _created(serializers.reply(r), url_for("api.comment_replies", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/flags")
@limiter.limit(POST_LIMIT)
@_write(
    "Ask the moderators to look at a comment or one of its replies",
    "moderation",
    schemas.NewFlag,
    schemas.Flag,
)
def flag_comment(comment_id: int, body: schemas.NewFlag) -> ResponseReturnValue:
    """Ask the moderators to look at the comment, or at one of its replies ('reply': id)."""
    user, c = _acting(comment_id, "comment.flag")
    f = consultation.flag(
        c, reason=body.reason, by=user, reply=consultation.get_reply(c, body.reply)
    )
    db.session.commit()
    return _created(
        {
            "id": f.id,
            "comment": c.tracking,
            "reply": f.reply_id,
            "created_at": serializers.iso(f.created_at),
        }
    )


@bp.post("/comments/<int:comment_id>/moderation")
@limiter.limit(POST_LIMIT)
@_write(
    "Moderators: hide (with a public reason) or restore a comment or a reply",
    "moderation",
    schemas.Moderation,
    schemas.Comment | schemas.Reply,
)
def moderate_comment(comment_id: int, body: schemas.Moderation) -> ResponseReturnValue:
    """Moderators: {"action": "hide" | "restore", "reason": public reason, "reply": id?}."""
    user, c = _acting(comment_id, "comment.moderate")
    reply = consultation.get_reply(c, body.reply)
    consultation.moderate(c, action=body.action or "", reason=body.reason, by=user, reply=reply)
    db.session.commit()
    return _created(serializers.reply(reply) if reply is not None else serializers.comment(c))
