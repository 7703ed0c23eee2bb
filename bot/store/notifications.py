"""Who was told of which escalation, by which route, in which round, and whether it arrived.

One ``escalation_notifications`` row per (escalation, staff member, route, round): the
unique key makes writing an alert idempotent, so the hook, the monitor and a restarted
process may all try. A row's delivery state is copied from its outbox row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso, parse_iso
from bot.store.db import Database, Transaction


@dataclass(frozen=True)
class AlertTarget:
    """What deciding an escalation's alerts needs: its level, age, state and programme."""

    id: int
    code: str
    level: str
    state: str
    raised_at: datetime
    programme_id: int | None
    programme_zone: str | None


@dataclass(frozen=True)
class DigestItem:
    """A pending ROUTINE alert now due, with its escalation's state (open ones go out)."""

    id: int
    staff_id: int
    route: str
    escalation_id: int
    escalation_state: str
    code: str


@dataclass(frozen=True)
class Unreached:
    """An open URGENT/HIGH escalation no alert of which has been sent yet."""

    code: str
    level: str
    raised_at: datetime


@dataclass(frozen=True)
class AlertRecord:
    """One alert as staff see it in an escalation's record."""

    id: int
    attempt: int
    staff: str | None
    route: str
    due_at: str
    state: str
    sent_at: str | None
    last_error: str | None


