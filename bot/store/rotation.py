"""Key rotation's reads and writes: fields per key, and re-sealing column by column in batches.

Each batch is one short transaction, so the service keeps writing while a rotation runs;
a row changed meanwhile is skipped (the UPDATE matches the old blob) and a field already
sealed with the active key is left alone, so running it again carries on where it stopped.
The columns are those of ``bot.store.sealed_columns``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Database, Transaction
from bot.store.sealed_columns import INDEXED, SEALED, Indexed, Sealed

#: Called after each batch with the number of rows it read.
OnBatch = Callable[[int], Awaitable[None]]


def _header(kid: str) -> bytes:
    """How every field sealed with ``kid`` begins (format 1, key id length, key id)."""
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


async def addresses_to_reindex(db: Database) -> int:
    """Her sealed addresses, whose blind indexes a rotation recomputes (for a progress bar)."""
    row = await db.fetchone("SELECT COUNT(*) FROM participants WHERE address_enc IS NOT NULL")
    return int(row[0]) if row else 0


async def reseal_every_column(
    db: Database, ring: KeyRing, batch_size: int, on_batch: OnBatch
) -> int:
    """Re-seal every field not sealed with the active key; returns how many were."""
    tables = await _tables(db)
    done = 0
    for s in SEALED:
        if s.table in tables:
            done += await _reseal_column(db, ring, s, batch_size, on_batch)
    return done


async def reindex_every_column(
    db: Database, ring: KeyRing, batch_size: int, on_batch: OnBatch
) -> int:
    """Recompute every blind index under the active key; returns how many changed."""
    tables = await _tables(db)
    done = 0
    for ix in INDEXED:
        if ix.table in tables:
            done += await _reindex_column(db, ring, ix, batch_size, on_batch)
    return done


async def latest_pending_link_expiry(tx: Transaction, now: datetime) -> str | None:
    """When the last unused enrolment link still valid at ``now`` expires (ISO), if any."""
    row = await (
        await tx.execute(
            "SELECT MAX(expires_at) FROM enrol_tokens WHERE used_at IS NULL AND expires_at > ?",
            (iso(now),),
        )
    ).fetchone()
    return row[0] if row and row[0] else None


async def _reseal_column(
    db: Database, ring: KeyRing, s: Sealed, batch_size: int, on_batch: OnBatch
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
    db: Database, ring: KeyRing, ix: Indexed, batch_size: int, on_batch: OnBatch
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
