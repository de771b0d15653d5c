"""The comparison of two published versions, computed once and kept.

Published versions are frozen, so the rows comparing them (relations and word diffs)
never change. They are kept as JSON files under instance/cache/compare/, named by a
hash of everything the comparison is made from (both texts, the links between them):
another database, or a version whose links were corrected, simply names another file,
so nothing needs to be invalidated. A file is written once, atomically (a temporary
file renamed), so processes sharing the folder never read half of one. Comparisons
with a draft are computed each time (its text and links change while it is edited).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from flask import current_app

from consult.documents.models import Version
from consult.tracing.compare import Row, Text, compare
from consult.tracing.services import ComparedParagraph, _links


def _folder() -> Path:
    return Path(current_app.instance_path) / "cache" / "compare"


def _key(old: list[Text], new: list[Text], pairs, moved) -> str:
    h = hashlib.sha256()
    for part in (
        [[t.text, t.source] for t in old],
        [[t.text, t.source] for t in new],
        sorted(pairs),
        sorted((list(k), v) for k, v in moved.items()) if moved is not None else None,
    ):
        h.update(json.dumps(part, ensure_ascii=False).encode())
        h.update(b"\0")
    return h.hexdigest()


def _load(path: Path) -> list[Row] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
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


def _store(path: Path, rows: list[Row]) -> None:
    data = [
        {"relation": r.relation, "olds": r.olds, "news": r.news, "diff": r.diff, "pairs": r.pairs}
        for r in rows
    ]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".compare-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        current_app.logger.warning("Could not keep the comparison in %s", path, exc_info=True)


def compare_versions(a: Version, b: Version) -> list[ComparedParagraph]:
    """tracing.services.compare_versions, read from the cache when both versions are
    published (and kept there the first time)."""
    old, new = list(a.paragraphs), list(b.paragraphs)
    pairs, moved = _links(a, b, old, new)
    old_t = [Text(p.text, p.source) for p in old]
    new_t = [Text(p.text, p.source) for p in new]
    rows: list[Row] | None = None
    path = None
    if a.frozen and b.frozen:
        path = _folder() / f"{_key(old_t, new_t, pairs, moved)}.json"
        rows = _load(path) if path.exists() else None
    if rows is None:
        rows = compare(old_t, new_t, pairs, moved)
        if path is not None:
            _store(path, rows)
    return [
        ComparedParagraph(
            r.relation, [old[i] for i in r.olds], [new[j] for j in r.news], r.diff, r.pairs
        )
        for r in rows
    ]
