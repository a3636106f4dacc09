"""Offline verification for auditors: a JSON bundle plus the log's public key suffice.

An inclusion bundle is ``{"checkpoint": <signed note>, "proof": <InclusionProof>}``; a
consistency bundle is ``{"old_checkpoint": <note>, "new_checkpoint": <note>, "proof":
<ConsistencyProof>}``. Verifying needs no database and no Cortex process: the note's
Ed25519 signature, then the RFC 9162 proof against the signed root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cortex.core.checkpoint import CheckpointBody, open_note
from cortex.core.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion


def verify_inclusion_bundle(bundle: Mapping[str, Any], verifier_key: str) -> CheckpointBody:
    """Check that the bundle's entry is in the tree its signed checkpoint commits to.

    Raises:
        CheckpointInvalid: the checkpoint is not signed by ``verifier_key``.
        ProofError: the proof does not lead to the signed root.
    """
    checkpoint = open_note(bundle["checkpoint"], verifier_key)
    proof = bundle["proof"]
    leaf = leaf_hash(proof["entry"].encode("utf-8"))
    if leaf.hex() != proof["leaf_hash"]:
        raise ProofError("leaf_hash is not SHA-256(0x00 || entry)")
    if proof["tree_size"] != checkpoint.tree_size:
        raise ProofError(f"proof is for tree size {proof['tree_size']}, "
                         f"the checkpoint for {checkpoint.tree_size}")
    path = [bytes.fromhex(node) for node in proof["path"]]
    verify_inclusion(proof["leaf_index"], checkpoint.tree_size, leaf, path, checkpoint.root_hash)
    return checkpoint


def verify_consistency_bundle(
    bundle: Mapping[str, Any], verifier_key: str
) -> tuple[CheckpointBody, CheckpointBody]:
    """Check that the older signed checkpoint is a prefix of the newer one."""
    old = open_note(bundle["old_checkpoint"], verifier_key)
    new = open_note(bundle["new_checkpoint"], verifier_key)
    path = [bytes.fromhex(node) for node in bundle["proof"]["path"]]
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, path)
    return old, new
