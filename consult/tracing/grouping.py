"""Grouped answers and the organisations' replies to answers.

Grouped answers: the committee answers many comments asking the same thing with one
decision and one reason. Each comment still gets its own Response (through
consultation.services.respond, so the record and the search index see every one);
the group links them, so each comment's page can say "answered together with …".

Replies: the organisation that made a comment says whether it is satisfied with the
committee's answer, with a note — once per answer (a new answer can be replied to
again). Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import select

from consult import signals
from consult.accounts.models import User
from consult.consultation.models import DECISIONS, Comment
from consult.consultation.services import respond
from consult.documents.models import Version
from consult.errors import Conflict, ConsultError, NotAllowed
from consult.extensions import db
from consult.hashing import sha256
from consult.timeutil import utcnow
from consult.tracing.models import ResponseFeedback, ResponseGroup, ResponseGroupMember

MAX_NOTE = 5_000
#: A group answers at least this many comments (one comment is answered on its own).
MIN_GROUP = 2


def answer_together(
    version: Version, comments: Sequence[Comment], *, decision: str, reason: str, by: User
) -> ResponseGroup:
    """One decision and reason for several comments on `version`; each gets its own
    Response row, linked to the group. Everything or nothing."""
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise ConsultError(
            _(
                "Unknown decision '%(decision)s'; use one of: %(x)s.",
                decision=decision,
                x=", ".join(DECISIONS),
            )
        )
    if not reason:
        raise ConsultError(_("Every answer gives its reason."))
    unique = list({c.id: c for c in comments}.values())
    if len(unique) < MIN_GROUP:
        raise ConsultError(_("Choose at least two comments to answer together."))
    other = [c.tracking for c in unique if c.version_id != version.id]
    if other:
        raise ConsultError(
            _(
                "Only comments on version %(number)s can be answered here, not %(x)s.",
                number=version.number,
                x=", ".join(other),
            )
        )
    group = ResponseGroup(
        version_id=version.id,
        decision=decision,
        reason=reason,
        responder=by,
        responder_id=by.id,
        created_at=utcnow(),
    )
    db.session.add(group)
    db.session.flush()
    for c in sorted(unique, key=lambda c: c.id):
        r = respond(c, decision=decision, reason=reason, by=by)
        db.session.add(ResponseGroupMember(group_id=group.id, comment_id=c.id, response_id=r.id))
    db.session.flush()
    signals.emit(
        signals.responses_grouped,
        group,
        by,
        decision=decision,
        comments=[c.tracking for c in sorted(unique, key=lambda c: c.id)],
        reason_hash=sha256(reason),
    )
    return group


def groups_of(response_ids: Iterable[int]) -> dict[int, ResponseGroup]:
    """The group of each grouped response, by response id (one query)."""
    ids = list(response_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ResponseGroupMember.response_id, ResponseGroup)
        .join(ResponseGroup, ResponseGroup.id == ResponseGroupMember.group_id)
        .where(ResponseGroupMember.response_id.in_(ids))
    ).all()
    return {rid: g for rid, g in rows}


def give_feedback(comment: Comment, *, satisfied: bool, note: str, by: User) -> ResponseFeedback:
    """The commenting organisation's reply to the current answer; a later reply to the
    same answer changes it (a new row) while the consultation goes on."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ConsultError(
            _("A note is at most %(MAX_NOTE)s characters.", MAX_NOTE=format(MAX_NOTE, ","))
        )
    response = comment.response
    if response is None:
        raise Conflict(_("The committee has not answered this comment yet."))
    if not any(m.organisation_id == comment.organisation_id for m in by.memberships):
        raise NotAllowed(
            _(
                "Only members of %(name)s can reply to the answer to its comment.",
                name=comment.organisation.name,
            )
        )
    earlier = db.session.scalar(
        select(ResponseFeedback)
        .where(ResponseFeedback.response_id == response.id)
        .order_by(ResponseFeedback.id.desc())
        .limit(1)
    )
    if earlier is not None:
        # A reply may change while the consultation goes on (until the document has its
        # final text); the change is a new row and a new record event, the earlier stays.
        if any(v.state == "final" for v in comment.version.document.versions):
            raise Conflict(
                _(
                    "The consultation on '%(title)s' is over: %(name)s's reply "
                    "to this answer can no longer change.",
                    title=comment.version.document.title,
                    name=comment.organisation.name,
                )
            )
        if earlier.satisfied == bool(satisfied) and earlier.note == note:
            raise Conflict(
                _("%(name)s already replied exactly this.", name=comment.organisation.name)
            )
    fb = ResponseFeedback(
        response_id=response.id,
        comment_id=comment.id,
        organisation_id=comment.organisation_id,
        user_id=by.id,
        satisfied=bool(satisfied),
        note=note,
        created_at=utcnow(),
    )
    db.session.add(fb)
    db.session.flush()
    signals.emit(
        signals.response_feedback_given,
        fb,
        by,
        comment=comment.tracking,
        response=response.id,
        satisfied=bool(satisfied),
        note_hash=sha256(note),
        **({"replaces": earlier.id} if earlier is not None else {}),
    )
    return fb


def feedback_history(fb: ResponseFeedback | None) -> list[ResponseFeedback]:
    """The earlier replies to the same answer as `fb` (its latest), oldest first."""
    if fb is None:
        return []
    return list(
        db.session.scalars(
            select(ResponseFeedback)
            .where(ResponseFeedback.response_id == fb.response_id, ResponseFeedback.id < fb.id)
            .order_by(ResponseFeedback.id)
        )
    )


def feedback_for(response_ids: Iterable[int]) -> dict[int, ResponseFeedback]:
    ids = list(response_ids)
    if not ids:
        return {}
    return {
        f.response_id: f
        for f in db.session.scalars(
            # Oldest first, so that the latest reply to each answer is the one kept.
            select(ResponseFeedback)
            .where(ResponseFeedback.response_id.in_(ids))
            .order_by(ResponseFeedback.id)
        )
    }
