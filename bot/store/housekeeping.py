"""Small tables: inbound de-duplication, counters, the audit log."""

from __future__ import annotations

from datetime import datetime

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Transaction


async def first_time_seen(
    tx: Transaction, ring: KeyRing, channel: str, provider_id: str, now: datetime
) -> bool:
    """Record an inbound provider id; False if it was processed before (update_id, MessageSid)."""
    purpose = f"inbound:{channel}"
    if len(ring.key_ids) > 1:  # mid-rotation: an id may be recorded under an older key
        keys = ring.blind_indexes(purpose, provider_id)
        marks = ",".join("?" * len(keys))
        if await tx.execute_fetchall(f"SELECT 1 FROM inbound_seen WHERE key IN ({marks})", keys):
            return False
    cur = await tx.execute(
        "INSERT INTO inbound_seen (key, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (ring.blind_index(purpose, provider_id), iso(now)),
    )
    return cur.rowcount == 1


async def bump(tx: Transaction, name: str, by: int = 1, now: datetime | None = None) -> None:
    """Add to a counter; ``updated_at`` lets retention prune counters nobody touched."""
    stamp = iso(now) if now else None
    await tx.execute(
        "INSERT INTO counters (name, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value,"
        " updated_at = excluded.updated_at",
        (name, by, stamp),
    )


async def audit(
    tx: Transaction,
    now: datetime,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: str | None = None,
) -> None:
    """Append to the audit log; ``subject`` is a pseudonym or code, never contact data."""
    await tx.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (iso(now), actor, action, subject, detail),
    )