async def alert_target(tx: Transaction, escalation_id: int) -> AlertTarget | None:
    cur = await tx.execute(
        "SELECT e.*, g.timezone AS zone FROM escalations AS e"
        " LEFT JOIN programmes AS g ON g.id = e.programme_id WHERE e.id = ?",
        (escalation_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return AlertTarget(
        id=row["id"],
        code=row["code"],
        level=row["level"],
        state=row["state"],
        raised_at=parse_iso(row["raised_at"]),
        programme_id=row["programme_id"],
        programme_zone=row["zone"],
    )


async def programme_settings(tx: Transaction, programme_id: int) -> dict[str, object]:
    """A programme's own settings (its alert timings may override the config's)."""
    cur = await tx.execute("SELECT settings FROM programmes WHERE id = ?", (programme_id,))
    row = await cur.fetchone()
    settings: dict[str, object] = json.loads(row[0]) if row and row[0] else {}
    return settings


async def add_pending(
    tx: Transaction, escalation_id: int, channel: str, staff_id: int, attempt: int, due: datetime
) -> int | None:
    """The new alert's id; None when this (escalation, staff, route, round) exists already."""
    cur = await tx.execute(
        "INSERT INTO escalation_notifications (escalation_id, route,"
        " staff_id, attempt, due_at, state) VALUES (?, ?, ?, ?, ?, 'pending')"
        " ON CONFLICT DO NOTHING",
        (escalation_id, channel, staff_id, attempt, iso(due)),
    )
    if cur.rowcount == 0 or cur.lastrowid is None:
        return None
    return cur.lastrowid


async def mark_queued(tx: Transaction, notification_ids: list[int], outbox_id: int | None) -> None:
    """Queued on that outbox row (None when its dedupe key had been used already)."""
    marks = ",".join("?" * len(notification_ids))
    await tx.execute(
        f"UPDATE escalation_notifications SET state = 'queued', outbox_id = ?"
        f" WHERE id IN ({marks})",
        (outbox_id, *notification_ids),
    )


async def due_digest_items(db: Database, now: datetime) -> list[DigestItem]:
    rows = await db.fetchall(
        # An item for a member no longer in the escalation's organisation reads as closed
        # (and is cancelled): a digest never leaves the programme's organisation.
        "SELECT n.id, n.staff_id, n.route, n.escalation_id, e.code, CASE WHEN EXISTS"
        " (SELECT 1 FROM staff_organisations AS so JOIN programmes AS g"
        "  ON g.organisation_id = so.organisation_id"
        "  WHERE so.staff_id = n.staff_id AND g.id = e.programme_id)"
        " THEN e.state ELSE 'outside' END AS state"
        " FROM escalation_notifications AS n JOIN escalations AS e ON e.id = n.escalation_id"
        " WHERE n.state = 'pending' AND n.due_at <= ? ORDER BY n.id",
        (iso(now),),
    )
    return [
        DigestItem(r["id"], r["staff_id"], r["route"], r["escalation_id"], r["state"], r["code"])
        for r in rows
    ]


async def cancel(tx: Transaction, notification_id: int) -> None:
    await tx.execute(
        "UPDATE escalation_notifications SET state = 'cancelled' WHERE id = ?",
        (notification_id,),
    )


async def sync_with_outbox(db: Database) -> list[str]:
    """Copy outbox outcomes onto the alerts; returns codes whose alert failed for good."""
    failed = await db.fetchall(
        "SELECT DISTINCT e.code FROM escalation_notifications AS n"
        " JOIN escalations AS e ON e.id = n.escalation_id"
        " JOIN outbox AS o ON o.id = n.outbox_id"
        " WHERE n.state = 'queued' AND o.state = 'failed'"
    )
    async with db.transaction() as tx:
        for state in ("sent", "failed", "cancelled"):
            await tx.execute(
                "UPDATE escalation_notifications SET state = ?,"
                " sent_at = (SELECT o.sent_at FROM outbox AS o WHERE o.id = outbox_id),"
                " last_error = (SELECT o.last_error FROM outbox AS o WHERE o.id = outbox_id)"
                " WHERE state = 'queued'"
                " AND outbox_id IN (SELECT id FROM outbox WHERE state = ?)",
                (state, state),
            )
        await tx.execute(
            "UPDATE escalation_notifications SET last_error ="
            " (SELECT o.last_error FROM outbox AS o WHERE o.id = outbox_id)"
            " WHERE state = 'queued' AND outbox_id IN"
            " (SELECT id FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL)"
        )
    return [r[0] for r in failed]


async def stop_repeats(tx: Transaction, escalation_id: int) -> int:
    """Cancel unsent URGENT/HIGH alerts of one escalation (digests stay); returns how many."""
    cur = await tx.execute(
        "UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND id IN"
        " (SELECT n.outbox_id FROM escalation_notifications AS n"
        "  JOIN escalations AS e ON e.id = n.escalation_id"
        "  WHERE n.escalation_id = ? AND n.state = 'queued' AND e.level != 'ROUTINE')",
        (escalation_id,),
    )
    await tx.execute(
        "UPDATE escalation_notifications SET state = 'cancelled' WHERE escalation_id = ?"
        " AND (state = 'pending' OR (state = 'queued' AND outbox_id IN"
        " (SELECT id FROM outbox WHERE state = 'cancelled')))",
        (escalation_id,),
    )
    return cur.rowcount


async def needing_alerts(db: Database) -> list[int]:
    """Open escalations that may have an alert due: URGENT/HIGH ones, and ROUTINE ones not
    yet put in a digest."""
    rows = await db.fetchall(
        "SELECT e.id, e.level FROM escalations AS e WHERE e.state = 'open'"
        " AND (e.level != 'ROUTINE' OR NOT EXISTS"
        " (SELECT 1 FROM escalation_notifications AS n WHERE n.escalation_id = e.id))"
        " ORDER BY e.id"
    )
    return [row["id"] for row in rows]


async def unreached_since(db: Database, raised_by: datetime) -> list[Unreached]:
    """Open URGENT/HIGH escalations raised by then that reached nobody yet."""
    rows = await db.fetchall(
        "SELECT e.code, e.level, e.raised_at FROM escalations AS e"
        " WHERE e.state = 'open' AND e.level != 'ROUTINE' AND e.raised_at <= ?"
        " AND NOT EXISTS (SELECT 1 FROM escalation_notifications AS n"
        "  WHERE n.escalation_id = e.id AND n.state = 'sent')",
        (iso(raised_by),),
    )
    return [Unreached(r["code"], r["level"], parse_iso(r["raised_at"])) for r in rows]


async def alerts_of(db: Database, escalation_id: int) -> list[AlertRecord]:
    rows = await db.fetchall(
        "SELECT n.*, s.name AS staff FROM escalation_notifications AS n"
        " LEFT JOIN staff AS s ON s.id = n.staff_id WHERE n.escalation_id = ?"
        " ORDER BY n.id",
        (escalation_id,),
    )
    return [
        AlertRecord(
            id=r["id"],
            attempt=r["attempt"],
            staff=r["staff"],
            route=r["route"],
            due_at=r["due_at"],
            state=r["state"],
            sent_at=r["sent_at"],
            last_error=r["last_error"],
        )
        for r in rows
    ]
