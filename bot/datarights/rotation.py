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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.clock import iso
from bot.crypto import KeyFileError, KeyRing, write_keyring
from bot.store.db import Database


def _key(*columns: str) -> Callable[[aiosqlite.Row], str]:
    def aad_part(row: aiosqlite.Row) -> str:
        return ":".join(str(row[c]) for c in columns)

    return aad_part


@dataclass(frozen=True)
class Sealed:
    """One encrypted column and how its associated data is built ("table:column:row")."""

    table: str
    column: str
    prefix: str
    row_key: Callable[[aiosqlite.Row], str]
    key_columns: tuple[str, ...]

    def aad(self, row: aiosqlite.Row) -> str:
        return f"{self.prefix}:{self.row_key(row)}"


def _sealed(table: str, column: str, prefix: str, *key_columns: str) -> Sealed:
    return Sealed(table, column, prefix, _key(*key_columns), key_columns)


#: Every sealed column. A test fails when a migration adds an ``_enc`` column not listed.
SEALED: tuple[Sealed, ...] = (
    _sealed("participants", "address_enc", "participants:address", "id"),
    _sealed("participants", "windows_enc", "participants:windows", "id"),
    _sealed("participants", "research_enc", "participants:research", "id"),
    _sealed("staff", "telegram_enc", "staff:telegram", "id"),
    _sealed("staff", "phone_enc", "staff:phone", "id"),
    _sealed("sessions", "state_enc", "sessions:state", "id"),
    _sealed("answers", "value_enc", "answers:value", "participant_id", "timepoint", "item_id"),
    _sealed("outbox", "payload_enc", "outbox:payload", "lane"),
    _sealed("escalation_notes", "note_enc", "escalation_notes:note", "id"),
    _sealed("escalations", "reasons_enc", "escalations:reasons", "code"),
    _sealed("transcript", "ref_enc", "transcript:ref", "participant_id"),
    _sealed("staff_logins", "totp_enc", "staff_logins:totp", "staff_id"),
    _sealed(
        "research_answers",
        "value_enc",
        "research_answers:value",
        "research_id",
        "timepoint",
        "item_id",
    ),
)


@dataclass(frozen=True)
class Indexed:
    """A blind index recomputed from the sealed value next to it."""

    table: str
    column: str
    source: Sealed
    purpose: Callable[[aiosqlite.Row], str]
    extra_columns: tuple[str, ...] = ()


def _by_name(table: str, column: str) -> Sealed:
    return next(s for s in SEALED if s.table == table and s.column == column)


INDEXED: tuple[Indexed, ...] = (
    Indexed(
        "participants",
        "address_idx",
        _by_name("participants", "address_enc"),
        lambda r: f"address:{r['channel']}",
        ("channel",),
    ),
    Indexed("staff", "telegram_idx", _by_name("staff", "telegram_enc"), lambda r: "staff:telegram"),
    Indexed("staff", "phone_idx", _by_name("staff", "phone_enc"), lambda r: "staff:phone"),
    Indexed(
        "transcript",
        "ref_idx",
        _by_name("transcript", "ref_enc"),
        lambda r: f"transcript:{r['channel']}",
        ("channel",),
    ),
)

#: Hashes whose clear value is never stored: looked up under retired lookup subkeys
#: until they expire (see RetiredKey).
NOT_RECOMPUTABLE = ("inbound_seen.key", "enrol_tokens.token_idx")

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


def _header(kid: str) -> bytes:
    raw = kid.encode()
    return bytes([1, len(raw)]) + raw


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in rows}


async def pending_counts(db: Database, ring: KeyRing) -> dict[str, int]:
    """Sealed fields per column not yet sealed with the active key."""
    header = _header(ring.active)
    tables = await _tables(db)
    counts: dict[str, int] = {}
    for s in SEALED:
        if s.table not in tables:
            continue
        row = await db.fetchone(
            f"SELECT COUNT(*) FROM {s.table} WHERE {s.column} IS NOT NULL"
            f" AND substr({s.column}, 1, ?) != ?",
            (len(header), header),
        )
        counts[f"{s.table}.{s.column}"] = int(row[0]) if row else 0
    return counts


async def fields_per_key(db: Database, ring: KeyRing) -> dict[str, dict[str, int]]:
    """For ``keys status``: {table.column: {key id: fields}}."""
    tables = await _tables(db)
    result: dict[str, dict[str, int]] = {}
    for s in SEALED:
        if s.table not in tables:
            continue
        counts: dict[str, int] = {}
        rows = await db.fetchall(
            f"SELECT substr({s.column}, 1, 40) FROM {s.table} WHERE {s.column} IS NOT NULL"
        )
        for r in rows:
            kid = ring.sealed_with(bytes(r[0]))
            counts[kid] = counts.get(kid, 0) + 1
        result[f"{s.table}.{s.column}"] = counts
    return result


