"""Editing a draft paragraph by paragraph, keeping lineage exactly; reviewing the
lineage that alignment proposed for an imported text.

Every operation takes the actor, refuses a frozen version (Conflict), takes the
version's drafting lock, changes the paragraphs and then settles the version:
positions and display numbers renumbered, and the lineage links kept true. The
operations only decide which paragraph of the previous version each paragraph
comes from; the relation of each link follows from that structure:

- a paragraph with several predecessors is `merged` from them;
- a predecessor with several successors was `split` into them;
- otherwise the pair is `unchanged` (the same Markdown source), `formatting` (the
  same plain text in other Markdown) or `edited` (tracing.compare.classify), or
  `moved` when it is out of the order of the rest;
- a paragraph without predecessor is `added`; a predecessor without successor is
  `removed`.

Lineage: an edited, moved or merged paragraph keeps its lineage; the first piece
of a split keeps it and the other pieces start new ones.

Optimistic locking: a paragraph's `revision` rises with every change to its
text. A drafter saves with the revision they saw; when someone else saved in
between, EditConflict carries both texts (and a merge when the two sets of
changes do not overlap) so the page can show them; nothing typed is lost.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from diff_match_patch import diff_match_patch
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, InvalidRequestError

from consult import signals
from consult.documents import splitter
from consult.documents.models import LineageLink, Paragraph, ResponseEffect, Version
from consult.errors import Conflict, ConsultError, NotFound
from consult.extensions import db
from consult.tracing.align import kinship, similarity, words
from consult.tracing.compare import classify, longest_increasing
from consult.tracing.diff import WordCodec

MAX_SOURCE = 50_000


class EditConflict(Conflict):
    """Someone else changed the paragraph since the drafter opened it.

    `theirs` is the text now saved (None when the paragraph was deleted meanwhile),
    `yours` the text that was typed (never lost), `revision` the paragraph's current
    revision (to save again over it), `merged` both sets of changes combined when the
    page sent the text the drafter started from and the changes do not overlap.
    For a whole-text edit (documents.services.replace_text) `paragraph` and
    `revision` are None and the texts are the whole Markdown.
    """

    code = "edit_conflict"

    def __init__(
        self,
        *,
        paragraph: Paragraph | None,
        theirs: str | None,
        yours: str,
        revision: int | None,
        merged: str | None = None,
        what: str = "paragraph",
    ):
        if theirs is None:
            message = (
                f"This {what} was deleted while you were editing it. Your text is kept "
                "below: insert it as a new paragraph if it is still needed."
            )
        else:
            message = (
                f"Someone else saved this {what} while you were editing it. Both texts are "
                "shown: compare them, merge, and save again."
            )
        super().__init__(message)
        self.paragraph = paragraph
        self.theirs = theirs
        self.yours = yours
        self.revision = revision
        self.merged = merged


@dataclass(frozen=True)
class Correction:
    """The committee's word on where a paragraph of a draft comes from: its
    predecessor(s) in the previous version (none: the paragraph is new)."""

    paragraph_id: int
    predecessor_ids: tuple[int, ...] = ()


@dataclass
class ReviewRow:
    """One paragraph of a draft (or a removed one of the previous version) with its
    proposed or confirmed links, for the review page."""

    paragraph: Paragraph | None
    predecessors: list[Paragraph]
    relation: str
    similarity: float
    method: str


# ---------------------------------------------------------------- loading and guards


def refuse_frozen(version: Version) -> None:
    """A version's text changes only while it is a draft."""
    if version.frozen:
        raise Conflict(
            _(
                "Version %(number)s is %(lower)s: its text is frozen and "
                "cannot be edited. Start a new version instead.",
                number=version.number,
                lower=version.state_label.lower(),
            )
        )


def get_draft_paragraph(version: Version, paragraph_id: int) -> Paragraph:
    p = db.session.get(Paragraph, paragraph_id)
    if p is None or p.version_id != version.id:
        raise NotFound(
            _(
                "Version %(number)s has no paragraph %(paragraph_id)s.",
                number=version.number,
                paragraph_id=paragraph_id,
            )
        )
    return p


