"""``/v1/agents``, ``/v1/keys`` and ``/v1/ledger``."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, delete, get, post

from cortex.api.auth import require_key
from cortex.api.errors import CREATED
from cortex.api.facts import ERRORS, _cortex, _key
from cortex.api.schemas import (
    AgentBody,
    AgentList,
    BackupBody,
    BackupMade,
    CheckpointList,
    Entry,
    EntryList,
    KeyBody,
    KeyList,
    PublicKey,
)
from cortex.core.timeutil import from_micros
from cortex.core.validation import check_name
from cortex.errors import EntryNotFound
from cortex.model import (
    Agent,
    ApiKey,
    Checkpoint,
    ConsistencyProof,
    CreatedKey,
    InclusionProof,
    ReputationChange,
    VerifyReport,
)


class AgentsController(Controller):
    path = "/v1/agents"
    guards = [require_key]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/",
        responses=ERRORS,
        opt={"role": "admin"},
        status_code=CREATED,
        summary="Register an agent",
    )
    async def register(self, request: Request[Any, Any, Any], data: AgentBody) -> Response[Agent]:
        agent = await _cortex(request).agents.register(
            data.name, public_key=data.public_key, meta=data.meta, tenant=_key(request).tenant
        )
        return Response(agent, status_code=CREATED, headers={"Location": f"{self.path}/{agent.id}"})

    @get("/", responses=ERRORS, opt={"role": "read"}, summary="List agents")
    async def list_agents(
        self,
        request: Request[Any, Any, Any],
        include_inactive: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> AgentList:
        agents = await _cortex(request).agents.list(
            include_inactive=include_inactive,
            limit=limit,
            offset=offset,
            tenant=_key(request).tenant,
        )
        return AgentList(agents=agents)

    @get("/{agent_id:str}", responses=ERRORS, opt={"role": "read"}, summary="Get an agent")
    async def get_agent(self, request: Request[Any, Any, Any], agent_id: str) -> Agent:
        return await _cortex(request).agents.get(agent_id, tenant=_key(request).tenant)

    @post(
        "/{agent_id:str}/deactivate",
        responses=ERRORS,
        opt={"role": "admin"},
        status_code=200,
        summary="Deactivate an agent",
    )
    async def deactivate(self, request: Request[Any, Any, Any], agent_id: str) -> Agent:
        return await _cortex(request).agents.deactivate(agent_id, tenant=_key(request).tenant)

    @get(
        "/{agent_id:str}/reputation",
        responses=ERRORS,
        opt={"role": "read"},
        summary="Reputation history",
    )
    async def reputation(
        self, request: Request[Any, Any, Any], agent_id: str, limit: int = 100
    ) -> list[ReputationChange]:
        return await _cortex(request).agents.reputation_history(
            agent_id, limit=limit, tenant=_key(request).tenant
        )


class KeysController(Controller):
    path = "/v1/keys"
    guards = [require_key]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/",
        responses=ERRORS,
        opt={"role": "admin"},
        status_code=CREATED,
        summary="Create a key in the caller's tenant (the secret is shown once)",
    )
    async def create(self, request: Request[Any, Any, Any], data: KeyBody) -> CreatedKey:
        return await _cortex(request).keys.create(
            data.role,
            tenant=_key(request).tenant,
            projects=data.projects,
            agent_id=data.agent_id,
            name=data.name,
        )

    @get("/", responses=ERRORS, opt={"role": "admin"}, summary="List the tenant's keys")
    async def list_keys(
        self, request: Request[Any, Any, Any], include_revoked: bool = False
    ) -> KeyList:
        keys = await _cortex(request).keys.list(
            include_revoked=include_revoked, tenant=_key(request).tenant
        )
        return KeyList(keys=keys)

    @delete(
        "/{key_id:str}",
        responses=ERRORS,
        opt={"role": "admin"},
        status_code=200,
        summary="Revoke a key",
    )
    async def revoke(self, request: Request[Any, Any, Any], key_id: str) -> ApiKey:
        return await _cortex(request).keys.revoke(key_id, tenant=_key(request).tenant)


class LedgerController(Controller):
    path = "/v1/ledger"
    guards = [require_key]  # noqa: RUF012 - Litestar reads class attributes

    @get("/verify", responses=ERRORS, opt={"role": "read"}, summary="Verify the whole store")
    async def verify(self, request: Request[Any, Any, Any]) -> VerifyReport:
        return await _cortex(request).ledger.verify()

    @get(
        "/checkpoints",
        responses=ERRORS,
        opt={"role": "read"},
        summary="Signed checkpoints, newest first",
    )
    async def checkpoints(
        self, request: Request[Any, Any, Any], limit: int = 100
    ) -> CheckpointList:
        return CheckpointList(checkpoints=await _cortex(request).ledger.checkpoints(limit))

    @post(
        "/checkpoints",
        responses=ERRORS,
        opt={"role": "write"},
        status_code=CREATED,
        summary="Sign the current head now",
    )
    async def checkpoint(self, request: Request[Any, Any, Any]) -> Checkpoint:
        return await _cortex(request).ledger.checkpoint()

    @post(
        "/backups",
        responses=ERRORS,
        opt={"role": "admin"},
        status_code=CREATED,
        summary="Copy the live database to data/backups/NAME.db and verify the copy",
    )
    async def backup(self, request: Request[Any, Any, Any], data: BackupBody) -> BackupMade:
        cortex = _cortex(request)
        name = check_name("name", data.name)
        target = cortex.settings.data_dir / "backups" / f"{name}.db"
        report = await cortex.ledger.backup(target)
        return BackupMade(path=str(target), report=report)

    @get(
        "/public-key", responses=ERRORS, opt={"role": "read"}, summary="The checkpoint verifier key"
    )
    async def public_key(self, request: Request[Any, Any, Any]) -> PublicKey:
        ledger = _cortex(request).ledger
        return PublicKey(origin=ledger.origin, verifier_key=ledger.public_key)

    @get(
        "/proofs/inclusion",
        responses=ERRORS,
        opt={"role": "read"},
        summary="RFC 9162 inclusion proof",
    )
    async def inclusion(
        self, request: Request[Any, Any, Any], leaf_index: int, tree_size: int | None = None
    ) -> InclusionProof:
        proof = await _cortex(request).ledger.inclusion_proof(leaf_index, tree_size)
        if json.loads(proof.entry)["tenant"] != _key(request).tenant:
            raise EntryNotFound(leaf_index)  # another tenant's: its existence is not revealed
        return proof

    @get(
        "/proofs/consistency",
        responses=ERRORS,
        opt={"role": "read"},
        summary="RFC 9162 consistency proof",
    )
    async def consistency(
        self, request: Request[Any, Any, Any], old_size: int, new_size: int | None = None
    ) -> ConsistencyProof:
        return await _cortex(request).ledger.consistency_proof(old_size, new_size)

    @get("/entries", responses=ERRORS, opt={"role": "read"}, summary="The tenant's ledger entries")
    async def entries(
        self, request: Request[Any, Any, Any], start: int = 0, limit: int = 100
    ) -> EntryList:
        rows = await _cortex(request).ledger.entries(start, limit, tenant=_key(request).tenant)
        entries = [
            Entry(
                seq=seq,
                tenant=tenant,
                action=action,
                payload=json.loads(payload),
                entry_hash=bytes(digest).hex(),
                recorded_at=from_micros(at),
            )
            for seq, tenant, action, payload, digest, at in rows
        ]
        next_start = entries[-1].seq + 1 if len(entries) == limit else None
        return EntryList(entries=entries, next_start=next_start)
