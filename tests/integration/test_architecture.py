"""The single-writer rule, checked on the source: who may write to the database."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITER_MODULE = "cortex/engine/writer.py"
WRITE_ONLY_NAMES = {"open_writer", "connect_writer_sync", "apply_pending"}


def _imports(path: Path) -> set[str]:
    """Dotted names a module imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules() -> list[Path]:
    return sorted((ROOT / "cortex").rglob("*.py"))


def test_only_the_writer_imports_the_mutations_module() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for path in _modules()
        if "cortex.db.mutations" in _imports(path)
    }
    assert importers == {WRITER_MODULE}


def test_only_the_writer_opens_a_read_write_connection() -> None:
    users = set()
    for path in _modules():
        imported = _imports(path)
        if any(name.rsplit(".", 1)[-1] in WRITE_ONLY_NAMES for name in imported):
            users.add(str(path.relative_to(ROOT)))
    assert users == {WRITER_MODULE}


def test_nothing_but_the_connect_module_calls_sqlean_connect() -> None:
    callers = {
        str(path.relative_to(ROOT))
        for path in _modules()
        if "sqlean.connect(" in path.read_text()
    }
    assert callers == {"cortex/db/connect.py"}


def test_the_pure_core_does_no_io() -> None:
    forbidden = {"sqlite3", "sqlean", "aiosqlite", "anyio", "asyncio", "os", "socket",
                 "structlog", "logging", "httpx", "time", "pathlib"}
    for path in sorted((ROOT / "cortex" / "core").rglob("*.py")):
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & forbidden, f"{path.name} imports {roots & forbidden}"


def test_the_actor_runtime_knows_nothing_of_cortex() -> None:
    for path in sorted((ROOT / "actors").rglob("*.py")):
        roots = {name.split(".")[0] for name in _imports(path)}
        assert "cortex" not in roots, path.name


def test_only_the_api_error_module_knows_http_status_codes() -> None:
    users = {
        str(path.relative_to(ROOT))
        for path in _modules()
        if "status_codes" in path.read_text() or "HTTP_" in path.read_text()
    }
    assert users <= {"cortex/api/errors.py"}
