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
import logging
import os
import secrets
import stat
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class RetiredKey:
    """What stays of a retired key: verify-only subkeys, never the master.

    ``secret_key`` checks secret-word digests made before the rotation (they cannot be
    re-hashed without her clear word); ``lookup_key`` finds enrolment tokens and inbound
    de-duplication entries hashed before it, until ``lookup_until`` (ISO UTC) passes.
    Neither can decrypt a field.
    """

    secret_key: bytes
    lookup_key: bytes | None = None
    lookup_until: str | None = None

    def lookup_valid(self) -> bool:
        if self.lookup_key is None or self.lookup_until is None:
            return False
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") < self.lookup_until


class KeyRing:
    """All keys known to this process; ``active`` seals, every key opens and looks up.

    A ring that ``watch``es its key file reloads it when the file changes, so a running
    service follows ``followup keys rotate`` in another process without a restart. Inside
    ``checked_once`` (one database transaction) the file is checked once, at its start.
    """

    def __init__(
        self,
        masters: dict[str, bytes],
        active: str,
        verify_only: Mapping[str, RetiredKey] | None = None,
    ) -> None:
        self._path: Path | None = None
        self._stamp: tuple[int, int, int, int] | None = None
        self._refused: tuple[int, int, int, int] | None = None  # logged once, not per check
        self._held = 0  # blocks of checked_once now open (the database thread's and the loop's)
        self._held_lock = threading.Lock()
        self._load(masters, active, verify_only or {})

    def _load(
        self, masters: dict[str, bytes], active: str, verify_only: Mapping[str, RetiredKey]
    ) -> None:
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
        self.verify_only = {k: v for k, v in verify_only.items() if k not in masters}

    # --- following the key file ----------------------------------------------

    def watch(self, path: Path) -> None:
        """Reload from ``path`` whenever it changes (checked with one stat per use)."""
        self._path = path
        self._stamp = _stamp(path)

    def refresh(self) -> bool:
        """Re-read the watched key file if it changed; True when it did.

        A changed file that others may read is refused (its keys may be known): the ring
        keeps the keys it has and logs the fix, as at start-up, until the mode is 0600.
        """
        if self._path is None:
            return False
        stamp = _stamp(self._path)
        if stamp is None or stamp in (self._stamp, self._refused):
            return False
        try:
            _refuse_open_mode(self._path)
            fresh = KeyRing.from_json(self._path.read_text(), str(self._path))
        except KeyFileError as exc:
            self._refused = stamp
            log.error("key file change refused, keeping the keys in use: %s", exc)
            return False
        except OSError:
            return False  # half-visible file: keep what works, try next time
        self._load(fresh._masters, fresh.active, fresh.verify_only)
        self._stamp = stamp
        return True

    @contextmanager
    def checked_once(self) -> Iterator[None]:
        """Check the key file now and not again before the block ends (one transaction).

        Still safe: a rotation writes its key file, then re-seals and retires under the
        database's write lock, which a transaction holds from before this check to its
        commit. So a transaction that began before the new file sealed with a key that the
        re-sealing still sees (and retiring refuses while any field is left under it); one
        that begins after it sees the new file. ``refresh()`` called directly, and an
        unknown key id in ``open``, still re-read at once. Uses outside the block while it
        is open (a read on the loop) skip their check too: the ring is as fresh as this
        transaction's start.
        """
        self.refresh()
        with self._held_lock:
            self._held += 1
        try:
            yield
        finally:
            with self._held_lock:
                self._held -= 1

    def _check(self) -> None:
        """The check every use makes, unless ``checked_once`` made it for this transaction."""
        if not self._held:
            self.refresh()

    # --- rotation --------------------------------------------------------------

    def next_key_id(self) -> str:
        used = {*self._keys, *self.verify_only}
        number = 1
        while f"k{number}" in used:
            number += 1
        return f"k{number}"

    def with_new_active(self) -> KeyRing:
        """A copy with a fresh key added and made active (the old ones still open fields)."""
        kid = self.next_key_id()
        masters = {**self._masters, kid: secrets.token_bytes(32)}
        return KeyRing(masters, kid, self.verify_only)

    def retiring(self, kid: str, lookup_until: str | None) -> KeyRing:
        """A copy without ``kid``'s master; its verify-only subkeys stay (see RetiredKey)."""
        if kid == self.active:
            raise KeyFileError(f"key '{kid}' is active and cannot be retired")
        key = self._keys[kid]
        masters = {k: m for k, m in self._masters.items() if k != kid}
        retired = RetiredKey(key.secret_key, key.index_key if lookup_until else None, lookup_until)
        return KeyRing(masters, self.active, {**self.verify_only, kid: retired})

    def without_verify_only(self, kids: set[str]) -> KeyRing:
        kept = {k: v for k, v in self.verify_only.items() if k not in kids}
        return KeyRing(dict(self._masters), self.active, kept)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, plaintext: bytes, aad: str) -> bytes:
        self._check()
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
            self.refresh()
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
        if kid is None:
            self._check()
        key = self._keys[kid or self.active].index_key
        return _index(key, purpose, value)

    def blind_indexes(self, purpose: str, value: str) -> list[bytes]:
        """The index under every key, for look-ups while a rotation is under way."""
        self._check()
        found = [self.blind_index(purpose, value, kid) for kid in self._keys]
        for retired in self.verify_only.values():
            if retired.lookup_key is not None and retired.lookup_valid():
                found.append(_index(retired.lookup_key, purpose, value))
        return found

    def secret_word_keys(self) -> tuple[bytes, ...]:
        """Keys for secret-word digests; the active one first, verify-only ones last."""
        self._check()
        order = [self.active, *(k for k in self._keys if k != self.active)]
        return (
            *(self._keys[k].secret_key for k in order),
            *(r.secret_key for r in self.verify_only.values()),
        )

    def secret_word_key_ids(self) -> tuple[str, ...]:
        """Key ids in the order of ``secret_word_keys``."""
        order = [self.active, *(k for k in self._keys if k != self.active)]
        return (*order, *self.verify_only)

    def to_json(self) -> str:
        keys = {kid: base64.b64encode(m).decode() for kid, m in self._masters.items()}
        data: dict[str, object] = {"version": 1, "active": self.active, "keys": keys}
        retired = {
            kid: {
                "secret_words": base64.b64encode(r.secret_key).decode(),
                **(
                    {
                        "lookup": base64.b64encode(r.lookup_key).decode(),
                        "lookup_until": r.lookup_until,
                    }
                    if r.lookup_key is not None and r.lookup_valid()
                    else {}
                ),
            }
            for kid, r in self.verify_only.items()
        }
        if retired:
            data["verify_only"] = retired
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str, source: str) -> KeyRing:
        try:
            data = json.loads(text)
            masters = {kid: base64.b64decode(v, validate=True) for kid, v in data["keys"].items()}
            active = data["active"]
            verify_only = {
                kid: RetiredKey(
                    base64.b64decode(v["secret_words"], validate=True),
                    base64.b64decode(v["lookup"], validate=True) if v.get("lookup") else None,
                    v.get("lookup_until"),
                )
                for kid, v in data.get("verify_only", {}).items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(
                f"{source}: not a valid key file ({exc.__class__.__name__})"
            ) from None
        if any(len(m) != 32 for m in masters.values()):
            raise KeyFileError(f"{source}: every key must be 32 bytes")
        return cls(masters, active, verify_only)

    @classmethod
    def generate(cls, kid: str = "k1") -> KeyRing:
        return cls({kid: secrets.token_bytes(32)}, kid)


def _index(key: bytes, purpose: str, value: str) -> bytes:
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()[:20]


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when the file is replaced, rewritten or chmod-ed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


def _refuse_open_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{path}: key file is readable by others (mode {mode:o}); run: chmod 600 {path}"
        )


def load_or_create_keyring(path: Path) -> tuple[KeyRing, bool]:
    """Read the key file, or create it with mode 0600; returns (ring, created)."""
    env = os.environ.get("FOLLOWUP_KEYS")
    if env:
        return KeyRing.from_json(env, "FOLLOWUP_KEYS"), False
    if path.exists():
        _refuse_open_mode(path)
        ring = KeyRing.from_json(path.read_text(), str(path))
        ring.watch(path)
        return ring, False
    ring = KeyRing.generate()
    write_keyring(path, ring)
    ring.watch(path)
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
