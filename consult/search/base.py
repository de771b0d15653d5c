"""What every search backend provides, and what the rest of the app may call on it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.orm import Session

from consult.search import entries as E
from consult.search import vocabulary
from consult.search.results import Found, Results, Spec

Progress = Callable[[int], None]


class IndexBusy(RuntimeError):
    """Another process holds the index writer longer than we wait: the outbox rows stay
    and are applied by the next drain."""


class Backend(ABC):
    """A search backend: where entries are kept and how they are searched. Subclasses
    (whoosh_backend, postgres_backend) implement exclusive, write, write_all, run, keys."""

    name = "?"

    @abstractmethod
    def exclusive(self, session: Session, timeout: float) -> AbstractContextManager[Any]:
        """Hold the one writer of the index (across processes), waiting at most `timeout`
        seconds; raises IndexBusy. `apply` and `rebuild` write only inside it."""

    @abstractmethod
    def write(self, session: Session, pairs: list[tuple[str, E.Entry | None]]) -> None:
        """Put these entries in the index (None: remove the key)."""

    @abstractmethod
    def write_all(self, session: Session, batches: Iterator[list[E.Entry]]) -> None:
        """Replace the whole index by these entries; readers see the old index until the
        new one is complete."""

    @abstractmethod
    def run(self, spec: Spec, words: Iterable[str] = ()) -> Found:
        """Run a query; `words` are the searched words, for highlighting."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every entry key in the index (for checks and tests)."""

    def apply(self, session: Session, targets: list[tuple[str, int]]) -> int:
        """Bring the entries of these outbox targets up to date, reading them from
        `session` (whose transaction begins inside `exclusive`), and add their words to
        the vocabulary; returns how many entries were written."""
        pairs = E.load(session, E.expand(session, targets))
        self.write(session, pairs)
        vocabulary.add(session, (e for _, e in pairs))
        return len(pairs)

    def rebuild(self, session: Session, progress: Progress | None = None) -> dict[str, int]:
        """Index everything again from the database; returns the counts by kind of entry."""
        counts = dict.fromkeys(E.DOC_TYPES, 0)
        words: Counter = Counter()

        def batches() -> Iterator[list[E.Entry]]:
            for batch in E.iterate_all(session):
                for e in batch:
                    counts[e.doc_type] += 1
                    words.update(E.vocabulary(e))
                yield batch
                if progress:
                    progress(len(batch))

        self.write_all(session, batches())
        vocabulary.replace(session, words)
        return counts

    def search(self, q: str, *, limit: int = 20, page: int = 1, user=None) -> Results:
        """The simple call: words only, as the public (or `user`) sees them."""
        from consult.search import service

        return service.search(
            service.SearchParams(q=q, page=page, per_page=limit), user, backend=self
        )
