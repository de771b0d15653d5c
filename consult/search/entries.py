"""What the search index holds: one entry per searchable thing, read from the database.

Both backends index the same entries, so they find the same things. An entry is
plain data; it carries ids, not names, for everything that can change elsewhere
(a document's title, an organisation's name or countries): those are looked up
when results are shown, so renaming an organisation never leaves the index stale.

Kinds of entry (`doc_type`): paragraph, comment (with the committee's latest
response: decision and reason are part of the comment's entry, so the exchange
is found and counted once), organisation, document.

Visibility is indexed as two flags and decided at query time:
- `draft`: the entry belongs to a draft version (or a document with no public
  version); found only by those who may see that version (accounts.policy).
- `visible_to_public`: False for comments hidden by moderation (see
  `comment_visible_to_public`); never found by search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from consult.accounts.models import Organisation
from consult.consultation.models import Comment, CommentRevision, ModerationAction, Response
from consult.documents.models import Document, Paragraph, Version

DOC_TYPES = ("paragraph", "comment", "organisation", "document")
#: Characters of a comment's attachments' text in its entry: a phrase of a position paper
#: is found, and a long annex does not swell the index (or PostgreSQL's vector).
ATTACHMENT_TEXT = 100_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)


def comment_visible_to_public(row) -> bool:
    """False when a comment is hidden by moderation (its latest ModerationAction is
    "hide"). `row` is a Comment, or a mapping of its columns with "hidden" set from
    the moderation table (as `_comments` reads it)."""
    if isinstance(row, dict):
        return not row.get("hidden")
    return not getattr(row, "is_hidden", False)


@dataclass
class Entry:
    doc_type: str
    object_id: int
    created_at: datetime
    document_id: int | None = None
    version_id: int | None = None
    version_number: int | None = None
    paragraph_id: int | None = None
    organisation_id: int | None = None
    comment_kind: str | None = None
    #: The latest response's decision, "unanswered" for a comment without one.
    decision: str | None = None
    #: The language a comment is written in (consultation.languages), when known; a
    #: paragraph's and a document's: the document's authoritative language.
    language: str | None = None
    #: The ids of a comment's themes (consult.analysis), for the theme: filter.
    themes: tuple[int, ...] = ()
    draft: bool = False
    visible_to_public: bool = True
    title: str = ""
    body: str = ""
    suggested: str = ""
    quote: str = ""
    response: str = ""
    #: The text of a comment's attachments (position papers), ATTACHMENT_TEXT at most.
    attachments: str = ""

    @property
    def key(self) -> str:
        return f"{self.doc_type}:{self.object_id}"

    @property
    def public(self) -> bool:
        return not self.draft and self.visible_to_public

    @property
    def month(self) -> str:
        return self.created_at.astimezone(UTC).strftime("%Y-%m")

    @property
    def timestamp(self) -> int:
        return int((self.created_at - EPOCH).total_seconds())

    def parts(self) -> dict[str, str]:
        """The texts of the entry by part name, in the order snippets prefer them."""
        return {
            "body": self.body,
            "suggested": self.suggested,
            "quote": self.quote,
            "response": self.response,
            "title": self.title,
            "attachments": self.attachments,
        }

    def content(self) -> str:
        return "\n".join(
            t
            for t in (
                self.title,
                self.body,
                self.suggested,
                self.quote,
                self.response,
                self.attachments,
            )
            if t
        )


# --- the vocabulary for "did you mean" --------------------------------------------------------

_VOCAB_WORD = re.compile(r"[^\W\d_]{3,30}")
STOP_WORDS = frozenset(
    "a an and are as at be been but by can for from had has have he her his if in into is it "  # noqa: SIM905
    "its may not of on or our she should so such than that the their them then there these "
    "they this to was we were which will with would you your".split()
)


def vocabulary(entry: Entry) -> set[str]:
    """Distinct lowercase words of a public entry, for spelling suggestions. Drafts and
    hidden comments give none, so a suggestion never reveals what the public cannot read."""
    if not entry.public:
        return set()
    return {w for w in _VOCAB_WORD.findall(entry.content().lower()) if w not in STOP_WORDS}


# --- reading entries from the database --------------------------------------------------------


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _paragraphs(session: Session, where) -> list[Entry]:
    v = Version.__table__
    p = Paragraph.__table__
    d = Document.__table__
    rows = session.execute(
        select(
            p.c.id,
            p.c.text,
            p.c.version_id,
            v.c.number,
            v.c.state,
            v.c.document_id,
            v.c.published_at,
            v.c.created_at,
            d.c.language,
        )
        .select_from(p.join(v, v.c.id == p.c.version_id).join(d, d.c.id == v.c.document_id))
        .where(where)
        .order_by(p.c.id)
    )
    return [
        Entry(
            "paragraph",
            r.id,
            _aware(r.published_at or r.created_at),
            document_id=r.document_id,
            version_id=r.version_id,
            version_number=r.number,
            paragraph_id=r.id,
            language=r.language,  # the document's authoritative language
            draft=r.state == "draft",
            body=r.text,
        )
        for r in rows
    ]


def _comments(session: Session, where) -> list[Entry]:
    c = Comment.__table__
    v = Version.__table__
    r = Response.__table__
    rev = CommentRevision.__table__
    mod = ModerationAction.__table__
    rows = (
        session.execute(
            select(
                c.c.id,
                c.c.version_id,
                c.c.paragraph_id,
                c.c.organisation_id,
                c.c.kind,
                c.c.language,
                c.c.body,
                c.c.suggested_text,
                c.c.quote,
                c.c.tracking,
                c.c.created_at,
                v.c.number,
                v.c.state,
                v.c.document_id,
            )
            .select_from(c.join(v, v.c.id == c.c.version_id))
            .where(where)
            .order_by(c.c.id)
        )
        .mappings()
        .all()
    )
    # The latest response of each comment (the highest id), in a second query: a
    # correlated subquery per comment costs far more on large tables.
    answers = {}
    ids = [m["id"] for m in rows]
    for start in range(0, len(ids), 1000):
        for a in session.execute(
            select(r.c.comment_id, r.c.decision, r.c.reason)
            .where(r.c.comment_id.in_(ids[start : start + 1000]))
            .order_by(r.c.id)
        ):
            answers[a.comment_id] = a
    # The current text (the latest revision, when the author edited the comment) and the
    # latest moderation action of the comment itself, read the same way.
    texts, moderated = {}, {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for t in session.execute(
            select(rev.c.comment_id, rev.c.number, rev.c.body, rev.c.suggested_text, rev.c.quote)
            .where(rev.c.comment_id.in_(chunk))
            .order_by(rev.c.number)
        ):
            texts[t.comment_id] = t._mapping
        for a in session.execute(
            select(mod.c.comment_id, mod.c.action)
            .where(mod.c.comment_id.in_(chunk), mod.c.reply_id.is_(None))
            .order_by(mod.c.id)
        ):
            moderated[a.comment_id] = a.action
    attached = _attachment_texts(session, ids)
    themes = _theme_ids(session, ids)
    screened = _screenings(session, ids)
    out = []
    for m in rows:
        a = answers.get(m["id"])
        t = texts.get(m["id"]) or m
        # Only the public text is indexed: masked personal data, nothing while held.
        held = False
        r = screened.get((m["id"], texts[m["id"]]["number"] if m["id"] in texts else 1))
        if r is not None:
            held = r["state"] == "held"
            t = {"body": "" if held else r["body"], "quote": t["quote"]} | {
                "suggested_text": None if held else r["suggested_text"]
            }
        out.append(
            Entry(
                "comment",
                m["id"],
                _aware(m["created_at"]),
                document_id=m["document_id"],
                version_id=m["version_id"],
                version_number=m["number"],
                paragraph_id=m["paragraph_id"],
                organisation_id=m["organisation_id"],
                comment_kind=m["kind"],
                language=m["language"],
                decision=a.decision if a else "unanswered",
                draft=m["state"] == "draft",
                visible_to_public=not held
                and comment_visible_to_public({**m, "hidden": moderated.get(m["id"]) == "hide"}),
                title=m["tracking"],
                body=t["body"],
                suggested=t["suggested_text"] or "",
                quote=t["quote"] or "",
                response=a.reason if a else "",
                attachments=attached.get(m["id"], ""),
                themes=tuple(themes.get(m["id"], ())),
            )
        )
    return out


def _theme_ids(session: Session, ids: list[int]) -> dict[int, list[int]]:
    """Each comment's theme ids (consult.analysis), a query per thousand comments."""
    from consult.analysis.models import CommentTheme

    ct = CommentTheme.__table__
    out: dict[int, list[int]] = {}
    for start in range(0, len(ids), 1000):
        for row in session.execute(
            select(ct.c.comment_id, ct.c.theme_id)
            .where(ct.c.comment_id.in_(ids[start : start + 1000]))
            .order_by(ct.c.comment_id, ct.c.theme_id)
        ):
            out.setdefault(row.comment_id, []).append(row.theme_id)
    return out


