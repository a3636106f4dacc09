"""Search by meaning: the real model, the indexer, filters inside the scan, degradation."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlean
from structlog.testing import capture_logs

from cortex import Cortex
from cortex.errors import ShuttingDown

pytestmark = pytest.mark.anyio

# (fact, query): no content word in common, the same meaning.
PAIRS = [
    ("The database file got corrupted after a power cut", "storage damaged by outage"),
    ("Deploys go through Argo CD with automatic rollbacks", "how do we ship releases"),
    ("The on-call engineer must acknowledge pages within five minutes",
     "response time for alerts at night"),
    ("Use WAL mode so readers never block the writer", "sqlite journaling choice"),
    ("Passwords are hashed with Argon2id", "how are user credentials stored"),
    ("The office is closed on public holidays", "when is the building shut"),
    ("Latency spiked because the cache was cold after restart",
     "slow responses following reboot"),
    ("Kubernetes pods are evicted when nodes run out of memory",
     "containers killed under RAM pressure"),
    ("Invoices are sent to customers on the first day of each month",
     "monthly billing schedule"),
    ("The mobile app crashes when the camera permission is denied",
     "phone application fails without photo access"),
    ("We rotate TLS certificates every ninety days", "how often are https keys renewed"),
    ("Backups are copied to a second region every night", "disaster recovery data replication"),
    ("New hires get a laptop on their first morning", "equipment for onboarding employees"),
    ("The search index is rebuilt every Sunday", "weekly reindexing job"),
    ("Customer support answers tickets within one business day",
     "helpdesk reply time commitment"),
    ("Feature flags let us turn off risky code paths instantly",
     "disable new functionality without redeploying"),
    ("The CEO prefers written memos over slide decks",
     "leadership likes documents not presentations"),
    ("Our API limits each client to one hundred requests per second",
     "throttling policy for integrations"),
    ("The payment provider charges two percent per transaction", "card processing fees"),
    ("Logs older than thirty days are deleted automatically",
     "retention period for event records"),
]
DISTRACTORS = [
    "The team lunch moved to Thursdays", "Coffee machine on floor three is broken",
    "Quarterly planning starts next week", "The parking garage needs a badge",
    "Design reviews happen on Tuesdays", "Interns present their projects in August",
]


async def test_meaning_finds_the_right_fact_without_shared_words(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        stored = {}
        for fact_text, _ in PAIRS:
            stored[fact_text] = (await cx.store(project="kb", content=fact_text)).id
        for text in DISTRACTORS:
            last = await cx.store(project="kb", content=text)
        await cx.wait_indexed(last)
        for mode in ("semantic", "hybrid"):
            found = 0
            for fact_text, query in PAIRS:
                results = await cx.search(query, project="kb", top_k=3, mode=mode)
                assert results.mode == mode and results.pending == 0
                found += stored[fact_text] in [h.fact.id for h in results.results]
            assert found / len(PAIRS) >= 0.9, (mode, found)


async def test_filters_run_inside_the_knn_so_results_are_never_short(db_path: Path) -> None:
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        await cx.store_many([{"project": "noise", "content": f"database corruption report {n}"}
                             for n in range(1000)])
        wanted = [await cx.store(project="mine", content=text) for text in (
            "disk failure notes", "gardening tips for spring", "a recipe for bread")]
        await cx.wait_indexed(wanted[-1])
        results = await cx.search("database corruption", project="mine", top_k=3,
                                  mode="semantic")
        assert {h.fact.id for h in results.results} == {f.id for f in wanted}
        assert results.results[0].fact.id == wanted[0].id


async def test_indexing_catches_up_after_a_store_storm_and_resumes_after_restart(
    db_path: Path,
) -> None:
    async with Cortex.open(db_path, log_level="warning", index_vectors=False) as cx:
        facts = await cx.store_many([{"project": "s", "content": f"storm fact {n}"}
                                     for n in range(300)])
    assert _vector_count(db_path) == 0, "stores never wait on the model"
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        await cx.wait_indexed(facts[-1])
        retired = await cx.deprecate(facts[0].id)
        assert retired.lifecycle == "deprecated"
        hits = await cx.search("storm fact 0", mode="semantic", top_k=100)
        assert facts[0].id not in {h.fact.id for h in hits.results}
    assert _vector_count(db_path) == 299, "the deprecated fact left the index"


def _vector_count(db_path: Path) -> int:
    import sqlite_vec

    conn = sqlean.connect(str(db_path))
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    try:
        return int(conn.execute("SELECT count(*) FROM fact_embeddings").fetchone()[0])
    finally:
        conn.close()


async def test_without_the_model_search_answers_in_text_and_says_so(
    db_path: Path, tmp_path: Path
) -> None:
    async with Cortex.open(db_path, log_level="warning", index_vectors=True,
                           model_dir=tmp_path) as cx:
        fact = await cx.store(project="p", content="the disk filled up")
        results = await cx.search("disk", mode="hybrid")
        assert results.mode == "text" and "unavailable" in (results.notice or "")
        assert [h.fact.id for h in results.results] == [fact.id]


async def test_closing_leaves_the_indexing_backlog_for_the_next_open(db_path: Path) -> None:
    """Closing takes the slice in hand, not the model's time for every pending fact (it
    used to drain the backlog until ``stop_timeout`` cancelled it); a waiter is told."""
    with capture_logs() as logged:
        async with Cortex.open(db_path, log_level="warning", index_vectors=True,
                               stop_timeout=2.0) as cx:
            await cx.embed(["load the model first"])
            for first in range(0, 4000, 1000):
                await cx.store_many([{"project": "p", "content": f"backlog fact {n}"}
                                     for n in range(first, first + 1000)])
            waiting = await cx.store(project="p", content="the last one")
        with pytest.raises(ShuttingDown):
            await cx.index_progress.wait_for(waiting.recorded_seq)
    assert [e for e in logged if e["event"] == "actor.stop_timeout"] == []
    async with Cortex.open(db_path, log_level="warning", index_vectors=True) as cx:
        last = await cx.store(project="p", content="after the restart", wait_indexed=True)
        found = await cx.search("after the restart", mode="semantic", project="p", top_k=1)
    assert found.pending == 0 and found.results[0].fact.id == last.id