def lock_draft(version: Version) -> None:
    """One change at a time per version, on fresh data.

    A no-op update takes the version's row lock (PostgreSQL) or the write lock
    (SQLite) before anything is read, so two drafters' operations (or an edit and
    the publication) run one after the other; objects read before the lock are
    reloaded, so the guards that follow see what the other one committed.
    """
    db.session.flush()
    table = Version.__table__
    db.session.execute(update(table).where(table.c.id == version.id).values(label=table.c.label))
    db.session.expire_all()


def _lock(version: Version) -> None:
    lock_draft(version)
    refuse_frozen(version)


def _reload(p: Paragraph) -> bool:
    """Reload a paragraph after the lock; False when it was deleted meanwhile."""
    try:
        db.session.refresh(p)
    except InvalidRequestError:
        return False
    return True


def _fresh(p: Paragraph, expected_revision: int | None = None) -> Version:
    version = p.version
    _lock(version)
    if not _reload(p):
        raise NotFound(_("That paragraph was deleted meanwhile; look at the draft again."))
    if expected_revision is not None and p.revision != expected_revision:
        raise Conflict(
            _("Someone else changed this paragraph since you opened it; look at it again first.")
        )
    return version


def _blocks(source: str) -> list[splitter.Block]:
    if len(source) > MAX_SOURCE:
        raise ConsultError(
            _(
                "A paragraph is at most %(MAX_SOURCE)s characters.",
                MAX_SOURCE=format(MAX_SOURCE, ","),
            )
        )
    blocks = splitter.split(source)
    if not blocks:
        raise ConsultError(_("The paragraph is empty. To remove it, delete it instead."))
    return blocks


def _new_paragraph(version: Version, block: splitter.Block, slot: int = 0) -> Paragraph:
    p = Paragraph(
        version_id=version.id,
        # A parking place until _settle gives the final position (positions are unique).
        position=-1_000_000 - slot,
        number="",
        kind=block.kind,
        level=block.level,
        source=block.source,
        text=block.text,
        blank_before=_gap(block.kind, block.blank_before),
        lineage=uuid.uuid4().hex,
        revision=1,
    )
    db.session.add(p)
    return p


def _gap(kind: str, blank_before: int) -> int:
    # Only list items and definitions may sit tight against the block before them;
    # anything else would be read as part of it when the text is joined again.
    return blank_before if kind in ("list_item", "definition") else max(1, blank_before)


def _set_block(p: Paragraph, block: splitter.Block) -> bool:
    """Put a block's text into a paragraph; True when something changed."""
    if (p.source, p.kind, p.level) == (block.source, block.kind, block.level):
        return False
    p.source, p.text, p.kind, p.level = block.source, block.text, block.kind, block.level
    p.blank_before = _gap(block.kind, p.blank_before)
    p.revision += 1
    return True


# ---------------------------------------------------------------- the operations


def edit_paragraph(
    p: Paragraph,
    new_source: str,
    expected_revision: int,
    *,
    by,
    base_source: str | None = None,
) -> list[Paragraph]:
    """Save a paragraph's new Markdown text, edited from `expected_revision`.

    Text typed as several paragraphs (blank lines) becomes several paragraphs: the
    first keeps the lineage, the others are pieces split from the same predecessor.
    Returns the paragraphs that now hold the text. Raises EditConflict when the
    paragraph changed (or went) since the drafter saw it; `base_source`, the text
    they started from, lets the conflict propose a merge.
    """
    yours = new_source
    version = p.version
    refuse_frozen(version)
    blocks = _blocks(new_source)
    _lock(version)
    if not _reload(p):
        raise EditConflict(paragraph=None, theirs=None, yours=yours, revision=None)
    # Saving over someone else's change is a conflict, unless both typed the same text.
    same_text = len(blocks) == 1 and p.source == blocks[0].source
    if p.revision != expected_revision and not same_text:
        merged = merge_texts(base_source, p.source, yours) if base_source is not None else None
        raise EditConflict(
            paragraph=p, theirs=p.source, yours=yours, revision=p.revision, merged=merged
        )
    changed = _set_block(p, blocks[0])
    if not changed and len(blocks) == 1:
        return [p]
    order = list(version.paragraphs)
    at = order.index(p)
    pieces = [_new_paragraph(version, b, k) for k, b in enumerate(blocks[1:])]
    order[at + 1 : at + 1] = pieces
    db.session.flush()
    _copy_predecessors(version, p, pieces)
    _settle(version, order, touched={p.id, *(q.id for q in pieces)})
    _changed(version, by, "edit", paragraphs=[p.id, *(q.id for q in pieces)])
    return [p, *pieces]


