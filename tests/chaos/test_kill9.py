"""``kill -9`` of a serving process under a storm of writes, again and again on one file.

SPEC §6: an acknowledged write survives ``kill -9`` at any moment; after any crash the
ledger verifies, the Merkle root matches a fresh recomputation, every acknowledged fact
is present and no unacknowledged half-command is visible.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.chaos.kit import SEED, Acks, assert_acks_hold, assert_sound
from tests.chaos.load import HttpClient, Targets, run_clients, weighted
from tests.integration.ledger_check import naive_root
from tests.integration.server_kit import Server, create_keys, start_server, stop_server

pytestmark = pytest.mark.chaos

ROUNDS = int(os.environ.get("CORTEX_KILL_ROUNDS", "20"))
CLIENTS = 5
#: no rate limit (the storm is the point); small checkpoint interval, so automatic
#: checkpoints land inside the batches being killed
SERVER = {"rate_limit_per_s": "0", "checkpoint_every": "40"}
STORM = weighted({"store": 5, "store_many": 2, "update": 2, "vote": 4, "checkpoint": 1})
#: one client of each storm is an admin that also creates and revokes keys
ADMIN = weighted({"store": 5, "churn_key": 2, "checkpoint": 1})


def _check_after_restart(server: Server, acks: Acks, verifier: str | None) -> str:
    """Every invariant, through the server and straight from the file; return the key."""
    with server.client("acme-admin") as admin:
        key = admin.get("/v1/ledger/public-key").json()["verifier_key"]
        assert verifier in (None, key), "the signing key changed across a restart"
        report = admin.get("/v1/ledger/verify").json()
    assert report["ok"], report["problems"]
    assert report["root_hash"] == naive_root(server.db, report["tree_size"]).hex()
    assert_acks_hold(assert_sound(server.db, key), acks)
    return str(key)


def _serve_checked(db: Path, keys: dict[str, str], acks: Acks, targets: Targets,
                   verifier: str | None, **env: str) -> tuple[Server, str]:
    """Start a server on ``db``, check the store it found, register the agents once."""
    server = start_server(db, keys, **SERVER, **env)
    try:
        verifier = _check_after_restart(server, acks, verifier)
        if not targets.agents:
            with server.client("acme-admin") as admin:
                targets.agents = [admin.post("/v1/agents", json={"name": f"a{n}"}).json()["id"]
                                  for n in range(6)]
        _retry_in_doubt(server, acks, targets)
    except BaseException:
        stop_server(server.process, timeout=5)
        raise
    return server, verifier


def _retry_in_doubt(server: Server, acks: Acks, targets: Targets) -> None:
    """A client that lost its answer retries with the same ids (or Idempotency-Key):
    exactly one fact (one whole batch) results; revoked keys stay revoked."""
    retry = HttpClient(server.url, server.keys["acme-write"], acks, targets, "retry", SEED)
    try:
        for batch in acks.batches:
            if batch[0] in acks.doubtful:
                items = {fact_id: acks.doubtful[fact_id] for fact_id in batch}
                assert retry.resend_batch(items), f"retrying the batch {batch} failed"
        for fact_id, content in list(acks.doubtful.items()):
            assert retry.resend(fact_id, content), f"retrying {fact_id} failed"
        for secret in targets.revoked:
            assert retry.http.get("/v1/facts", headers={
                "Authorization": f"Bearer {secret}"}).status_code == 401, "a key came back"
    finally:
        retry.close()


def _storm_then_signal(server: Server, acks: Acks, targets: Targets, rng: random.Random,
                       round_: int, signum: int = signal.SIGKILL) -> str:
    """Storm the server, send it ``signum`` at a random moment; return its output."""
    stop = threading.Event()
    clients = [HttpClient(server.url, server.keys["acme-write"], acks, targets,
                          f"r{round_}c{n}", rng.randrange(2**32)) for n in range(CLIENTS)]
    admin = HttpClient(server.url, server.keys["acme-admin"], acks, targets,
                       f"r{round_}admin", rng.randrange(2**32))
    # the moment: after a random number of acknowledgements, plus a random instant
    wanted = acks.acked_count() + rng.randint(1, 60)
    pause = rng.uniform(0, 0.05)
    threads = run_clients(clients, STORM, stop) + run_clients([admin], ADMIN, stop)
    try:
        deadline = time.monotonic() + 60
        while acks.acked_count() < wanted and not acks.unexpected:
            assert time.monotonic() < deadline, f"round {round_}: the storm made no progress"
            time.sleep(0.002)
        time.sleep(pause)
        if signum == signal.SIGKILL and rng.random() < 0.25:
            # killed while stopping: draining, signing the final checkpoint, closing
            server.process.send_signal(signal.SIGINT)
            time.sleep(rng.uniform(0, 0.3))
        server.process.send_signal(signum)
        if signum == signal.SIGKILL:
            stop.set()
        signalled = time.monotonic()
        # a clean stop, under the storm still going on, must end by itself in time
        output, _ = server.process.communicate(timeout=60)
        if signum != signal.SIGKILL:
            print(f"[stopped {time.monotonic() - signalled:.2f}s after SIGINT]", end=" ")
    except BaseException:
        server.process.kill()
        raise
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert not acks.unexpected, acks.unexpected[:5]
    return output or ""


@pytest.mark.timeout(480)
def test_every_acknowledged_write_survives_kill_9_twenty_times_in_a_row(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    db = tmp_path / "data" / "cortex.db"
    acks, targets = Acks(), Targets(agents=[])
    keys = create_keys(db)
    verifier: str | None = None
    for round_ in range(ROUNDS):
        # half the rounds hold each transaction open a few ms, so more kills land
        # between BEGIN and COMMIT
        server, verifier = _serve_checked(db, keys, acks, targets, verifier,
                                          commit_delay_ms=rng.choice(("0", "4")))
        _storm_then_signal(server, acks, targets, rng, round_)
    server = start_server(db, keys, **SERVER)
    try:
        verifier = _check_after_restart(server, acks, verifier)
    finally:
        stop_server(server.process)
    snap = assert_sound(db, verifier)
    assert_acks_hold(snap, acks)
    assert max(snap.checkpoints) == len(snap.entries), "a clean stop signs the final head"
    assert len(acks.stored) >= ROUNDS and len(acks.votes) > 0 and acks.checkpoints
    print(f"\nkill -9 x{ROUNDS}: {len(acks.stored)} facts, {len(acks.votes)} votes, "
          f"{len(acks.checkpoints)} checkpoints acknowledged; {len(snap.entries)} entries;"
          f" answers {dict(acks.answers)}")


@pytest.mark.timeout(240)
def test_a_sigint_under_a_storm_drains_answers_everyone_and_signs_the_final_head(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED + 1)
    db = tmp_path / "data" / "cortex.db"
    acks, targets = Acks(), Targets(agents=[])
    keys = create_keys(db)
    verifier: str | None = None
    for round_ in range(2):
        server, verifier = _serve_checked(db, keys, acks, targets, verifier)
        output = _storm_then_signal(server, acks, targets, rng, round_, signal.SIGINT)
        assert server.process.returncode == 0, output[-3000:]
        logged = [json.loads(line) for line in output.splitlines() if line[:1] == "{"]
        errors = [line for line in logged if line.get("level") in ("error", "critical")]
        assert "Traceback" not in output and not errors, output[-3000:]
        snap = assert_sound(db, verifier)
        assert_acks_hold(snap, acks)
        assert max(snap.checkpoints) == len(snap.entries), "the final head is signed"
        [witness] = (Path(os.environ["XDG_STATE_HOME"]) / "cortex" / "witness").glob("*.json")
        seen = json.loads(witness.read_text())
        assert seen == {"note": snap.checkpoints[len(snap.entries)][1], "clean_shutdown": True}
