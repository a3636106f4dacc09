"""The search query parser: any user text is either a safe FTS5 query or InvalidInput."""

from __future__ import annotations

import sqlean
from hypothesis import given, settings
from hypothesis import strategies as st

from cortex.core.text_query import to_fts_query
from cortex.errors import InvalidInput

_CONN = sqlean.connect(":memory:")
_CONN.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
_CONN.execute("INSERT INTO t VALUES ('the database file got corrupted after a power cut')")

SYMBOLS = [*list('"*()^:-+{}[],.\\\'/ abé日\x00'), "OR", "AND", "NOT", "NEAR"]
NASTY = st.lists(st.sampled_from(SYMBOLS), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), NASTY))
def test_no_text_can_make_fts5_fail(text: str) -> None:
    try:
        query = to_fts_query(text)
    except InvalidInput as error:
        assert error.field == "query"
        return
    _CONN.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query,)).fetchone()


def test_the_documented_syntax() -> None:
    assert to_fts_query("storage outage") == '"storage" AND "outage"'
    assert to_fts_query('"power cut" db') == '"power cut" AND "db"'
    assert to_fts_query("corrupt*") == '"corrupt"*'
    assert to_fts_query("wal OR journal crash") == '("wal" OR "journal") AND "crash"'
    hits = _CONN.execute("SELECT count(*) FROM t WHERE t MATCH ?",
                         (to_fts_query('corrupt* "power cut"'),)).fetchone()[0]
    assert hits == 1


def test_queries_without_words_or_too_long_are_refused() -> None:
    for bad in ("", "   ", '"', "(((", "*", "x" * 1025, 5):
        try:
            to_fts_query(bad)
        except InvalidInput as error:
            assert error.field == "query"
        else:
            raise AssertionError(f"{bad!r} was accepted")
