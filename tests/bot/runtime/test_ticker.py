"""The APScheduler clock inside ``followup run``: ticks the sweep, survives failures, stops."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.jobstores.memory import MemoryJobStore

from bot.clock import ManualClock
from bot.config import Config, SchedulerConfig
from bot.runtime.app import App, open_app
from bot.runtime.components import build_components
from bot.runtime.ticker import Ticker
from tests.bot.support_scheduling import RecordingChannel, enrol_her


async def wait_for(condition: object, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_ticks_repeatedly_and_survives_a_failing_sweep() -> None:
    calls = 0

    async def sweep() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database locked")

    ticker = Ticker(sweep, 0.05, sweep)
    await ticker.start()
    try:
        await wait_for(lambda: calls >= 4)
        assert ticker.scheduler is not None
        stores = ticker.scheduler._jobstores  # memory only: the database is the schedule
        assert {type(s) for s in stores.values()} == {MemoryJobStore}
        daily = ticker.scheduler.get_job("daily")
        assert daily is not None and "hour='3'" in str(daily.trigger)
    finally:
        await ticker.stop()
    after = calls
    await asyncio.sleep(0.2)
    assert calls == after  # stopped means stopped
    assert ticker.runs >= 3


async def test_stop_waits_for_a_running_sweep() -> None:
    finished = asyncio.Event()

    async def slow() -> None:
        await asyncio.sleep(0.2)
        finished.set()

    ticker = Ticker(slow, 10)
    await ticker.start()
    await asyncio.sleep(0.05)  # the first sweep runs at once after start
    await ticker.stop()
    assert finished.is_set()


async def test_followup_run_wires_the_sweep(config: Config) -> None:
    clock = ManualClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # 11:00 Berlin, Tuesday
    fast = type(config)(**{**config.__dict__, "scheduler": SchedulerConfig(sweep_seconds=0.05)})
    app: App = await open_app(fast, {"console": RecordingChannel(clock)}, clock=clock)
    try:
        await enrol_her(app, "c:1")
        [component] = [c for c in build_components(app) if c.name == "scheduler"]
        await component.start()
        try:

            async def queued() -> int:
                row = await app.db.fetchone("SELECT COUNT(*) FROM outbox")
                return int(row[0]) if row else 0

            for _ in range(100):
                if await queued():
                    break
                await asyncio.sleep(0.02)
            assert await queued() == 1
        finally:
            await component.stop()
    finally:
        await app.close()
