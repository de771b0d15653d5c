"""Taking up a suggestion into a draft, in one action.

The suggestion's wording goes into the draft paragraph that descends from the
commented paragraph (same lineage), or replaces only the quoted span when the
comment quotes one. The comment's response is linked to the paragraph(s) that
now carry the wording (ResponseEffect), so anyone can see where the suggestion
went.

The link needs a response that accepts the suggestion. Choice made here: when
the drafter gives a reason, the take-up records a new response (accepted, or
partly accepted) with that reason — one action for the committee; without a
reason, the comment must already have an accepting answer. A suggestion the
committee did not accept cannot be taken up silently: a new answer is needed.

`preview_take_up` shows the result as a word diff without saving anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from consult import signals
from consult.consultation.models import Comment, Response
from consult.consultation.services import respond
from consult.documents import drafting, splitter
from consult.documents.models import LineageLink, Paragraph, ResponseEffect, Version
from consult.errors import Conflict, ConsultError
from consult.extensions import db
from consult.tracing.diff import word_diff

ACCEPTING = ("accepted", "partly_accepted")


@dataclass
class TakeUpPreview:
    """What taking up the suggestion would do to the draft paragraph."""

    comment: Comment
    paragraph: Paragraph
    #: The paragraph's Markdown source now, and after the take-up.
    before: str
    after: str
    #: Word diff of the plain text, before → after.
    diff: list[tuple[str, str]]
    #: The paragraph's revision: send it back with the take-up, so that a change made
    #: by someone else in between is not overwritten.
    revision: int
    #: True when only the quoted span is replaced.
    quoted: bool


def _check(comment: Comment, draft: Version) -> None:
    if comment.kind != "suggestion" or not comment.current.suggested_text:
        raise ConsultError(_("Only a suggestion carries wording to take up."))
    if comment.withdrawn:
        raise Conflict(
            _(
                "Comment %(tracking)s was withdrawn: there is nothing to take up.",
                tracking=comment.tracking,
            )
        )
    if comment.paragraph_id is None:
        raise ConsultError(
            _(
                "This suggestion is about the version as a whole, not one "
                "paragraph: put its wording in by editing the draft."
            )
        )
    if draft.document_id != comment.version.document_id:
        raise ConsultError(_("The draft and the comment belong to different documents."))
    if draft.number <= comment.version.number:
        raise ConsultError(
            _(
                "The suggestion was made on version %(number)s; take it up in a later version.",
                number=comment.version.number,
            )
        )
    if draft.frozen:
        raise Conflict(
            _(
                "Version %(number)s is %(lower)s: its text is frozen. "
                "Suggestions are taken up into a draft.",
                number=draft.number,
                lower=draft.state_label.lower(),
            )
        )


def _candidates(comment: Comment, draft: Version) -> list[Paragraph]:
    """Draft paragraphs that descend from the commented one: the one of the same
    lineage first, then pieces split from it (when the draft follows the version)."""
    commented = comment.paragraph
    same = [p for p in draft.paragraphs if p.lineage == commented.lineage]
    pieces = db.session.scalars(
        select(Paragraph)
        .join(LineageLink, LineageLink.paragraph_id == Paragraph.id)
        .where(LineageLink.version_id == draft.id, LineageLink.predecessor_id == commented.id)
        .order_by(Paragraph.position)
    ).all()
    return same + [p for p in pieces if p not in same]


def _find_span(source: str, quote: str, near: int | None) -> tuple[int, int] | None:
    """The quote in a paragraph's Markdown source, allowing line breaks and emphasis
    marks between its words; the occurrence nearest the original offset."""
    words = quote.split()
    if not words:
        return None
    pattern = r"[\s*_`]+".join(re.escape(w) for w in words)
    found = [(m.start(), m.end()) for m in re.finditer(pattern, source)]
    if not found:
        return None
    return min(found, key=lambda span: abs(span[0] - (near or 0)))


def _plan(comment: Comment, draft: Version) -> tuple[Paragraph, str, bool]:
    """(the draft paragraph, its new source, whether only the quote is replaced)."""
    _check(comment, draft)
    candidates = _candidates(comment, draft)
    where = f"paragraph {comment.paragraph.number or comment.paragraph.position + 1}"
    if not candidates:
        raise Conflict(
            _(
                "The commented %(where)s of version %(number)s is no longer "
                "in version %(number2)s: insert the wording by hand where it "
                "belongs.",
                where=where,
                number=comment.version.number,
                number2=draft.number,
            )
        )
    # The suggestion as it stands: its author may have edited it before the deadline.
    text = comment.current
    wording = text.suggested_text.strip()
    if not text.quote:
        p = candidates[0]
        return p, drafting.with_marker(p, wording), False
    for p in candidates:
        span = _find_span(p.source, text.quote, text.quote_start)
        if span is not None:
            return p, p.source[: span[0]] + wording + p.source[span[1] :], True
    raise ConsultError(
        _(
            "The quoted words “%(quote)s” are no longer in the draft's "
            "%(where)s: the draft has changed them. Edit the paragraph "
            "by hand, or take up the whole wording after restoring the "
            "words.",
            quote=text.quote,
            where=where,
        )
    )


def _plain(source: str) -> str:
    return "\n".join(b.text for b in splitter.split(source))


def preview_take_up(comment: Comment, draft: Version) -> TakeUpPreview:
    """The draft paragraph before and after taking up the suggestion; nothing is saved."""
    p, after, quoted = _plan(comment, draft)
    return TakeUpPreview(
        comment=comment,
        paragraph=p,
        before=p.source,
        after=after,
        diff=word_diff(p.text, _plain(after)),
        revision=p.revision,
        quoted=quoted,
    )


def take_up_suggestion(
    comment: Comment,
    draft: Version,
    *,
    by,
    reason: str | None = None,
    decision: str = "accepted",
    expected_revision: int | None = None,
) -> list[ResponseEffect]:
    """Put the suggestion's wording into the draft and link the comment's response to
    the paragraph(s) that now carry it.

    With `reason`, a new response (`decision`: accepted or partly_accepted) is
    recorded first; without, the current response must accept the suggestion.
    `expected_revision` (from the preview) guards against a change made meanwhile:
    drafting.EditConflict. Everything or nothing: the caller commits.
    """
    p, after, _rest = _plan(comment, draft)
    reason = (reason or "").strip()
    if decision not in ACCEPTING:
        raise ConsultError(_("Taking up a suggestion accepts it: fully or partly."))
    current: Response | None = comment.response
    if not reason:
        if current is None:
            raise ConsultError(
                _(
                    "This suggestion has no answer yet: give the reason for "
                    "accepting it, and the answer is recorded with the take-up."
                )
            )
        if current.decision not in ACCEPTING:
            raise Conflict(
                _(
                    "The committee's answer to this suggestion is "
                    "“%(decision_label)s”. Give a new answer with its reason to "
                    "take up the wording.",
                    decision_label=current.decision_label,
                )
            )
    taken = db.session.scalar(
        select(ResponseEffect)
        .join(Response, Response.id == ResponseEffect.response_id)
        .where(Response.comment_id == comment.id, ResponseEffect.version_id == draft.id)
        .limit(1)
    )
    if taken is not None:
        raise Conflict(
            _(
                "This suggestion is already taken up in version %(number)s (paragraph %(x)s).",
                number=draft.number,
                x=taken.paragraph.number or taken.paragraph.position + 1,
            )
        )
    response = respond(comment, decision=decision, reason=reason, by=by) if reason else current
    revision = p.revision if expected_revision is None else expected_revision
    if after == p.source:
        # The draft already says it (typed by hand): the link is all that is missing.
        if revision != p.revision:
            raise drafting.EditConflict(
                paragraph=p, theirs=p.source, yours=after, revision=p.revision
            )
        paragraphs = [p]
    else:
        paragraphs = drafting.edit_paragraph(p, after, revision, by=by)
    effects = [
        ResponseEffect(response_id=response.id, paragraph_id=q.id, version_id=draft.id)
        for q in paragraphs
    ]
    db.session.add_all(effects)
    db.session.flush()
    signals.emit(
        signals.suggestion_taken_up,
        response,
        by,
        comment=comment.tracking,
        version=draft.number,
        paragraphs=[q.id for q in paragraphs],
    )
    return effects


def effects_of(response: Response) -> list[Paragraph]:
    """The paragraphs where a response took effect, oldest version first."""
    return list(
        db.session.scalars(
            select(Paragraph)
            .join(ResponseEffect, ResponseEffect.paragraph_id == Paragraph.id)
            .join(Version, Version.id == Paragraph.version_id)
            .where(ResponseEffect.response_id == response.id)
            .order_by(Version.number, Paragraph.position)
        )
    )
