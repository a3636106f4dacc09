"""The blocking facade, settings from the environment, and the CLI's init."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cortex import CortexSync
from cortex.cli import app
from cortex.config import Settings
from cortex.errors import FactNotFound, InvalidInput


def test_cortex_sync_does_everything_the_async_facade_does(db_path: Path) -> None:
    with CortexSync.open(db_path, log_level="warning") as cx:
        fact = cx.store("notes", "plain scripts can use Cortex", tags=["sync"])
        assert cx.get(fact.id) == fact
        newer = cx.update(fact.id, content="plain scripts use CortexSync")
        assert [f.id for f in cx.history(newer.id)] == [fact.id, newer.id]
        assert [f.id for f in cx.recall("notes")] == [newer.id]
        batch = cx.store_many([{"project": "notes", "content": "two"}])
        assert cx.deprecate(batch[0].id, "obsolete").lifecycle == "deprecated"
        assert cx.statistics().ledger_size == 4
        with pytest.raises(FactNotFound):
            cx.get("missing")
        assert cx.redact(newer.id, "private").lifecycle == "redacted"
        head = cx.ledger.checkpoint()
        assert head.tree_size == 5 and cx.ledger.checkpoints()[0] == head
        assert cx.ledger.inclusion_proof(0).tree_size == 5
        assert cx.ledger.consistency_proof(2).new_size == 5
        assert cx.ledger.verify().ok and cx.ledger.public_key.startswith("cortex.local/")


def test_settings_come_from_env_then_arguments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CORTEX_DB", str(tmp_path / "env.db"))
    monkeypatch.setenv("CORTEX_READERS", "3")
    monkeypatch.setenv("CORTEX_ENQUEUE_TIMEOUT", "0.5")
    settings = Settings.load()
    assert settings.db_path == tmp_path / "env.db"
    assert settings.readers == 3 and settings.enqueue_timeout == 0.5
    assert Settings.load(tmp_path / "arg.db", readers=4).readers == 4
    assert Settings.load(tmp_path / "arg.db").db_path == tmp_path / "arg.db"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"colour": "blue"}, "colour"), ({"readers": 0}, "readers"),
     ({"durability": "sometimes"}, "durability"), ({"readers": "many"}, "readers")],
)
def test_bad_settings_are_refused_by_name(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Settings.load("x.db", **overrides)
    assert caught.value.field == field


def test_cli_init_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "cortex.db"
    result = CliRunner().invoke(app, ["init", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "database ready" in result.output
    assert db.exists()
    again = CliRunner().invoke(app, ["init", "--db", str(db)])
    assert again.exit_code == 0 and "0 ledger entries" in again.output


def test_cli_prints_the_checkpoint_public_key(tmp_path: Path) -> None:
    db = tmp_path / "keyed" / "cortex.db"
    result = CliRunner().invoke(app, ["public-key", "--db", str(db)])
    assert result.exit_code == 0, result.output
    name, key_id, key = result.output.strip().split("+", 2)
    assert name.startswith("cortex.local/") and len(key_id) == 8 and key
    assert (db.parent / "cortex-signing.key").stat().st_mode & 0o777 == 0o600


def test_cli_model_build_checks_and_caches_the_graph(tmp_path: Path) -> None:
    db = tmp_path / "m" / "cortex.db"
    result = CliRunner().invoke(app, ["model", "build", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "384 dimensions, norm 1.000000" in result.output
    assert list((db.parent / "models").glob("*.onnx"))
    missing = CliRunner().invoke(app, ["model", "build", "--from", str(tmp_path),
                                       "--db", str(db)])
    assert missing.exit_code == 1 and "--no-deps" in missing.output
