"""The record's Merkle tree against RFC 9162's own definitions (MTH, PATH, PROOF, written
here as the RFC states them, recursively, over hand-made trees of 1 to 20 leaves), and
Ed25519 verification (pure Python, for the standalone verifier) against RFC 8032's test
vectors."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consult.record import tree
from consult.record import verify_standalone as v

SIZES = range(1, 21)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves(n: int) -> list[bytes]:
    """D[n]: the inputs, as the RFC names them (not hashed yet)."""
    return [f"entry {i}".encode() for i in range(n)]


# --- RFC 9162, 2.1.1: MTH; 2.1.3.1: PATH; 2.1.4.1: PROOF / SUBPROOF -----------------------


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = k_of(len(d))
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def stored(d: list[bytes]):
    """What the database keeps: every complete subtree's hash, by (height, index)."""
    out = {}
    height = 0
    while (1 << height) <= len(d):
        size = 1 << height
        for i in range(len(d) // size):
            out[(height, i)] = mth(d[i * size : (i + 1) * size])
        height += 1
    return out.__getitem__


# --- the tree ------------------------------------------------------------------------------


def test_hashes_are_the_rfc_prefixes():
    assert v.EMPTY_ROOT == hashlib.sha256(b"").hexdigest() == mth([]).hex()
    assert v.leaf_hash(b"x") == sha(b"\x00x")
    a, b = sha(b"a"), sha(b"b")
    assert v.node_hash(a, b) == sha(b"\x01" + a + b)
    # Three leaves, written out by hand: H(1 || H(1 || l0 || l1) || l2).
    l0, l1, l2 = (sha(b"\x00" + x) for x in leaves(3))
    assert mth(leaves(3)) == sha(b"\x01" + sha(b"\x01" + l0 + l1) + l2)


@pytest.mark.parametrize("n", SIZES)
def test_roots_are_mth(n):
    d = leaves(n)
    f = v.Frontier()
    made = {}
    for x in d:
        for height, i, h in f.append(v.leaf_hash(x)):
            made[(height, i)] = h
    assert f.root() == v.tree_root(v.leaf_hash(x) for x in d) == mth(d)
    # The complete subtrees the sequencer stores are the RFC's subtrees.
    get = stored(d)
    assert made == {key: get(key) for key in made}
    assert len(made) == n - bin(n).count("1")  # every internal node of a complete subtree
    for m in range(n + 1):
        assert tree.range_hash(0, m, get) == mth(d[:m]) if m else True


@pytest.mark.parametrize("n", SIZES)
def test_inclusion_proofs_are_path(n):
    d = leaves(n)
    get = stored(d)
    root = mth(d)
    for m in range(n):
        expected = path(m, d)
        got = tree.proof(tree.inclusion_ranges(m, n), get)
        assert got == expected, (m, n)
        leaf = v.leaf_hash(d[m])
        assert v.verify_inclusion(m, n, leaf, got, root)
        # Anything else fails: another leaf, index or size, a changed or cut proof.
        assert not v.verify_inclusion(m, n, v.leaf_hash(b"other"), got, root)
        if n > 1:
            assert not v.verify_inclusion((m + 1) % n, n, leaf, got, root)
            assert not v.verify_inclusion(m, n, leaf, got[:-1], root)
            bad = [bytes([got[0][0] ^ 1]) + got[0][1:]] + got[1:]
            assert not v.verify_inclusion(m, n, leaf, bad, root)
        assert not v.verify_inclusion(n, n, leaf, got, root)
        assert not v.verify_inclusion(m, n, leaf, got + [root], root)


@pytest.mark.parametrize("n", SIZES)
def test_consistency_proofs_are_proof(n):
    d = leaves(n)
    get = stored(d)
    for m in range(0, n + 1):
        expected = proof(m, d) if 0 < m < n else []
        got = tree.proof(tree.consistency_ranges(m, n), get)
        assert got == expected, (m, n)
        assert v.verify_consistency(m, n, mth(d[:m]), mth(d), got), (m, n)
        if 0 < m < n:
            # A rewritten earlier tree, a changed proof or a wrong size fails.
            other = d[: m - 1] + [b"rewritten"]
            assert not v.verify_consistency(m, n, mth(other), mth(d), got)
            bad = [bytes([got[-1][0] ^ 1]) + got[-1][1:]] + got[:-1] if got else got
            assert not v.verify_consistency(m, n, mth(d[:m]), mth(d), bad[::-1])
            assert not v.verify_consistency(m, n, mth(d[:m]), mth(d[:-1] + [b"x"]), got)


def test_a_range_is_made_of_aligned_complete_subtrees():
    assert tree.blocks(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert tree.blocks(8, 13) == [(2, 2), (0, 12)]
    assert tree.inclusion_ranges(0, 1) == []
    with pytest.raises(ValueError):
        tree.inclusion_ranges(3, 3)
    with pytest.raises(ValueError):
        tree.consistency_ranges(4, 3)


# --- Ed25519 (RFC 8032, 7.1) ---------------------------------------------------------------

#: (secret key, public key, message, signature): TEST 1, TEST 2 and TEST 3.
VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), VECTORS)
def test_ed25519_rfc8032_vectors(secret, public, message, signature):
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    # The vectors are the RFC's: the cryptography package derives and signs the same.
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw == pk and key.sign(msg) == sig
    assert v.ed25519_verify(pk, msg, sig)
    assert not v.ed25519_verify(pk, msg + b"!", sig)
    assert not v.ed25519_verify(pk, msg, sig[:63] + bytes([sig[63] ^ 1]))
    assert not v.ed25519_verify(pk, msg, bytes([sig[0] ^ 1]) + sig[1:])
    other = bytes.fromhex(VECTORS[(VECTORS.index((secret, public, message, signature)) + 1) % 3][1])
    assert not v.ed25519_verify(other, msg, sig)
    # S must be below the group order: S + L is the same point but not a valid signature.
    s = int.from_bytes(sig[32:], "little") + v._L
    assert not v.ed25519_verify(pk, msg, sig[:32] + s.to_bytes(32, "little"))
    assert not v.ed25519_verify(pk[:31], msg, sig) and not v.ed25519_verify(pk, msg, sig[:63])


def test_ed25519_verifies_what_cryptography_signs():
    key = Ed25519PrivateKey.generate()
    pk = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for n in (0, 1, 31, 32, 33, 200):
        message = bytes(range(n % 256))[:n] * 3
        assert v.ed25519_verify(pk, message, key.sign(message))


def test_a_signed_tree_head():
    key = Ed25519PrivateKey.generate()
    pk = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    head = {"tree_size": 5, "root_hash": "ab" * 32, "timestamp": 1_700_000_000_000}
    head["signature"] = key.sign(v.head_bytes(5, "ab" * 32, 1_700_000_000_000)).hex()
    assert v.head_signed(head, pk.hex())
    assert not v.head_signed(head | {"tree_size": 6}, pk.hex())
    assert not v.head_signed(head | {"root_hash": "cd" * 32}, pk.hex())
    assert not v.head_signed(head | {"signature": "zz"}, pk.hex())