def save_paragraph(
    version: Version,
    paragraph_id: int,
    new_source: str,
    expected_revision: int,
    *,
    by,
    base_source: str | None = None,
) -> list[Paragraph]:
    """edit_paragraph by id, for the page: a paragraph deleted meanwhile gives an
    EditConflict with the typed text, not a 404 that would lose it."""
    refuse_frozen(version)
    p = db.session.get(Paragraph, paragraph_id)
    if p is None or p.version_id != version.id:
        raise EditConflict(paragraph=None, theirs=None, yours=new_source, revision=None)
    return edit_paragraph(p, new_source, expected_revision, by=by, base_source=base_source)


def insert_after(p: Paragraph, source: str, *, by) -> list[Paragraph]:
    """New paragraph(s) after `p`, with new lineages (added)."""
    refuse_frozen(p.version)
    blocks = _blocks(source)
    version = _fresh(p)
    order = list(version.paragraphs)
    new = _insert(version, order, order.index(p) + 1, blocks)
    _changed(version, by, "insert", paragraphs=[q.id for q in new], after=p.id)
    return new


def insert_first(version: Version, source: str, *, by) -> list[Paragraph]:
    """New paragraph(s) at the top of the draft."""
    refuse_frozen(version)
    blocks = _blocks(source)
    _lock(version)
    new = _insert(version, list(version.paragraphs), 0, blocks)
    _changed(version, by, "insert", paragraphs=[q.id for q in new], after=None)
    return new


def _insert(version: Version, order: list[Paragraph], at: int, blocks) -> list[Paragraph]:
    new = [_new_paragraph(version, b, k) for k, b in enumerate(blocks)]
    order[at:at] = new
    db.session.flush()
    _settle(version, order, touched={q.id for q in new})
    return new


def delete_paragraph(p: Paragraph, *, by, expected_revision: int | None = None) -> None:
    """Remove a paragraph from the draft; what it came from is recorded as removed
    (unless other paragraphs still come from it)."""
    refuse_frozen(p.version)
    version = _fresh(p, expected_revision)
    order = list(version.paragraphs)
    if len(order) == 1:
        raise ConsultError(_("A version needs at least one paragraph; edit this one instead."))
    at = order.index(p)
    if at + 1 < len(order):
        # The gap before the paragraph stays (the first item of a list leaves its list
        # separated from the heading above).
        after = order[at + 1]
        after.blank_before = max(after.blank_before, p.blank_before)
    order.remove(p)
    for lk in _links_of(p):
        db.session.delete(lk)
    for effect in db.session.scalars(
        select(ResponseEffect).where(ResponseEffect.paragraph_id == p.id)
    ):
        db.session.delete(effect)
    db.session.flush()
    gone = p.id
    db.session.delete(p)
    _settle(version, order, touched=set())
    _changed(version, by, "delete", paragraphs=[gone])


def move_up(p: Paragraph, *, by) -> None:
    _move(p, -1, by)


def move_down(p: Paragraph, *, by) -> None:
    _move(p, +1, by)


