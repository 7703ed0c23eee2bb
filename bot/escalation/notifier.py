"""Write and queue staff alerts: the first ones inside the answer's transaction, then repeats.

Every alert is an ``escalation_notifications`` row (one per escalation, staff
member, route and round) plus an outbox row on the lane of that staff route.
The unique (escalation, staff, route, round) key makes ``ensure`` idempotent:
the hook, the monitor and a restarted process can all call it safely.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.channels.base import Rendered
from bot.clock import iso, parse_iso
from bot.config import Config
from bot.crypto import KeyRing
from bot.escalation import content
from bot.escalation.timings import Timings, next_digest, timings_for
from bot.store.db import Database
from bot.store.escalations import RaisedEscalation
from bot.store.housekeeping import audit
from bot.store.outbox import PRIORITY_URGENT, Outbox
from bot.store.staff import Route, StaffMember, StaffStore

log = logging.getLogger(__name__)


def staff_lane(staff_id: int, channel: str) -> str:
    """One lane per staff route, so a failing Telegram never holds back the SMS."""
    return f"staff:{staff_id}:{channel}"


class Notifier:
    def __init__(
        self,
        db: Database,
        ring: KeyRing,
        outbox: Outbox,
        staff: StaffStore,
        config: Config,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.ring = ring
        self.outbox = outbox
        self.staff = staff
        self.config = config
        self.wake = wake

    async def hook(self, tx: aiosqlite.Connection, raised: RaisedEscalation, now: datetime) -> None:
        """EscalationHook: the first alerts, in the same transaction as her answer."""
        await self.ensure(tx, raised.id, now)
        self.wake()

    async def timings(self, conn: aiosqlite.Connection, programme_id: int | None) -> Timings:
        settings: dict[str, object] = {}
        if programme_id is not None:
            cur = await conn.execute(
                "SELECT settings FROM programmes WHERE id = ?", (programme_id,)
            )
            row = await cur.fetchone()
            if row and row[0]:
                settings = json.loads(row[0])
        return timings_for(self.config.escalation, settings)

    async def ensure(self, tx: aiosqlite.Connection, escalation_id: int, now: datetime) -> int:
        """Write (and queue) every alert due now for one open escalation; returns how many."""
        cur = await tx.execute(
            "SELECT e.*, g.timezone AS zone FROM escalations AS e"
            " LEFT JOIN programmes AS g ON g.id = e.programme_id WHERE e.id = ?",
            (escalation_id,),
        )
        esc = await cur.fetchone()
        if esc is None or esc["state"] != "open":
            return 0
        level, raised_at = esc["level"], parse_iso(esc["raised_at"])
        timings = await self.timings(tx, esc["programme_id"])
        on_call, backup = await self.staff.routes(esc["programme_id"], tx)
        if not on_call:
            on_call = await self.staff.fallback(tx)
        recipients: list[tuple[StaffMember, bool]] = [(m, False) for m in on_call]
        if level == "ROUTINE":
            attempt = 1
            zone = ZoneInfo(esc["zone"] or "UTC")
            due = next_digest(raised_at, timings.digest_hour, zone)
        else:
            attempt = timings.attempt_at(level, raised_at, now)
            due = now
            if timings.backup_due(level, raised_at, now):
                taken = {m.id for m in on_call}
                recipients += [(m, True) for m in backup if m.id not in taken]
        facts: content.AlertFacts | None = None
        written = 0
        for member, is_backup in recipients:
            for route in member.routes(self.ring):
                cur = await tx.execute(
                    "INSERT OR IGNORE INTO escalation_notifications (escalation_id, route,"
                    " staff_id, attempt, due_at, state) VALUES (?, ?, ?, ?, ?, 'pending')",
                    (escalation_id, route.channel, member.id, attempt, iso(due)),
                )
                if cur.rowcount == 0 or cur.lastrowid is None:
                    continue
                written += 1
                if level == "ROUTINE":
                    continue
                facts = facts or await content.load_facts(tx, self.ring, escalation_id)
                message = content.alert(
                    facts,
                    route.channel,
                    member.language,
                    attempt=1 if is_backup else attempt,
                    backup=is_backup,
                )
                await self._queue(tx, [cur.lastrowid], member, route, message, now)
                await audit(
                    tx, now, "system", "escalation_notified", esc["code"],
                    f"{member.name} via {route.channel}, round {attempt}"
                    + (" (backup)" if is_backup else ""),
                )  # fmt: skip
        if not recipients:
            log.error("escalation %s: no staff route configured; nobody can be told", esc["code"])
        return written

    async def _queue(
        self,
        tx: aiosqlite.Connection,
        notification_ids: list[int],
        member: StaffMember,
        route: Route,
        message: Rendered,
        now: datetime,
    ) -> None:
        outbox_id = await self.outbox.enqueue(
            tx,
            lane=staff_lane(member.id, route.channel),
            channel=route.channel,
            kind="message",
            priority=PRIORITY_URGENT,
            payload={"address": route.address, "message": message.to_json()},
            now=now,
            staff_id=member.id,
            dedupe_key=f"esc-notification:{notification_ids[0]}",
        )
        marks = ",".join("?" * len(notification_ids))
        await tx.execute(
            f"UPDATE escalation_notifications SET state = 'queued', outbox_id = ?"
            f" WHERE id IN ({marks})",
            (outbox_id, *notification_ids),
        )

    async def send_digests(self, now: datetime) -> int:
        """Send every ROUTINE digest now due, one message per staff route; returns how many."""
        rows = await self.db.fetchall(
            "SELECT n.id, n.staff_id, n.route, n.escalation_id, e.state, e.code"
            " FROM escalation_notifications AS n JOIN escalations AS e ON e.id = n.escalation_id"
            " WHERE n.state = 'pending' AND n.due_at <= ? ORDER BY n.id",
            (iso(now),),
        )
        if not rows:
            return 0
        groups: dict[tuple[int, str], list[aiosqlite.Row]] = defaultdict(list)
        sent = 0
        async with self.db.transaction() as tx:
            for row in rows:
                if row["state"] != "open":
                    await tx.execute(
                        "UPDATE escalation_notifications SET state = 'cancelled' WHERE id = ?",
                        (row["id"],),
                    )
                else:
                    groups[(row["staff_id"], row["route"])].append(row)
            for (staff_id, channel), items in groups.items():
                member = await self.staff.get(staff_id)
                if member is None:
                    continue
                routes = member.routes(self.ring)
                route = next((r for r in routes if r.channel == channel), routes[0])
                facts = [await content.load_facts(tx, self.ring, r["escalation_id"]) for r in items]
                await self._queue(
                    tx, [r["id"] for r in items], member, route,
                    content.digest(facts, member.language), now,
                )  # fmt: skip
                codes = ",".join(r["code"] for r in items)
                await audit(tx, now, "system", "escalation_digest", None,
                            f"{member.name} via {route.channel}: {codes}")  # fmt: skip
                sent += 1
        return sent

    async def sync(self) -> list[str]:
        """Copy outbox outcomes onto the alerts; returns codes whose alert failed for good."""
        failed = await self.db.fetchall(
            "SELECT DISTINCT e.code FROM escalation_notifications AS n"
            " JOIN escalations AS e ON e.id = n.escalation_id"
            " JOIN outbox AS o ON o.id = n.outbox_id"
            " WHERE n.state = 'queued' AND o.state = 'failed'"
        )
        async with self.db.transaction() as tx:
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

    async def stop_alerts(self, tx: aiosqlite.Connection, escalation_id: int) -> int:
        """Someone acted: unsent repeats of this escalation are cancelled (digests stay)."""
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
