"""kill -9 while the indexer is mid-way loses no indexing work and repeats none.

A child process stores facts with background indexing on and reports once a quarter of
them have vectors; the test SIGKILLs it there, reopens the file and checks that indexing
resumes from the committed mark: every live fact ends with exactly one vector of the
current model, and only the facts after the mark are embedded again."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest
from anyio.streams.text import TextReceiveStream

from cortex import Cortex
from cortex.embed.model_files import MODEL_ID

pytestmark = [pytest.mark.anyio, pytest.mark.chaos, pytest.mark.timeout(240)]

FACTS = 2000

CHILD = """
import sys, anyio
from cortex import Cortex

async def main(db: str, count: int) -> None:
    async with Cortex.open(db, log_level="warning", index_vectors=True) as cx:
        await cx.embeddings.embedder()  # build the model before the clock matters
        facts = []
        for first in range(0, count, 500):
            facts += await cx.store_many([{"project": "chaos", "content":
                f"fact {n}: the replica {n % 37} lagged behind the primary"}
                for n in range(first, min(first + 500, count))])
        print("stored", facts[-1].id, flush=True)
        await cx.wait_indexed(facts[count // 4])
        print("midway", cx.index_progress.rowid, flush=True)
        await anyio.sleep_forever()

anyio.run(main, sys.argv[1], int(sys.argv[2]))
"""


async def _run_until_midway(db_path: Path) -> tuple[str, int]:
    """Start the child, wait for its midway report, SIGKILL it; (last fact id, mark)."""
    lines: dict[str, str] = {}
    async with await anyio.open_process([sys.executable, "-c", CHILD, str(db_path),
                                         str(FACTS)], stderr=None) as process:
        try:
            assert process.stdout is not None
            buffer = ""
            with anyio.fail_after(180):
                async for chunk in TextReceiveStream(process.stdout):
                    buffer += chunk
                    *complete, buffer = buffer.split("\n")
                    for line in complete:
                        key, _, value = line.partition(" ")
                        lines[key] = value
                    if "midway" in lines:
                        break
        finally:
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()
    assert process.returncode == -signal.SIGKILL
    assert "midway" in lines, f"the child stopped early: {lines}"
    return lines["stored"], int(lines["midway"])


def _index_state(db_path: Path) -> tuple[int, int, int, int]:
    """(progress mark, vectors, vectors of the current model, live facts without one)."""
    conn = sqlite3.connect(db_path)
    try:
        mark = conn.execute("SELECT indexed_rowid FROM vector_progress WHERE model = ?",
                            (MODEL_ID,)).fetchone()
        vectors, current = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE model = ?) FROM fact_embeddings",
            (MODEL_ID,)).fetchone()
        missing = conn.execute(
            "SELECT count(*) FROM facts f WHERE f.superseded_seq IS NULL AND"
            " f.deprecated_seq IS NULL AND f.redacted = 0 AND NOT EXISTS"
            " (SELECT 1 FROM fact_embeddings e WHERE e.fact_rowid = f.rowid)").fetchone()[0]
        return (0 if mark is None else int(mark[0])), vectors, current, missing
    finally:
        conn.close()


async def test_kill_9_mid_indexing_resumes_from_the_mark_and_loses_nothing(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "data" / "cortex.db"
    last_id, reported = await _run_until_midway(db_path)
    mark, vectors, _, missing = _index_state(db_path)
    assert reported <= mark < FACTS, "killed mid-way, after the reported progress committed"
    assert vectors == mark and missing == FACTS - mark, "vectors exactly up to the mark"

    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        await cx.wait_indexed(await cx.get(last_id))
        embedded = cx.embeddings.statistics().index_texts
        hits = await cx.search("replica lagged behind", mode="semantic", top_k=5)
        assert hits.pending == 0 and len(hits.results) == 5
    assert embedded == FACTS - mark, "resumed at the mark: nothing embedded twice"
    assert _index_state(db_path) == (FACTS, FACTS, FACTS, 0), "one current vector per fact"