def _move(p: Paragraph, step: int, by) -> None:
    refuse_frozen(p.version)
    version = _fresh(p)
    order = list(version.paragraphs)
    at = order.index(p)
    to = at + step
    if not 0 <= to < len(order):
        raise ConsultError(
            _("This is already the first paragraph.")
            if step < 0
            else _("This is already the last paragraph.")
        )
    order[at], order[to] = order[to], order[at]
    # Gaps belong to places, not paragraphs: moving an item within a tight list keeps it
    # tight (_settle puts a blank line back wherever a block needs one).
    order[at].blank_before, order[to].blank_before = order[to].blank_before, order[at].blank_before
    _settle(version, order, touched=set())
    _changed(version, by, "move_up" if step < 0 else "move_down", paragraphs=[p.id])


def split_paragraph(
    p: Paragraph, at_offset: int, *, by, expected_revision: int | None = None
) -> tuple[Paragraph, Paragraph]:
    """Split a paragraph in two at a character offset of its Markdown source. The first
    part keeps the lineage; the second starts a new one, split from the same
    predecessor. A list item or quote split in two gives two list items or quotes."""
    refuse_frozen(p.version)
    version = _fresh(p, expected_revision)
    source = p.source
    if not 0 < at_offset < len(source):
        raise ConsultError(_("Choose a point inside the paragraph's text to split it."))
    first, second = source[:at_offset].rstrip(), source[at_offset:].strip()
    if not splitter.split(first) or not splitter.split(second):
        raise ConsultError(_("Both parts of a split need some text."))
    prefix = _marker(p) if p.kind in ("list_item", "blockquote") else ""
    if prefix and not second.startswith(prefix.strip()):
        second = prefix + second
    blocks_1, blocks_2 = _blocks(first), _blocks(second)
    if len(blocks_1) != 1 or len(blocks_2) != 1:
        raise ConsultError(
            _("Split a paragraph at a point between words, not inside a blank line.")
        )
    _set_block(p, blocks_1[0])
    order = list(version.paragraphs)
    piece = _new_paragraph(version, blocks_2[0])
    # The second item of a split list item sits tight against the first, like its list.
    piece.blank_before = 0 if piece.kind == "list_item" else 1
    order.insert(order.index(p) + 1, piece)
    db.session.flush()
    _copy_predecessors(version, p, [piece])
    _settle(version, order, touched={p.id, piece.id})
    _changed(version, by, "split", paragraphs=[p.id, piece.id])
    return p, piece


def merge_with_next(p: Paragraph, *, by, expected_revision: int | None = None) -> Paragraph:
    """Join a paragraph and the next one. The result keeps the first one's lineage and
    comes from the predecessors of both (merged); suggestions taken up into the second
    now live in the result."""
    refuse_frozen(p.version)
    version = _fresh(p, expected_revision)
    order = list(version.paragraphs)
    at = order.index(p)
    if at + 1 >= len(order):
        raise ConsultError(
            _("This is the last paragraph: there is nothing after it to merge with.")
        )
    q = order[at + 1]
    for x in (p, q):
        if x.kind in ("table", "code", "rule"):
            raise ConsultError(
                _("Tables, code blocks and rules cannot be merged with text; edit them instead.")
            )
    rest = q.source
    marker = _marker(q)
    if marker and q.kind == p.kind and rest.startswith(marker):
        rest = rest[len(marker) :]
    elif q.kind == "heading":
        rest = rest.lstrip("#").strip()
    # On one line with the first, so that the second cannot start a block of its own.
    lines = rest.split("\n")
    if p.kind == "heading":
        joined = p.source.rstrip() + " " + " ".join(line.strip() for line in lines)
    else:
        joined = p.source.rstrip() + " " + lines[0].strip()
        if len(lines) > 1:
            joined += "\n" + "\n".join(lines[1:])
    blocks = splitter.split(joined)
    if len(blocks) != 1:
        raise ConsultError(_("These two paragraphs do not join into one; edit the text instead."))
    _set_block(p, blocks[0])
    # q's predecessors and taken-up suggestions move to p.
    mine = {lk.predecessor_id for lk in _links_of(p)}
    for lk in _links_of(q):
        if lk.predecessor_id is None or lk.predecessor_id in mine:
            db.session.delete(lk)
        else:
            lk.paragraph_id = p.id
    responses = {
        e.response_id
        for e in db.session.scalars(
            select(ResponseEffect).where(ResponseEffect.paragraph_id == p.id)
        )
    }
    for e in db.session.scalars(select(ResponseEffect).where(ResponseEffect.paragraph_id == q.id)):
        if e.response_id in responses:
            db.session.delete(e)
        else:
            e.paragraph_id = p.id
    db.session.flush()
    order.remove(q)
    gone = q.id
    db.session.delete(q)
    _settle(version, order, touched={p.id})
    _changed(version, by, "merge", paragraphs=[p.id, gone])
    return p


