"""The witness file (outside the database's directory) cannot be written mid-run: its
file system is full or the path is blocked. Checkpoints are made after COMMIT, so the
writes of that batch are durable: they must be acknowledged as such, and the writer must
go on from the head it committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cortex import Cortex
from tests.chaos.kit import Acks, assert_acks_hold, assert_sound

pytestmark = [pytest.mark.chaos, pytest.mark.anyio]


async def test_a_witness_that_cannot_be_written_fails_no_committed_write_and_wedges_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "cortex.db"
    acks = Acks()
    async with Cortex.open(db, log_level="warning", checkpoint_every=2) as cx:
        acks.stored["first"] = (await cx.store("p", "first", id="first")).content
        witness = cx._writer_actor.witness_path
        witness.unlink()
        witness.mkdir()  # os.replace cannot put a file over a non-empty directory
        (witness / "blocker").write_text("")
        with capture_logs() as logged:
            for n in range(6):  # every other store makes an automatic checkpoint
                fact = await cx.store("p", f"fact {n}", id=f"f{n}")
                acks.stored[fact.id] = fact.content
            made = await cx.ledger.checkpoint()
        assert "writer.witness_not_written" in {line["event"] for line in logged}
        assert made.tree_size == await cx.ledger_size()
        assert (await cx.ledger.verify()).ok
        assert cx.statistics().writer.restarts == 0
        (witness / "blocker").unlink()
        witness.rmdir()
        acks.stored["last"] = (await cx.store("p", "last", id="last")).content
        latest = await cx.ledger.checkpoint()
        assert json.loads(witness.read_text())["note"] == latest.note
        verifier = cx.ledger.public_key
    assert_acks_hold(assert_sound(db, verifier), acks)
    async with Cortex.open(db, log_level="warning") as cx:  # the witness admits the store
        assert (await cx.get("last")).content == "last"
