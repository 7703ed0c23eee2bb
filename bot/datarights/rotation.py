"""Key rotation: re-seal every encrypted field and recompute every blind index, in batches.

``rotate`` adds a new active key to the key file (a running service, which watches the
file, seals with it from its next write and looks up under every key), re-encrypts each
sealed column batch by batch in short transactions, recomputes blind indexes from the
decrypted values, and finally retires the old master key with the database write lock
held, so no field sealed with it can appear after the last check. Interrupt it at any
point and run it again: fields already sealed with the new key are skipped.

Two kinds of hash cannot be recomputed because their clear value is never stored:
secret-word digests (re-hashed when she next types the word, see ``secret_words``) and
one-time tokens / inbound de-duplication keys (they expire). For those the retired key
leaves verify-only subkeys in the key file (``RetiredKey``), never the master.
The columns and the batches are the store's (``bot.store.sealed_columns``, ``rotation``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import iso
from bot.crypto import KeyFileError, KeyRing, write_keyring
from bot.store.db import Database
from bot.store.rotation import (
    latest_pending_link_expiry,
    pending_counts,
    reindex_every_column,
    reseal_every_column,
)
from bot.store.secret_digests import assign_unknown_key_id, key_ids_in_use

Progress = Callable[[str, int], None]
BatchHook = Callable[[int], Awaitable[None]]


class RotationInterrupted(Exception):
    """Stopped on request (tests, Ctrl-C); run again to carry on."""


@dataclass
class RotationResult:
    new_key: str
    resealed: int = 0
    reindexed: int = 0
    batches: int = 0
    retired: tuple[str, ...] = ()
    verify_only_kept: tuple[str, ...] = ()


async def rotate(
    db: Database,
    ring: KeyRing,
    key_path: Path,
    now: datetime,
    *,
    dedupe_days: int = 14,
    batch_size: int = 500,
    progress: Progress | None = None,
    after_batch: BatchHook | None = None,
) -> RotationResult:
    """Rotate to a new key (or finish an interrupted rotation) and retire the old ones."""
    if len(ring.key_ids) == 1:
        # Digests from before key ids were recorded can only be under the one key there is.
        await assign_unknown_key_id(db, ring.active)
        fresh = ring.with_new_active()
        write_keyring(key_path, fresh)
        if not ring.refresh():
            raise KeyFileError(f"{key_path}: the ring does not follow its key file")
    result = RotationResult(ring.active)

    async def on_batch(rows: int) -> None:
        result.batches += 1
        if progress:
            progress("rows", rows)
        if after_batch:
            await after_batch(result.batches)

    result.resealed += await reseal_every_column(db, ring, batch_size, on_batch)
    result.reindexed += await reindex_every_column(db, ring, batch_size, on_batch)
    await _retire(db, ring, key_path, now, dedupe_days, result)
    return result


async def _retire(
    db: Database,
    ring: KeyRing,
    key_path: Path,
    now: datetime,
    dedupe_days: int,
    result: RotationResult,
) -> None:
    old = [k for k in ring.key_ids if k != ring.active]
    async with db.transaction() as tx:
        # With the write lock held no one can seal with an old key behind our back.
        left = sum((await pending_counts(db, ring)).values())
        if left:
            raise RotationInterrupted(f"{left} field(s) still sealed with an old key; run again")
        last_link = await latest_pending_link_expiry(tx, now)
        until = max([iso(now + timedelta(days=dedupe_days)), *([last_link] if last_link else [])])
        lookup_until = until[:19] + "Z"
        fresh = ring
        for kid in old:
            fresh = fresh.retiring(kid, lookup_until)
        needed = await key_ids_in_use(tx)
        unused = {
            k
            for k, r in fresh.verify_only.items()
            if k not in needed and "unknown" not in needed and not r.lookup_valid()
        }
        fresh = fresh.without_verify_only(unused)
        if old or unused:
            write_keyring(key_path, fresh)
            ring.refresh()
    result.retired = tuple(old)
    result.verify_only_kept = tuple(ring.verify_only)