async def secret_digests_per_key(db: Database) -> dict[str, int]:
    """Secret-word digests per key id ("unknown" for digests made before key ids were kept)."""
    counts: dict[str, int] = {}
    for word in ("safe", "code", "duress"):
        rows = await db.fetchall(
            f"SELECT COALESCE({word}_kid, 'unknown'), COUNT(*) FROM participants"
            f" WHERE {word}_hash IS NOT NULL GROUP BY 1"
        )
        for kid, n in rows:
            counts[kid] = counts.get(kid, 0) + int(n)
    return counts


async def _reseal_column(
    db: Database,
    ring: KeyRing,
    s: Sealed,
    batch_size: int,
    on_batch: Callable[[int], Awaitable[None]],
) -> int:
    header = _header(ring.active)
    columns = ", ".join(dict.fromkeys(s.key_columns))
    last, done = 0, 0
    while True:
        async with db.transaction() as tx:
            rows = list(
                await (
                    await tx.execute(
                        f"SELECT rowid AS _rid, {columns}, {s.column} AS blob FROM {s.table}"
                        f" WHERE rowid > ? AND {s.column} IS NOT NULL"
                        f" AND substr({s.column}, 1, ?) != ? ORDER BY rowid LIMIT ?",
                        (last, len(header), header, batch_size),
                    )
                ).fetchall()
            )
            for r in rows:
                blob = bytes(r["blob"])
                if ring.sealed_with(blob) == ring.active:
                    continue
                fresh = ring.seal(ring.open(blob, s.aad(r)), s.aad(r))
                await tx.execute(
                    f"UPDATE {s.table} SET {s.column} = ? WHERE rowid = ? AND {s.column} = ?",
                    (fresh, r["_rid"], blob),
                )
                done += 1
        if not rows:
            return done
        last = rows[-1]["_rid"]
        await on_batch(len(rows))


async def _reindex_column(
    db: Database,
    ring: KeyRing,
    ix: Indexed,
    batch_size: int,
    on_batch: Callable[[int], Awaitable[None]],
) -> int:
    src = ix.source
    columns = ", ".join(dict.fromkeys((*src.key_columns, *ix.extra_columns)))
    last, done = 0, 0
    while True:
        async with db.transaction() as tx:
            rows = list(
                await (
                    await tx.execute(
                        f"SELECT rowid AS _rid, {columns}, {src.column} AS blob, {ix.column} AS idx"
                        f" FROM {ix.table} WHERE rowid > ? AND {src.column} IS NOT NULL"
                        f" ORDER BY rowid LIMIT ?",
                        (last, batch_size),
                    )
                ).fetchall()
            )
            for r in rows:
                value = ring.open_text(bytes(r["blob"]), src.aad(r))
                fresh = ring.blind_index(ix.purpose(r), value, ring.active)
                if r["idx"] is None or bytes(r["idx"]) != fresh:
                    await tx.execute(
                        f"UPDATE {ix.table} SET {ix.column} = ? WHERE rowid = ?",
                        (fresh, r["_rid"]),
                    )
                    done += 1
        if not rows:
            return done
        last = rows[-1]["_rid"]
        await on_batch(len(rows))


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
    tables = await _tables(db)
    if len(ring.key_ids) == 1:
        # Digests from before key ids were recorded can only be under the one key there is.
        for word in ("safe", "code", "duress"):
            async with db.transaction() as tx:
                await tx.execute(
                    f"UPDATE participants SET {word}_kid = ? WHERE {word}_hash IS NOT NULL"
                    f" AND {word}_kid IS NULL",
                    (ring.active,),
                )
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

    for s in SEALED:
        if s.table in tables:
            result.resealed += await _reseal_column(db, ring, s, batch_size, on_batch)
    for ix in INDEXED:
        if ix.table in tables:
            result.reindexed += await _reindex_column(db, ring, ix, batch_size, on_batch)
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
        tokens = await (
            await tx.execute(
                "SELECT MAX(expires_at) FROM enrol_tokens WHERE used_at IS NULL AND expires_at > ?",
                (iso(now),),
            )
        ).fetchone()
        until = max(
            [iso(now + timedelta(days=dedupe_days)), *([tokens[0]] if tokens and tokens[0] else [])]
        )
        lookup_until = until[:19] + "Z"
        fresh = ring
        for kid in old:
            fresh = fresh.retiring(kid, lookup_until)
        needed = await _secret_kids_in_use(tx)
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


async def _secret_kids_in_use(tx: aiosqlite.Connection) -> set[str]:
    kids: set[str] = set()
    for word in ("safe", "code", "duress"):
        rows = await (
            await tx.execute(
                f"SELECT DISTINCT COALESCE({word}_kid, 'unknown') FROM participants"
                f" WHERE {word}_hash IS NOT NULL"
            )
        ).fetchall()
        kids.update(r[0] for r in rows)
    return kids


def sealed_columns() -> Sequence[str]:
    return [f"{s.table}.{s.column}" for s in SEALED]
