"""The pure core: canonical JSON, hashes, time, ranking, ids, validation."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cortex.core.canonical import NotCanonical, canonical_json
from cortex.core.hashing import (
    GENESIS_HASH,
    attrs_hash,
    canonical_entry,
    content_hash,
    entry_hash,
)
from cortex.core.ranking import recall_rank
from cortex.core.timeutil import MICROS_PER_DAY, from_micros, iso, to_micros
from cortex.core.validation import FactDraft, draft_changes, draft_fact
from cortex.errors import InvalidInput
from cortex.ids import new_fact_id

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    expected = '{"a":[true,null,"é"],"b":1}'.encode()
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == expected


@pytest.mark.parametrize("bad", [{1: "int key"}, {"x": float("nan")}, {"x": object()}])
def test_canonical_json_refuses_what_has_no_canonical_form(bad: object) -> None:
    with pytest.raises(NotCanonical):
        canonical_json(bad)


@given(json_values)
def test_canonical_json_is_stable_under_key_order(value: object) -> None:
    if isinstance(value, dict):
        shuffled = dict(reversed(list(value.items())))
        assert canonical_json(shuffled) == canonical_json(value)


def test_hashes_have_known_answers() -> None:
    # sha256("abc"), the FIPS 180-2 test vector
    assert content_hash("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert bytes(32) == GENESIS_HASH
    entry = canonical_entry(0, "t", "fact.store", {"k": 1}, 5)
    assert entry == (
        b'{"action":"fact.store","payload":{"k":1},"recorded_at":5,"seq":0,"tenant":"t"}'
    )
    assert entry_hash(GENESIS_HASH, entry) == hashlib.sha256(bytes(32) + entry).digest()


def test_attrs_hash_changes_with_any_attribute() -> None:
    base = attrs_hash(["a"], "src", {"k": 1})
    assert attrs_hash(["a"], "src", {"k": 1}) == base
    assert attrs_hash(["b"], "src", {"k": 1}) != base
    assert attrs_hash(["a"], None, {"k": 1}) != base
    assert attrs_hash(["a"], "src", {"k": 2}) != base


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31),
                    timezones=st.just(UTC)))
def test_micros_round_trip(moment: datetime) -> None:
    assert from_micros(to_micros(moment)) == moment


def test_iso_is_utc_with_z() -> None:
    moment = datetime(2026, 11, 24, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert iso(to_micros(moment)) == "2026-11-24T10:00:00.000005Z"


def test_recall_rank_prefers_consensus_then_recency() -> None:
    now = 10 * MICROS_PER_DAY
    assert recall_rank(1.0, now, now) == pytest.approx(1.0)
    assert recall_rank(1.0, now - MICROS_PER_DAY, now) == pytest.approx(0.9)
    assert recall_rank(1.5, 0, now) > recall_rank(1.0, now, now)


def test_fact_ids_are_uuid7_and_sort_by_time() -> None:
    ids = [new_fact_id() for _ in range(50)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert len(set(ids)) == 50


def test_draft_fact_normalizes_times_and_defaults() -> None:
    draft = draft_fact(project="p", content="c", valid_from="2026-01-01T00:00:00+01:00")
    assert isinstance(draft, FactDraft)
    assert draft.kind == "knowledge" and draft.tags == () and draft.meta == {}
    assert draft.valid_from == to_micros(datetime(2025, 12, 31, 23, tzinfo=UTC))


def test_draft_changes_keep_what_is_not_given() -> None:
    changes = draft_changes(tags=["x"])
    assert changes.tags == ("x",) and changes.content is None and changes.meta is None


@given(st.dictionaries(
    st.sampled_from(["project", "content", "kind", "tags", "source", "meta", "valid_from",
                     "valid_until", "id"]),
    json_values | st.text() | st.datetimes(),
))
def test_any_input_is_accepted_or_refused_with_invalid_input(arguments: dict[str, object]) -> None:
    arguments.setdefault("project", "p")
    arguments.setdefault("content", "c")
    try:
        draft_fact(**arguments)
    except InvalidInput as error:
        assert error.field.split("[")[0] in {*arguments, "valid_until"}


@given(json_values)
def test_canonical_json_equals_sorted_compact_json_without_floats(value: object) -> None:
    import json

    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == expected.encode()


@given(st.integers(0, 2**40), st.text(max_size=12), st.text(max_size=12), json_values,
       st.integers(0, 2**60))
def test_entry_bytes_equal_the_canonical_json_of_the_entry(
    seq: int, tenant: str, action: str, payload: object, recorded_at: int
) -> None:
    body = {"seq": seq, "tenant": tenant, "action": action, "payload": payload,
            "recorded_at": recorded_at}
    entry = canonical_entry(seq, tenant, action, payload, recorded_at)  # type: ignore[arg-type]
    assert entry == canonical_json(body)


@pytest.mark.parametrize("bad", [{"when": datetime(2026, 1, 1, tzinfo=UTC)}, {"s": {1, 2}},
                                 [float("inf")], {"deep": b"bytes"}])
def test_canonical_json_refuses_types_without_one_json_form(bad: object) -> None:
    with pytest.raises(NotCanonical):
        canonical_json(bad)


def test_reciprocal_rank_fusion_weights_each_side() -> None:
    from cortex.core.ranking import reciprocal_rank_fusion

    fused = reciprocal_rank_fusion(["a", "b", "c"], ["c", "d"], 0.6, 0.4)
    scores = {item: score for item, score, _, _ in fused}
    assert scores["a"] == pytest.approx(0.6 / 61)
    assert scores["c"] == pytest.approx(0.6 / 63 + 0.4 / 61)
    assert next(item for item, *_ in fused) == "c", "on both sides beats first on one"
    ranks = {item: (v, t) for item, _, v, t in fused}
    assert ranks["d"] == (None, 2) and ranks["b"] == (2, None)