def _screenings(session: Session, ids: list[int]) -> dict[tuple[int, int], Any]:
    """The latest personal-data screening of each text of these comments
    (consultation.redaction), by (comment id, text number)."""
    from consult.consultation.redaction import CommentRedaction

    cr = CommentRedaction.__table__
    out: dict[tuple[int, int], Any] = {}
    for start in range(0, len(ids), 1000):
        for row in session.execute(
            select(cr.c.comment_id, cr.c.text_number, cr.c.state, cr.c.body, cr.c.suggested_text)
            .where(cr.c.comment_id.in_(ids[start : start + 1000]))
            .order_by(cr.c.id)
        ):
            out[(row.comment_id, row.text_number)] = row._mapping
    return out


def _attachment_texts(session: Session, ids: list[int]) -> dict[int, str]:
    """The text of each comment's attachments, joined, at most ATTACHMENT_TEXT characters."""
    from consult.consultation.attachments import Attachment

    at = Attachment.__table__
    out: dict[int, str] = {}
    for start in range(0, len(ids), 1000):
        for row in session.execute(
            select(at.c.comment_id, at.c.text)
            .where(at.c.comment_id.in_(ids[start : start + 1000]), at.c.text != "")
            .order_by(at.c.comment_id, at.c.id)
        ):
            joined = (out.get(row.comment_id, "") + "\n\n" + row.text).strip()
            out[row.comment_id] = joined[:ATTACHMENT_TEXT]
    return out


