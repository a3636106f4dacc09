"""The ``cortex`` command line. Exit codes: 0 ok, 1 error, 2 usage.

Every command takes ``--db PATH`` (env ``CORTEX_DB``); read commands take ``--json``.
Commands run in process on the database file; while a server holds it, use the HTTP API.
"""

from __future__ import annotations

from cortex.cli import facts, graph, ledger, mcp_command, setup
from cortex.cli._common import app

__all__ = ["app", "facts", "graph", "ledger", "main", "mcp_command", "setup"]


def main() -> None:
    app()
