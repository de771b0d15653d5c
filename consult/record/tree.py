"""Proofs over the stored tree: which complete subtrees an RFC 9162 audit path or
consistency proof is made of, and the proof itself from their stored hashes.

Every range the RFC's definitions visit starts at a multiple of a power of two at least
as large as the range, so its hash is the right fold of the complete subtrees of its
binary decomposition; those are stored (record_node, and the events' leaf hashes for
height 0), so a proof reads O(log² n) stored hashes at most, whatever the tree's size.
Pure functions: the caller fetches the hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from consult.record.verify_standalone import node_hash, split_point

#: (height, index): the complete subtree of leaves index·2**height … (index+1)·2**height − 1.
Block = tuple[int, int]
Range = tuple[int, int]


def blocks(a: int, b: int) -> list[Block]:
    """The complete subtrees that make up leaves a … b − 1, largest first."""
    out = []
    while a < b:
        height = (b - a).bit_length() - 1
        while a & ((1 << height) - 1):  # not aligned: a range of the RFC never is
            height -= 1
        out.append((height, a >> height))
        a += 1 << height
    return out


def inclusion_ranges(m: int, n: int) -> list[Range]:
    """The ranges whose tree hashes make PATH(m, D[n]), in the proof's order (leaf up)."""
    if not 0 <= m < n:
        raise ValueError(f"leaf {m} is not in a tree of {n}")
    out = []
    a, b = 0, n
    while b - a > 1:
        k = split_point(b - a)
        if m - a < k:
            out.append((a + k, b))
            b = a + k
        else:
            out.append((a, a + k))
            a += k
    return out[::-1]


def consistency_ranges(m: int, n: int) -> list[Range]:
    """The ranges whose tree hashes make PROOF(m, D[n]) (RFC 9162, 2.1.4.1)."""
    if not 0 <= m <= n:
        raise ValueError(f"a tree of {m} is not a subtree of a tree of {n}")
    if m in (0, n):
        return []
    out = []
    a, b, whole = 0, n, True
    while True:
        if m - a == b - a:
            if not whole:
                out.append((a, b))
            break
        k = split_point(b - a)
        if m - a <= k:
            out.append((a + k, b))
            b = a + k
        else:
            out.append((a, a + k))
            a += k
            whole = False
    return out[::-1]


def needed(ranges: Iterable[Range]) -> set[Block]:
    return {blk for a, b in ranges for blk in blocks(a, b)}


def range_hash(a: int, b: int, get: Callable[[Block], bytes]) -> bytes:
    """MTH(D[a:b]) from the stored hashes of its complete subtrees."""
    hashes = [get(blk) for blk in blocks(a, b)]
    r = hashes[-1]
    for h in reversed(hashes[:-1]):
        r = node_hash(h, r)
    return r


def proof(ranges: list[Range], get: Callable[[Block], bytes]) -> list[bytes]:
    return [range_hash(a, b, get) for a, b in ranges]
