"""Personal data in comments, screened before they are public (issue 21).

When a comment is posted (or its author changes its text) its body and suggested
wording are read by consultation.personal_data. When something is found, a
CommentRedaction row is written, as the version's `personal_data` setting says:
"held" (nobody but the secretariat reads it until reviewed) or "masked" (public at
once, each span replaced by a mask label). The secretariat reviews it: confirms or
undoes each mask, which writes a new "reviewed" row (the latest row holds; none is
changed in place).

The comment itself is never touched: its content_hash (on the receipt, in the record)
is the hash of what the organisation sent. Each row keeps the hash of that original
text and of the published text, and is its own record event (who, when, which spans,
why), without the personal data itself.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, ForeignKey, Index, String, Text, and_, event, exists, func, select
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from consult import signals
from consult.accounts.models import User
from consult.consultation import personal_data
from consult.consultation.models import Comment
from consult.errors import ConsultError
from consult.extensions import db
from consult.hashing import canonical, sha256
from consult.timeutil import UTCDateTime, utcnow

#: held: waiting for the secretariat, not public; masked: public with mask labels,
#: waiting for review; reviewed: the secretariat decided each span.
STATES = ("held", "masked", "reviewed")
MAX_REASON = 2_000


class CommentRedaction(db.Model):
    """One screening of a comment's text for personal data, or the secretariat's review
    of it. Never updated: the latest row for the comment holds."""

    __table_args__ = (Index("ix_comment_redaction_comment_id_id", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id"))
    #: Which text of the comment it screens: 1 as posted, n for revision n.
    text_number: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(10))
    #: [{field: body|suggested_text, start, end, kind, rule, text, masked}] in the
    #: original text (the text of the span stays here, never in the record).
    spans: Mapped[list[dict]] = mapped_column(JSON, default=list)
    #: The public text: the original with each masked span replaced by its mask label.
    body: Mapped[str] = mapped_column(Text)
    suggested_text: Mapped[str | None] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    quote_start: Mapped[int | None]
    quote_end: Mapped[int | None]
    #: sha256 of the original text (the comment's or revision's content_hash).
    original_hash: Mapped[str] = mapped_column(String(64))
    #: sha256 of the public text (public_hash()).
    public_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The secretariat member who reviewed it; None for the automatic screening.
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    comment: Mapped[Comment] = relationship()
    by: Mapped[User | None] = relationship()

    @property
    def number(self) -> int:
        """As a CommentRevision's: which text of the comment this is."""
        return self.text_number

    @property
    def content_hash(self) -> str:
        """The hash of the original text (the receipt's), as pages print for each text."""
        return self.original_hash

    @property
    def suggested_diff(self) -> None:
        """No stored diff: pages compute the masked wording's diff when they need it."""
        return None

    @property
    def masked_spans(self) -> list[dict]:
        return [s for s in self.spans if s.get("masked")]

    @property
    def state_label(self) -> str:
        return {
            "held": _("Held for review of personal data"),
            "masked": _("Published with personal data masked, waiting for review"),
            "reviewed": _("Personal data reviewed"),
        }[self.state]


def public_hash(body: str, suggested_text: str | None) -> str:
    return sha256(canonical({"body": body, "suggested_text": suggested_text}))


def latest_redaction(c: Comment) -> CommentRedaction | None:
    """The latest row for the comment's current text, or None (nothing found in it)."""
    cache = c.__dict__.get("_redactions")
    if cache is None:
        _load_screenings(c)
        cache = c.__dict__["_redactions"]
    number = c.revisions[-1].number if c.revisions else 1
    mine = [r for r in cache if r.text_number == number]
    return mine[-1] if mine else None


def preload(comments) -> None:
    """Read the screenings of these comments in one query (pages listing comments call it,
    so that showing each one's public text costs nothing more)."""
    todo = [c for c in comments if "_redactions" not in c.__dict__]
    if todo:
        _load_screenings(todo[0], todo[1:])