def _marker(p: Paragraph) -> str:
    """The Markdown that makes a list item or a quote what it is ("- ", "3. ", "> ")."""
    first = p.source.split("\n", 1)[0]
    if p.kind == "list_item":
        stripped = first.lstrip()
        head = stripped.split(" ", 1)[0]
        if head in ("-", "*", "+") or (head[:-1].isdigit() and head[-1:] in ".)"):
            return first[: len(first) - len(stripped)] + head + " "
    if p.kind == "blockquote" and first.startswith(">"):
        return "> "
    if p.kind == "heading" and first.startswith("#"):
        return first.split(" ", 1)[0] + " "
    return ""


def with_marker(p: Paragraph, wording: str) -> str:
    """Wording for a paragraph's place, keeping its heading, list or quote marker."""
    wording = wording.strip()
    marker = _marker(p)
    if marker and not wording.startswith(marker.strip()):
        return marker + wording
    return wording


# ---------------------------------------------------------------- lineage review


def review_links(version: Version) -> list[ReviewRow]:
    """The draft's paragraphs in order, each with its predecessor(s), relation,
    similarity and how the link was found; then the removed paragraphs."""
    links = db.session.scalars(
        select(LineageLink).where(LineageLink.version_id == version.id).order_by(LineageLink.id)
    ).all()
    by_paragraph: dict[int, list[LineageLink]] = defaultdict(list)
    removed = []
    for lk in links:
        if lk.paragraph_id is None:
            removed.append(lk)
        else:
            by_paragraph[lk.paragraph_id].append(lk)
    previous = version.neighbour(-1)
    before = {q.id: q for q in previous.paragraphs} if previous else {}
    rows = []
    for p in version.paragraphs:
        mine = by_paragraph.get(p.id, [])
        preds = sorted(
            (before[lk.predecessor_id] for lk in mine if lk.predecessor_id in before),
            key=lambda q: q.position,
        )
        first = mine[0] if mine else None
        relation = first.relation if first else "added"
        if len(preds) == 1 and relation in ("unchanged", "formatting", "edited"):
            # Named by the one rule, also for links stored before "formatting" existed.
            q = preds[0]
            relation = classify(relation, q.source == p.source, q.text == p.text)
        rows.append(
            ReviewRow(
                p,
                preds,
                relation,
                min((lk.similarity for lk in mine), default=0.0),
                first.method if first else "copy",
            )
        )
    for lk in sorted(removed, key=lambda lk: before[lk.predecessor_id].position):
        rows.append(ReviewRow(None, [before[lk.predecessor_id]], "removed", 0.0, lk.method))
    return rows


def review_counts(version: Version) -> dict[str, int]:
    """The counts the review page shows above its rows: tracing.summary.count_changes,
    the same numbers as the comparison and the change summary of the version."""
    from consult.tracing.summary import count_changes  # reads comments: a later layer

    previous = version.neighbour(-1)
    return count_changes(previous, version) if previous is not None else {}


