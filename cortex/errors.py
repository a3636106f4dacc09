"""The one exception tree. Every error has a stable ``code`` and the values that explain it.

HTTP statuses are assigned in ``cortex.api.errors`` only; nothing here knows about HTTP.
"""

from __future__ import annotations

import actors


class CortexError(Exception):
    """Base of every error Cortex raises on purpose."""

    code = "cortex_error"

    def __init__(self, detail: str, **context: object) -> None:
        # Not super(): for the errors that also subclass an ``actors`` error, the next
        # class in the MRO has another signature.
        Exception.__init__(self, detail)
        self.detail = detail
        self.context = context

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "detail": self.detail, **self.context}


class InvalidInput(CortexError):
    """Raised when an argument is out of its documented bounds; nothing was written."""

    code = "invalid_input"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", field=field)
        self.field = field
        self.problem = problem


class FactNotFound(CortexError):
    """Raised when no fact with this id exists in the caller's tenant."""

    code = "fact_not_found"

    def __init__(self, fact_id: str) -> None:
        super().__init__(f"fact {fact_id!r} not found", fact_id=fact_id)
        self.fact_id = fact_id


class FactConflict(CortexError):
    """Raised when a store reuses an existing fact id with different content."""

    code = "fact_conflict"

    def __init__(self, fact_id: str) -> None:
        super().__init__(
            f"fact {fact_id!r} already exists with different content", fact_id=fact_id
        )
        self.fact_id = fact_id


class FactSuperseded(CortexError):
    """Raised when updating or deprecating a version that a newer one replaced."""

    code = "fact_superseded"

    def __init__(self, fact_id: str, current_id: str) -> None:
        super().__init__(
            f"fact {fact_id!r} was superseded by {current_id!r}; act on the current version",
            fact_id=fact_id,
            current_id=current_id,
        )
        self.fact_id = fact_id
        self.current_id = current_id


class FactIsDeprecated(CortexError):
    """Raised when updating or deprecating a fact that is already deprecated."""

    code = "fact_deprecated"

    def __init__(self, fact_id: str) -> None:
        super().__init__(f"fact {fact_id!r} is deprecated", fact_id=fact_id)
        self.fact_id = fact_id


class FactIsRedacted(CortexError):
    """Raised when changing a fact whose content was redacted (it can no longer change)."""

    code = "fact_redacted"

    def __init__(self, fact_id: str) -> None:
        super().__init__(f"fact {fact_id!r} is redacted", fact_id=fact_id)
        self.fact_id = fact_id


class AgentNotFound(CortexError):
    """Raised when no agent with this id exists in the caller's tenant."""

    code = "agent_not_found"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent {agent_id!r} not found", agent_id=agent_id)
        self.agent_id = agent_id


class AgentInactive(CortexError):
    """Raised when a deactivated agent votes (or is deactivated again)."""

    code = "agent_inactive"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent {agent_id!r} is deactivated", agent_id=agent_id)
        self.agent_id = agent_id


class AgentExists(CortexError):
    """Raised when registering a name the tenant already has an agent for."""

    code = "agent_exists"

    def __init__(self, name: str, agent_id: str) -> None:
        super().__init__(f"an agent named {name!r} already exists ({agent_id})",
                         name=name, agent_id=agent_id)
        self.agent_id = agent_id


class KeyNotFound(CortexError):
    """Raised when no API key with this id exists in the caller's tenant."""

    code = "key_not_found"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id!r} not found", key_id=key_id)


class EntryNotFound(CortexError):
    """Raised when a ledger position names no entry of the caller's tenant."""

    code = "entry_not_found"

    def __init__(self, seq: int) -> None:
        super().__init__(f"no entry {seq} in this tenant", seq=seq)


class EntityNotFound(CortexError):
    """Raised when no entity of the caller's tenant has this name or id."""

    code = "entity_not_found"

    def __init__(self, entity: str) -> None:
        super().__init__(f"no entity {entity!r} in this tenant", entity=entity)


class Unauthenticated(CortexError):
    """Raised when a request has no API key, a malformed one, or an unknown or revoked one."""

    code = "unauthenticated"


class Forbidden(CortexError):
    """Raised when the key's role or project scope does not allow the operation."""

    code = "forbidden"


class RateLimited(CortexError):
    """Raised when a key exceeded its request rate; retry after ``retry_after`` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after:.2f}s",
                         retry_after=retry_after)
        self.retry_after = retry_after


class IntegrityError(CortexError):
    """Raised when stored data does not match what the ledger vouches for; never served."""

    code = "integrity_error"

    def __init__(self, detail: str, *, seq: int | None = None, fact_id: str | None = None) -> None:
        super().__init__(detail, seq=seq, fact_id=fact_id)
        self.seq = seq
        self.fact_id = fact_id


class LedgerTampered(IntegrityError):
    """Raised at open when the database does not extend the last witnessed checkpoint,
    or its ledger, Merkle nodes or checkpoints do not recompute."""

    code = "ledger_tampered"


class ReadOnlyStore(CortexError):
    """Raised for a write to a store opened read-only for forensic inspection."""

    code = "read_only_store"


class Overloaded(CortexError, actors.Overloaded):
    """Raised when the engine's queue stayed full for the enqueue timeout; nothing written."""

    code = "overloaded"

    def __init__(self, actor: str, retry_after: float) -> None:
        CortexError.__init__(
            self,
            f"{actor} queue is full; retry after {retry_after:.1f}s",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class ShuttingDown(CortexError, actors.ShuttingDown):
    """Raised when the engine is closing and can no longer serve the request."""

    code = "shutting_down"

    def __init__(self, actor: str) -> None:
        CortexError.__init__(self, f"{actor} is shutting down; retry against a live instance")


class DatabaseLocked(CortexError):
    """Raised when another process already owns the database file for writing."""

    code = "database_locked"

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(
            f"database {path} is in use by another process ({holder}); "
            "stop it, or talk to that server over HTTP (--url)",
            path=path,
            holder=holder,
        )
        self.holder = holder


class SchemaTooNew(CortexError):
    """Raised when the database was migrated by a newer Cortex than this one."""

    code = "schema_too_new"

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"database schema version {found} is newer than this Cortex supports "
            f"({supported}); upgrade Cortex",
            found=found,
            supported=supported,
        )


class StorageError(CortexError):
    """Raised when SQLite fails underneath a command (disk full, I/O error, read-only)."""

    code = "storage_error"


class DiskFull(StorageError):
    """Raised when SQLite could not write because the disk holding the database is full;
    the command was rolled back whole (nothing half-written), retry once space is freed."""

    code = "disk_full"

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"the disk holding {path} is full ({cause}); nothing was written, "
                         "retry once space is freed", path=path, cause=cause, retry_after=5.0)
        self.path = path
        self.retry_after = 5.0


class StorageReadOnly(StorageError):
    """Raised when the database file or its directory cannot be written (a read-only
    file system or file); nothing was written, writes resume when it is writable again."""

    code = "storage_read_only"

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"the database {path} cannot be written: read-only ({cause}); "
                         "nothing was written, retry once it is writable", path=path,
                         cause=cause, retry_after=5.0)
        self.path = path
        self.retry_after = 5.0


class DatabaseCorrupt(IntegrityError):
    """Raised when SQLite finds the database file damaged (not a database, a malformed
    page, a truncated file): Cortex refuses it rather than guess; restore a backup."""

    code = "database_corrupt"

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"the database file {path} is corrupt: {cause}; refusing to use it "
                         "(restore a backup, or inspect it with sqlite3 .recover)")
        self.context["path"] = path
        self.context["cause"] = cause
        self.path = path
