"""Counting the pages of a list."""

from __future__ import annotations


def page_count(total: int, size: int) -> int:
    """How many pages `total` items make, `size` a page (1 for an empty list)."""
    return max(1, -(-total // size))
