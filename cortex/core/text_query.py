"""User text to a safe FTS5 query. No input can produce an SQLite syntax error.

The small syntax (documented in the README):

- words are matched as terms, all of them required: ``storage outage``;
- ``"a quoted phrase"`` matches those words in that order;
- a word ending in ``*`` matches as a prefix: ``corrupt*``;
- ``OR`` (upper case) between two terms or phrases accepts either: ``wal OR journal``.

Everything else (FTS5 operators, column filters, parentheses, punctuation) is treated as
text: each term is double-quoted, so FTS5 sees only string literals, ``OR`` and ``*``.
"""

from __future__ import annotations

import re

from cortex.errors import InvalidInput

MAX_QUERY_CHARS = 1024
MAX_TERMS = 32
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def _quoted(words: list[str]) -> str:
    return '"' + " ".join(words).replace('"', '""') + '"'


def to_fts_query(text: object) -> str:
    """The FTS5 MATCH expression for ``text``.

    Raises:
        InvalidInput: not a string, over 1024 characters, no searchable word, or more
            than 32 terms.
    """
    if not isinstance(text, str):
        raise InvalidInput("query", "must be a string")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput("query", f"is {len(text)} characters; the limit is {MAX_QUERY_CHARS}")
    parts: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(text.replace("\x00", " ")):
        phrase, bare = match.groups()
        if bare == "OR":
            pending_or = bool(parts)
            continue
        if phrase is not None:
            words = _WORD.findall(phrase)
            term = _quoted(words) if words else ""
        else:
            words = _WORD.findall(bare)
            prefix = bare.endswith("*") and len(words) == 1
            term = (_quoted(words) + ("*" if prefix else "")) if words else ""
        if not term:
            continue
        if pending_or:
            parts[-1] = f"{parts[-1]} OR {term}"
        else:
            parts.append(term)
        pending_or = False
    if not parts:
        raise InvalidInput("query", "has no searchable words")
    if sum(part.count('"') // 2 for part in parts) > MAX_TERMS:
        raise InvalidInput("query", f"has more than {MAX_TERMS} terms")
    return " AND ".join(f"({part})" if " OR " in part else part for part in parts)