def confirm_links(
    version: Version, corrections: Iterable[Correction] = (), *, by
) -> list[LineageLink]:
    """The committee's review of the lineage of a draft: set the predecessor(s) of the
    paragraphs in `corrections` (kept as links found by "corrected"); every other
    computed link becomes "confirmed". Lineages follow: a paragraph continues the
    lineage of its first predecessor unless an earlier paragraph already does.
    Only while the version is a draft. Returns the version's links."""
    refuse_frozen(version)
    corrections = list(corrections)
    _lock(version)
    previous = version.neighbour(-1)
    if previous is None:
        raise ConsultError(_("Version 1 has no version before it: there is no lineage to review."))
    here = {p.id: p for p in version.paragraphs}
    before = {p.id: p for p in previous.paragraphs}
    seen: set[int] = set()
    for c in corrections:
        if c.paragraph_id not in here:
            raise ConsultError(
                _(
                    "Paragraph %(paragraph_id)s is not in version %(number)s.",
                    paragraph_id=c.paragraph_id,
                    number=version.number,
                )
            )
        if c.paragraph_id in seen:
            raise ConsultError(
                _("Paragraph %(number)s is corrected twice.", number=here[c.paragraph_id].number)
            )
        seen.add(c.paragraph_id)
        strangers = [i for i in c.predecessor_ids if i not in before]
        if strangers:
            raise ConsultError(
                _(
                    "A predecessor must be a paragraph of version %(number)s; %(x)s is not.",
                    number=previous.number,
                    x=", ".join(map(str, strangers)),
                )
            )
    links = _all_links(version)
    for lk in links:
        if lk.method == "alignment":
            lk.method = "confirmed"
    for c in corrections:
        p = here[c.paragraph_id]
        for lk in _links_of(p):
            db.session.delete(lk)
        db.session.flush()
        for pred_id in dict.fromkeys(c.predecessor_ids):
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    paragraph_id=p.id,
                    predecessor_id=pred_id,
                    relation="edited",
                    method="corrected",
                )
            )
        if not c.predecessor_ids:
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    paragraph_id=p.id,
                    relation="added",
                    similarity=0.0,
                    method="corrected",
                )
            )
    db.session.flush()
    order = list(version.paragraphs)
    _reassign_lineages(order, previous)
    _settle(version, order, touched=seen, method="corrected" if seen else "confirmed")
    _changed(version, by, "confirm_links", corrected=sorted(seen))
    return _all_links(version)


def _reassign_lineages(order: list[Paragraph], previous: Version) -> None:
    before = {p.id: p for p in previous.paragraphs}
    old_lineages = {p.lineage for p in previous.paragraphs}
    preds: dict[int, list[Paragraph]] = defaultdict(list)
    for lk in _all_links(order[0].version):
        if lk.paragraph_id is not None and lk.predecessor_id is not None:
            preds[lk.paragraph_id].append(before[lk.predecessor_id])
    continued: set[str] = set()
    for p in order:
        lineage = next(
            (
                q.lineage
                for q in sorted(preds[p.id], key=lambda q: q.position)
                if q.lineage not in continued
            ),
            None,
        )
        if lineage is None and (p.lineage in old_lineages or p.lineage in continued):
            lineage = uuid.uuid4().hex
        if lineage is not None:
            p.lineage = lineage
        continued.add(p.lineage)


# ---------------------------------------------------------------- settling a version


def _changed(version: Version, by, operation: str, **data) -> None:
    """Every change to a draft is an event of the record (the text itself is recorded
    when the version is published, by its hash)."""
    signals.emit(signals.draft_changed, version, by, operation=operation, **data)


def _all_links(version: Version) -> list[LineageLink]:
    return list(
        db.session.scalars(
            select(LineageLink).where(LineageLink.version_id == version.id).order_by(LineageLink.id)
        )
    )


def _links_of(p: Paragraph) -> list[LineageLink]:
    return list(db.session.scalars(select(LineageLink).where(LineageLink.paragraph_id == p.id)))


def _copy_predecessors(version: Version, p: Paragraph, pieces: list[Paragraph]) -> None:
    """New pieces of `p` come from the same predecessors as `p` (a split)."""
    for lk in _links_of(p):
        if lk.predecessor_id is None:
            continue
        for piece in pieces:
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    paragraph_id=piece.id,
                    predecessor_id=lk.predecessor_id,
                    relation="split",
                    similarity=0.0,
                    method=lk.method,
                )
            )
    db.session.flush()


