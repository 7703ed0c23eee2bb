"""Until someone acts: repeats, the backup ladder, the daily digest, and loud failure logs.

A runner Component ticking every few seconds; the database holds all state,
so a restart (or a missed tick) loses nothing and sends nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.routing import BaseRoute

from bot.clock import Clock
from bot.escalation.notifier import Notifier
from bot.store import notifications
from bot.store.db import Database

log = logging.getLogger(__name__)

#: An URGENT/HIGH alert not delivered anywhere after this long is logged as an ERROR.
UNDELIVERED_GRACE = timedelta(seconds=60)
#: ...and again at most this often, per escalation.
SHOUT_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Tick:
    written: int
    digests: int
    undelivered: tuple[str, ...]


class EscalationMonitor:
    name = "escalation-monitor"

    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        clock: Clock,
        *,
        interval: float = 5.0,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.clock = clock
        self.interval = interval
        self.wake = wake
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._shouted: dict[str, datetime] = {}

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # never dies: the next tick tries again
                log.exception("escalation monitor tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def tick(self) -> Tick:
        """One pass: outcomes, due repeats and ladder steps, digests, then shout about failures."""
        now = self.clock.now()
        for code in await self.notifier.sync():
            log.error("escalation %s: an alert failed permanently on one route", code)
        due = await notifications.needing_alerts(self.db)
        written = 0
        if due:
            async with self.db.transaction() as tx:
                for escalation_id in due:
                    written += await self.notifier.ensure(tx, escalation_id, now)
        digests = await self.notifier.send_digests(now)
        if written or digests:
            self.wake()
        return Tick(written, digests, await self._shout(now))

    async def _shout(self, now: datetime) -> tuple[str, ...]:
        unreached = await notifications.unreached_since(self.db, now - UNDELIVERED_GRACE)
        shouted = []
        current = {esc.code for esc in unreached}
        self._shouted = {c: t for c, t in self._shouted.items() if c in current}
        for esc in unreached:
            code = esc.code
            last = self._shouted.get(code)
            if last is not None and now - last < SHOUT_EVERY:
                continue
            self._shouted[code] = now
            age = int((now - esc.raised_at).total_seconds())
            log.error(
                "escalation %s (%s) has reached NO staff member for %d s; still retrying",
                code, esc.level, age,
            )  # fmt: skip
            shouted.append(code)
        return tuple(shouted)
