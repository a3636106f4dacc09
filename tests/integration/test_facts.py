"""Facts through the real engine: store, get, update, deprecate, history, recall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cortex import Cortex
from cortex.core.hashing import content_hash
from cortex.errors import (
    FactConflict,
    FactIsDeprecated,
    FactNotFound,
    FactSuperseded,
    InvalidInput,
)
from tests.integration.ledger_check import count_rows, verify_chain

pytestmark = pytest.mark.anyio


async def test_get_right_after_store_returns_the_fact_from_a_reader(cx: Cortex) -> None:
    before = cx.statistics().readers.processed
    stored = await cx.store(project="infra", content="Use WAL mode", tags=["sqlite"],
                            meta={"by": "ops"}, source="runbook")
    fetched = await cx.get(stored.id)
    assert fetched == stored
    assert fetched.content == "Use WAL mode"
    assert fetched.tags == ["sqlite"] and fetched.meta == {"by": "ops"}
    assert fetched.content_hash == content_hash("Use WAL mode")
    assert fetched.lifecycle == "active"
    assert cx.statistics().readers.processed == before + 1


async def test_text_is_stored_byte_exact(cx: Cortex) -> None:
    text = "  naïve café — 日本語 🚀\n\ttrailing spaces   "
    fact = await cx.store(project="p", content=text)
    assert (await cx.get(fact.id)).content == text


async def test_get_of_unknown_or_other_tenant_fact_is_not_found(cx: Cortex) -> None:
    fact = await cx.store(project="p", content="secret", tenant="acme")
    with pytest.raises(FactNotFound):
        await cx.get(fact.id)
    with pytest.raises(FactNotFound):
        await cx.get("no-such-fact")
    assert (await cx.get(fact.id, tenant="acme")).tenant == "acme"


async def test_store_with_same_id_and_content_is_idempotent(cx: Cortex, db_path: Path) -> None:
    first = await cx.store(project="p", content="once", id="import-1")
    again = await cx.store(project="p", content="once", id="import-1")
    assert again == first
    assert count_rows(db_path, "ledger") == 1
    with pytest.raises(FactConflict):
        await cx.store(project="p", content="different", id="import-1")
    with pytest.raises(FactConflict):
        await cx.store(project="p", content="once", id="import-1", tenant="other")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "x" * (64 * 1024 + 1)}, "content"),
        ({"content": "nul\x00byte"}, "content"),
        ({"project": "bad project"}, "project"),
        ({"kind": "gossip"}, "kind"),
        ({"tags": ["a"] * 2}, "tags[1]"),
        ({"tags": [f"t{i}" for i in range(33)]}, "tags"),
        ({"tags": ["x" * 65]}, "tags[0]"),
        ({"source": "s" * 257}, "source"),
        ({"meta": {"blob": "x" * 20_000}}, "meta"),
        ({"meta": {"nan": float("nan")}}, "meta"),
        ({"valid_from": datetime(2026, 1, 1)}, "valid_from"),
        ({"valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"},
         "valid_until"),
        ({"id": "has space"}, "id"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    cx: Cortex, db_path: Path, kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"project": "p", "content": "ok", **kwargs}
    with pytest.raises(InvalidInput) as caught:
        await cx.store(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert count_rows(db_path, "facts") == 0
    assert count_rows(db_path, "ledger") == 0


async def test_update_makes_a_new_version_and_supersedes_the_old(cx: Cortex) -> None:
    old = await cx.store(project="p", content="v1", tags=["a"], meta={"k": 1})
    new = await cx.update(old.id, content="v2")
    assert new.id != old.id and new.supersedes == old.id
    assert new.tags == ["a"] and new.meta == {"k": 1}, "unchanged fields carry over"
    assert new.valid_from == old.valid_from, "an update keeps valid time unless given"
    previous = await cx.get(old.id)
    assert previous.lifecycle == "superseded" and previous.superseded_by == new.id
    assert previous.superseded_at == new.recorded_at
    assert [f.content for f in await cx.history(old.id)] == ["v1", "v2"]
    assert [f.id for f in await cx.history(new.id)] == [old.id, new.id]
    with pytest.raises(FactSuperseded) as caught:
        await cx.update(old.id, content="v3")
    assert caught.value.current_id == new.id
    with pytest.raises(InvalidInput):
        await cx.update(new.id, project="elsewhere")


async def test_deprecate_hides_from_recall_but_keeps_history(cx: Cortex) -> None:
    fact = await cx.store(project="p", content="stale")
    retired = await cx.deprecate(fact.id, reason="replaced by the runbook")
    assert retired.lifecycle == "deprecated"
    assert retired.deprecation_reason == "replaced by the runbook"
    assert [f.id for f in await cx.recall(project="p")] == []
    assert (await cx.get(fact.id)).lifecycle == "deprecated"
    with pytest.raises(FactIsDeprecated):
        await cx.deprecate(fact.id)
    with pytest.raises(FactIsDeprecated):
        await cx.update(fact.id, content="revive")
    with pytest.raises(FactNotFound):
        await cx.deprecate("missing")


async def test_as_of_and_at_answer_on_a_constructed_timeline(cx: Cortex) -> None:
    v1 = await cx.store(project="t", content="deploys go through Jenkins")
    t1 = v1.recorded_at
    v2 = await cx.update(v1.id, content="deploys go through GitHub Actions")
    t2 = v2.recorded_at
    gone = await cx.deprecate(v2.id, reason="moved to Argo")
    t3 = gone.deprecated_at
    assert t3 is not None

    async def contents(**kwargs: object) -> list[str | None]:
        return [f.content for f in await cx.recall(project="t", **kwargs)]  # type: ignore[arg-type]

    assert await contents(as_of=t1) == ["deploys go through Jenkins"]
    assert await contents(as_of=t2) == ["deploys go through GitHub Actions"]
    assert await contents(as_of=t3) == []
    assert await contents() == []
    assert await contents(as_of=t1 - timedelta(microseconds=1)) == []
    assert [f.id for f in await cx.history(v1.id, as_of=t1)] == [v1.id]

    world = await cx.store(
        project="t", content="the API was v1",
        valid_from=datetime(2020, 1, 1, tzinfo=UTC), valid_until="2021-01-01T00:00:00+00:00",
    )
    assert [f.id for f in await cx.recall(project="t", at="2020-06-01T00:00:00Z")] == [world.id]
    assert await contents(at=datetime(2019, 6, 1, tzinfo=UTC)) == []
    assert await contents() == [], "not valid now"


async def test_recall_ranks_by_consensus_then_recency_and_filters(cx: Cortex) -> None:
    older = await cx.store(project="r", content="older", kind="decision", tags=["db"])
    newer = await cx.store(project="r", content="newer", kind="rule", tags=["db", "ops"])
    await cx.store(project="other", content="elsewhere")
    assert [f.id for f in await cx.recall(project="r")] == [newer.id, older.id]
    assert [f.id for f in await cx.recall(project="r", kind="decision")] == [older.id]
    assert [f.id for f in await cx.recall(project="r", tags=["ops"])] == [newer.id]
    assert [f.id for f in await cx.recall(project="r", tags=["db", "ops"])] == [newer.id]
    assert len(await cx.recall()) == 3


async def test_cursor_pages_cover_every_fact_exactly_once(cx: Cortex) -> None:
    stored = await cx.store_many(
        [{"project": "pg", "content": f"fact {i}"} for i in range(53)]
    )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await cx.recall(project="pg", limit=10, cursor=cursor)
        seen += [f.id for f in page]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 6
    assert sorted(seen) == sorted(f.id for f in stored)
    assert len(seen) == len(set(seen))
    with pytest.raises(InvalidInput) as caught:
        first_page = await cx.recall(project="pg", limit=5)
        await cx.recall(project="other", cursor=first_page.next_cursor)
    assert caught.value.field == "cursor"
    with pytest.raises(InvalidInput):
        await cx.recall(cursor="garbage!")


async def test_recall_bounds_are_enforced(cx: Cortex) -> None:
    for kwargs, field in (({"limit": 0}, "limit"), ({"limit": 1001}, "limit"),
                          ({"offset": -1}, "offset"), ({"kind": "nope"}, "kind"),
                          ({"as_of": "yesterday"}, "as_of")):
        with pytest.raises(InvalidInput) as caught:
            await cx.recall(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


async def test_store_many_is_all_or_nothing(cx: Cortex, db_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        await cx.store_many([{"project": "p", "content": "ok"}, {"project": "p", "content": ""}])
    assert caught.value.field == "items[1].content"
    await cx.store(project="p", content="taken", id="dup")
    with pytest.raises(InvalidInput) as conflict:
        await cx.store_many([{"project": "p", "content": "fine", "id": "fresh"},
                             {"project": "p", "content": "clash", "id": "dup"}])
    assert conflict.value.field == "items[1]"
    assert count_rows(db_path, "facts") == 1
    facts = await cx.store_many([{"project": "p", "content": f"n{i}"} for i in range(5)])
    assert [f.recorded_seq for f in facts] == [1, 2, 3, 4, 5]
    assert verify_chain(db_path) == 6


async def test_every_mutation_appends_a_chained_ledger_entry(cx: Cortex, db_path: Path) -> None:
    fact = await cx.store(project="p", content="a")
    newer = await cx.update(fact.id, content="b")
    await cx.deprecate(newer.id)
    assert verify_chain(db_path) == 3
    assert cx.statistics().ledger_size == 3
    assert await cx.ledger_size() == 3
