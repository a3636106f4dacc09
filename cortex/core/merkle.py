"""RFC 9162 (Certificate Transparency v2) §2.1 Merkle tree: hashes, proofs, verifiers.

Leaves and interior nodes are domain-separated (0x00 / 0x01 prefixes); the tree over n
leaves splits at the largest power of two below n; the empty tree hashes to SHA-256("").

Storage gives this module one primitive, ``get_node(level, index)``: the hash of the
*perfect* subtree covering leaves ``[index·2^level, (index+1)·2^level)``. Every range
the proofs need is either such a subtree or a right edge made of O(log n) of them, so a
root or a proof costs O(log n) node reads, never a rescan. Proof paths are ordered from
the leaf up, as RFC 9162 encodes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: ``get_node(level, index)`` -> hash of a stored perfect subtree
NodeReader = Callable[[int, int], bytes]


class ProofError(ValueError):
    """Raised when a proof does not verify; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly below ``size`` (precondition: size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def range_hash(get_node: NodeReader, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``, as RFC 9162 splits it (precondition: start < end).

    ``start`` is always aligned to the left part's size in the ranges the RFC's
    recursion produces, so each left part is one stored node.
    """
    width = end - start
    if width & (width - 1) == 0 and start % width == 0:
        level = width.bit_length() - 1
        return get_node(level, start >> level)
    k = split_point(width)
    return node_hash(range_hash(get_node, start, start + k), range_hash(get_node, start + k, end))


def root(get_node: NodeReader, size: int) -> bytes:
    """The tree head at ``size`` (``EMPTY_ROOT`` for 0)."""
    return EMPTY_ROOT if size == 0 else range_hash(get_node, 0, size)


def inclusion_path(get_node: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size]). Requires 0 <= index < size."""
    if not 0 <= index < size:
        raise ValueError(f"inclusion proof needs 0 <= index < size, got {index}, {size}")
    path: list[bytes] = []
    low, high = 0, size
    while high - low > 1:
        k = split_point(high - low)
        if index < low + k:
            path.append(range_hash(get_node, low + k, high))
            high = low + k
        else:
            path.append(range_hash(get_node, low, low + k))
            low += k
    path.reverse()
    return path


def consistency_path(get_node: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[new_size]). Requires 0 < old <= new.

    Empty when the sizes are equal (the roots must then be equal).
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"consistency proof needs 0 < old <= new, got {old_size}, {new_size}")
    path: list[bytes] = []
    low, high, m = 0, new_size, old_size
    whole = True  # SUBPROOF's flag b: is [low, low+m) the complete old tree?
    while m != high - low:
        k = split_point(high - low)
        if m <= k:
            path.append(range_hash(get_node, low + k, high))
            high = low + k
        else:
            path.append(range_hash(get_node, low, low + k))
            low += k
            m -= k
            whole = False
    if not whole:
        path.append(range_hash(get_node, low, high))
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``path`` proves ``leaf`` at ``index`` under."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion path is shorter than the tree is deep")
    return result


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> None:
    """Raise ``ProofError`` unless ``path`` proves ``leaf`` at ``index`` in ``expected_root``."""
    calculated = root_from_inclusion(index, size, leaf, path)
    if calculated != expected_root:
        raise ProofError(
            f"inclusion proof gives root {calculated.hex()}, expected {expected_root.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ``ProofError`` unless tree ``old`` is a prefix of ``new``."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"consistency needs 0 < old <= new, got {old_size}, {new_size}")
    if old_size == new_size:
        if path or old_root != new_root:
            raise ProofError("equal sizes need an empty proof and equal roots")
        return
    if not path:
        raise ProofError("consistency proof is empty")
    nodes = list(path)
    if old_size & (old_size - 1) == 0:
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = nodes[0]
    for node in nodes[1:]:
        if sn == 0:
            raise ProofError("consistency path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            old_result = node_hash(node, old_result)
            new_result = node_hash(node, new_result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_result = node_hash(new_result, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency path is shorter than the tree is deep")
    if old_result != old_root:
        raise ProofError(f"old root is {old_result.hex()}, expected {old_root.hex()}")
    if new_result != new_root:
        raise ProofError(f"new root is {new_result.hex()}, expected {new_root.hex()}")


@dataclass(frozen=True, slots=True)
class CompactRange:
    """The frontier: hashes of the perfect subtrees covering leaves ``[0, size)``.

    One hash per set bit of ``size``, largest subtree first. Appending a leaf merges the
    trailing subtrees of equal size and reports the nodes it completed, which is what
    storage persists (amortized two per leaf, counting the leaf itself).
    """

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def append(self, leaf: bytes) -> tuple[CompactRange, list[tuple[int, int, bytes]]]:
        """Return the extended range and the completed ``(level, index, hash)`` nodes."""
        completed = [(0, self.size, leaf)]
        stack = list(self.hashes)
        current, level, index = leaf, 0, self.size
        while (self.size >> level) & 1:
            current = node_hash(stack.pop(), current)
            level += 1
            index >>= 1
            completed.append((level, index, current))
        stack.append(current)
        return CompactRange(self.size + 1, tuple(stack)), completed

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result

    @classmethod
    def at(cls, get_node: NodeReader, size: int) -> CompactRange:
        """Rebuild the frontier at ``size`` from stored nodes (O(log n) reads)."""
        hashes: list[bytes] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                hashes.append(get_node(level, start >> level))
                start += 1 << level
        return cls(size, tuple(hashes))
