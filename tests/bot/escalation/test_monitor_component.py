"""The monitor is wired into `followup run` and ticks on its own until stopped."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from bot.clock import ManualClock
from bot.config import EscalationConfig
from bot.escalation.monitor import EscalationMonitor
from bot.runtime.app import App
from bot.runtime.components import build_components

from .conftest import ANA_TG, RecordingChannel, on_call_team, raise_urgent


async def test_build_components_includes_the_monitor(eapp: App) -> None:
    assert any(isinstance(c, EscalationMonitor) for c in build_components(eapp))


async def test_running_monitor_sends_the_repeat_by_itself(
    eapp: App, clock: ManualClock, telegram: RecordingChannel
) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    eapp.config = dataclasses.replace(
        eapp.config, escalation=EscalationConfig(monitor_seconds=0.01)
    )
    component = eapp.escalation_monitor()
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(eapp.dispatcher.run(stop))
    await component.start()
    try:
        clock.advance(timedelta(minutes=10))
        for _ in range(300):
            if len(telegram.texts(ANA_TG)) >= 2:
                break
            await asyncio.sleep(0.01)
        assert len(telegram.texts(ANA_TG)) == 2 and "Reminder 2" in telegram.texts(ANA_TG)[1]
        assert code in telegram.texts(ANA_TG)[1]
    finally:
        await component.stop()
        stop.set()
        await dispatcher
