"""The finalize guard: a version is made final only when every comment on it and on
the versions before it has an answer, unless the chair or the secretariat overrides
the guard with a reason. The override is kept (FinalizeOverride) and shown publicly
on the version page with the count of unanswered comments.
"""

from __future__ import annotations

from sqlalchemy import exists, func, select

from consult import signals
from consult.consultation.models import Comment, CommentWithdrawal, Response
from consult.documents.models import Version
from consult.extensions import db
from consult.timeutil import utcnow
from consult.tracing.models import FinalizeOverride


def _unanswered_query(version: Version):
    # Withdrawn comments need no answer.
    return (
        select(Comment.id)
        .join(Version, Version.id == Comment.version_id)
        .where(
            Version.document_id == version.document_id,
            Version.number <= version.number,
            ~exists().where(Response.comment_id == Comment.id),
            ~exists().where(CommentWithdrawal.comment_id == Comment.id),
        )
    )


def unanswered_count(version: Version) -> int:
    """Comments on `version` and the versions before it still waiting for an answer."""
    return db.session.scalar(
        select(func.count()).select_from(_unanswered_query(version).subquery())
    )


def override_for(version: Version) -> FinalizeOverride | None:
    return db.session.scalar(
        select(FinalizeOverride).where(FinalizeOverride.version_id == version.id)
    )


def _on_state_changed(sender, subject=None, actor=None, data=None) -> None:
    data = data or {}
    if data.get("state") == "final" and data.get("override_reason"):
        db.session.add(
            FinalizeOverride(
                version_id=subject.id,
                reason=data["override_reason"],
                unanswered=int(data.get("unanswered") or 0),
                user_id=actor.id if actor is not None else None,
                created_at=utcnow(),
            )
        )
        db.session.flush()


def connect() -> None:
    signals.version_state_changed.connect(_on_state_changed, weak=False)
