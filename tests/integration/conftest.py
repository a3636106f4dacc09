"""Fixtures for tests on a real SQLite file in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cortex import Cortex


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cortex.db"


@pytest.fixture
async def cx(db_path: Path) -> AsyncIterator[Cortex]:
    async with Cortex.open(db_path, log_level="warning") as cortex:
        yield cortex
