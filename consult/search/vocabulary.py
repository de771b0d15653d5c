"""The vocabulary of "did you mean", in the database beside the outbox: the same for
both backends, updated in the transaction that applies the outbox.

Only public entries give words (entries.vocabulary), so a suggestion never
reveals a draft. Counts grow as entries are indexed (an entry indexed twice
counts twice) and are exact again after a rebuild: they only rank suggestions.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import ARRAY, Text, any_, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consult.search import entries as E
from consult.search.models import VocabularyWord

BATCH = 2000
_COLUMN = VocabularyWord.__table__.c


def _upsert(session: Session, counts: Counter) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"word": w, "n": n} for w, n in sorted(counts.items())]
    for start in range(0, len(rows), BATCH):
        stmt = insert(VocabularyWord.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["word"], set_={"n": _COLUMN.n + stmt.excluded.n}
        )
        session.execute(stmt, rows[start : start + BATCH])


def add(session: Session, entries: Iterable[E.Entry | None]) -> None:
    counts: Counter = Counter()
    for e in entries:
        if e is not None:
            counts.update(E.vocabulary(e))
    if counts:
        _upsert(session, counts)


def replace(session: Session, counts: Counter) -> None:
    session.execute(delete(VocabularyWord))
    if counts:
        _upsert(session, counts)


def known(session: Session, words: Iterable[str]) -> dict[str, int]:
    """The words the vocabulary holds, with their counts. The words (hundreds: every
    spelling one edit away) go in as one array, not one parameter each, so the statement
    is the same every time and costs nothing to build."""
    words = sorted(set(words))
    if not words:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        among = _COLUMN.word == any_(bindparam("words", words, type_=ARRAY(Text)))
    else:
        among = _COLUMN.word.in_(select(func.json_each(json.dumps(words)).table_valued("value")))
    return {w: n for w, n in session.execute(select(_COLUMN.word, _COLUMN.n).where(among))}


def prefixed(session: Session, prefix: str, shortest: int, longest: int) -> dict[str, int]:
    if not prefix:
        return {}
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = session.execute(
        select(_COLUMN.word, _COLUMN.n).where(
            _COLUMN.word >= prefix,
            _COLUMN.word < upper,
            func.length(_COLUMN.word).between(shortest, longest),
        )
    )
    return {w: n for w, n in rows}
