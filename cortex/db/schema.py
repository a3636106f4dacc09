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
    status             TEXT NOT NULL DEFAULT 'stated'    -- from consensus, never from clients
                       CHECK (status IN ('stated', 'verified', 'disputed')),
    consensus_score    REAL NOT NULL DEFAULT 1.0,        -- v1: max(0, 1 + 0.1 * sum of votes)
    confidence         REAL NOT NULL DEFAULT 0.0,        -- v2: reputation-weighted, in [-1, 1]
    content_hash       TEXT NOT NULL,      -- sha256 hex of the content; kept after redaction
    attrs_hash         TEXT NOT NULL,      -- sha256 hex of canonical {tags, source, meta}
    lineage            TEXT NOT NULL,      -- id of the first version: history key
    supersedes         TEXT REFERENCES facts(id),
    superseded_by      TEXT,
    valid_from         INTEGER NOT NULL,   -- valid time, µs since epoch UTC
    valid_until        INTEGER,
    recorded_at        INTEGER NOT NULL,   -- transaction time, µs since epoch UTC
    recorded_seq       INTEGER NOT NULL,
    superseded_at      INTEGER,
    superseded_seq     INTEGER,
    deprecated_at      INTEGER,
    deprecated_seq     INTEGER,
    deprecation_reason TEXT,
    redacted           INTEGER NOT NULL DEFAULT 0,
    redacted_at        INTEGER,
    author_key         TEXT,                -- the API key that stored it (server-set)
    author_agent       TEXT,                -- the agent that key is bound to, if any
    redacted_seq       INTEGER,
    -- the newest entry that changed this row: it records the row's state hash
    state_seq          INTEGER NOT NULL,
    CHECK (valid_until IS NULL OR valid_until > valid_from)
) STRICT;

-- Recall of the current versions of one project.
CREATE INDEX facts_current ON facts (tenant, project, recorded_seq)
    WHERE superseded_seq IS NULL AND deprecated_seq IS NULL;
CREATE INDEX facts_lineage ON facts (lineage, recorded_seq);
-- Recall's best-scored candidates (see queries._top_by_bound).
CREATE INDEX facts_scored ON facts (tenant, project, consensus_score, recorded_seq)
    WHERE superseded_seq IS NULL AND deprecated_seq IS NULL;

CREATE TABLE ledger (
    seq          INTEGER PRIMARY KEY,      -- 0-based: equals the Merkle leaf index
    tenant       TEXT NOT NULL,
    action       TEXT NOT NULL,
    payload      TEXT NOT NULL,            -- canonical JSON; hashes, never raw content
    prev_hash    BLOB NOT NULL,
    entry_hash   BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL
) STRICT;

