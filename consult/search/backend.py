"""The Whoosh search backend (embedded default, an index under instance/)."""

from __future__ import annotations

import os
import shutil
from html import escape
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from whoosh import highlight, index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.writing import LockError

from consult.consultation.models import Comment
from consult.documents.models import Paragraph, Version

SCHEMA = Schema(
    key=ID(unique=True, stored=True),
    doc_type=ID(stored=True),
    object_id=NUMERIC(stored=True),
    document=ID(stored=True),
    version=NUMERIC(stored=True),
    text=TEXT(analyzer=StemmingAnalyzer(), stored=True),
    organisation=TEXT(stored=True),
    decision=ID(stored=True),
    number=STORED(),
)
WRITER_TIMEOUT = 5.0  # seconds to wait for another process's writer before leaving rows in the outbox


@dataclass
class Hit:
    doc_type: str
    object_id: int
    snippet: str
    score: float


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    note: str = ""


def _docs(session: Session, targets: list[tuple[str, int]]):
    """(key, fields or None to delete) for each target."""
    v_ids = [i for t, i in targets if t == "version"]
    if v_ids:
        more = session.scalars(select(Paragraph.id).where(Paragraph.version_id.in_(v_ids)))
        targets = sorted({t for t in targets if t[0] != "version"} | {("paragraph", i) for i in more})
    p_ids = [i for t, i in targets if t == "paragraph"]
    c_ids = [i for t, i in targets if t == "comment"]
    found = {}
    if p_ids:
        for p in session.scalars(
            select(Paragraph).where(Paragraph.id.in_(p_ids))
            .options(selectinload(Paragraph.version).selectinload(Version.document))
        ):
            if p.version.state != "draft":
                found[("paragraph", p.id)] = {
                    "doc_type": "paragraph", "object_id": p.id,
                    "document": p.version.document.slug, "version": p.version.number,
                    "text": p.text, "organisation": "", "decision": "", "number": p.number,
                }
    if c_ids:
        for c in session.scalars(
            select(Comment).where(Comment.id.in_(c_ids))
            .options(selectinload(Comment.organisation), selectinload(Comment.responses),
                     selectinload(Comment.version).selectinload(Version.document))
        ):
            r = c.response
            found[("comment", c.id)] = {
                "doc_type": "comment", "object_id": c.id,
                "document": c.version.document.slug, "version": c.version.number,
                "text": "\n".join(x for x in (c.body, c.suggested_text or "", r.reason if r else "") if x),
                "organisation": c.organisation.name, "decision": r.decision if r else "",
                "number": "",
            }
    for t in targets:
        yield f"{t[0]}:{t[1]}", found.get(t)


class WhooshBackend:
    def __init__(self, path: str):
        self.path = path

    def _open(self):
        if index.exists_in(self.path):
            return index.open_dir(self.path)
        os.makedirs(self.path, exist_ok=True)
        return index.create_in(self.path, SCHEMA)

    def apply(self, session: Session, targets: list[tuple[str, int]]) -> None:
        ix = self._open()
        try:
            writer = ix.writer(timeout=WRITER_TIMEOUT)
        except LockError:
            raise RuntimeError("the search index is locked by another writer") from None
        try:
            for key, fields in _docs(session, targets):
                if fields is None:
                    writer.delete_by_term("key", key)
                else:
                    writer.update_document(key=key, **fields)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise

    def rebuild(self, session: Session) -> int:
        if os.path.isdir(self.path):
            shutil.rmtree(self.path)
        targets = [("paragraph", i) for i in session.scalars(select(Paragraph.id))]
        targets += [("comment", i) for i in session.scalars(select(Comment.id))]
        for start in range(0, len(targets), 1000):
            self.apply(session, targets[start : start + 1000])
        self._open()
        return len(targets)

    def search(self, q: str, *, limit: int = 20, page: int = 1) -> Results:
        q = (q or "").strip()
        if not q:
            return Results(q, 0)
        ix = self._open()
        parser = MultifieldParser(["text", "organisation"], ix.schema, group=OrGroup.factory(0.9))
        note = ""
        try:
            query = parser.parse(q)
        except Exception:
            query = parser.parse(" ".join(w for w in q.replace('"', " ").split() if w.isalnum()))
            note = "Your query could not be read as written; searched for its words instead."
        with ix.searcher() as s:
            page_ = s.search_page(query, page, pagelen=limit)
            if page > max(page_.pagecount, 1):
                # Whoosh answers a page past the end with the last page; say there is nothing.
                return Results(q, page_.total, [], note)
            page_.results.fragmenter = highlight.ContextFragmenter(maxchars=240, surround=60)
            page_.results.formatter = highlight.HtmlFormatter(tagname="mark")
            hits = [
                Hit(h["doc_type"], h["object_id"], h.highlights("text") or escape(h["text"][:240]), h.score)
                for h in page_
            ]
            return Results(q, page_.total, hits, note)


def get(app) -> WhooshBackend:
    return WhooshBackend(app.config["INDEX_DIR"])
