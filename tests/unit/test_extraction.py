"""Entity and relation extraction: the case table's scores, stop-listed words, and the
rules one sentence at a time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cortex.core.extraction import (
    NOT_PROJECTS,
    Extraction,
    configured_tools,
    entity_key,
    extract,
    is_english_compound,
)
from cortex.core.validation import MAX_CONTENT_BYTES
from scripts.eval_extraction import evaluate, found_items
from tests.unit.extraction_cases import CASES

# The bounds sit just under what the extractor reaches on the whole table (entities
# 0.988 / 1.000, relations 0.918 / 0.946, scripts/eval_extraction.py), so a change that
# loses a few cases fails here. The held-out cases alone score lower (entities 0.958 /
# 1.000, relations 0.778 / 0.875): the honest estimate for new text.
ENTITY_PRECISION, ENTITY_RECALL = 0.98, 0.99
RELATION_PRECISION, RELATION_RECALL = 0.90, 0.93


def _relations(result: Extraction) -> set[tuple[str, str, str]]:
    return {(r.source, r.type, r.target) for r in result.relations}


def _entities(result: Extraction) -> set[tuple[str, str]]:
    return {(e.name, e.type) for e in result.entities}


def test_the_case_table_has_forty_sentences_or_more_with_every_kind_of_case() -> None:
    assert len(CASES) >= 40
    assert sum(1 for case in CASES if not case.entities) >= 10  # nothing to find
    assert sum(1 for case in CASES if len({r[1] for r in case.relations}) >= 2) >= 10
    assert {type_ for case in CASES for _, type_ in case.entities} >= {
        "file", "type", "tool", "url", "project", "concept"}
    assert any(case.held_out for case in CASES)


def test_entity_precision_and_recall_on_the_case_table_meet_the_bounds() -> None:
    evaluation = evaluate()
    overall = evaluation.total(evaluation.entities)
    assert overall.precision >= ENTITY_PRECISION
    assert overall.recall >= ENTITY_RECALL


def test_relation_precision_and_recall_on_the_case_table_meet_the_bounds() -> None:
    evaluation = evaluate()
    overall = evaluation.total(evaluation.relations)
    assert overall.precision >= RELATION_PRECISION
    assert overall.recall >= RELATION_RECALL


def test_no_entity_in_the_case_table_comes_from_a_stop_listed_word() -> None:
    for case in CASES:
        names, _ = found_items(case)
        for name, type_ in names:
            assert entity_key(name) not in NOT_PROJECTS, case.text
            assert type_ != "project" or not is_english_compound(name), case.text


plain_words = st.from_regex(r"[a-z]{1,12}", fullmatch=True)
stop_words = st.sampled_from(sorted(NOT_PROJECTS)).flatmap(
    lambda word: st.sampled_from([word, word + "s"]))  # "follow-ups" too
separators = st.sampled_from([" ", ", ", ". ", " and ", "; ", " (", ") "])


@given(st.lists(st.tuples(st.one_of(stop_words, plain_words), separators),
                min_size=1, max_size=12))
def test_sentences_of_stop_listed_and_plain_words_yield_no_project(
        words: list[tuple[str, str]]) -> None:
    text = "".join(word + separator for word, separator in words)
    result = extract(text)
    assert [e for e in result.entities if e.type == "project"] == []
    assert not any(e.key in NOT_PROJECTS for e in result.entities)


@given(st.text(max_size=200))
def test_relations_join_two_different_entities_of_the_same_fact(text: str) -> None:
    result = extract(text)
    keys = {entity.key for entity in result.entities}
    assert len(keys) == len(result.entities)
    for relation in result.relations:
        assert relation.source in keys and relation.target in keys
        assert relation.source != relation.target
    assert extract(text) == result


def test_two_signal_phrases_in_one_sentence_give_two_relation_types() -> None:
    result = extract("ExportJob extends BaseJob and writes to S3.")
    assert _relations(result) == {("exportjob", "extends", "basejob"),
                                  ("exportjob", "integrates", "s3")}


def test_each_pair_takes_the_phrase_between_its_own_entities() -> None:
    result = extract("SearchRouter depends on HybridSearch, which contains FtsIndex.")
    assert _relations(result) == {("searchrouter", "depends_on", "hybridsearch"),
                                  ("hybridsearch", "contains", "ftsindex")}


def test_a_coordinated_verb_belongs_to_the_subject_of_the_clause() -> None:
    result = extract("The IndexWorker uses onnxruntime, depends on sqlite-vec and replaces "
                     "the old TorchEncoder.")
    assert _relations(result) == {("indexworker", "uses", "onnxruntime"),
                                  ("indexworker", "depends_on", "sqlite-vec"),
                                  ("indexworker", "replaces", "torchencoder")}


def test_a_new_clause_after_a_comma_and_does_not_inherit_the_list() -> None:
    result = extract("MiniLM runs on onnxruntime, and sqlite-vec is used by EmbeddingIndex.")
    assert _relations(result) == {("minilm", "deployed_to", "onnxruntime"),
                                  ("embeddingindex", "uses", "sqlite-vec")}


def test_a_list_spreads_the_relation_to_every_item_and_relates_nothing_itself() -> None:
    result = extract("The checkout-service and the cart-service depend on Redis and Kafka.")
    assert _relations(result) == {(a, "depends_on", b)
                                  for a in ("checkout-service", "cart-service")
                                  for b in ("redis", "kafka")}
    assert extract("Redis, Kafka and the PostgreSQL replica.").relations == ()


def test_reversed_phrases_point_from_the_entity_written_second() -> None:
    assert _relations(extract("PaymentService is used by CheckoutPage.")) == {
        ("checkoutpage", "uses", "paymentservice")}
    assert _relations(extract("Moved the queue from RabbitMQ to Kafka.")) == {
        ("kafka", "replaces", "rabbitmq")}
    assert _relations(extract("Replace FastAPI with Litestar.")) == {
        ("litestar", "replaces", "fastapi")}
    assert _relations(extract("TokenBucket is part of RateLimiter.")) == {
        ("ratelimiter", "contains", "tokenbucket")}


def test_a_pair_without_a_signal_phrase_is_related_to() -> None:
    assert _relations(extract("Sentry showed JSONDecodeError yesterday.")) == {
        ("sentry", "related_to", "jsondecodeerror")}


def test_names_are_one_entity_whatever_the_case_and_keep_the_first_spelling() -> None:
    result = extract("REDIS is down; redis-cli cannot reach Redis.", [("redis", "tool")])
    assert _entities(result) == {("REDIS", "tool"), ("redis-cli", "project")}


def test_explicit_entities_join_those_found_in_the_text() -> None:
    result = extract("The api-gateway depends on Redis.",
                     [("  Team   Edge ", "concept"), ("redis", "tool")])
    assert _entities(result) == {("api-gateway", "project"), ("Redis", "tool"),
                                 ("Team Edge", "concept")}


def test_tools_are_found_as_modules_in_compounds_and_as_configured_phrases() -> None:
    assert ("asyncio", "tool") in _entities(extract("Stop calling asyncio.gather here."))
    assert ("Redis", "tool") in _entities(extract("Both use Redis-backed sessions."))
    assert ("pytest-asyncio", "project") in _entities(extract("Add pytest-asyncio."))
    tools = configured_tools("Argo CD, Vault")
    assert _entities(extract("Argo  CD syncs it.", tools=tools)) == {("Argo CD", "tool")}
    assert _entities(extract("Argo CD syncs it.")) == set()


def test_a_tool_spelled_with_an_extension_is_a_tool_not_a_file() -> None:
    assert _entities(extract("The docs site runs on Node.js and Next.js.")) == {
        ("Node.js", "tool"), ("Next.js", "tool")}


def test_dot_files_are_files_but_a_bare_extension_is_not() -> None:
    assert _entities(extract("Secrets live in .env, never in .py files.")) == {
        (".env", "file")}


def test_dotted_names_plural_abbreviations_and_ordinary_camel_words() -> None:
    assert _entities(extract("Catch sqlite3.OperationalError, not IDs or CTEs.")) == {
        ("OperationalError", "type")}
    assert _entities(extract("Ask the DevOps team about the PhD intern.")) == set()


def test_versions_abbreviations_and_hyphenated_english_are_not_entities() -> None:
    for text in ("v1.2.3 fixes an off-by-one; see RFC 9162, e.g. section 2.1.",
                 "The follow-ups and trade-offs of a server-side, token-based, "
                 "exactly-once design.",
                 "utf-8, sha-256 and x86-64 everywhere, 81.4s in total."):
        assert extract(text).entities == (), text


@pytest.mark.parametrize("separator", [", ", ". ", " uses "])
def test_a_fact_at_the_size_limit_full_of_names_extracts_in_well_under_a_second(
        separator: str) -> None:
    # extraction runs on the event loop: a quadratic or cubic step here stalls every
    # request (5,000 names once took minutes)
    names = (f"Service{n}Handler" for n in range(MAX_CONTENT_BYTES))
    text = ""
    while len(text) < MAX_CONTENT_BYTES - 40:
        text += next(names) + separator
    began = time.perf_counter()
    result = extract(text)
    assert time.perf_counter() - began < 2.0
    assert len(result.entities) == 64
