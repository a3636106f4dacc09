"""The verifiable ledger on a real store: checkpoints, proofs, verify, redaction, restart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio
import pytest
import sqlean

from cortex import Cortex
from cortex.core.bundle import verify_consistency_bundle, verify_inclusion_bundle
from cortex.core.checkpoint import CheckpointInvalid, open_note
from cortex.core.merkle import ProofError, leaf_hash, verify_consistency, verify_inclusion
from cortex.errors import FactIsRedacted, InvalidInput
from tests.integration.ledger_check import naive_root

pytestmark = pytest.mark.anyio


async def test_ten_thousand_stores_give_exactly_ten_automatic_checkpoints(
    db_path: Path,
) -> None:
    async with Cortex.open(db_path, log_level="warning", checkpoint_every=1000) as cx:
        async with anyio.create_task_group() as tg:
            for worker in range(20):
                tg.start_soon(_store_many, cx, worker, 500)
        manual = await cx.ledger.checkpoint()
        again = await cx.ledger.checkpoint()
        checkpoints = await cx.ledger.checkpoints()
    auto = sorted(c.tree_size for c in checkpoints if c.reason == "auto")
    assert auto == [1000 * k for k in range(1, 11)], "exactly one per 1,000 entries"
    assert manual.tree_size == 10_000 and again == manual, "one checkpoint per size"
    for checkpoint in checkpoints:
        assert checkpoint.root_hash == naive_root(db_path, checkpoint.tree_size).hex()
        body = open_note(checkpoint.note, cx.ledger.public_key)
        assert (body.tree_size, body.root_hash.hex()) == (checkpoint.tree_size,
                                                          checkpoint.root_hash)


async def _store_many(cx: Cortex, worker: int, count: int) -> None:
    for n in range(count):
        await cx.store(project="p", content=f"worker {worker} fact {n}")


async def test_concurrent_checkpoint_requests_never_race(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning", checkpoint_every=50) as cx:
        async with anyio.create_task_group() as tg:
            for worker in range(8):
                tg.start_soon(_store_many, cx, worker, 60)
            for _ in range(40):
                tg.start_soon(cx.ledger.checkpoint)
        checkpoints = await cx.ledger.checkpoints(limit=1000)
    sizes = [c.tree_size for c in checkpoints]
    assert len(sizes) == len(set(sizes))
    for checkpoint in checkpoints:
        assert checkpoint.root_hash == naive_root(db_path, checkpoint.tree_size).hex()


async def test_every_entry_proves_into_every_later_tree(cx: Cortex, db_path: Path) -> None:
    for n in range(13):
        await cx.store(project="p", content=f"fact {n}")
    size = await cx.ledger_size()
    for tree_size in range(1, size + 1):
        root = naive_root(db_path, tree_size)
        for index in range(tree_size):
            proof = await cx.ledger.inclusion_proof(index, tree_size)
            assert proof.root_hash == root.hex()
            assert proof.leaf_hash == leaf_hash(proof.entry.encode()).hex()
            verify_inclusion(index, tree_size, bytes.fromhex(proof.leaf_hash),
                             [bytes.fromhex(p) for p in proof.path], root)
        for old in range(1, tree_size + 1):
            consistency = await cx.ledger.consistency_proof(old, tree_size)
            verify_consistency(old, tree_size, naive_root(db_path, old), root,
                               [bytes.fromhex(p) for p in consistency.path])


async def test_proof_bounds_are_enforced(cx: Cortex) -> None:
    await cx.store(project="p", content="one")
    with pytest.raises(InvalidInput) as caught:
        await cx.ledger.inclusion_proof(1, 1)
    assert caught.value.field == "leaf_index"
    with pytest.raises(InvalidInput) as too_big:
        await cx.ledger.inclusion_proof(0, 5)
    assert too_big.value.field == "tree_size"
    with pytest.raises(InvalidInput):
        await cx.ledger.consistency_proof(0, 1)
    with pytest.raises(InvalidInput):
        await cx.ledger.inclusion_proof(-1)


async def test_auditor_bundles_verify_offline_with_only_the_public_key(cx: Cortex) -> None:
    for n in range(5):
        await cx.store(project="p", content=f"fact {n}")
    first = await cx.ledger.checkpoint()
    for n in range(4):
        await cx.store(project="p", content=f"later {n}")
    second = await cx.ledger.checkpoint()
    bundle = await cx.ledger.export_inclusion(3)
    assert verify_inclusion_bundle(bundle, cx.ledger.public_key).tree_size == 9
    consistency = await cx.ledger.export_consistency(first.tree_size, second.tree_size)
    old, new = verify_consistency_bundle(consistency, cx.ledger.public_key)
    assert (old.tree_size, new.tree_size) == (5, 9)
    forged = {**bundle, "proof": {**bundle["proof"], "entry": bundle["proof"]["entry"] + " "}}
    with pytest.raises(ProofError):
        verify_inclusion_bundle(forged, cx.ledger.public_key)
    other_key = cx.ledger.public_key.replace(cx.ledger.origin, "someone.else/log", 1)
    with pytest.raises(CheckpointInvalid):
        verify_inclusion_bundle(bundle, other_key)


async def test_restart_rebuilds_the_frontier_and_the_roots(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning") as cx:
        for n in range(21):
            await cx.store(project="p", content=f"fact {n}")
        before = await cx.ledger.inclusion_proof(0)
    for mode in ("full", "incremental"):
        async with Cortex.open(db_path, log_level="warning", verify_on_open=mode) as cx:
            after = await cx.ledger.inclusion_proof(0, before.tree_size)
            assert after.root_hash == before.root_hash
            more = await cx.store(project="p", content=f"after a {mode} reopen")
            assert (await cx.get(more.id)).content == more.content
            assert (await cx.ledger.verify()).ok


async def test_verify_passes_on_a_healthy_store_and_reports_progress(cx: Cortex) -> None:
    fact = await cx.store(project="p", content="alpha")
    await cx.update(fact.id, content="beta")
    await cx.ledger.checkpoint()
    calls: list[tuple[int, int]] = []
    report = await cx.ledger.verify(progress=lambda done, total: calls.append((done, total)))
    assert report.ok and report.problems == [] and report.first_bad is None
    assert report.checked == 2 and report.facts_checked == 2
    assert calls and calls[-1][0] == calls[-1][1]
    await cx.store(project="p", content="gamma")
    incremental = await cx.ledger.verify_incremental()
    assert incremental.ok and incremental.since == 2 and incremental.checked == 1


async def test_redaction_erases_content_keeps_hashes_and_verifies(cx: Cortex) -> None:
    fact = await cx.store(project="p", content="card 4111 1111 1111 1111", tags=["pii"],
                          meta={"owner": "alice"})
    newer = await cx.update(fact.id, content="card ending 1111")
    redacted = await cx.redact(fact.id, reason="GDPR request 42")
    assert redacted.lifecycle == "redacted" and redacted.content is None and redacted.tags == []
    assert redacted.content_hash == hashlib.sha256(b"card 4111 1111 1111 1111").hexdigest()
    assert (await cx.get(newer.id)).content is None, "every version is redacted"
    assert await cx.recall(project="p") == []
    history = await cx.history(newer.id)
    assert [v.lifecycle for v in history] == ["redacted", "redacted"]
    with pytest.raises(FactIsRedacted):
        await cx.redact(newer.id)
    with pytest.raises(FactIsRedacted):
        await cx.update(newer.id, content="again")
    report = await cx.ledger.verify()
    assert report.ok
    assert sorted(report.redacted) == sorted([fact.id, newer.id])


async def test_checkpoints_and_witness_survive_a_clean_restart(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning") as cx:
        await cx.store(project="p", content="one")
    conn = sqlean.connect(str(db_path))
    reasons = [r[0] for r in conn.execute("SELECT reason FROM checkpoints")]
    conn.close()
    assert reasons == ["shutdown"]
    async with Cortex.open(db_path, log_level="warning") as cx:
        assert (await cx.ledger.checkpoints())[0].reason == "shutdown"
