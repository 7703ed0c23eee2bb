"""Until someone acts: repeats, the backup ladder and the daily digest, on a manual clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.runtime.app import App
from bot.store.scope import Scope

from .conftest import (
    ANA_TG,
    BEA_TG,
    RecordingChannel,
    monitor,
    notifications,
    on_call_team,
    raise_high,
    raise_urgent,
    say,
    start_t0,
)


async def run_until(app: App, clock: ManualClock, minutes: float, step: float = 0.5) -> None:
    """Let simulated time pass, ticking the monitor and draining like `followup run` would."""
    mon = monitor(app)
    end = clock.now() + timedelta(minutes=minutes)
    while clock.now() < end:
        clock.advance(min(timedelta(minutes=step), end - clock.now()))
        await mon.tick()
        await app.dispatcher.drain_all()


def rounds(rows: list[tuple[str, str, int, str]], staff: str, route: str = "telegram") -> list[int]:
    return [r[2] for r in rows if r[0] == staff and r[1] == route]


async def test_urgent_repeats_every_ten_minutes_and_climbs_to_backup_after_thirty(
    eapp: App, clock: ManualClock, telegram: RecordingChannel
) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    await run_until(eapp, clock, 9.5)
    assert rounds(await notifications(eapp, code), "ana") == [1]
    await run_until(eapp, clock, 0.5)  # 10 min
    assert rounds(await notifications(eapp, code), "ana") == [1, 2]
    await run_until(eapp, clock, 19.5)  # 29.5 min
    rows = await notifications(eapp, code)
    assert rounds(rows, "ana") == [1, 2, 3] and rounds(rows, "bea") == []
    await run_until(eapp, clock, 0.5)  # 30 min: round 4 to on call AND the backup
    rows = await notifications(eapp, code)
    assert rounds(rows, "ana") == [1, 2, 3, 4]
    assert rounds(rows, "bea") == [4] and rounds(rows, "bea", "sms") == [4]
    assert all(state == "sent" for *_, state in rows)
    assert "Reminder 4: not acknowledged yet." in telegram.texts(ANA_TG)[-1]
    assert "You are the backup" in telegram.texts(BEA_TG)[-1]

    await eapp.desk.acknowledge(code, "bea", scope=Scope.installation(), via="cli")
    sent = len(telegram.sent)
    await run_until(eapp, clock, 60)
    assert len(telegram.sent) == sent + 0  # acknowledged: no more repeats
    assert rounds(await notifications(eapp, code), "ana") == [1, 2, 3, 4]


async def test_high_repeats_hourly_and_never_climbs(eapp: App, clock: ManualClock) -> None:
    await on_call_team(eapp)
    code = await raise_high(eapp)
    await run_until(eapp, clock, 59.5, step=2.5)
    assert rounds(await notifications(eapp, code), "ana") == [1]
    await run_until(eapp, clock, 0.5)
    await run_until(eapp, clock, 60, step=5)
    rows = await notifications(eapp, code)
    assert rounds(rows, "ana") == [1, 2, 3]
    assert rounds(rows, "bea") == []
    await eapp.desk.resolve(code, "ana", scope=Scope.installation(), via="cli")
    await run_until(eapp, clock, 120, step=10)
    assert rounds(await notifications(eapp, code), "ana") == [1, 2, 3]


async def test_timings_are_configurable_per_programme(eapp: App, clock: ManualClock) -> None:
    await on_call_team(eapp)
    settings = {"escalation": {"urgent_repeat_minutes": 3, "urgent_backup_minutes": 5}}
    async with eapp.db.transaction() as tx:
        await tx.execute("UPDATE programmes SET settings = ?", (json.dumps(settings),))
    code = await raise_urgent(eapp)
    await run_until(eapp, clock, 5)
    rows = await notifications(eapp, code)
    assert rounds(rows, "ana") == [1, 2]
    assert rounds(rows, "bea") == [2]


async def test_routine_waits_for_the_daily_digest_at_the_programme_hour(
    eapp: App, clock: ManualClock, telegram: RecordingChannel
) -> None:
    await on_call_team(eapp)
    await start_t0(eapp)
    await say(eapp, "pineapple")  # safe word: ROUTINE safe_word_used
    first = await eapp.db.fetchone("SELECT code FROM escalations")
    assert first is not None
    assert telegram.sent == []  # nothing at once
    await run_until(eapp, clock, 60 * 22, step=30)  # 10:00 -> 08:00 next day (London = UTC)
    assert telegram.sent == []
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    await monitor(eapp).tick()
    await eapp.dispatcher.drain_all()
    ((address, digest),) = telegram.sent
    assert address == ANA_TG
    assert "Daily digest: 1 routine escalation(s)" in digest.text
    assert (
        first[0] in digest.text and "safe word used, contact paused (safe_word_used)" in digest.text
    )
    await run_until(eapp, clock, 60 * 24, step=60)
    assert len(telegram.sent) == 1  # no repeats for ROUTINE; the digest is sent once


async def test_acknowledged_routine_is_left_out_of_the_digest(
    eapp: App, clock: ManualClock, telegram: RecordingChannel
) -> None:
    await on_call_team(eapp)
    await start_t0(eapp)
    await say(eapp, "pineapple")
    row = await eapp.db.fetchone("SELECT code FROM escalations")
    assert row is not None
    await eapp.desk.acknowledge(row[0], "ana", scope=Scope.installation(), via="cli")
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    await monitor(eapp).tick()
    await eapp.dispatcher.drain_all()
    assert telegram.sent == []
    assert await notifications(eapp, row[0]) == [
        ("ana", "sms", 1, "cancelled"),
        ("ana", "telegram", 1, "cancelled"),
    ]
