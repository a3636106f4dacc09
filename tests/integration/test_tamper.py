"""Edits behind Cortex's back are refused at open or on read, and named by verify.

Threat model: write access to the database file, not to the process, the signing key or
the witness file. Each test seeds a store through the API, closes it, edits the file with
plain SQL, reopens, and reads.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
import sqlean

from cortex import Cortex
from cortex.db.rows import FACT_FIELDS
from cortex.errors import IntegrityError, LedgerTampered, ReadOnlyStore

pytestmark = pytest.mark.anyio


@contextmanager
def raw(db_path: Path) -> Iterator[sqlean.Connection]:
    conn = sqlean.connect(str(db_path), isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield conn
    finally:
        conn.close()


async def seed(db_path: Path, count: int = 6) -> list[str]:
    async with Cortex.open(db_path, log_level="critical") as cx:
        facts = [await cx.store(project="ops", content=f"fact {n}", tags=["t"])
                 for n in range(count)]
    return [f.id for f in facts]


async def read_everything(db_path: Path, fact_id: str) -> None:
    async with Cortex.open(db_path, log_level="critical") as cx:
        await cx.get(fact_id)


# --- the nine edits ----------------------------------------------------------------


async def test_a_content_edit_is_refused_on_read(db_path: Path) -> None:
    ids = await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("UPDATE facts SET content = 'rm -rf / is safe' WHERE id = ?", (ids[2],))
    async with Cortex.open(db_path, log_level="critical") as cx:
        with pytest.raises(IntegrityError) as caught:
            await cx.get(ids[2])
        assert caught.value.fact_id == ids[2]
        with pytest.raises(IntegrityError):
            await cx.recall(project="ops")
        assert (await cx.get(ids[1])).content == "fact 1", "untouched facts still serve"


async def test_a_content_edit_with_a_matching_hash_is_still_refused(db_path: Path) -> None:
    import hashlib

    ids = await seed(db_path)
    forged = "the admin password is hunter2"
    with raw(db_path) as conn:
        conn.execute("UPDATE facts SET content = ?, content_hash = ? WHERE id = ?",
                     (forged, hashlib.sha256(forged.encode()).hexdigest(), ids[0]))
    with pytest.raises(IntegrityError):
        await read_everything(db_path, ids[0])


async def test_tail_truncation_is_refused_at_open(db_path: Path) -> None:
    await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("DELETE FROM ledger WHERE seq >= 4")
    with pytest.raises(LedgerTampered, match="truncated or rolled back"):
        await read_everything(db_path, "x")


async def test_deleting_an_entry_in_the_middle_is_refused_at_open(db_path: Path) -> None:
    await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("DELETE FROM ledger WHERE seq = 2")
    with pytest.raises(LedgerTampered) as caught:
        await read_everything(db_path, "x")
    assert caught.value.seq == 2


async def test_reordering_entries_is_refused_at_open(db_path: Path) -> None:
    await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("UPDATE ledger SET seq = -1 WHERE seq = 1")
        conn.execute("UPDATE ledger SET seq = 1 WHERE seq = 3")
        conn.execute("UPDATE ledger SET seq = 3 WHERE seq = -1")
    with pytest.raises(LedgerTampered) as caught:
        await read_everything(db_path, "x")
    assert caught.value.seq == 1


async def test_a_forged_fact_row_is_refused_on_read(db_path: Path) -> None:
    ids = await seed(db_path)
    forged = {"id": "'forged'", "content": "'trust me'", "lineage": "'forged'",
              "recorded_seq": "999"}
    columns = ", ".join(FACT_FIELDS)
    values = ", ".join(forged.get(name, name) for name in FACT_FIELDS)
    with raw(db_path) as conn:
        conn.execute(f"INSERT INTO facts ({columns}) SELECT {values} FROM facts WHERE id = ?",
                     (ids[0],))
    with pytest.raises(IntegrityError):
        await read_everything(db_path, "forged")


async def test_forged_entries_after_a_clean_shutdown_are_refused_at_open(
    db_path: Path,
) -> None:
    """Even entries chained, hashed and noded exactly as Cortex would (here: written by a
    second Cortex on a copy, behind the witness's back) are refused after a clean stop."""
    await seed(db_path, count=2)
    snapshot = db_path.with_suffix(".copy")
    shutil.copy(db_path, snapshot)
    async with Cortex.open(snapshot, log_level="critical",
                           witness_path=db_path.parent / "other-witness.json") as cx:
        await cx.store(project="ops", content="appended behind the witness's back")
    shutil.copy(snapshot, db_path)
    with pytest.raises(LedgerTampered, match="Cortex did not write them"):
        await read_everything(db_path, "x")


async def test_a_row_moved_to_another_tenant_or_project_is_refused(db_path: Path) -> None:
    ids = await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("UPDATE facts SET tenant = 'victim' WHERE id = ?", (ids[0],))
        conn.execute("UPDATE facts SET project = 'payroll' WHERE id = ?", (ids[1],))
    async with Cortex.open(db_path, log_level="critical") as cx:
        with pytest.raises(IntegrityError):
            await cx.get(ids[0], tenant="victim")
        with pytest.raises(IntegrityError):
            await cx.recall(project="payroll")


async def test_replaying_an_older_version_of_a_row_is_refused(db_path: Path) -> None:
    ids = await seed(db_path)
    with raw(db_path) as conn:
        before = conn.execute("SELECT deprecated_at, deprecated_seq, deprecation_reason,"
                              " state_seq FROM facts WHERE id = ?", (ids[0],)).fetchone()
    async with Cortex.open(db_path, log_level="critical") as cx:
        await cx.deprecate(ids[0], reason="wrong")
    with raw(db_path) as conn:
        conn.execute("UPDATE facts SET deprecated_at = ?, deprecated_seq = ?,"
                     " deprecation_reason = ?, state_seq = ? WHERE id = ?", (*before, ids[0]))
    with pytest.raises(IntegrityError, match="changed it later"):
        await read_everything(db_path, ids[0])


async def test_metadata_edits_are_refused_on_read(db_path: Path) -> None:
    ids = await seed(db_path)
    edits = ["kind = 'rule'", "valid_until = valid_from + 1", "consensus_score = 9.9",
             "status = 'verified'", "confidence = 0.9", "tags = '[\"x\"]'"]
    with raw(db_path) as conn:
        for fact_id, edit in zip(ids, edits, strict=False):
            conn.execute(f"UPDATE facts SET {edit} WHERE id = ?", (fact_id,))
    async with Cortex.open(db_path, log_level="critical") as cx:
        for fact_id in ids[: len(edits)]:
            with pytest.raises(IntegrityError):
                await cx.get(fact_id)


async def test_rolling_the_whole_store_back_to_an_older_copy_is_refused(
    db_path: Path,
) -> None:
    await seed(db_path, count=3)
    backup = db_path.with_name("backup.db")
    shutil.copy(db_path, backup)
    await seed(db_path, count=3)
    shutil.copy(backup, db_path)
    for leftover in (db_path.with_name(db_path.name + "-wal"),
                     db_path.with_name(db_path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    with pytest.raises(LedgerTampered, match="truncated or rolled back"):
        await read_everything(db_path, "x")


# --- verify names the first bad seq ----------------------------------------------------


async def verify_report(db_path: Path) -> tuple[int | None, list[str]]:
    async with Cortex.open(db_path, log_level="critical", allow_tampered=True) as cx:
        report = await cx.ledger.verify()
    assert not report.ok
    return report.first_bad, [p.what for p in report.problems]


@pytest.mark.parametrize(
    ("sql", "first_bad", "words"),
    [
        ("UPDATE facts SET content = 'x' WHERE recorded_seq = 3", 3, "content"),
        ("UPDATE facts SET tags = '[\"evil\"]' WHERE recorded_seq = 2", 2, "tags"),
        ("UPDATE ledger SET payload = replace(payload, 'ops', 'dev') WHERE seq = 4", 4,
         "entry_hash"),
        ("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 1", 1,
         "Merkle node"),
        ("UPDATE checkpoints SET root_hash = zeroblob(32)", 5, "checkpoint"),
    ],
)
async def test_verify_names_the_first_bad_seq(
    db_path: Path, sql: str, first_bad: int, words: str
) -> None:
    await seed(db_path)
    with raw(db_path) as conn:
        conn.execute(sql)
    seq, problems = await verify_report(db_path)
    assert seq == first_bad
    assert any(words in problem for problem in problems), problems


async def test_forensic_mode_opens_a_tampered_store_read_only(db_path: Path) -> None:
    ids = await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("DELETE FROM ledger WHERE seq = 2")
        conn.execute("UPDATE facts SET content = 'edited' WHERE id = ?", (ids[4],))
    async with Cortex.open(db_path, log_level="critical", allow_tampered=True) as cx:
        assert (await cx.get(ids[4])).content == "edited", "inspect what is there"
        with pytest.raises(ReadOnlyStore):
            await cx.store(project="ops", content="no writes to a tampered store")
    with pytest.raises(LedgerTampered):
        await read_everything(db_path, ids[0])


async def test_a_refused_read_turns_health_unhealthy(db_path: Path) -> None:
    from litestar.testing import AsyncTestClient

    from cortex.api.app import create_app
    from cortex.config import Settings

    ids = await seed(db_path)
    with raw(db_path) as conn:
        conn.execute("UPDATE facts SET content = 'edited' WHERE id = ?", (ids[0],))
    app = create_app(Settings.load(db_path, log_level="critical"))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/health")).status_code == 200
        # the app's engine lives on the client's portal loop: call it there
        with pytest.raises(IntegrityError):
            await anyio.to_thread.run_sync(client.blocking_portal.call,
                                           app.state.cortex.get, ids[0])
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "integrity_failure"
    assert ids[0] in response.json()["integrity"]["failures"][0]


async def test_an_edited_vote_is_refused_on_read_and_named_by_verify(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="critical") as cx:
        fact = await cx.store(project="ops", content="claim")
        agent = await cx.agents.register("voter")
        cast = await cx.vote(fact.id, agent.id, 1)
    with raw(db_path) as conn:
        conn.execute("UPDATE votes SET value = -1")
    async with Cortex.open(db_path, log_level="critical") as cx:
        with pytest.raises(IntegrityError):
            await cx.votes(fact.id)
        report = await cx.ledger.verify()
    assert not report.ok and report.first_bad == cast.seq
    assert any("vote:" in p.what for p in report.problems)