def _settle(
    version: Version, order: list[Paragraph], *, touched: set[int], method: str = "copy"
) -> None:
    """Renumber the paragraphs in `order` and bring the lineage links in line."""
    # Only an item right after an item of its kind may sit tight against it: anything
    # else without a blank line before it would be read as part of the block above.
    for before, p in zip(order, order[1:], strict=False):
        if p.blank_before < 1 and not (
            p.kind in ("list_item", "definition") and before.kind == p.kind
        ):
            p.blank_before = 1
    # Positions are unique per version: move the changed ones out of the way first.
    moving = [(p, pos) for pos, p in enumerate(order) if p.position != pos]
    for p, pos in moving:
        p.position = -1 - pos
    db.session.flush()
    for p, pos in moving:
        p.position = pos
    numbered = splitter.number(
        [splitter.Block(p.kind, p.source, p.text, p.level, p.blank_before) for p in order]
    )
    for p, b in zip(order, numbered, strict=True):
        p.number = b.number
    db.session.flush()
    previous = version.neighbour(-1)
    if previous is not None:
        _derive_links(version, order, previous, touched=touched, method=method)
    db.session.expire(version, ["paragraphs"])


def _derive_links(
    version: Version, order: list[Paragraph], previous: Version, *, touched: set[int], method: str
) -> None:
    before = list(previous.paragraphs)
    old_pos = {p.id: i for i, p in enumerate(before)}
    old_by_id = {p.id: p for p in before}
    new_pos = {p.id: i for i, p in enumerate(order)}
    by_id = {p.id: p for p in order}
    pairs: list[LineageLink] = []
    added: dict[int, LineageLink] = {}
    removed: dict[int, LineageLink] = {}
    seen: set[tuple[int, int]] = set()
    for lk in _all_links(version):
        if lk.paragraph_id is not None and lk.paragraph_id not in by_id:
            db.session.delete(lk)  # a paragraph that is no longer there
        elif lk.paragraph_id is None:
            if lk.predecessor_id in removed:
                db.session.delete(lk)
            else:
                removed[lk.predecessor_id] = lk
        elif lk.predecessor_id is None:
            if lk.paragraph_id in added:
                db.session.delete(lk)
            else:
                added[lk.paragraph_id] = lk
        elif (lk.paragraph_id, lk.predecessor_id) in seen:
            db.session.delete(lk)
        else:
            seen.add((lk.paragraph_id, lk.predecessor_id))
            pairs.append(lk)
    preds_of: dict[int, set[int]] = defaultdict(set)
    succs_of: dict[int, set[int]] = defaultdict(set)
    for lk in pairs:
        preds_of[lk.paragraph_id].add(lk.predecessor_id)
        succs_of[lk.predecessor_id].add(lk.paragraph_id)
    for pid, lk in added.items():
        if pid in preds_of:
            db.session.delete(lk)
    for p in order:
        if p.id not in preds_of and p.id not in added:
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    paragraph_id=p.id,
                    relation="added",
                    similarity=0.0,
                    method=method,
                )
            )
    for pred_id, lk in removed.items():
        if pred_id in succs_of:
            db.session.delete(lk)
    for q in before:
        if q.id not in succs_of and q.id not in removed:
            db.session.add(
                LineageLink(
                    version_id=version.id,
                    predecessor_id=q.id,
                    relation="removed",
                    similarity=0.0,
                    method=method,
                )
            )
    simple = sorted(
        (
            lk
            for lk in pairs
            if len(preds_of[lk.paragraph_id]) == 1 and len(succs_of[lk.predecessor_id]) == 1
        ),
        key=lambda lk: old_pos[lk.predecessor_id],
    )
    in_order = longest_increasing([new_pos[lk.paragraph_id] for lk in simple])
    for k, lk in enumerate(simple):
        p, q = by_id[lk.paragraph_id], old_by_id[lk.predecessor_id]
        same = p.source == q.source
        was = lk.relation
        lk.relation = classify("moved" if k not in in_order else "edited", same, p.text == q.text)
        if same:
            lk.similarity = 1.0
        elif p.id in touched or was in ("split", "merged", "unchanged") or not lk.similarity:
            # Only pairs whose texts may have changed are measured again.
            lk.similarity = round(kinship(Counter(words(q.text)), Counter(words(p.text))), 4)
    for lk in pairs:
        if len(preds_of[lk.paragraph_id]) > 1:
            parts = sorted(preds_of[lk.paragraph_id], key=old_pos.__getitem__)
            joined = Counter(w for i in parts for w in words(old_by_id[i].text))
            lk.relation = "merged"
            lk.similarity = round(
                similarity(joined, Counter(words(by_id[lk.paragraph_id].text))), 4
            )
        elif len(succs_of[lk.predecessor_id]) > 1:
            pieces = sorted(succs_of[lk.predecessor_id], key=new_pos.__getitem__)
            joined = Counter(w for j in pieces for w in words(by_id[j].text))
            lk.relation = "split"
            lk.similarity = round(
                similarity(joined, Counter(words(old_by_id[lk.predecessor_id].text))), 4
            )
    db.session.flush()


