"""The chaos tests' own checks catch what they are meant to catch (so a green chaos run
means something): each damage below, done to a copy of a sound store, fails them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
import sqlean
from cryptography.exceptions import InvalidSignature

from cortex import Cortex
from tests.chaos.kit import Acks, assert_acks_hold, assert_sound, read_store

pytestmark = pytest.mark.chaos


@pytest.fixture(scope="module")
def sound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Acks]]:
    """A small sound store, made once: its path, verifier key and what it acknowledged."""
    db = tmp_path_factory.mktemp("sound") / "cortex.db"
    acks = Acks()

    async def build() -> str:
        async with Cortex.open(db, log_level="warning") as cx:
            agent = await cx.agents.register("judge")
            facts = await cx.store_many([{"project": "p", "content": f"fact {n}", "id": f"f{n}"}
                                         for n in range(4)])
            voted = await cx.vote("f1", agent.id, 1)
            assert voted.seq is not None
            acks.votes.append((voted.seq, "f1", agent.id, 1))
            made = await cx.ledger.checkpoint()
            acks.checkpoints.append((made.tree_size, bytes.fromhex(made.root_hash)))
            acks.stored.update({f.id: f.content for f in facts})
            acks.batches.append(tuple(f.id for f in facts))
            return cx.ledger.public_key

    with pytest.MonkeyPatch.context() as patch:  # module scope: no per-test state dir yet
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        patch.setenv("CORTEX_INDEX_VECTORS", "0")
        verifier = anyio.run(build)
    assert_acks_hold(assert_sound(db, verifier), acks)
    yield db, verifier, acks


def _damaged(sound: tuple[Path, str, Acks], tmp_path: Path, sql: str) -> Path:
    db = tmp_path / "cortex.db"
    shutil.copy(sound[0], db)
    conn = sqlean.connect(str(db))
    conn.execute(sql)
    conn.commit()
    conn.close()
    return db


@pytest.mark.parametrize("sql", [
    "DELETE FROM facts WHERE id = 'f2'",
    "UPDATE facts SET content = 'other' WHERE id = 'f0'",
    "UPDATE votes SET value = -1",
    "UPDATE facts SET consensus_score = 3.0 WHERE id = 'f1'",
    "UPDATE checkpoints SET root_hash = zeroblob(32)",
    "UPDATE checkpoints SET note = replace(note, substr(note, -10, 4), 'AAAA')",
    "DELETE FROM ledger WHERE seq = (SELECT max(seq) FROM ledger)",
], ids=["fact row lost", "content changed", "vote changed", "score changed",
        "root changed", "signature changed", "entry lost"])
def test_the_store_checks_catch_each_kind_of_damage(
    sound: tuple[Path, str, Acks], tmp_path: Path, sql: str,
) -> None:
    db = _damaged(sound, tmp_path, sql)
    with pytest.raises((AssertionError, InvalidSignature)):
        assert_sound(db, sound[1])


@pytest.mark.parametrize("change", [
    lambda acks: acks.stored.update({"never-stored": "x"}),
    lambda acks: acks.stored.update({"f0": "not what was stored"}),
    lambda acks: acks.batches.append(("f0", "never-stored")),
    lambda acks: acks.votes.append((acks.votes[0][0], "f1", "someone else", 1)),
    lambda acks: acks.checkpoints.append((1, bytes(32))),
], ids=["lost write", "other content", "half a batch", "other vote", "lost checkpoint"])
def test_the_acknowledgement_checks_catch_what_was_promised_and_is_missing(
    sound: tuple[Path, str, Acks], change: Callable[[Acks], None],
) -> None:
    db, _, acks = sound
    claimed = Acks(stored=dict(acks.stored), batches=list(acks.batches),
                   votes=list(acks.votes), checkpoints=list(acks.checkpoints))
    change(claimed)
    with pytest.raises(AssertionError):
        assert_acks_hold(read_store(db), claimed)
