"""Field encryption and blind indexes (DESIGN.md §3).

Every personal field is sealed with AES-256-GCM bound to its table, column
and row as associated data, with the key id inside the ciphertext so keys can
rotate. Look-ups use a keyed HMAC ("blind index") instead of the value.
Keys live in a 0600 key file or the environment, never in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FORMAT = 1
_NONCE = 12


class KeyFileError(Exception):
    """A key file is missing, unreadable, too open, or names an unknown key."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class _Key:
    kid: str
    aead: AESGCM
    index_key: bytes
    secret_key: bytes


class KeyRing:
    """All keys known to this process; ``active`` seals, every key opens and looks up."""

    def __init__(self, masters: dict[str, bytes], active: str) -> None:
        if active not in masters:
            raise KeyFileError(f"active key '{active}' is not in the key ring")
        self._keys = {
            kid: _Key(
                kid,
                AESGCM(_derive(m, b"followup field encryption")),
                _derive(m, b"followup blind index"),
                _derive(m, b"followup secret words"),
            )
            for kid, m in masters.items()
        }
        self.active = active
        self._masters = dict(masters)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        key = self._keys[self.active]
        nonce = os.urandom(_NONCE)
        kid = key.kid.encode()
        header = bytes([_FORMAT, len(kid)]) + kid
        return header + nonce + key.aead.encrypt(nonce, plaintext, header + aad.encode())

    def open(self, blob: bytes, aad: str) -> bytes:
        if len(blob) < 2 or blob[0] != _FORMAT:
            raise ValueError("not a sealed field")
        kid_len = blob[1]
        header = blob[: 2 + kid_len]
        kid = header[2:].decode()
        if kid not in self._keys:
            raise KeyFileError(f"field sealed with key '{kid}', which is not in the key ring")
        nonce = blob[2 + kid_len : 2 + kid_len + _NONCE]
        body = blob[2 + kid_len + _NONCE :]
        return self._keys[kid].aead.decrypt(nonce, body, header + aad.encode())

    def sealed_with(self, blob: bytes) -> str:
        return blob[2 : 2 + blob[1]].decode()

    def seal_text(self, text: str, aad: str) -> bytes:
        return self.seal(text.encode(), aad)

    def open_text(self, blob: bytes, aad: str) -> str:
        return self.open(blob, aad).decode()

    def blind_index(self, purpose: str, value: str, kid: str | None = None) -> bytes:
        """Keyed hash for equality look-ups; the active key unless ``kid`` is given."""
        key = self._keys[kid or self.active].index_key
        return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()[:20]

    def blind_indexes(self, purpose: str, value: str) -> list[bytes]:
        """The index under every key, for look-ups while a rotation is under way."""
        return [self.blind_index(purpose, value, kid) for kid in self._keys]

    def secret_word_keys(self) -> tuple[bytes, ...]:
        """Keys for secret-word digests; the active one first."""
        order = [self.active, *(k for k in self._keys if k != self.active)]
        return tuple(self._keys[k].secret_key for k in order)

    def to_json(self) -> str:
        keys = {kid: base64.b64encode(m).decode() for kid, m in self._masters.items()}
        return json.dumps({"version": 1, "active": self.active, "keys": keys}, indent=2)

    @classmethod
    def from_json(cls, text: str, source: str) -> KeyRing:
        try:
            data = json.loads(text)
            masters = {kid: base64.b64decode(v, validate=True) for kid, v in data["keys"].items()}
            active = data["active"]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(
                f"{source}: not a valid key file ({exc.__class__.__name__})"
            ) from None
        if any(len(m) != 32 for m in masters.values()):
            raise KeyFileError(f"{source}: every key must be 32 bytes")
        return cls(masters, active)

    @classmethod
    def generate(cls, kid: str = "k1") -> KeyRing:
        return cls({kid: secrets.token_bytes(32)}, kid)


def load_or_create_keyring(path: Path) -> tuple[KeyRing, bool]:
    """Read the key file, or create it with mode 0600; returns (ring, created)."""
    env = os.environ.get("FOLLOWUP_KEYS")
    if env:
        return KeyRing.from_json(env, "FOLLOWUP_KEYS"), False
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"{path}: key file is readable by others (mode {mode:o}); run: chmod 600 {path}"
            )
        return KeyRing.from_json(path.read_text(), str(path)), False
    ring = KeyRing.generate()
    write_keyring(path, ring)
    return ring, True


def write_keyring(path: Path, ring: KeyRing) -> None:
    """Write atomically with mode 0600 (a crash leaves the old or the new file, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(ring.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
