"""Text search through the engine: ranking, filters, visibility, redaction, verification."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cortex import Cortex
from cortex.errors import InvalidInput

pytestmark = pytest.mark.anyio


async def test_search_finds_by_words_with_snippets_and_filters(cx: Cortex) -> None:
    target = await cx.store(project="ops", content="The database file got corrupted after a "
                            "power cut", tags=["incident"], kind="error")
    await cx.store(project="ops", content="Deploys go through Argo CD", kind="decision")
    other = await cx.store(project="dev", content="database migrations run at startup")
    results = await cx.search("database corrupted", top_k=5)
    assert [h.fact.id for h in results.results] == [target.id]
    hit = results.results[0]
    assert hit.text_rank == 1 and "[corrupted]" in (hit.snippet or "")
    assert results.mode == "text" and results.notice, "semantic ranking says it is not built"
    assert (await cx.search("database", mode="text")).notice is None
    ids = {h.fact.id for h in (await cx.search("database")).results}
    assert ids == {target.id, other.id}
    assert [h.fact.id for h in (await cx.search("database", project="dev")).results] == [
        other.id]
    assert [h.fact.id for h in (await cx.search("database", kind="error")).results] == [
        target.id]
    assert [h.fact.id for h in (await cx.search("incident")).results] == [target.id]
    assert [h.fact.id for h in (await cx.search("database", tags=["incident"])).results] == [
        target.id]


async def test_search_sees_only_live_versions_unless_asked_as_of(cx: Cortex) -> None:
    old = await cx.store(project="p", content="cache is write-through")
    new = await cx.update(old.id, content="cache is write-back")
    assert [h.fact.id for h in (await cx.search("cache")).results] == [new.id]
    then = await cx.search("through", as_of=old.recorded_at)
    assert [h.fact.id for h in then.results] == [old.id]
    await cx.deprecate(new.id)
    assert (await cx.search("cache")).results == []
    dated = await cx.store(project="p", content="the api was version one",
                           valid_from=datetime(2020, 1, 1, tzinfo=UTC),
                           valid_until=datetime(2021, 1, 1, tzinfo=UTC))
    assert (await cx.search("version")).results == []
    assert [h.fact.id for h in (await cx.search("version", at="2020-06-01T00:00:00Z")
                                ).results] == [dated.id]


async def test_redaction_removes_words_from_the_index(cx: Cortex) -> None:
    fact = await cx.store(project="p", content="alice's card number is 4111")
    assert (await cx.search("4111")).results
    await cx.redact(fact.id)
    assert (await cx.search("4111")).results == []
    assert (await cx.search("alice")).results == []


async def test_tenants_do_not_see_each_other_in_search(cx: Cortex) -> None:
    await cx.store(project="p", content="globex secret plan", tenant="globex")
    assert (await cx.search("secret")).results == []
    assert len((await cx.search("secret", tenant="globex")).results) == 1


async def test_bad_searches_are_invalid_input(cx: Cortex) -> None:
    for kwargs, field in (({"query": ""}, "query"), ({"query": "x", "mode": "magic"}, "mode"),
                          ({"query": "x", "top_k": 0}, "top_k"),
                          ({"query": "x", "top_k": 101}, "top_k")):
        with pytest.raises(InvalidInput) as caught:
            await cx.search(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


async def test_a_tampered_row_is_never_returned_by_search(db_path: Path) -> None:
    import sqlean

    from cortex.errors import IntegrityError

    async with Cortex.open(db_path, log_level="critical") as cx:
        fact = await cx.store(project="p", content="rotate the keys monthly")
    conn = sqlean.connect(str(db_path))
    conn.execute("UPDATE facts SET kind = 'rule' WHERE id = ?", (fact.id,))
    conn.commit()
    conn.close()
    async with Cortex.open(db_path, log_level="critical") as cx:
        with pytest.raises(IntegrityError):
            await cx.search("rotate")
