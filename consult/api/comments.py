"""JSON API v1 for what happens to a comment after it is posted: edits, withdrawal,
co-signing, replies, flags and moderation. Same services and rules as the pages;
added to the API blueprint of consult.api.routes.

Writing needs a bearer token. Refusals are JSON errors: 401 without a token, 403
when the policy does not allow it, 404 for an unknown comment or reply, 409 when
the comment's state does not allow it (after the deadline nothing changes; a
withdrawn or hidden comment takes no edits, replies or co-signatures).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from consult.accounts import policy
from consult.accounts.models import Organisation, User
from consult.api import queries, serializers
from consult.api.routes import POST_LIMIT, _actor, _created, _json_body, _signed_in_actor, bp
from consult.consultation import services as consultation
from consult.consultation.models import Comment
from consult.errors import ConsultError, NotAllowed, NotFound
from consult.extensions import db, limiter

EDIT_FIELDS = {"body", "suggested_text", "quote"}


def _acting(
    comment_id: int, action: str, allowed: set[str], ints: frozenset[str] = frozenset()
) -> tuple[User, Comment, dict[str, Any]]:
    """(the signed-in user, the comment, the JSON sent) for an action the policy must
    allow; no body at all is an empty object (withdraw and co-sign need nothing)."""
    user = _signed_in_actor()
    c = _comment(comment_id, user)
    policy.require(user, action, c)
    return user, c, _json_body(allowed, ints=ints, empty_ok=True)


def _comment(comment_id: int, user: User | None) -> Comment:
    c = consultation.get_comment(comment_id)
    if not policy.can(user, "version.view", c.version):
        raise NotFound(f"There is no comment {comment_id}.")
    return c


def _own_organisation(user: User, slug: str | None, what: str) -> Organisation:
    """One of the user's organisations: the one named, or the only one."""
    mine = user.organisations
    if slug:
        for org in mine:
            if org.slug == slug:
                return org
        raise NotAllowed(f"You can only {what} for an organisation you belong to.")
    if len(mine) != 1:
        raise ConsultError(
            f"Name the organisation you {what} for in 'organisation': "
            f"{', '.join(o.slug for o in mine) or 'you belong to none'}.",
            code="organisation_required",
        )
    return mine[0]


@bp.get("/comments/<int:comment_id>")
def comment(comment_id: int) -> ResponseReturnValue:
    return jsonify(serializers.comment(_comment(comment_id, _actor())))


@bp.patch("/comments/<int:comment_id>")
@limiter.limit(POST_LIMIT)
def edit_comment(comment_id: int) -> ResponseReturnValue:
    """A new text; fields left out keep their current value. The earlier texts stay."""
    user, c, data = _acting(comment_id, "comment.edit", EDIT_FIELDS)
    if not data:
        raise ConsultError(
            f"Send at least one of: {', '.join(sorted(EDIT_FIELDS))}.", code="nothing_to_change"
        )
    now = c.current
    consultation.edit_comment(
        c,
        body=data.get("body", now.body),
        suggested_text=data.get("suggested_text", now.suggested_text),
        quote=data.get("quote", now.quote),
        by=user,
    )
    db.session.commit()
    return jsonify(serializers.comment(c))


@bp.get("/comments/<int:comment_id>/revisions")
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
def withdraw_comment(comment_id: int) -> ResponseReturnValue:
    user, c, data = _acting(comment_id, "comment.withdraw", {"reason"})
    consultation.withdraw_comment(c, by=user, reason=data.get("reason"))
    db.session.commit()
    return jsonify(serializers.comment(c))


@bp.post("/comments/<int:comment_id>/cosign")
@limiter.limit(POST_LIMIT)
def cosign_comment(comment_id: int) -> ResponseReturnValue:
    """Add the support of one of the user's organisations ('organisation': its slug)."""
    user, c, data = _acting(comment_id, "comment.cosign", {"organisation"})
    org = _own_organisation(user, data.get("organisation"), "co-sign")
    consultation.cosign(c, org, by=user)
    db.session.commit()
    return _created(serializers.comment(c))


@bp.get("/comments/<int:comment_id>/replies")
def comment_replies(comment_id: int) -> ResponseReturnValue:
    c = _comment(comment_id, _actor())
    return jsonify(comment=c.tracking, replies=[serializers.reply(r) for r in queries.replies(c)])


@bp.post("/comments/<int:comment_id>/replies")
@limiter.limit(POST_LIMIT)
def post_reply(comment_id: int) -> ResponseReturnValue:
    """A reply in the thread; a CSO member names the organisation when they have several."""
    user, c, data = _acting(comment_id, "comment.reply", {"body", "organisation"})
    org = None
    if user.role == "cso":
        org = _own_organisation(user, data.get("organisation"), "reply")
    r = consultation.post_reply(c, body=data.get("body"), by=user, organisation=org)
    db.session.commit()
    return _created(serializers.reply(r), url_for("api.comment_replies", comment_id=c.id))


@bp.post("/comments/<int:comment_id>/flags")
@limiter.limit(POST_LIMIT)
def flag_comment(comment_id: int) -> ResponseReturnValue:
    """Ask the moderators to look at the comment, or at one of its replies ('reply': id)."""
    user, c, data = _acting(
        comment_id, "comment.flag", {"reason", "reply"}, ints=frozenset({"reply"})
    )
    f = consultation.flag(
        c,
        reason=data.get("reason"),
        by=user,
        reply=consultation.get_reply(c, data.get("reply")),
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
def moderate_comment(comment_id: int) -> ResponseReturnValue:
    """Moderators: {"action": "hide" | "restore", "reason": public reason, "reply": id?}."""
    user, c, data = _acting(
        comment_id, "comment.moderate", {"action", "reason", "reply"}, ints=frozenset({"reply"})
    )
    reply = consultation.get_reply(c, data.get("reply"))
    consultation.moderate(
        c, action=data.get("action") or "", reason=data.get("reason"), by=user, reply=reply
    )
    db.session.commit()
    return _created(serializers.reply(reply) if reply is not None else serializers.comment(c))
