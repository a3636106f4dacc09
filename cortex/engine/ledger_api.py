"""``cx.ledger``: checkpoints, RFC 9162 proofs and verification of the whole store."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from cortex.config import Settings
from cortex.core import validation as v
from cortex.db.audit import VerifiedUpTo, verify_store
from cortex.db.connect import backup_file, open_reader, run_sync
from cortex.engine.messages import (
    CheckpointMade,
    ListCheckpoints,
    ListEntries,
    MakeCheckpoint,
    ProveConsistency,
    ProveInclusion,
)
from cortex.errors import IntegrityError, InvalidInput
from cortex.model import Checkpoint, ConsistencyProof, InclusionProof, VerifyProblem, VerifyReport

if TYPE_CHECKING:
    from cortex.engine.facade import Cortex

_MAX_INDEX = 2**62


class LedgerHandle:
    """The verifiable side of a ``Cortex``: reached as ``cx.ledger``."""

    def __init__(self, cortex: Cortex) -> None:
        self._cortex = cortex
        self._verified: VerifiedUpTo | None = None

    @property
    def public_key(self) -> str:
        """The C2SP verifier key (``origin+keyid+base64``) that checks checkpoints."""
        return self._cortex.signer.verifier_key

    @property
    def origin(self) -> str:
        return self._cortex.signer.origin

    async def checkpoint(self) -> Checkpoint:
        """Sign the current tree head now (returns the existing one if already signed)."""
        made: CheckpointMade = await self._cortex._write(MakeCheckpoint("manual"))
        return made.checkpoint

    async def checkpoints(self, limit: int = 100) -> list[Checkpoint]:
        """Stored checkpoints, newest first."""
        found: list[Checkpoint] = await self._cortex._read(
            ListCheckpoints(v.check_range("limit", limit, 1, v.MAX_LIMIT)))
        return found

    async def inclusion_proof(
        self, leaf_index: int, tree_size: int | None = None
    ) -> InclusionProof:
        """Prove entry ``leaf_index`` (0-based) is in the tree of ``tree_size`` (default:
        the head). Any size up to the head works, not only checkpoint sizes."""
        query = ProveInclusion(
            v.check_range("leaf_index", leaf_index, 0, _MAX_INDEX),
            None if tree_size is None else v.check_range("tree_size", tree_size, 1, _MAX_INDEX),
        )
        proof: InclusionProof = await self._cortex._read(query)
        return proof

    async def consistency_proof(
        self, old_size: int, new_size: int | None = None
    ) -> ConsistencyProof:
        """Prove the tree of ``old_size`` is a prefix of the tree of ``new_size``."""
        query = ProveConsistency(
            v.check_range("old_size", old_size, 1, _MAX_INDEX),
            None if new_size is None else v.check_range("new_size", new_size, 1, _MAX_INDEX),
        )
        proof: ConsistencyProof = await self._cortex._read(query)
        return proof

    async def entries(
        self, start: int = 0, limit: int = 100, *, tenant: str | None = None
    ) -> list[tuple[int, str, str, str, bytes, int]]:
        """The tenant's ledger entries from position ``start``: (seq, tenant, action,
        canonical payload, entry hash, recorded_at µs)."""
        query = ListEntries(self._cortex._tenant(tenant),
                            v.check_range("start", start, 0, _MAX_INDEX),
                            v.check_range("limit", limit, 1, v.MAX_LIMIT))
        rows: list[tuple[int, str, str, str, bytes, int]] = await self._cortex._read(query)
        return rows

    async def export_inclusion(self, leaf_index: int) -> dict[str, Any]:
        """A self-contained bundle proving entry ``leaf_index`` under a signed checkpoint
        (the latest one covering it; made now if none does). Check it offline with
        ``cortex.core.bundle.verify_inclusion_bundle`` and ``public_key``."""
        latest = await self.checkpoints(limit=1)
        if not latest or latest[0].tree_size <= leaf_index:
            latest = [await self.checkpoint()]
        checkpoint = latest[0]
        proof = await self.inclusion_proof(leaf_index, checkpoint.tree_size)
        return {"checkpoint": checkpoint.note, "public_key": self.public_key,
                "proof": msgspec.to_builtins(proof)}

    async def export_consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        """A bundle proving the checkpoint at ``old_size`` is a prefix of ``new_size``'s.

        Raises:
            InvalidInput: either size has no stored checkpoint.
        """
        by_size = {c.tree_size: c for c in await self.checkpoints(limit=v.MAX_LIMIT)}
        for field, size in (("old_size", old_size), ("new_size", new_size)):
            if size not in by_size:
                raise InvalidInput(field, f"no checkpoint has tree size {size}")
        proof = await self.consistency_proof(old_size, new_size)
        return {"old_checkpoint": by_size[old_size].note,
                "new_checkpoint": by_size[new_size].note, "public_key": self.public_key,
                "proof": msgspec.to_builtins(proof)}

    async def verify(self, progress: Callable[[int, int], Any] | None = None) -> VerifyReport:
        """Recompute everything: entries, chain, Merkle nodes, checkpoints and their
        signatures, every fact against its entry. Streams in constant memory on its own
        read-only connection, so writes go on. ``progress(done, total)`` is called from
        a worker thread."""
        return await self._verify(None, progress)

    async def verify_incremental(
        self, progress: Callable[[int, int], Any] | None = None
    ) -> VerifyReport:
        """Verify only what follows the last checkpoint a previous verify proved."""
        return await self._verify(self._verified, progress)

    async def backup(self, target: Path) -> VerifyReport:
        """Copy the database to the new file ``target`` with SQLite's online backup API
        (consistent while writes go on), then verify the copy against the tree heads this
        process committed. The copy holds every write acknowledged before the call.

        Raises:
            InvalidInput: ``target`` exists.
            IntegrityError: the copy does not verify (it is left for inspection).
        """
        await anyio.to_thread.run_sync(_copy_to_new_file, self._cortex.settings.db_path,
                                       target)
        report = await self._verify(None, None, dataclasses.replace(
            self._cortex.settings, db_path=target), remember=False)
        if not report.ok:
            raise IntegrityError(f"the copy in {target} does not verify: "
                                 f"{report.problems[0].what}", seq=report.first_bad)
        return report

    async def _verify(
        self, since: VerifiedUpTo | None, progress: Callable[[int, int], Any] | None,
        settings: Settings | None = None, remember: bool = True,
    ) -> VerifyReport:
        trusted = self._cortex.trusted

        def trusted_root(size: int) -> bytes | None:
            try:
                return trusted.root_at(size, wait=1.0)
            except IntegrityError:
                return None

        conn = await open_reader(settings or self._cortex.settings)
        try:
            scan, facts, problems, redacted = await run_sync(
                conn, verify_store, self.public_key, trusted_root, since, progress)
            checkpoint = await run_sync(conn, _latest_checkpoint_upto, scan.size)
        finally:
            await conn.close()
        if remember and not problems and checkpoint is not None:
            size, root = checkpoint
            if size in scan.roots and scan.roots[size] == root:
                self._verified = VerifiedUpTo(size, root)
        positions = [p.seq for p in problems if p.seq is not None]
        return VerifyReport(
            ok=not problems, checked=scan.size - (since.size if since else 0),
            facts_checked=facts, first_bad=min(positions) if positions else None,
            problems=[VerifyProblem(seq=p.seq, what=p.what, fact_id=p.fact_id)
                      for p in problems],
            redacted=redacted, tree_size=scan.size, root_hash=scan.frontier.root().hex(),
            since=since.size if since else 0,
        )


def _copy_to_new_file(source: Path, target: Path) -> None:
    if target.exists():
        raise InvalidInput("output", f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    backup_file(source, target)


def _latest_checkpoint_upto(conn: Any, size: int) -> tuple[int, bytes] | None:
    row = conn.execute("SELECT tree_size, root_hash FROM checkpoints WHERE tree_size <= ?"
                       " ORDER BY tree_size DESC LIMIT 1", (size,)).fetchone()
    return None if row is None else (int(row[0]), bytes(row[1]))