def _load_screenings(c: Comment, others=()) -> None:
    """Read the screenings of `c` and of every other comment the session holds that has
    not read its own yet, in one query: a page of comments reads them once, not once per
    comment."""
    session = db.session()
    # The ids come from the identity keys: reading obj.id would refresh an expired object.
    waiting = {
        key[1][0]: obj
        for key, obj in list(session.identity_map.items())
        if key[0] is Comment and "_redactions" not in obj.__dict__
    }
    waiting[c.id] = c
    for other in others:
        waiting[other.id] = other
    ids = sorted(waiting)
    for obj in waiting.values():
        obj.__dict__["_redactions"] = []
    for start in range(0, len(ids), 500):
        for r in session.scalars(
            select(CommentRedaction)
            .where(CommentRedaction.comment_id.in_(ids[start : start + 500]))
            .order_by(CommentRedaction.id)
        ):
            waiting[r.comment_id].__dict__["_redactions"].append(r)


def public_text(c: Comment, number: int, text):
    """Text `number` of the comment (`text`: the Comment or the CommentRevision) as the
    public reads it: itself, its masked copy, or None while held."""
    latest_redaction(c)  # fills the cache
    mine = [r for r in c.__dict__["_redactions"] if r.text_number == number]
    if not mine:
        return text
    return None if mine[-1].state == "held" else mine[-1]


def reads_original(c: Comment, user) -> bool:
    """Whether `user` reads the comment as written (personal data and all, held or not):
    the secretariat (comment.review_personal_data) and its author. Everyone else, the
    committee included, reads the public text."""
    from consult.accounts import policy

    return policy.can(user, "comment.review_personal_data", c) or policy.can(
        user, "comment.edit", c
    )


def public_texts(c: Comment, user) -> list:
    """The texts the comment had, oldest first, as `user` may read them: the secretariat
    and the author read them as written; others read masked copies and no held text."""
    texts = [c, *c.revisions]
    if reads_original(c, user):
        return texts
    shown = [public_text(c, getattr(t, "number", 1), t) for t in texts]
    return [t for t in shown if t is not None]


def shown_to(c: Comment, user):
    """The comment's current text as `user` may read it: the text as written, its masked
    copy, or None (held). Pages and answers that print a comment's body or wording read
    it through this (or Comment.shown, the public's), never c.body directly. user None:
    the public."""
    if latest_redaction(c) is None:
        return c.current  # nothing to mask (and no permission to look up)
    return c.current if user is not None and reads_original(c, user) else c.shown


def excerpt_for(c: Comment, text: str | None, user=None) -> str | None:
    """A piece of the comment's current text computed from the original (a form letter's
    unique part, a snippet) as `user` may read it: as is for those who read the original,
    else None while the comment is held, and each masked span's text replaced by its
    mask label."""
    r = latest_redaction(c)
    if text is None or r is None or (user is not None and reads_original(c, user)):
        return text
    if r.state == "held":
        return None
    # Longest first, so that a span inside another is not replaced half-way.
    for s in sorted(r.masked_spans, key=lambda s: -len(s.get("text") or "")):
        if s.get("text"):
            text = text.replace(s["text"], personal_data.mask_label(s.get("kind", "")))
    return text


@event.listens_for(Comment, "expire")
def _expired(target, attrs) -> None:
    """The screenings read for a comment are forgotten with the rest of what it holds."""
    if attrs is None and target is not None:
        target.__dict__.pop("_redactions", None)


def _forget(c: Comment) -> None:
    c.__dict__.pop("_redactions", None)


def held_clause() -> object:
    """SQL: the comment's latest screening holds it (for lists that leave held ones out)."""
    r, later = aliased(CommentRedaction), aliased(CommentRedaction)
    return exists().where(
        r.comment_id == Comment.id,
        r.state == "held",
        ~exists().where(later.comment_id == Comment.id, later.id > r.id),
    )


