"""``cx.keys``: API keys (create, list, revoke) and request authentication.

Authentication is cached in memory by secret hash; revocation goes through this same
process (it owns the database), which drops the key from the cache before answering
(even when its caller gave up), and a lookup that straddles a revocation is not cached,
so a revoked key fails on its very next request. Last-use times are collected in memory
and written in one batched, fire-and-forget writer command at most every few seconds.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import anyio

import actors
from cortex.core import validation as v
from cortex.core.keys import ROLES, format_key, is_well_formed, key_hash
from cortex.engine.messages import CreateKey, KeyByHash, ListKeys, RevokeKey, TouchKeys
from cortex.errors import IntegrityError, InvalidInput, Unauthenticated
from cortex.ids import new_fact_id
from cortex.model import ApiKey, CreatedKey

if TYPE_CHECKING:
    from cortex.engine.facade import Cortex

TOUCH_EVERY_S = 5.0
MAX_PROJECTS = 100


class KeysHandle:
    """Reached as ``cx.keys``."""

    def __init__(self, cortex: Cortex) -> None:
        self._cortex = cortex
        self._by_hash: dict[str, ApiKey] = {}
        #: bumped by every revocation: a lookup that straddles one is not cached, or a
        #: read made before the revocation committed would cache the key alive
        self._revocations = 0
        self._last_used: dict[str, int] = {}
        self._touched_at = time.monotonic()

    async def create(
        self,
        role: str,
        *,
        tenant: str | None = None,
        projects: list[str] | None = None,
        agent_id: str | None = None,
        name: str | None = None,
    ) -> CreatedKey:
        """Create a key; its secret (``ctx_`` + 64 hex) is in the result and nowhere else.

        Raises:
            InvalidInput: unknown role, bad project names, or more than 100 projects.
        """
        if role not in ROLES:
            raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
        if projects is not None:
            if isinstance(projects, str) or len(projects) > MAX_PROJECTS:
                raise InvalidInput("projects", f"must be a list of at most {MAX_PROJECTS}")
            projects = [v.check_name(f"projects[{i}]", p) for i, p in enumerate(projects)]
        if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 100):
            raise InvalidInput("name", "must be 1-100 characters")
        secret = format_key(os.urandom(32))
        command = CreateKey(new_fact_id(), secret, self._cortex._tenant(tenant), role, projects,
                            None if agent_id is None else v.check_fact_id("agent_id", agent_id),
                            name)
        record: ApiKey = await self._cortex._write(command)
        return CreatedKey(id=record.id, key=secret, prefix=record.prefix, tenant=record.tenant,
                          role=record.role, projects=record.projects, agent_id=record.agent_id,
                          name=record.name, created_at=record.created_at)

    async def list(
        self, *, include_revoked: bool = False, tenant: str | None = None
    ) -> list[ApiKey]:
        keys: list[ApiKey] = await self._cortex._read(
            ListKeys(self._cortex._tenant(tenant), bool(include_revoked)))
        return keys

    async def revoke(self, id: str, *, tenant: str | None = None) -> ApiKey:
        """Revoke a key: effective for its very next request. Raises ``KeyNotFound``."""
        command = RevokeKey(self._cortex._tenant(tenant), v.check_fact_id("id", id))
        # Shielded: a caller that gives up must not skip the cache invalidation of a
        # revocation the writer commits anyway.
        with anyio.CancelScope(shield=True):
            try:
                revoked: ApiKey = await self._cortex._write(command)
            finally:
                self._revocations += 1
                for digest, cached in list(self._by_hash.items()):
                    if cached.id == command.key_id:
                        del self._by_hash[digest]
        return revoked

    async def authenticate(self, secret: str) -> ApiKey:
        """The live key behind ``secret``.

        Raises:
            Unauthenticated: malformed, unknown or revoked (the message does not say which).
        """
        if not isinstance(secret, str) or not is_well_formed(secret):
            raise Unauthenticated("the API key is missing or malformed")
        digest = key_hash(secret)
        record = self._by_hash.get(digest)
        if record is None:
            revocations = self._revocations
            try:
                record = await self._cortex._read(KeyByHash(digest))
            except IntegrityError:
                record = None
            if record is None or record.revoked_at is not None:
                raise Unauthenticated("the API key is unknown or revoked")
            if revocations == self._revocations:
                self._by_hash[digest] = record
        self._note_use(record.id)
        return record

    def _note_use(self, key_id: str) -> None:
        self._last_used[key_id] = time.time_ns() // 1000
        if time.monotonic() - self._touched_at < TOUCH_EVERY_S:
            return
        batch, self._last_used = self._last_used, {}
        self._touched_at = time.monotonic()
        try:
            self._cortex._writer.tell_nowait(TouchKeys(batch))
        except (actors.Overloaded, actors.ShuttingDown):
            self._last_used = {**batch, **self._last_used}  # try again with the next batch

    async def flush_last_used(self) -> None:
        """Write pending last-use times now (also done at close)."""
        if self._last_used:
            batch, self._last_used = self._last_used, {}
            await self._cortex._write(TouchKeys(batch))
