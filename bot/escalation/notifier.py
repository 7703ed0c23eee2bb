"""Write and queue staff alerts: the first ones inside the answer's transaction, then repeats.

Every alert is an ``escalation_notifications`` row (one per escalation, staff
member, route and round) plus an outbox row on the lane of that staff route.
The unique (escalation, staff, route, round) key makes ``ensure`` idempotent:
the hook, the monitor and a restarted process can all call it safely.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels.base import Rendered
from bot.config import EscalationConfig
from bot.crypto import KeyRing
from bot.escalation import content
from bot.escalation.timings import Timings, next_digest, timings_for
from bot.store import notifications
from bot.store.db import Database, Transaction
from bot.store.escalations import AlertFacts, RaisedEscalation, alert_facts
from bot.store.housekeeping import audit
from bot.store.notifications import DigestItem
from bot.store.outbox import PRIORITY_URGENT, PRIORITY_WAVE, Outbox
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
        defaults: EscalationConfig,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.ring = ring
        self.outbox = outbox
        self.staff = staff
        self.defaults = defaults
        self.wake = wake

    async def hook(self, tx: Transaction, raised: RaisedEscalation, now: datetime) -> None:
        """EscalationHook: the first alerts, in the same transaction as her answer."""
        await self.ensure(tx, raised.id, now)
        self.db.after_commit(self.wake)  # her step may run in the database thread (Database.run)

    async def timings(self, tx: Transaction, programme_id: int | None) -> Timings:
        """The config's alert timings, overridden by the programme's own settings."""
        settings: dict[str, object] = {}
        if programme_id is not None:
            settings = await notifications.programme_settings(tx, programme_id)
        return timings_for(self.defaults, settings)

    async def ensure(self, tx: Transaction, escalation_id: int, now: datetime) -> int:
        """Write (and queue) every alert due now for one open escalation; returns how many."""
        esc = await notifications.alert_target(tx, escalation_id)
        if esc is None or esc.state != "open":
            return 0
        level, raised_at = esc.level, esc.raised_at
        timings = await self.timings(tx, esc.programme_id)
        on_call, backup = await self.staff.routes(esc.programme_id, tx)
        if not on_call:
            on_call = await self.staff.fallback(esc.programme_id, tx)
        recipients: list[tuple[StaffMember, bool]] = [(m, False) for m in on_call]
        if level == "ROUTINE":
            attempt = 1
            zone = ZoneInfo(esc.programme_zone or "UTC")
            due = next_digest(raised_at, timings.digest_hour, zone)
        else:
            attempt = timings.attempt_at(level, raised_at, now)
            due = now
            if timings.backup_due(level, raised_at, now):
                taken = {m.id for m in on_call}
                recipients += [(m, True) for m in backup if m.id not in taken]
        facts: AlertFacts | None = None
        written = 0
        for member, is_backup in recipients:
            for route in member.routes(self.ring):
                notification_id = await notifications.add_pending(
                    tx, escalation_id, route.channel, member.id, attempt, due
                )
                if notification_id is None:
                    continue
                written += 1
                if level == "ROUTINE":
                    continue
                facts = facts or await alert_facts(tx, self.ring, escalation_id)
                message = content.alert(
                    facts,
                    route.channel,
                    member.language,
                    attempt=1 if is_backup else attempt,
                    backup=is_backup,
                )
                await self._queue(tx, [notification_id], member, route, message, now)
                await audit(
                    tx, now, "system", "escalation_notified", esc.code,
                    f"{member.name} via {route.channel}, round {attempt}"
                    + (" (backup)" if is_backup else ""),
                )  # fmt: skip
        if not recipients:
            log.error("escalation %s: no staff route configured; nobody can be told", esc.code)
        return written

    async def _queue(
        self,
        tx: Transaction,
        notification_ids: list[int],
        member: StaffMember,
        route: Route,
        message: Rendered,
        now: datetime,
        *,
        digest: bool = False,
    ) -> None:
        """An alert goes before everything; a digest (ROUTINE, daily) uses the budget live
        replies leave, in a lane of its own so no alert ever waits behind it."""
        lane = staff_lane(member.id, route.channel)
        outbox_id = await self.outbox.enqueue(
            tx,
            lane=f"{lane}:digest" if digest else lane,
            channel=route.channel,
            kind="message",
            priority=PRIORITY_WAVE if digest else PRIORITY_URGENT,
            payload={"address": route.address, "message": message.to_json()},
            now=now,
            staff_id=member.id,
            dedupe_key=f"esc-notification:{notification_ids[0]}",
        )
        await notifications.mark_queued(tx, notification_ids, outbox_id)

    async def send_digests(self, now: datetime) -> int:
        """Send every ROUTINE digest now due, one message per staff route; returns how many."""
        items_due = await notifications.due_digest_items(self.db, now)
        if not items_due:
            return 0
        groups: dict[tuple[int, str], list[DigestItem]] = defaultdict(list)
        sent = 0
        async with self.db.transaction() as tx:
            for item in items_due:
                if item.escalation_state != "open":
                    await notifications.cancel(tx, item.id)
                else:
                    groups[(item.staff_id, item.route)].append(item)
            for (staff_id, channel), items in groups.items():
                member = await self.staff.get(staff_id)
                if member is None:
                    continue
                routes = member.routes(self.ring)
                route = next((r for r in routes if r.channel == channel), routes[0])
                facts = [await alert_facts(tx, self.ring, i.escalation_id) for i in items]
                await self._queue(
                    tx, [i.id for i in items], member, route,
                    content.digest(facts, member.language), now, digest=True,
                )  # fmt: skip
                codes = ",".join(i.code for i in items)
                await audit(tx, now, "system", "escalation_digest", None,
                            f"{member.name} via {route.channel}: {codes}")  # fmt: skip
                sent += 1
        return sent

    async def sync(self) -> list[str]:
        """Copy outbox outcomes onto the alerts; returns codes whose alert failed for good."""
        return await notifications.sync_with_outbox(self.db)

    async def stop_alerts(self, tx: Transaction, escalation_id: int) -> int:
        """Someone acted: unsent repeats of this escalation are cancelled (digests stay)."""
        return await notifications.stop_repeats(tx, escalation_id)