-- Which entries changed which fact: the newest one must be the row's state_seq.
CREATE TABLE ledger_subjects (
    fact_id  TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (fact_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX ledger_subjects_seq ON ledger_subjects (seq);

-- Completed perfect subtrees of the RFC 9162 tree: (level, index) covers leaves
-- [index * 2^level, (index + 1) * 2^level). Level 0 holds the leaf hashes.
CREATE TABLE merkle_nodes (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
    tree_size    INTEGER PRIMARY KEY,
    root_hash    BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL,
    reason       TEXT NOT NULL CHECK (reason IN ('auto', 'manual', 'shutdown')),
    note         TEXT NOT NULL              -- C2SP signed note (tlog-checkpoint body)
) STRICT;

-- Text search over every version's content, tags and kind (external content: the text
-- lives once, in facts). Triggers keep it in sync inside the writer's transaction; a
-- redaction removes the fact's words from the index.
CREATE VIRTUAL TABLE facts_fts USING fts5(
    content, tags, kind, content = 'facts', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER facts_fts_insert AFTER INSERT ON facts BEGIN
    INSERT INTO facts_fts (rowid, content, tags, kind)
    VALUES (new.rowid, new.content, new.tags, new.kind);
END;
CREATE TRIGGER facts_fts_redact AFTER UPDATE OF redacted ON facts
WHEN new.redacted = 1 AND old.redacted = 0 BEGIN
    INSERT INTO facts_fts (facts_fts, rowid, content, tags, kind)
    VALUES ('delete', old.rowid, old.content, old.tags, old.kind);
END;

-- Sentence vectors of live fact versions, filled behind the acknowledgement by the indexer.
-- Tenant is the partition key and project, kind and liveness are metadata, so filters run
-- inside the KNN. Derived data: not in the ledger, rebuilt from the facts if lost.
CREATE VIRTUAL TABLE fact_vectors USING vec0(
    fact_rowid INTEGER PRIMARY KEY,     -- the fact version's rowid in facts
    tenant TEXT PARTITION KEY,
    project TEXT,
    kind TEXT,
    live INTEGER,
    embedding FLOAT[384] distance_metric=cosine
);
-- How far the indexer got, per model: fact rows after indexed_rowid are pending.
CREATE TABLE vector_progress (
    model          TEXT PRIMARY KEY,
    indexed_rowid  INTEGER NOT NULL
) STRICT;

-- Agents vote; their reputation is a Beta(alpha, beta) count of outcomes they agreed with.
CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    name          TEXT NOT NULL,
    public_key    TEXT,
    meta          TEXT NOT NULL DEFAULT '{}',
    alpha         INTEGER NOT NULL DEFAULT 1,   -- 1 + resolved votes that agreed
    beta          INTEGER NOT NULL DEFAULT 1,   -- 1 + resolved votes that disagreed
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    deactivated_at INTEGER,
    state_seq     INTEGER NOT NULL,
    UNIQUE (tenant, name)
) STRICT;

-- One current vote per (fact, agent); a withdrawal deletes the row (the ledger keeps it).
CREATE TABLE votes (
    fact_id      TEXT NOT NULL REFERENCES facts(id),
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    tenant       TEXT NOT NULL,
    value        INTEGER NOT NULL CHECK (value IN (-1, 1)),
    weight       REAL NOT NULL,                -- the agent's weight when it voted
    recorded_at  INTEGER NOT NULL,
    state_seq    INTEGER NOT NULL,
    PRIMARY KEY (fact_id, agent_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX votes_agent ON votes (agent_id);

-- Which outcome of which fact each agent's reputation was credited for (at most one).
CREATE TABLE reputation_credits (
    fact_id   TEXT NOT NULL,
    agent_id  TEXT NOT NULL,
    agreed    INTEGER NOT NULL,
    PRIMARY KEY (fact_id, agent_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE reputation_history (
    agent_id     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    fact_id      TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    agreed       INTEGER NOT NULL,
    alpha        INTEGER NOT NULL,
    beta         INTEGER NOT NULL,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (agent_id, seq)
) STRICT, WITHOUT ROWID;

-- API keys: only a SHA-256 of the secret is kept (keys are 32 random bytes).
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    prefix        TEXT NOT NULL,               -- first characters, to recognise a key
    secret_hash   TEXT NOT NULL UNIQUE,
    tenant        TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
    projects      TEXT,                        -- JSON array, NULL = every project
    agent_id      TEXT,                        -- facts stored with this key name this agent
    name          TEXT,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    last_used_at  INTEGER,                     -- batched, not vouched by the ledger
    state_seq     INTEGER NOT NULL
) STRICT;

CREATE TABLE log_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;
"""

# The *_seq columns point into the ledger without SQL foreign keys on purpose: a deferred
# foreign key makes every ledger insert scan the facts table for children (the columns are
# not all indexed), and integrity here is checked by hashes and proofs, not by SQLite.

# The entity graph is derived from the live fact versions: what each version mentions
# and asserts is recorded against its id, so retiring a version takes exactly its
# contribution back. Explicit entities are also in the store's ledger entry.
_ENTITY_GRAPH = """
CREATE TABLE entities (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL,
    project     TEXT NOT NULL,
    key         TEXT NOT NULL,      -- identity: the name trimmed and case-folded
    name        TEXT NOT NULL,      -- displayed as first seen
    type        TEXT NOT NULL,
    mentions    INTEGER NOT NULL,   -- live fact versions that mention it (0: hidden)
    first_seen  INTEGER NOT NULL,   -- µs since epoch UTC
    last_seen   INTEGER NOT NULL,
    UNIQUE (tenant, project, key)
) STRICT;
CREATE INDEX entities_by_key ON entities (tenant, key);

CREATE TABLE entity_mentions (
    fact_id    TEXT NOT NULL,
    entity_id  INTEGER NOT NULL,
    explicit   INTEGER NOT NULL,    -- named by the caller rather than extracted
    PRIMARY KEY (fact_id, entity_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX entity_mentions_by_entity ON entity_mentions (entity_id, fact_id);

CREATE TABLE relations (
    source  INTEGER NOT NULL,
    target  INTEGER NOT NULL,
    type    TEXT NOT NULL,
    weight  INTEGER NOT NULL,       -- live fact versions asserting it (0: hidden)
    PRIMARY KEY (source, target, type)
) STRICT, WITHOUT ROWID;
CREATE INDEX relations_by_target ON relations (target, source);

CREATE TABLE relation_facts (
    fact_id  TEXT NOT NULL,
    source   INTEGER NOT NULL,
    target   INTEGER NOT NULL,
    type     TEXT NOT NULL,
    PRIMARY KEY (fact_id, source, target, type)
) STRICT, WITHOUT ROWID;
CREATE INDEX relation_facts_by_edge ON relation_facts (source, target, type);
"""

# Vectors move out of vec0 into a plain table that records each vector's model. vec0's
# brute-force KNN over 100k float vectors takes ~60 ms here (its quantized bit/int8 forms
# are either as slow or far below 0.98 recall@10); search now scans an in-memory projection
# of these rows and rescores its candidates exactly (see cortex/db/vector_index.py).
# Vectors of retired versions leave (only live versions are ever searched); the live ones
# carry over with the model recorded in vector_progress (there was only ever one), so the
# upgrade re-embeds nothing.
_VECTOR_MODELS = """
CREATE TABLE fact_embeddings (
    fact_rowid  INTEGER PRIMARY KEY,    -- the live fact version's rowid in facts
    tenant      TEXT NOT NULL,
    project     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    model       TEXT NOT NULL,          -- the model that made the vector (MODEL_ID)
    vector      BLOB NOT NULL           -- float32[384], unit length
) STRICT;
-- Loading one model's vectors in order, and purging another model's.
CREATE INDEX fact_embeddings_model ON fact_embeddings (model, fact_rowid);
INSERT INTO fact_embeddings (fact_rowid, tenant, project, kind, model, vector)
    SELECT v.fact_rowid, v.tenant, v.project, v.kind, p.model, v.embedding
    FROM fact_vectors v JOIN (SELECT max(model) AS model FROM vector_progress) p
    WHERE v.live = 1 AND p.model IS NOT NULL;
DROP TABLE fact_vectors;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "facts_ledger_merkle_checkpoints", _FACTS_AND_LEDGER),
    Migration(2, "entity_graph", _ENTITY_GRAPH),
    Migration(3, "vector_models", _VECTOR_MODELS),
)

SCHEMA_VERSION = MIGRATIONS[-1].version