# ---------------------------------------------------------------- merging two edits


def merge_texts(base: str, theirs: str, yours: str) -> str | None:
    """Three-way merge on words: your changes (base → yours) applied to their text.
    None when the two edits touch the same words (the drafter merges by hand)."""
    if theirs == base:
        return yours
    if yours in (base, theirs):
        return theirs
    codec = WordCodec()

    dmp = diff_match_patch()
    # Apply a change only where its context is found word for word (anywhere in the text:
    # a far shift costs almost nothing, a single differing word fails the match).
    dmp.Match_Threshold = 0.01
    dmp.Match_Distance = 100_000
    dmp.Patch_DeleteThreshold = 0.0
    patches = dmp.patch_make(codec.encode(base), codec.encode(yours))
    merged, applied = dmp.patch_apply(patches, codec.encode(theirs))
    if not all(applied):
        return None
    return codec.decode(merged)


# ---------------------------------------------------------------- the version around the text


def set_note(version: Version, note: str, *, by) -> Version:
    """The committee's explanatory note on a draft: what changed and why. Frozen with
    the text when the version is published."""
    refuse_frozen(version)
    note = (note or "").strip()
    if len(note) > MAX_SOURCE:
        raise ConsultError(
            _("The note is at most %(MAX_SOURCE)s characters.", MAX_SOURCE=format(MAX_SOURCE, ","))
        )
    _lock(version)
    if version.note != note:
        version.note = note
        db.session.flush()
        _changed(version, by, "note")
    return version


def unreviewed_links(version: Version) -> int:
    """How many lineage links alignment proposed for the draft that the committee has
    not confirmed or corrected yet (the pages ask for the review before publishing)."""
    return db.session.scalar(
        select(func.count(LineageLink.id)).where(
            LineageLink.version_id == version.id, LineageLink.method == "alignment"
        )
    )


def refuse_unreviewed(version: Version) -> None:
    """Publishing from the pages and the API waits for the lineage review."""
    if version.state == "draft":
        n = unreviewed_links(version)
        if n:
            raise Conflict(
                ngettext(
                    "%(num)s lineage link proposed for this imported text is not reviewed "
                    "yet: confirm or correct it on the lineage page before publishing.",
                    "%(num)s lineage links proposed for this imported text are not reviewed "
                    "yet: confirm or correct them on the lineage page before publishing.",
                    n,
                )
            )


def start_version(doc, *, by, label: str = "", text: str | None = None) -> Version:
    """The document's next version: a copy of the latest (text None) or an imported text.

    Two people starting it at the same moment both compute the same number; the unique
    (document, number) constraint lets one win, and the other gets a Conflict that says
    so instead of a server error.
    """
    from consult.documents import services

    number = (doc.latest.number + 1) if doc.latest else 1
    try:
        if text is None:
            return services.copy_version(doc, by=by, label=label)
        return services.import_version(doc, text, by=by, label=label)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            _(
                "Someone else started version %(number)s of this document at "
                "the same time. Open the document again to work on that "
                "version.",
                number=number,
            )
        ) from None
