"""Checkpoints as C2SP ``tlog-checkpoint`` bodies signed as C2SP ``signed-note``s.

A checkpoint note reads::

    <origin>
    <tree size, decimal>
    <root hash, standard base64>

    — <key name> <base64(4-byte key id ‖ Ed25519 signature)>

The signature covers the body (the first three lines, each ending in a newline). The key
id is the first 4 bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key), 0x01 being the
Ed25519 signature type; the verifier key is written ``<name>+<hex key id>+<base64(0x01 ‖
public key)>``. These are the formats transparency-log tools (sumdb, Sigsum, Trillian's
``note`` package) read, so they can check Cortex checkpoints without Cortex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_TYPE = b"\x01"
_SIGNATURE_LINE = re.compile(r"— (\S+) ([A-Za-z0-9+/=]+)\n")
_ORIGIN = re.compile(r"[^\s+]+")


class CheckpointInvalid(ValueError):
    """Raised when a note does not parse or its signature does not verify."""


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    """What a checkpoint commits to: the log's origin, a tree size and its root."""

    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode()
        return f"{self.origin}\n{self.tree_size}\n{root}\n"


def check_origin(origin: str) -> str:
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(f"origin must be non-empty, without spaces or '+', got {origin!r}")
    return origin


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The ``name+keyid+key`` string a verifier is configured with."""
    encoded = base64.b64encode(ED25519_TYPE + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(body: CheckpointBody, key: Ed25519PrivateKey) -> str:
    """Return the full signed note for ``body``, signed by ``key`` under the origin's name."""
    text = body.text()
    signature = key.sign(text.encode())
    blob = base64.b64encode(key_id(body.origin, public_bytes(key)) + signature).decode()
    return f"{text}\n— {body.origin} {blob}\n"


def parse_verifier_key(verifier: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Split ``name+keyid+key`` into name, key id and public key (checking they agree)."""
    try:
        name, hex_id, encoded = verifier.split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        expected_id = bytes.fromhex(hex_id)
    except (ValueError, binascii.Error):
        raise CheckpointInvalid("verifier key must be name+keyid+base64key") from None
    if raw[:1] != ED25519_TYPE or len(raw) != 33:
        raise CheckpointInvalid("verifier key is not an Ed25519 key")
    if key_id(name, raw[1:]) != expected_id:
        raise CheckpointInvalid("verifier key id does not match its key")
    return name, expected_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note: str, verifier: str) -> CheckpointBody:
    """Verify ``note``'s signature by ``verifier`` and return the checkpoint it carries.

    Raises:
        CheckpointInvalid: malformed note, no signature by that key, or a bad signature.
    """
    name, expected_id, public = parse_verifier_key(verifier)
    body, separator, signatures = note.partition("\n\n")
    if not separator or not signatures:
        raise CheckpointInvalid("note has no signature block")
    body += "\n"
    for line in re.split(r"(?<=\n)", signatures):
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None or match.group(1) != name:
            continue
        blob = base64.b64decode(match.group(2))
        if blob[:4] != expected_id:
            continue
        try:
            public.verify(blob[4:], body.encode())
        except InvalidSignature:
            raise CheckpointInvalid("checkpoint signature does not verify") from None
        return _parse_body(body)
    raise CheckpointInvalid(f"note carries no signature by key {name!r}")


def _parse_body(body: str) -> CheckpointBody:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointInvalid("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointInvalid(f"tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointInvalid("root hash is not base64") from None
    if len(root) != 32:
        raise CheckpointInvalid("root hash is not 32 bytes")
    return CheckpointBody(origin, int(size_text), root)
