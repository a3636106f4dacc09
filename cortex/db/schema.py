"""The numbered migrations. Append only: never edit one that has shipped."""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


_FACTS_AND_LEDGER = """
CREATE TABLE facts (
    id                 TEXT PRIMARY KEY,
    tenant             TEXT NOT NULL,
    project            TEXT NOT NULL,
    kind               TEXT NOT NULL,
    content            TEXT,               -- NULL once redacted
    tags               TEXT NOT NULL DEFAULT '[]',
    source             TEXT,
    meta               TEXT NOT NULL DEFAULT '{}',
    confidence         TEXT NOT NULL DEFAULT 'stated'
                       CHECK (confidence IN ('stated', 'verified', 'disputed')),
    consensus_score    REAL NOT NULL DEFAULT 1.0,
    content_hash       TEXT NOT NULL,      -- sha256 hex of the content; kept after redaction
    attrs_hash         TEXT NOT NULL,      -- sha256 hex of canonical {tags, source, meta}
    lineage            TEXT NOT NULL,      -- id of the first version: history key
    supersedes         TEXT REFERENCES facts(id),
    superseded_by      TEXT,
    valid_from         INTEGER NOT NULL,   -- valid time, µs since epoch UTC
    valid_until        INTEGER,
    recorded_at        INTEGER NOT NULL,   -- transaction time, µs since epoch UTC
    recorded_seq       INTEGER NOT NULL UNIQUE REFERENCES ledger(seq),
    superseded_at      INTEGER,
    superseded_seq     INTEGER REFERENCES ledger(seq),
    deprecated_at      INTEGER,
    deprecated_seq     INTEGER REFERENCES ledger(seq),
    deprecation_reason TEXT,
    redacted           INTEGER NOT NULL DEFAULT 0,
    CHECK (valid_until IS NULL OR valid_until > valid_from)
) STRICT;

-- Recall of the current versions of one project.
CREATE INDEX facts_current ON facts (tenant, project, recorded_seq)
    WHERE superseded_seq IS NULL AND deprecated_seq IS NULL;
CREATE INDEX facts_tenant_seq ON facts (tenant, recorded_seq);
CREATE INDEX facts_lineage ON facts (lineage, recorded_seq);

CREATE TABLE ledger (
    seq          INTEGER PRIMARY KEY,      -- 0-based: equals the Merkle leaf index
    tenant       TEXT NOT NULL,
    action       TEXT NOT NULL,
    payload      TEXT NOT NULL,            -- canonical JSON; hashes, never raw content
    prev_hash    BLOB NOT NULL,
    entry_hash   BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL
) STRICT;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "facts_and_ledger", _FACTS_AND_LEDGER),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
