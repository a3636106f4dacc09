"""Reader actors: a pool sharing one inbox, each with its own read-only connection."""

from __future__ import annotations

import time
from typing import assert_never

import aiosqlite

from actors import Actor
from cortex.config import Settings
from cortex.db import queries
from cortex.db.connect import open_reader, run_sync
from cortex.engine.messages import GetFact, History, LedgerSize, ReadQuery, Recall


class ReaderActor(Actor[ReadQuery]):
    """Answers queries; every query is one synchronous function on the connection thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conn: aiosqlite.Connection | None = None

    async def on_start(self) -> None:
        self.conn = await open_reader(self.settings)

    async def on_stop(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await conn.close()

    async def handle(self, message: ReadQuery) -> object:
        assert self.conn is not None, "on_start opened the connection"
        conn = self.conn
        match message:
            case GetFact(tenant, fact_id):
                return await run_sync(conn, queries.get_fact, tenant, fact_id)
            case Recall(recall_filter):
                now = time.time_ns() // 1000
                return await run_sync(conn, queries.recall, recall_filter, now)
            case History(tenant, fact_id, as_of):
                return await run_sync(conn, queries.history, tenant, fact_id, as_of)
            case LedgerSize():
                return await run_sync(conn, queries.ledger_size)
            case _:
                assert_never(message)
