"""The CLI in process on a real database: every command, JSON output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cortex.cli import app

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_fact_commands_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "cli" / "cortex.db")
    stored = json.loads(run("store", "--project", "ops", "--tag", "db", "--json", "--db", db,
                            "Use WAL mode for the ledger"))
    fact_id = stored["id"]
    assert json.loads(run("get", fact_id, "--json", "--db", db))["content"] == (
        "Use WAL mode for the ledger")
    assert fact_id in run("recall", "--project", "ops", "--db", db)
    found = json.loads(run("search", "WAL", "--mode", "text", "--json", "--db", db))
    assert [h["fact"]["id"] for h in found["results"]] == [fact_id]
    newer = json.loads(run("update", fact_id, "--content", "Use WAL2", "--json", "--db", db))
    versions = json.loads(run("history", newer["id"], "--json", "--db", db))
    assert [v["id"] for v in versions] == [fact_id, newer["id"]]
    agent = json.loads(run("agents", "register", "bot", "--json", "--db", db))
    assert agent["id"] in run("agents", "list", "--db", db)
    voted = json.loads(run("vote", newer["id"], "--agent", agent["id"], "--value", "1",
                           "--json", "--db", db))
    assert voted["consensus_score"] == 1.1
    assert "deprecated" in run("deprecate", newer["id"], "--reason", "old", "--db", db)
    other = json.loads(run("store", "--project", "ops", "--json", "--db", db, "secret"))
    assert "redacted" in run("redact", other["id"], "--db", db)
    assert "not found" in run("get", "missing", "--db", db, code=1)
    assert "meta" in run("store", "--project", "ops", "--meta", "{bad", "--db", db, "x",
                         code=2)
    assert "project" in run("store", "--project", "has space", "--db", db, "x", code=2)


def test_ledger_commands_verify_prove_and_back_up(tmp_path: Path) -> None:
    db = str(tmp_path / "cli" / "cortex.db")
    for n in range(5):
        run("store", "--project", "ops", "--db", db, f"fact {n}")
    assert "ok: 5 entries" in run("verify", "--db", db)
    assert json.loads(run("verify", "--json", "--db", db))["ok"] is True
    assert "cortex.local/" in run("checkpoint", "--db", db)
    bundle = tmp_path / "proof.json"
    run("prove", "--leaf", "2", "--output", str(bundle), "--db", db)
    assert "valid: entry 2" in run("prove", "--verify", str(bundle))
    tampered = json.loads(bundle.read_text())
    tampered["proof"]["entry"] = tampered["proof"]["entry"].replace("ops", "dev")
    bundle.write_text(json.dumps(tampered))
    assert "INVALID" in run("prove", "--verify", str(bundle), code=1)
    assert json.loads(run("stats", "--json", "--db", db))["ledger_size"] >= 5
    backup = tmp_path / "backup.db"
    assert "verified" in run("backup", "--output", str(backup), "--db", db)
    assert backup.stat().st_size > 0
    assert "up to date" in run("migrate", "--check", "--db", db)


def test_export_then_import_is_idempotent_and_resumable(tmp_path: Path) -> None:
    source = str(tmp_path / "a" / "cortex.db")
    target = str(tmp_path / "b" / "cortex.db")
    for n in range(7):
        run("store", "--project", "ops", "--db", source, f"portable fact {n}")
    dump = tmp_path / "facts.jsonl"
    assert "exported 7 facts" in run("export", "--output", str(dump), "--db", source)
    assert "imported 7 facts" in run("import", str(dump), "--db", target)
    assert "imported 7 facts" in run("import", str(dump), "--db", target)  # no duplicates
    recalled = json.loads(run("recall", "--project", "ops", "--json", "--limit", "100",
                              "--db", target))["facts"]
    assert len(recalled) == 7
    originals = {json.loads(line)["id"] for line in dump.read_text().splitlines()}
    assert {f["id"] for f in recalled} == originals


def test_graph_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "cli" / "cortex.db")
    run("store", "--project", "ops", "--db", db, "The WriterActor depends on aiosqlite.")
    run("store", "--project", "ops", "--db", db, "aiosqlite wraps SQLite.")
    listed = json.loads(run("graph", "entities", "--project", "ops", "--json", "--db", db))
    assert {e["name"] for e in listed} == {"WriterActor", "aiosqlite", "SQLite"}
    near = json.loads(run("graph", "neighbors", "aiosqlite", "--json", "--db", db))
    assert {n["name"] for n in near["nodes"]} == {"aiosqlite", "WriterActor", "SQLite"}
    assert "depends_on" in run("graph", "neighbors", "WriterActor", "--db", db)
    path = json.loads(run("graph", "path", "WriterActor", "SQLite", "--json", "--db", db))
    assert [n["name"] for n in path["path"]["nodes"]] == ["WriterActor", "aiosqlite", "SQLite"]
    assert "no path" in run("graph", "path", "WriterActor", "SQLite", "--max-depth", "1",
                            "--db", db, code=1)
    assert "depth" in run("graph", "neighbors", "aiosqlite", "--depth", "9", "--db", db,
                          code=2)
