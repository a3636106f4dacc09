"""What Cortex trusts outside the database: its signing key and the witness file.

Threat model: someone may write to the database file (SQL or raw bytes) but not to
Cortex's process memory, its key file or the witness file. The key (``cortex-signing.key``,
mode 0600) signs checkpoints; the witness file, kept outside the database's directory,
holds the latest signed checkpoint and whether the last shutdown was clean, so a store
rolled back, truncated or extended behind Cortex's back is refused at open.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from cortex.core.checkpoint import public_bytes
from cortex.errors import CortexError

KEY_FILE = "cortex-signing.key"


class KeyUnavailable(CortexError):
    """Raised when the signing key file cannot be read or is not an Ed25519 key."""

    code = "key_unavailable"


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """Load the Ed25519 signing key, creating it (mode 0600, atomically) if absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load_key(path)
    key = Ed25519PrivateKey.generate()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise KeyUnavailable(f"cannot read signing key {path}: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnavailable(f"{path} is not an Ed25519 private key")
    return key


def default_origin(key: Ed25519PrivateKey) -> str:
    """A stable, unique origin line for the log this key signs."""
    return "cortex.local/" + hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def default_witness_path(origin: str) -> Path:
    """``$XDG_STATE_HOME/cortex/witness/<origin>.json`` (``~/.local/state`` by default)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "cortex" / "witness" / (origin.replace("/", "_") + ".json")


@dataclass(frozen=True, slots=True)
class Witness:
    """The latest checkpoint Cortex signed for this log, and how the last run ended."""

    #: the latest signed checkpoint note (None before the first checkpoint)
    note: str | None
    clean_shutdown: bool


def read_witness(path: Path) -> Witness | None:
    try:
        data = json.loads(path.read_text())
        note = data["note"]
        return Witness(None if note is None else str(note), bool(data["clean_shutdown"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KeyUnavailable(f"witness file {path} is unreadable: {error}") from None


def write_witness(path: Path, witness: Witness) -> None:
    """Replace the witness atomically and durably (write, fsync, rename, fsync dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    body = json.dumps({"note": witness.note, "clean_shutdown": witness.clean_shutdown})
    with open(tmp, "w") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