def _organisations(session: Session, where) -> list[Entry]:
    o = Organisation.__table__
    rows = session.execute(select(o).where(where).order_by(o.c.id)).mappings()
    return [
        Entry(
            "organisation",
            m["id"],
            _aware(m["created_at"]),
            organisation_id=m["id"],
            title=" ".join(x for x in (m["name"], m["acronym"]) if x),
            body="\n".join(x for x in (m["description"] or "", " ".join(m["focus"] or [])) if x),
        )
        for m in rows
    ]


def _documents(session: Session, where) -> list[Entry]:
    d = Document.__table__
    v = Version.__table__
    docs = session.execute(
        select(d.c.id, d.c.title, d.c.committee, d.c.created_at, d.c.language)
        .where(where)
        .order_by(d.c.id)
    ).all()
    if not docs:
        return []
    versions: dict[int, list] = {}
    for row in session.execute(
        select(v.c.id, v.c.document_id, v.c.state, v.c.number)
        .where(v.c.document_id.in_([x.id for x in docs]))
        .order_by(v.c.number)
    ):
        versions.setdefault(row.document_id, []).append(row)
    out = []
    for doc in docs:
        vs = versions.get(doc.id, [])
        public = [x for x in vs if x.state != "draft"]
        # A document is public once a version of it is; until then it is found only by
        # those who may see its draft (the visibility of its latest version).
        shown = public[-1] if public else (vs[-1] if vs else None)
        out.append(
            Entry(
                "document",
                doc.id,
                _aware(doc.created_at),
                document_id=doc.id,
                version_id=shown.id if shown else None,
                language=doc.language,
                draft=not public,
                title=doc.title,
                body=doc.committee or "",
            )
        )
    return out


_READERS = {
    "paragraph": (_paragraphs, Paragraph.__table__.c.id),
    "comment": (_comments, Comment.__table__.c.id),
    "organisation": (_organisations, Organisation.__table__.c.id),
    "document": (_documents, Document.__table__.c.id),
}


def expand(session: Session, targets: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """Outbox targets → entry keys. A version stands for its paragraphs, its comments and
    its document, whose visibility changes when it is published."""
    out: set[tuple[str, int]] = set()
    version_ids = []
    for kind, oid in targets:
        if kind == "version":
            version_ids.append(oid)
        elif kind in _READERS:
            out.add((kind, oid))
    if version_ids:
        p, c, v = Paragraph.__table__, Comment.__table__, Version.__table__
        out |= {
            ("paragraph", i)
            for i in session.scalars(select(p.c.id).where(p.c.version_id.in_(version_ids)))
        }
        out |= {
            ("comment", i)
            for i in session.scalars(select(c.c.id).where(c.c.version_id.in_(version_ids)))
        }
        out |= {
            ("document", i)
            for i in session.scalars(select(v.c.document_id).where(v.c.id.in_(version_ids)))
        }
    return out


def load(session: Session, keys: Iterable[tuple[str, int]]) -> list[tuple[str, Entry | None]]:
    """(key, entry) for each key; None when the object is gone (remove it from the index)."""
    by_kind: dict[str, list[int]] = {}
    for kind, oid in keys:
        by_kind.setdefault(kind, []).append(oid)
    out: list[tuple[str, Entry | None]] = []
    for kind, ids in sorted(by_kind.items()):
        reader, id_col = _READERS[kind]
        found = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update((e.object_id, e) for e in reader(session, id_col.in_(chunk)))
        out.extend((f"{kind}:{oid}", found.get(oid)) for oid in sorted(set(ids)))
    return out


def count_all(session: Session) -> dict[str, int]:
    return {
        kind: session.scalar(select(func.count(id_col))) or 0
        for kind, (_, id_col) in _READERS.items()
    }


def iterate_all(session: Session, batch: int = 1000) -> Iterator[list[Entry]]:
    """Every entry, in batches read by id range (no OFFSET: constant cost per batch)."""
    for _kind, (reader, id_col) in _READERS.items():
        last = 0
        while True:
            ids = list(
                session.scalars(select(id_col).where(id_col > last).order_by(id_col).limit(batch))
            )
            if not ids:
                break
            yield reader(session, and_(id_col >= ids[0], id_col <= ids[-1]))
            last = ids[-1]
