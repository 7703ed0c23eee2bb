"""The clock of ``followup run``: APScheduler 3 ticks the sweep and the daily jobs.

Only the *tick* lives in APScheduler (memory job store, nothing pickled); what is
due lives in the database, so a restart or a code change neither loses nor
duplicates a contact. The component is handed its jobs and imports no service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.routing import BaseRoute

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class Ticker:
    """A ``bot.runtime.serve.Component``: runs ``sweep`` every ``seconds`` and ``daily`` once a day."""

    name = "scheduler"

    def __init__(
        self, sweep: Job, seconds: float, daily: Job | None = None, *, daily_hour: int = 3
    ) -> None:
        self.sweep = sweep
        self.seconds = seconds
        self.daily = daily
        self.daily_hour = daily_hour
        self.scheduler: AsyncIOScheduler | None = None
        self._busy = asyncio.Lock()
        self.runs = 0

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    async def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)  # memory job store: the DB is the schedule
        scheduler.add_job(
            self._guarded,
            "interval",
            args=(self.sweep, "sweep"),
            seconds=self.seconds,
            next_run_time=datetime.now(UTC),  # catch up at once after a restart
            id="sweep",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        if self.daily is not None:
            scheduler.add_job(
                self._guarded,
                "cron",
                args=(self.daily, "daily"),
                hour=self.daily_hour,
                minute=7,
                id="daily",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        scheduler.start()
        self.scheduler = scheduler

    async def _guarded(self, job: Job, name: str) -> None:
        """One job at a time; a failure is logged and the next tick tries again."""
        async with self._busy:
            try:
                await job()
                self.runs += 1
            except Exception:
                log.exception("scheduled job %s failed; will run again at the next tick", name)

    async def stop(self) -> None:
        """No new runs; let a running sweep finish its chunk (each commits on its own), then
        shut down. After 10 s it is cancelled: its open transaction rolls back, and the
        next start redoes exactly what was not committed."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        try:
            await asyncio.wait_for(self._busy.acquire(), timeout=10)
            self._busy.release()
        except TimeoutError:
            log.warning("a sweep was still running at shutdown; it will be redone after restart")
        scheduler.shutdown(wait=False)
