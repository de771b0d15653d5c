"""Tracing services over the database: comparing versions."""

from __future__ import annotations

from dataclasses import dataclass

from consult.documents.models import Paragraph, Version
from consult.tracing.compare import Row, compare


@dataclass
class ComparedParagraph:
    relation: str
    old: Paragraph | None
    new: Paragraph | None
    diff: list[tuple[str, str]]


def compare_versions(a: Version, b: Version) -> list[ComparedParagraph]:
    """Paragraph-by-paragraph comparison of two versions of one document, by lineage."""
    old, new = a.paragraphs, b.paragraphs
    rows: list[Row] = compare(
        [(p.lineage, p.text) for p in old], [(p.lineage, p.text) for p in new]
    )
    return [
        ComparedParagraph(
            r.relation,
            old[r.old] if r.old is not None else None,
            new[r.new] if r.new is not None else None,
            r.diff,
        )
        for r in rows
    ]
