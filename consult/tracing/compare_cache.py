"""The comparison of two published versions, computed once and kept.

Published versions are frozen, so the rows comparing them (relations and word diffs)
never change. They are kept (consult.tracing.kept) under instance/cache/compare/,
named by a hash of everything the comparison is made from (both texts, the links
between them): another database, or a version whose links were corrected, simply
names another file. Comparisons with a draft are computed each time (its text and
links change while it is edited).
"""

from __future__ import annotations

from consult import fragments
from consult.documents.models import Version
from consult.tracing import kept
from consult.tracing.compare import Row, Text, compare
from consult.tracing.services import ComparedParagraph, _links


def _key(old: list[Text], new: list[Text], pairs, moved) -> str:
    return kept.key_of(
        [[t.text, t.source] for t in old],
        [[t.text, t.source] for t in new],
        sorted(pairs),
        sorted((list(k), v) for k, v in moved.items()) if moved is not None else None,
    )


def _rows(data: list[dict]) -> list[Row]:
    return [
        Row(
            r["relation"],
            r["olds"],
            r["news"],
            [(op, text) for op, text in r["diff"]],
            [(i, j) for i, j in r["pairs"]],
        )
        for r in data
    ]


def _data(rows: list[Row]) -> list[dict]:
    return [
        {"relation": r.relation, "olds": r.olds, "news": r.news, "diff": r.diff, "pairs": r.pairs}
        for r in rows
    ]


def compare_versions(a: Version, b: Version) -> list[ComparedParagraph]:
    """tracing.services.compare_versions, read from the cache when both versions are
    published (and kept there the first time); the rows read are also kept in this
    process (consult.fragments), so that a page of a long comparison does not read and
    parse them again."""
    old, new = list(a.paragraphs), list(b.paragraphs)

    def made() -> list[Row]:
        pairs, moved = _links(a, b, old, new)
        old_t = [Text(p.text, p.source) for p in old]
        new_t = [Text(p.text, p.source) for p in new]
        if not (a.frozen and b.frozen):
            return compare(old_t, new_t, pairs, moved)
        key = _key(old_t, new_t, pairs, moved)
        data = kept.load("compare", key)
        if data is not None:
            return _rows(data)
        rows = compare(old_t, new_t, pairs, moved)
        kept.keep("compare", key, _data(rows))
        return rows

    # Published texts and their links never change; a draft's are compared each time.
    key = ("compare-rows", a.id, a.content_hash, b.id, b.content_hash)
    rows = fragments.remembered(key if a.frozen and b.frozen else None, made, rendered=False)
    return [
        ComparedParagraph(
            r.relation, [old[i] for i in r.olds], [new[j] for j in r.news], r.diff, r.pairs
        )
        for r in rows
    ]
