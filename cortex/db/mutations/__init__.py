"""Every write Cortex makes. Imported by the writer actor and nothing else.

All functions are synchronous and run on the writer connection's thread, inside the
batch transaction the writer opened (``BEGIN IMMEDIATE``) and the command's own
``SAVEPOINT``. Each mutation appends its ledger entry through ``Ledger`` in the same
transaction, so a change and the entry that vouches for it commit or vanish together.
"""

from cortex.db.mutations.checkpoints import Signer, due_checkpoints, make_checkpoint
from cortex.db.mutations.consensus import cast_vote, deactivate_agent, register_agent
from cortex.db.mutations.facts import (
    FACT_INSERT,
    deprecate_fact,
    redact_fact,
    store_fact,
    store_facts,
    update_fact,
)
from cortex.db.mutations.graph import EntityIds
from cortex.db.mutations.graph import backfill as graph_backfill
from cortex.db.mutations.keys import create_key, revoke_key, touch_keys
from cortex.db.mutations.ledger import GENESIS, ChainHead, Ledger, WriteBuffer
from cortex.db.mutations.vectors import store_vectors

__all__ = [
    "FACT_INSERT",
    "GENESIS",
    "ChainHead",
    "EntityIds",
    "Ledger",
    "Signer",
    "cast_vote",
    "create_key",
    "revoke_key",
    "store_vectors",
    "touch_keys",
    "deactivate_agent",
    "register_agent",
    "WriteBuffer",
    "deprecate_fact",
    "graph_backfill",
    "due_checkpoints",
    "make_checkpoint",
    "redact_fact",
    "store_fact",
    "store_facts",
    "update_fact",
]
