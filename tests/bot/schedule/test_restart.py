"""Restart safety: a wave interrupted at any point is finished with everyone contacted once.

The service is stopped (app closed) after part of a wave is sent, or dies in the
middle of a sweep, or two sweepers race on one database (a ``followup tick`` next
to ``followup run``); after the restart every partner got exactly one opener.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.contact_request import ContactRequest
from bot.session.effects import StepReport
from tests.bot.support_scheduling import RecordingChannel, enrol_her, sweep_of

N = 30
OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, a Tuesday


async def fresh(config: Config, clock: ManualClock) -> tuple[App, RecordingChannel]:
    channel = RecordingChannel(clock)
    return await open_app(config, {"console": channel}, clock=clock), channel


async def enrol_wave(config: Config, clock: ManualClock) -> None:
    app, _ = await fresh(config, clock)
    for i in range(N):
        await enrol_her(app, f"c:{i}")
    await app.close()


async def opener_rows(app: App) -> dict[str, int]:
    rows = await app.db.fetchall(
        "SELECT participant_id, COUNT(*) FROM outbox WHERE kind = 'message'"
        " AND state != 'cancelled' GROUP BY participant_id"
    )
    return {r[0]: r[1] for r in rows}


def merged(*channels: RecordingChannel) -> dict[str, int]:
    total: dict[str, int] = {}
    for channel in channels:
        for address, n in channel.openers().items():
            total[address] = total.get(address, 0) + n
    return total


async def test_stop_after_part_of_a_wave_is_sent(config: Config) -> None:
    clock = ManualClock(OPEN)
    await enrol_wave(config, clock)
    app, first = await fresh(config, clock)
    await sweep_of(app).run()
    await app.dispatcher.drain("console", limit=11)  # the service stops after 11 sends
    await app.close()
    assert len(first.sent) == 11

    app, second = await fresh(config, clock)  # restart: same database, a new process
    await app.service.outbox.reset_in_flight()
    report = await sweep_of(app).run()
    assert report.count("opener") == 0  # nothing is enqueued twice
    await app.dispatcher.drain_all()
    sent = merged(first, second)
    assert sorted(sent) == sorted(f"c:{i}" for i in range(N))
    assert set(sent.values()) == {1}
    assert set((await opener_rows(app)).values()) == {1}
    await app.close()


async def test_crash_in_the_middle_of_a_sweep(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(OPEN)
    await enrol_wave(config, clock)
    app, first = await fresh(config, clock)
    real = app.service.begin_contacts
    calls = 0

    async def dies_on_third_chunk(requests: list[ContactRequest]) -> list[StepReport | None]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("killed")
        return await real(requests)

    monkeypatch.setattr(app.service, "begin_contacts", dies_on_third_chunk)
    with pytest.raises(RuntimeError):
        await sweep_of(app, chunk=7).run()
    await app.dispatcher.drain_all()
    await app.close()
    assert len(first.sent) == 14  # two chunks committed, the third rolled back

    app, second = await fresh(config, clock)
    await sweep_of(app, chunk=7).run()
    await app.dispatcher.drain_all()
    sent = merged(first, second)
    assert len(sent) == N and set(sent.values()) == {1}
    await app.close()


async def test_two_sweepers_racing_on_one_database(config: Config) -> None:
    clock = ManualClock(OPEN)
    await enrol_wave(config, clock)
    one, ch1 = await fresh(config, clock)
    two, ch2 = await fresh(config, clock)  # a second connection: another process
    await asyncio.gather(sweep_of(one, chunk=4).run(), sweep_of(two, chunk=4).run())
    await one.dispatcher.drain_all()
    rows = await opener_rows(one)
    assert len(rows) == N and set(rows.values()) == {1}
    assert len(ch1.sent) == N and ch2.sent == []
    await one.close()
    await two.close()


async def test_rows_caught_mid_send_go_out_again_once(config: Config) -> None:
    """A row marked 'sending' when the process died is retried; nothing else repeats."""
    clock = ManualClock(OPEN)
    await enrol_wave(config, clock)
    app, first = await fresh(config, clock)
    await sweep_of(app).run()
    rows = await app.service.outbox.due("console", clock.now(), limit=1)
    await app.service.outbox.mark_sending(rows[0].id)  # killed during the provider call
    await app.close()
    app, second = await fresh(config, clock)
    await app.service.outbox.reset_in_flight()
    await sweep_of(app).run()
    await app.dispatcher.drain_all()
    assert first.sent == [] and len(second.sent) == N
    assert set(second.openers().values()) == {1}
    await app.close()
