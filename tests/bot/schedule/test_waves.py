"""Waves: counts by state, send-now inside her windows only, following the outbox."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from bot.cli import waves as waves_cli
from bot.clock import ManualClock, parse_iso
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.waves import Progress, follow, list_waves, send_now
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_URGENT
from bot.store.scope import Scope
from tests.bot.support_scheduling import RecordingChannel, enrol_her, say, sweep_of, tick, timepoint

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 11, 23)


def berlin(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(berlin(MONDAY, 9))


@pytest.fixture
def channel(clock: ManualClock) -> RecordingChannel:
    return RecordingChannel(clock)


@pytest.fixture
async def app(config: Config, clock: ManualClock, channel: RecordingChannel) -> AsyncIterator[App]:
    opened = await open_app(config, {"console": channel}, clock=clock)
    yield opened
    await opened.close()


async def test_send_now_ignores_the_due_date_but_never_her_window(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    start, end = MONDAY + timedelta(days=30), MONDAY + timedelta(days=120)
    day = await enrol_her(app, "c:day", window="mon-fri 10:00-18:00", start=start, end=end)
    evening = await enrol_her(app, "c:eve", window="mon-fri 19:00-20:30", start=start, end=end)
    wave = (await timepoint(app, day.id, "T1"))["wave_id"]
    assert wave == (await timepoint(app, evening.id, "T1"))["wave_id"]
    clock.set(berlin(MONDAY, 11))
    report = await send_now(app.stores, sweep_of(app), wave, "alice")
    assert [(a.pseudonym, a.action) for a in report.actions] == [(day.pseudonym, "opener")]
    await app.dispatcher.drain_all()
    assert channel.kinds() == ["opener"]
    # The evening partner is not contacted at 11:00 (outside her window), but at 19:00.
    clock.set(berlin(MONDAY, 18, 59))
    await tick(app)
    assert [a for _, a, _ in channel.sent] == ["c:day"]
    clock.set(berlin(MONDAY, 19, 0))
    await tick(app)
    assert [(t, a) for t, a, _ in channel.sent][1:] == [(berlin(MONDAY, 19), "c:eve")]
    row = await timepoint(app, evening.id, "T1")
    assert row["due_on"] == start.isoformat()  # the wave keeps its date
    assert parse_iso(row["first_sent_at"]) == berlin(MONDAY, 19)


async def test_wave_counts_by_state(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    people = [await enrol_her(app, f"c:{i}") for i in range(6)]
    clock.set(berlin(MONDAY, 10))
    await tick(app)  # all six get the T0 opener
    await say(app, "c:0", "yes")
    await say(app, "c:0", "1")  # in progress
    await say(app, "c:1", "STOP")  # opted out
    async with app.db.transaction() as tx:
        await app.service.participants.set_status(tx, people[2].id, "unreachable", "blocked",
                                                  clock.now())  # fmt: skip
        await tx.execute("UPDATE timepoints SET state = 'completed' WHERE participant_id = ?",
                         (people[3].id,))  # fmt: skip
        await tx.execute("UPDATE timepoints SET state = 'missed' WHERE participant_id = ?",
                         (people[4].id,))  # fmt: skip
    [wave] = await list_waves(app.stores, Scope.installation())
    assert wave.counts == {
        "in_progress": 1,
        "opted_out": 1,
        "unreachable": 1,
        "completed": 1,
        "missed": 1,
        "sent": 1,
    }
    assert wave.total == 6 and wave.timepoint == "T0" and wave.programme == "berlin"
    assert (
        await list_waves(app.stores, Scope.installation(), first=MONDAY + timedelta(days=1)) == []
    )
    assert await list_waves(app.stores, Scope.installation(), programme="elsewhere") == []


async def test_wave_openers_queue_behind_live_replies_and_escalations(
    app: App, clock: ManualClock
) -> None:
    for i in range(3):
        await enrol_her(app, f"c:{i}")
    clock.set(berlin(MONDAY, 10))
    await sweep_of(app).run()  # three wave openers queued, none sent yet
    rows = await app.db.fetchall("SELECT priority FROM outbox")
    assert {r[0] for r in rows} == {2}
    assert PRIORITY_URGENT < PRIORITY_LIVE < 2


async def test_follow_shows_the_outbox_draining(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    start = MONDAY + timedelta(days=30)
    for i in range(5):
        await enrol_her(app, f"c:{i}", start=start, end=start + timedelta(days=90))
    clock.set(berlin(MONDAY, 11))
    report = await send_now(app.stores, sweep_of(app), f"W1-T1-{start:%Y%m%d}", "alice")
    keys = [a.key for a in report.actions if a.key]
    assert len(keys) == 5
    seen: list[Progress] = []
    stop = asyncio.Event()
    dispatcher = asyncio.create_task(app.dispatcher.run(stop))
    result = await follow(app.stores, keys, seen.append, poll_seconds=0.01, give_up_after=10)
    stop.set()
    await dispatcher
    assert result == Progress(5, 5, 0)
    assert seen[-1].done == 5 and len(channel.sent) == 5


async def test_progress_bar_output(
    app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await enrol_her(app, "c:1")
    clock.set(berlin(MONDAY, 11))
    report = await send_now(app.stores, sweep_of(app), f"W1-T0-{MONDAY:%Y%m%d}", "alice")
    await app.dispatcher.drain_all()
    buffer = io.StringIO()
    monkeypatch.setattr(waves_cli, "out", Console(file=buffer, width=100))
    await waves_cli._progress(app, [a.key for a in report.actions if a.key], give_up_after=2)
    assert "1/1" in buffer.getvalue()