def _spans_of(text) -> list[dict]:
    spans = []
    for field in ("body", "suggested_text"):
        value = getattr(text, field) or ""
        for s in personal_data.detect(value):
            spans.append({"field": field, **s.as_dict(), "masked": True})
    return spans


def _apply(text, spans: list[dict]) -> tuple[str, str | None]:
    out = {}
    for field in ("body", "suggested_text"):
        value = getattr(text, field)
        if value is None:
            out[field] = None
            continue
        out[field] = personal_data.mask(
            value, [s for s in spans if s["field"] == field and s.get("masked")]
        )
    return out["body"], out["suggested_text"]


def _write(
    c: Comment, text, number: int, state: str, spans: list[dict], *, by, reason: str
) -> CommentRedaction:
    body, suggested = _apply(text, spans)
    row = CommentRedaction(
        comment=c,
        comment_id=c.id,
        text_number=number,
        state=state,
        spans=spans,
        body=body,
        suggested_text=suggested,
        quote=text.quote,
        quote_start=text.quote_start,
        quote_end=text.quote_end,
        original_hash=text.content_hash,
        public_hash=public_hash(body, suggested),
        reason=reason,
        by=by,
        by_id=by.id if by is not None else None,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    _forget(c)
    signals.emit(
        signals.comment_redacted,
        row,
        by,
        tracking=c.tracking,
        text_number=number,
        state=state,
        original_hash=row.original_hash,
        public_hash=row.public_hash,
        # Where and what kind, never the data itself (the record is public).
        spans=[{k: s[k] for k in ("field", "start", "end", "kind", "masked")} for s in spans],
        reason_hash=sha256(reason) if reason else None,
    )
    return row


def screen(c: Comment) -> CommentRedaction | None:
    """Read the comment's current text for personal data; when some is found, hold it or
    mask it as its version says. Called when a text is posted or changed."""
    text = c.current
    spans = _spans_of(text)
    if not spans:
        if not c.revisions:
            c.__dict__["_redactions"] = []  # a new comment: known to have none
        return None
    state = "masked" if c.version.personal_data == "mask" else "held"
    number = c.revisions[-1].number if c.revisions else 1
    return _write(c, text, number, state, spans, by=None, reason="")


def review(c: Comment, masked: set[int], *, by: User, reason: str = "") -> CommentRedaction:
    """The secretariat's decision on each span of the latest screening: `masked` holds the
    indexes of the spans that stay masked; the others are published as written."""
    current = latest_redaction(c)
    if current is None:
        raise ConsultError(_("No personal data was found in this comment."), status=409)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ConsultError(_("The reason is too long (at most 2,000 characters)."))
    if any(i < 0 or i >= len(current.spans) for i in masked):
        raise ConsultError(_("There is no such span in this comment."))
    spans = [{**s, "masked": i in masked} for i, s in enumerate(current.spans)]
    return _write(c, c.current, current.text_number, "reviewed", spans, by=by, reason=reason)


def waiting_review(version_id: int, page: int = 1, size: int = 50) -> tuple[list[Comment], int]:
    """Comments of the version whose latest screening waits for the secretariat (held or
    masked), oldest first, a page of them, and how many in all."""
    r, later = aliased(CommentRedaction), aliased(CommentRedaction)
    waiting = and_(
        Comment.version_id == version_id,
        exists().where(
            r.comment_id == Comment.id,
            r.state.in_(("held", "masked")),
            ~exists().where(later.comment_id == Comment.id, later.id > r.id),
        ),
    )
    total = db.session.scalar(select(func.count(Comment.id)).where(waiting)) or 0
    comments = list(
        db.session.scalars(
            select(Comment)
            .where(waiting)
            .order_by(Comment.created_at, Comment.id)
            .offset((page - 1) * size)
            .limit(size)
        )
    )
    return comments, total
