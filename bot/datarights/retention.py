"""Retention: nothing about her is kept longer than it is needed.

Contact details go ``contact_days`` after her last timepoint ends (T4 done or missed,
or she withdrew); operational records (ended sessions, finished outbox rows, references
to deleted messages, counters) after ``records_days``; inbound de-duplication entries
after ``dedupe_days``; erased women's tombstones once their chat is deleted.
``RetentionJob`` runs it daily inside ``followup run``, on its own timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from starlette.routing import BaseRoute

from bot.clock import Clock, iso, parse_iso
from bot.config import RetentionConfig
from bot.datarights.core import purge_erased
from bot.store.db import Database
from bot.store.housekeeping import audit
from bot.store.retention import (
    PRUNED_KINDS,
    Cutoffs,
    count_finished_contacts,
    count_prunable,
    delete_finished_contacts,
    last_retention_run,
    prune,
)

log = logging.getLogger(__name__)

KINDS = ("contact_details", *PRUNED_KINDS, "erased_tombstones")


async def run_retention(
    db: Database, config: RetentionConfig, now: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete (or with ``dry_run`` only count) what has outlived its period; counts by kind."""
    cutoffs = Cutoffs(
        contact=iso(now - timedelta(days=config.contact_days)),
        records=iso(now - timedelta(days=config.records_days)),
        dedupe=iso(now - timedelta(days=config.dedupe_days)),
    )
    counts: dict[str, int] = {}
    if dry_run:
        counts["contact_details"] = await count_finished_contacts(db, cutoffs)
        counts.update(await count_prunable(db, cutoffs))
        counts["erased_tombstones"] = await purge_erased(db, now, dry_run=True)
        return counts
    async with db.transaction() as tx:
        counts["contact_details"] = await delete_finished_contacts(tx, cutoffs, now)
        counts.update(await prune(tx, cutoffs))
    counts["erased_tombstones"] = await purge_erased(db, now)
    async with db.transaction() as tx:
        summary = ", ".join(f"{k}={v}" for k, v in counts.items())
        await audit(tx, now, "system", "retention_run", None, summary)
    log.info("retention: %s", summary)
    return counts


class RetentionJob:
    """A ``followup run`` component: retention once a day at ``run_at`` (UTC), and erased
    tombstones purged every few minutes. The last run is read from the audit log, so a
    restart neither skips a day nor runs twice."""

    name = "retention"

    def __init__(
        self, db: Database, config: RetentionConfig, clock: Clock, poll_seconds: float = 300.0
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # never die; try again at the next poll
                log.exception("retention tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_seconds)

    def due_at(self, now: datetime) -> datetime:
        """Today's run time (UTC)."""
        hour, minute = (int(x) for x in self.config.run_at.split(":"))
        return datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)

    async def tick(self) -> dict[str, int] | None:
        """Purge tombstones; run retention if today's run is due and not done yet."""
        now = self.clock.now()
        due = self.due_at(now)
        if now < due:
            await purge_erased(self.db, now)
            return None
        last_run = await last_retention_run(self.db)
        if last_run and parse_iso(last_run) >= due:
            await purge_erased(self.db, now)
            return None
        return await run_retention(self.db, self.config, now)
