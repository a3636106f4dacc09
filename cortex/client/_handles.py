"""``client.agents``, ``client.keys``, ``client.ledger``, ``client.graph``: the same names
as the in-process handles, over HTTP."""

from __future__ import annotations

import builtins
from typing import Any

import msgspec

from cortex.client._http import Transport
from cortex.core.bundle import verify_consistency_bundle, verify_inclusion_bundle
from cortex.core.checkpoint import CheckpointBody
from cortex.model import (
    Agent,
    ApiKey,
    Checkpoint,
    ConsistencyProof,
    CreatedKey,
    Entity,
    EntityFacts,
    Graph,
    InclusionProof,
    ReputationChange,
    VerifyReport,
)


class AgentsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def register(self, name: str, *, public_key: str | None = None,
                       meta: dict[str, Any] | None = None) -> Agent:
        body = {"name": name, "public_key": public_key, "meta": meta}
        return await self._t.call("POST", "/v1/agents", Agent, json=body)

    async def get(self, id: str) -> Agent:
        return await self._t.call("GET", f"/v1/agents/{id}", Agent)

    async def list(self, *, include_inactive: bool = False, limit: int = 100,
                   offset: int = 0) -> list[Agent]:
        page = await self._t.call("GET", "/v1/agents", dict[str, list[Agent]], params={
            "include_inactive": include_inactive, "limit": limit, "offset": offset})
        return page["agents"]

    async def deactivate(self, id: str) -> Agent:
        return await self._t.call("POST", f"/v1/agents/{id}/deactivate", Agent)

    async def reputation_history(
        self, id: str, *, limit: int = 100
    ) -> builtins.list[ReputationChange]:
        return await self._t.call("GET", f"/v1/agents/{id}/reputation",
                                  builtins.list[ReputationChange], params={"limit": limit})


class KeysClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def create(self, role: str, *, projects: list[str] | None = None,
                     agent_id: str | None = None, name: str | None = None) -> CreatedKey:
        body = {"role": role, "projects": projects, "agent_id": agent_id, "name": name}
        return await self._t.call("POST", "/v1/keys", CreatedKey, json=body)

    async def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        page = await self._t.call("GET", "/v1/keys", dict[str, list[ApiKey]],
                                  params={"include_revoked": include_revoked})
        return page["keys"]

    async def revoke(self, id: str) -> ApiKey:
        return await self._t.call("DELETE", f"/v1/keys/{id}", ApiKey)


class _PublicKey(msgspec.Struct):
    origin: str
    verifier_key: str


class _BackupMade(msgspec.Struct):
    path: str
    report: VerifyReport


class LedgerClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def verify(self) -> VerifyReport:
        return await self._t.call("GET", "/v1/ledger/verify", VerifyReport)

    async def checkpoint(self) -> Checkpoint:
        return await self._t.call("POST", "/v1/ledger/checkpoints", Checkpoint)

    async def checkpoints(self, limit: int = 100) -> list[Checkpoint]:
        page = await self._t.call("GET", "/v1/ledger/checkpoints",
                                  dict[str, list[Checkpoint]], params={"limit": limit})
        return page["checkpoints"]

    async def inclusion_proof(self, leaf_index: int,
                              tree_size: int | None = None) -> InclusionProof:
        return await self._t.call("GET", "/v1/ledger/proofs/inclusion", InclusionProof,
                                  params={"leaf_index": leaf_index, "tree_size": tree_size})

    async def consistency_proof(self, old_size: int,
                                new_size: int | None = None) -> ConsistencyProof:
        return await self._t.call("GET", "/v1/ledger/proofs/consistency", ConsistencyProof,
                                  params={"old_size": old_size, "new_size": new_size})

    async def entries(self, start: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        page = await self._t.call("GET", "/v1/ledger/entries", dict[str, Any],
                                  params={"start": start, "limit": limit})
        entries: list[dict[str, Any]] = page["entries"]
        return entries

    async def backup(self, name: str) -> VerifyReport:
        """Have the server copy its database to ``data/backups/<name>.db`` (online, while
        writes go on) and verify the copy; returns the copy's verification report."""
        made = await self._t.call("POST", "/v1/ledger/backups", _BackupMade,
                                  json={"name": name})
        return made.report

    async def public_key(self) -> str:
        """The checkpoint verifier key (C2SP note format): pin it out of band."""
        return (await self._t.call("GET", "/v1/ledger/public-key", _PublicKey)).verifier_key

    async def prove_included(self, leaf_index: int, verifier_key: str) -> CheckpointBody:
        """Fetch the newest signed checkpoint and a proof for entry ``leaf_index`` in it,
        and verify both here against ``verifier_key`` (which the caller pinned; never the
        one the server would hand over in the same breath).

        Raises:
            CheckpointInvalid, ProofError: the server's answer does not verify.
        """
        newest = await self.checkpoints(limit=1)
        if newest and newest[0].tree_size > leaf_index:
            checkpoint = newest[0]
        else:  # no signed head covers it yet: ask for one (needs the write role)
            checkpoint = await self.checkpoint()
        proof = await self.inclusion_proof(leaf_index, checkpoint.tree_size)
        return verify_inclusion(proof, checkpoint, verifier_key)

    async def prove_consistent(self, old: Checkpoint, verifier_key: str) -> CheckpointBody:
        """Prove that the newest signed checkpoint extends ``old`` (one you kept)."""
        new = (await self.checkpoints(limit=1))[0]
        proof = await self.consistency_proof(old.tree_size, new.tree_size)
        return verify_consistency(proof, old, new, verifier_key)[1]


def verify_inclusion(proof: InclusionProof, checkpoint: Checkpoint,
                     verifier_key: str) -> CheckpointBody:
    """Check offline that ``proof``'s entry is in the tree ``checkpoint`` signs."""
    return verify_inclusion_bundle({"checkpoint": checkpoint.note,
                                    "proof": msgspec.to_builtins(proof)}, verifier_key)


def verify_consistency(proof: ConsistencyProof, old: Checkpoint, new: Checkpoint,
                       verifier_key: str) -> tuple[CheckpointBody, CheckpointBody]:
    """Check offline that the tree ``old`` signs is a prefix of the one ``new`` signs."""
    return verify_consistency_bundle({"old_checkpoint": old.note, "new_checkpoint": new.note,
                                      "proof": msgspec.to_builtins(proof)}, verifier_key)


class _Matches(msgspec.Struct):
    matches: list[EntityFacts]


class _Path(msgspec.Struct):
    path: Graph | None


class GraphClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def entities(self, *, project: str | None = None, q: str | None = None,
                       type: str | None = None, limit: int = 50,
                       offset: int = 0) -> list[Entity]:
        page = await self._t.call("GET", "/v1/graph/entities", dict[str, list[Entity]],
                                  params={"project": project, "q": q, "type": type,
                                          "limit": limit, "offset": offset})
        return page["entities"]

    async def entity(self, name_or_id: str | int, *, project: str | None = None,
                     limit: int = 50) -> list[EntityFacts]:
        return (await self._t.call("GET", f"/v1/graph/entities/{name_or_id}", _Matches,
                                   params={"project": project, "limit": limit})).matches

    async def neighbors(self, name_or_id: str | int, *, depth: int = 1,
                        relation: str | None = None, project: str | None = None,
                        max_nodes: int = 100) -> Graph:
        return await self._t.call("GET", f"/v1/graph/entities/{name_or_id}/neighbors", Graph,
                                  params={"depth": depth, "relation": relation,
                                          "project": project, "max_nodes": max_nodes})

    async def path(self, source: str | int, target: str | int, *, max_depth: int = 4,
                   project: str | None = None) -> Graph | None:
        return (await self._t.call("GET", "/v1/graph/path", _Path, params={
            "source": source, "target": target, "max_depth": max_depth,
            "project": project})).path

    async def subgraph(self, *, fact_id: str | None = None, query: str | None = None,
                       depth: int = 1, max_nodes: int = 100) -> Graph:
        return await self._t.call("GET", "/v1/graph/subgraph", Graph, params={
            "fact_id": fact_id, "query": query, "depth": depth, "max_nodes": max_nodes})
