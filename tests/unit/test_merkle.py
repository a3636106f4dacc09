"""RFC 9162 Merkle core against a naive recursive reference and published vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cortex.core.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- the naive reference, straight from RFC 9162 §2.1 (used only to check the fast one) ---


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*naive_path(m, leaves[:k]), mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


class Tree:
    """Leaves appended through ``CompactRange``, nodes kept the way storage keeps them."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.frontier = CompactRange()
        for leaf in leaves:
            self.frontier, completed = self.frontier.append(leaf)
            for level, index, digest in completed:
                self.nodes[(level, index)] = digest

    def get_node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


# --- published vectors (certificate-transparency merkle_tree_test data) --------------------

INPUTS = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                      "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
LEAVES = [leaf_hash(d) for d in INPUTS]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (0-based leaf index, tree size, path); the published data numbers leaves from 1
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


def test_roots_match_the_published_vectors() -> None:
    tree = Tree(LEAVES)
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size in range(9):
        assert root(tree.get_node, size).hex() == ROOTS[size]
        assert Tree(LEAVES[:size]).frontier.root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(
    index: int, size: int, expected: list[str]
) -> None:
    path = inclusion_path(Tree(LEAVES).get_node, index, size)
    assert [p.hex() for p in path] == expected
    verify_inclusion(index, size, LEAVES[index], path, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(
    old: int, new: int, expected: list[str]
) -> None:
    path = consistency_path(Tree(LEAVES).get_node, old, new)
    assert [p.hex() for p in path] == expected
    verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), path)


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=300).map(
    lambda items: [leaf_hash(b"%d:" % i + item) for i, item in enumerate(items)]
)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_fast_tree_equals_the_naive_reference(leaves: list[bytes], data: st.DataObject) -> None:
    tree = Tree(leaves)
    n = len(leaves)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    head = root(tree.get_node, size)
    assert head == mth(leaves[:size])
    assert CompactRange.at(tree.get_node, size).root() == head
    path = inclusion_path(tree.get_node, index, size)
    assert path == naive_path(index, leaves[:size])
    verify_inclusion(index, size, leaves[index], path, head)
    proof = consistency_path(tree.get_node, old, size)
    assert proof == naive_subproof(old, leaves[:size], True)
    verify_consistency(old, size, mth(leaves[:old]), head, proof)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data())
def test_flipped_bits_and_wrong_sizes_fail_to_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = Tree(leaves)
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1))
    head = root(tree.get_node, n)
    path = inclusion_path(tree.get_node, index, n)
    flipped_leaf = bytes([leaves[index][0] ^ 1]) + leaves[index][1:]
    with pytest.raises(ProofError):
        verify_inclusion(index, n, flipped_leaf, path, head)
    if path:
        position = data.draw(st.integers(0, len(path) - 1))
        bad = list(path)
        bad[position] = bytes([bad[position][0] ^ 0x80]) + bad[position][1:]
        with pytest.raises(ProofError):
            verify_inclusion(index, n, leaves[index], bad, head)
    with pytest.raises(ProofError):  # a deeper tree: the path no longer fits
        verify_inclusion(index, 2 * n + 1, leaves[index], path, head)
    if n > 1:
        old = data.draw(st.integers(1, n - 1))
        proof = consistency_path(tree.get_node, old, n)
        old_root = mth(leaves[:old])
        with pytest.raises(ProofError):
            verify_consistency(old, n, node_hash(old_root, old_root), head, proof)
        with pytest.raises(ProofError):
            verify_consistency(old, 2 * n + 1, old_root, head, proof)
        with pytest.raises(ProofError):
            verify_consistency(old, n, old_root, head, proof[:-1])


def test_preconditions_are_stated() -> None:
    tree = Tree(LEAVES)
    with pytest.raises(ValueError, match="0 <= index < size"):
        inclusion_path(tree.get_node, 8, 8)
    with pytest.raises(ValueError, match="0 < old <= new"):
        consistency_path(tree.get_node, 0, 8)
    with pytest.raises(ProofError):
        verify_consistency(0, 8, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="equal sizes"):
        verify_consistency(3, 3, LEAVES[0], LEAVES[1], [])
