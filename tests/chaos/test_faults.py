"""Storage faults: a full or read-only disk while running, a damaged file at start.

Writes under a fault get a typed error naming the database and nothing is half-written;
reads go on; ``/health`` is 503 naming the fault while it lasts; once it clears the next
write succeeds and health is 200 again, without a restart; ``verify`` passes after. A
damaged or tampered file at start is refused with a message naming it, never accepted.

Faults are injected through the ``fault_file`` setting (always runs) and, where the
machine can mount a loop device, produced for real on a tiny ext4 file system.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest
import sqlean
from litestar.testing import AsyncTestClient

from cortex import Cortex
from cortex.api.app import create_app
from cortex.config import Settings
from cortex.engine.writer import WriterFailed
from cortex.errors import (
    CortexError,
    DatabaseCorrupt,
    DiskFull,
    LedgerTampered,
    StorageError,
    StorageReadOnly,
)
from tests.chaos.fault_kit import (
    DISK_FULL,
    READ_ONLY,
    cortex_cli,
    fault,
    fill_disk,
    overwrite_facts_page,
    overwrite_header,
    overwrite_root_page,
    remount,
    seed,
    serve_refuses,
    tiny_filesystem,
    truncate_file,
    verified,
    verified_sync,
)
from tests.integration.server_kit import running_server

pytestmark = [pytest.mark.chaos, pytest.mark.anyio]

FAULTS = [
    pytest.param(DISK_FULL, DiskFull, "disk_full", "is full", id="disk-full"),
    pytest.param(READ_ONLY, StorageReadOnly, "storage_read_only", "read-only", id="read-only"),
]


# --- write faults, in process ---------------------------------------------------------


@pytest.mark.parametrize(("message", "kind", "code", "says"), FAULTS)
async def test_a_write_fault_is_typed_reads_go_on_and_writes_resume_when_it_clears(
    tmp_path: Path, message: str, kind: type[StorageError], code: str, says: str,
) -> None:
    db_path, fault_file = tmp_path / "data" / "cortex.db", tmp_path / "fault"
    async with Cortex.open(db_path, log_level="critical", fault_file=fault_file) as cx:
        before = await cx.store(project="p", content="before the fault")
        with fault(fault_file, message):
            with pytest.raises(kind) as caught:
                await cx.store(project="p", content="during the fault")
            with pytest.raises(kind):
                await cx.store_many([{"project": "p", "content": f"batch {n}"}
                                     for n in range(5)])
            assert caught.value.code == code
            assert str(db_path) in caught.value.detail and says in caught.value.detail
            assert caught.value.context["retry_after"] > 0
            assert (await cx.get(before.id)).content == "before the fault", "reads go on"
            assert len(await cx.recall(project="p")) == 1, "nothing half-written"
            assert isinstance(await cx.check_storage(), kind), "the probe fails too"
        assert await cx.check_storage() is None, "the probe notices the fault cleared"
        after = await cx.store(project="p", content="after the fault")
        assert after.recorded_seq == before.recorded_seq + 1, "no gap in the chain"
        assert cx.statistics().writer.restarts == 0, "the connection was never broken"
    await verified(db_path, [before.id, after.id])


@pytest.mark.parametrize(("message", "kind", "code", "says"), FAULTS)
async def test_opening_under_a_write_fault_is_refused_with_the_typed_error(
    tmp_path: Path, message: str, kind: type[StorageError], code: str, says: str,
) -> None:
    db_path, fault_file = tmp_path / "data" / "cortex.db", tmp_path / "fault"
    acknowledged = await seed(db_path, count=3)
    with fault(fault_file, message), pytest.raises(kind) as caught:
        async with Cortex.open(db_path, log_level="critical", fault_file=fault_file):
            pass
    assert caught.value.code == code and str(db_path) in caught.value.detail
    await verified(db_path, acknowledged)


async def test_an_io_error_that_outlasts_the_restarts_never_kills_the_writer(
    tmp_path: Path,
) -> None:
    db_path, fault_file = tmp_path / "data" / "cortex.db", tmp_path / "fault"
    async with Cortex.open(db_path, log_level="critical", fault_file=fault_file) as cx:
        before = await cx.store(project="p", content="before")
        with fault(fault_file, "disk I/O error"):  # fails commits and reopening alike
            with pytest.raises(WriterFailed) as crashed:
                await cx.store(project="p", content="during")
            assert str(db_path) in crashed.value.detail
            for _ in range(5):  # far more than the runtime's budget of restart attempts
                with pytest.raises(StorageError) as caught:
                    await cx.store(project="p", content="during")
                assert caught.value.code == "storage_error"
                assert str(db_path) in caught.value.detail
                assert "disk I/O error" in caught.value.detail
            assert (await cx.get(before.id)).content == "before", "reads go on"
            fault_now = await cx.check_storage()
            assert fault_now is not None and fault_now.code == "storage_error"
        after = await cx.store(project="p", content="after")
        assert after.recorded_seq == before.recorded_seq + 1, "head rebuilt from the file"
        assert cx.statistics().writer.restarts == 1
    await verified(db_path, [before.id, after.id])


async def test_health_names_a_write_fault_and_turns_green_without_a_write(
    tmp_path: Path,
) -> None:
    fault_file = tmp_path / "fault"
    app = create_app(Settings.load(tmp_path / "data" / "cortex.db", log_level="critical",
                                   fault_file=fault_file))
    async with AsyncTestClient(app) as client:
        assert (await client.get("/health")).status_code == 200
        cortex: Cortex = app.state.cortex
        with fault(fault_file, DISK_FULL):
            with pytest.raises(DiskFull):  # the engine lives on the client's portal loop
                await anyio.to_thread.run_sync(client.blocking_portal.call,  # type: ignore[arg-type]
                                               cortex.store, "p", "refused")
            health = await client.get("/health")
            assert health.status_code == 503
            assert health.json()["status"] == "disk_full"
            assert health.json()["db"]["write_error"]["code"] == "disk_full"
        health = await client.get("/health")
        assert health.status_code == 200, health.json()
        assert health.json()["db"]["writable"] is True


async def test_concurrent_writers_under_a_fault_all_get_it_and_none_hangs(
    tmp_path: Path,
) -> None:
    db_path, fault_file = tmp_path / "data" / "cortex.db", tmp_path / "fault"
    refused: list[BaseException] = []
    stored: list[str] = []

    async def store(n: int) -> None:
        try:
            stored.append((await cx.store(project="p", content=f"writer {n}")).id)
        except DiskFull as error:
            refused.append(error)

    async with Cortex.open(db_path, log_level="critical", fault_file=fault_file) as cx:
        with fault(fault_file, DISK_FULL), anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(store, n)
        assert len(refused) == 50 and not stored
        assert await cx.ledger_size() == 0, "no batch was half-written"
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(store, n)
        assert len(stored) == 50
        assert await cx.ledger_size() == 50
    await verified(db_path, stored)


async def test_closing_during_a_write_fault_is_clean_and_the_store_reopens(
    tmp_path: Path,
) -> None:
    db_path, fault_file = tmp_path / "data" / "cortex.db", tmp_path / "fault"
    async with Cortex.open(db_path, log_level="critical", fault_file=fault_file) as cx:
        kept = await cx.store(project="p", content="kept")
        fault_file.write_text(DISK_FULL)  # the final checkpoint at shutdown fails too
    fault_file.unlink()
    await verified(db_path, [kept.id])


# --- write faults over HTTP, against a real ``cortex serve`` ----------------------------


@pytest.mark.parametrize(("message", "kind", "code", "says"), FAULTS)
def test_a_served_write_fault_is_a_503_with_retry_after_and_clears_by_itself(
    tmp_path: Path, message: str, kind: type[StorageError], code: str, says: str,
) -> None:
    fault_file = tmp_path / "fault"
    with running_server(tmp_path, fault_file=str(fault_file)) as server, \
            server.client("acme-write") as http:
        stored = http.post("/v1/facts", json={"project": "p", "content": "before"})
        assert stored.status_code == 201
        with fault(fault_file, message):
            refused = http.post("/v1/facts", json={"project": "p", "content": "during"})
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["code"] == code and says in refused.json()["detail"]
            assert http.get(f"/v1/facts/{stored.json()['id']}").status_code == 200
            health = httpx.get(f"{server.url}/health", timeout=30)
            assert health.status_code == 503 and health.json()["status"] == code
        assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
        after = http.post("/v1/facts", json={"project": "p", "content": "after"})
        assert after.status_code == 201, after.text
        ids = [stored.json()["id"], after.json()["id"]]
    verified_sync(server.db, ids, "acme")


# --- write faults on a real, tiny file system ------------------------------------------


async def test_a_really_full_disk_fails_writes_with_disk_full_until_space_is_freed(
    tmp_path: Path,
) -> None:
    with tiny_filesystem(tmp_path) as mountpoint:
        db_path = mountpoint / "cortex.db"
        acknowledged: list[str] = []
        async with Cortex.open(db_path, log_level="critical", checkpoint_every=0) as cx:
            acknowledged.append((await cx.store(project="p", content="first")).id)
            filler = fill_disk(mountpoint)
            with pytest.raises(DiskFull) as caught:
                for n in range(10_000):  # the WAL's free frames take a few first
                    acknowledged.append((await cx.store(project="p",
                                                        content=f"{n} " + "x" * 3000)).id)
            assert str(db_path) in caught.value.detail
            assert (await cx.get(acknowledged[0])).content == "first", "reads go on"
            assert isinstance(await cx.check_storage(), DiskFull)
            filler.unlink()
            assert await cx.check_storage() is None
            acknowledged.append((await cx.store(project="p", content="after")).id)
            assert cx.statistics().writer.restarts == 0
        await verified(db_path, acknowledged)


def test_a_served_real_disk_fills_up_answers_503_and_recovers_when_space_is_freed(
    tmp_path: Path,
) -> None:
    with tiny_filesystem(tmp_path, size_mb=8) as mountpoint:
        with running_server(mountpoint, checkpoint_every="0") as server, \
                server.client("acme-write") as http:
            first = http.post("/v1/facts", json={"project": "p", "content": "first"})
            ids = [first.json()["id"]]
            filler = fill_disk(mountpoint)
            for n in range(10_000):  # the WAL's free frames take a few first
                answer = http.post("/v1/facts", json={"project": "p",
                                                      "content": f"{n} " + "x" * 3000})
                if answer.status_code != 201:
                    break
                ids.append(answer.json()["id"])
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "disk_full" and "retry-after" in answer.headers
            assert http.get(f"/v1/facts/{ids[0]}").status_code == 200, "reads go on"
            health = httpx.get(f"{server.url}/health", timeout=30)
            assert health.status_code == 503 and health.json()["status"] == "disk_full"
            filler.unlink()
            health = httpx.get(f"{server.url}/health", timeout=30)
            assert health.status_code == 200, health.json()
            after = http.post("/v1/facts", json={"project": "p", "content": "after"})
            assert after.status_code == 201, after.text
            ids.append(after.json()["id"])
        verified_sync(server.db, ids, "acme")


async def test_opening_on_a_read_only_file_system_is_refused_naming_the_database(
    tmp_path: Path,
) -> None:
    with tiny_filesystem(tmp_path) as mountpoint:
        db_path = mountpoint / "cortex.db"
        acknowledged = await seed(db_path, count=3)
        remount(mountpoint, "ro")
        with pytest.raises(StorageReadOnly) as caught:
            async with Cortex.open(db_path, log_level="critical"):
                pass
        assert caught.value.code == "storage_read_only"
        assert str(db_path) in caught.value.detail
        refused = cortex_cli("stats", "--db", str(db_path))
        assert refused.returncode == 1
        assert "read-only" in refused.stderr and "Traceback" not in refused.stderr
        served = serve_refuses(db_path)
        assert served.returncode != 0 and f"the database {db_path} cannot be written" in (
            served.stderr)
        assert "Traceback" not in served.stderr + served.stdout
        remount(mountpoint, "rw")
        await verified(db_path, acknowledged)


# --- a damaged or tampered file at start -----------------------------------------------

DAMAGE = [pytest.param(overwrite_header, id="header"),
          pytest.param(overwrite_facts_page, id="facts-page"),
          pytest.param(truncate_file, id="truncated")]


@pytest.mark.parametrize("damage", DAMAGE)
async def test_a_damaged_database_file_is_refused_at_open_naming_the_file(
    tmp_path: Path, damage: Callable[[Path], str],
) -> None:
    db_path = tmp_path / "data" / "cortex.db"
    await seed(db_path)
    problem = damage(db_path)
    with pytest.raises(DatabaseCorrupt) as caught:
        async with Cortex.open(db_path, log_level="critical"):
            pass
    assert caught.value.code == "database_corrupt"
    assert str(db_path) in caught.value.detail and problem in caught.value.detail
    refused = cortex_cli("verify", "--db", str(db_path))
    assert refused.returncode == 1
    assert "is corrupt" in refused.stderr and "Traceback" not in refused.stderr


async def test_a_damaged_page_met_by_a_write_is_database_corrupt_and_health_turns_red(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "cortex.db"
    async with Cortex.open(db_path, log_level="critical") as cx:
        seeded = await cx.store(project="ops", content="the queue uses Kafka")
    overwrite_root_page(db_path, "entities")
    async with Cortex.open(db_path, log_level="critical", verify_on_open="incremental") as cx:
        for _ in range(2):  # the writer reopens after the first, and refuses again
            with pytest.raises(DatabaseCorrupt) as caught:
                await cx.store(project="ops", content="the cache uses Redis")
            assert str(db_path) in caught.value.detail and "malformed" in caught.value.detail
        assert cx.integrity_failures[-1].code == "database_corrupt", "health turns red"
        assert (await cx.get(seeded.id)).content == "the queue uses Kafka", "reads go on"
        assert await cx.ledger_size() == 1, "nothing half-written"


async def test_serve_and_migrate_check_refuse_a_damaged_database_with_the_reason(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "cortex.db"
    await seed(db_path, count=20)
    overwrite_header(db_path)
    result = serve_refuses(db_path)
    assert result.returncode != 0
    assert f"the database file {db_path} is corrupt" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    checked = cortex_cli("migrate", "--check", "--db", str(db_path))
    assert checked.returncode == 1 and f"{db_path} is corrupt" in checked.stderr
    assert "Traceback" not in checked.stderr


async def test_serve_refuses_a_tampered_ledger_naming_the_entry(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "cortex.db"
    await seed(db_path, count=6)
    conn = sqlean.connect(str(db_path), isolation_level=None)
    try:
        conn.execute("UPDATE ledger SET payload = replace(payload, 'ops', 'dev') WHERE seq = 3")
    finally:
        conn.close()
    with pytest.raises(LedgerTampered) as caught:
        async with Cortex.open(db_path, log_level="critical"):
            pass
    assert caught.value.seq == 3
    result = serve_refuses(db_path)
    assert result.returncode != 0
    assert "refusing to open" in result.stderr and "entry 3" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_every_storage_error_is_a_cortex_error_with_its_own_code() -> None:
    errors = [DiskFull("/d.db", DISK_FULL), StorageReadOnly("/d.db", READ_ONLY),
              DatabaseCorrupt("/d.db", "file is not a database")]
    assert all(isinstance(error, CortexError) for error in errors)
    assert len({error.code for error in errors}) == len(errors)
    assert all(error.to_dict()["path"] == "/d.db" for error in errors)


async def test_a_damaged_page_found_on_read_is_database_corrupt_not_a_bare_sqlite_error(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "cortex.db"
    acknowledged = await seed(db_path)
    overwrite_facts_page(db_path)
    # incremental open skips the whole-file check: the damage is met on the first read
    async with Cortex.open(db_path, log_level="critical", verify_on_open="incremental") as cx:
        with pytest.raises(DatabaseCorrupt) as caught:
            await cx.get(acknowledged[0])
        assert str(db_path) in caught.value.detail
        assert cx.integrity_failures, "health turns red"
