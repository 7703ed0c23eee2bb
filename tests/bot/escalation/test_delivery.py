"""Delivery under failure: a staff route answering 500, and a restart before the send."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from telegram import Bot

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import open_app
from tests.fakes.telegram_api import FakeTelegram

from .conftest import (
    ANA_TG,
    RecordingChannel,
    monitor,
    notifications,
    on_call_team,
    raise_urgent,
)
from .support_ptb_channel import PtbStaffChannel


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(fake_server: FakeTelegram) -> AsyncIterator[Bot]:
    fake_server.reset()
    fake_server.open_chat(int(ANA_TG))
    async with Bot(fake_server.token, base_url=fake_server.base_url) as client:
        yield client


async def test_route_failing_500_for_ten_minutes_delivers_each_alert_once_after_recovery(
    config: Config,
    clock: ManualClock,
    console: ConsoleChannel,
    sms: RecordingChannel,
    fake_server: FakeTelegram,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sms.failing = True  # every route fails: SMS too
    channels = {"console": console, "telegram": PtbStaffChannel(bot), "sms": sms}
    app = await open_app(config, channels, clock=clock)  # type: ignore[dict-item]
    try:
        await on_call_team(app)
        fake_server.fail_next("sendMessage", 500, times=10_000)
        caplog.set_level(logging.ERROR)
        code = await raise_urgent(app)
        mon = monitor(app)
        for _ in range(40):  # ten simulated minutes, a tick and a drain every 15 s
            clock.advance(timedelta(seconds=15))
            await mon.tick()
            await app.dispatcher.drain_all()
        assert fake_server.sent_texts(int(ANA_TG)) == []
        assert len(fake_server.calls_to("sendMessage")) >= 5  # it kept trying, with backoff
        loud = [r for r in caplog.records if r.levelno == logging.ERROR and code in r.getMessage()]
        assert loud and "reached NO staff member" in loud[0].getMessage()
        assert "console:alice" not in caplog.text and ANA_TG not in caplog.text

        fake_server.clear_faults()
        sms.failing = False
        for _ in range(8):  # two more simulated minutes
            clock.advance(timedelta(seconds=15))
            await mon.tick()
            await app.dispatcher.drain_all()
        texts = fake_server.sent_texts(int(ANA_TG))
        assert [t.splitlines()[0] for t in texts] == [f"URGENT alert {code}"] * 2
        assert "Reminder 2" in texts[1]
        assert len(sms.texts()) == 2
        rows = await notifications(app, code)
        assert rows == [
            ("ana", "sms", 1, "sent"),
            ("ana", "telegram", 1, "sent"),
            ("ana", "sms", 2, "sent"),
            ("ana", "telegram", 2, "sent"),
        ]
    finally:
        await app.close()


async def test_restart_between_escalation_and_alert_still_alerts(
    config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    """The escalation commits, the process dies before any send; the next process sends it."""
    app = await open_app(config, {"console": console}, clock=clock)  # no staff channels here
    await on_call_team(app)
    code = await raise_urgent(app)
    assert await notifications(app, code) == [
        ("ana", "sms", 1, "queued"),
        ("ana", "telegram", 1, "queued"),
    ]
    await app.close()

    telegram, sms = RecordingChannel("telegram"), RecordingChannel("sms")
    clock.advance(timedelta(seconds=30))
    again = await open_app(
        config, {"console": ConsoleChannel(), "telegram": telegram, "sms": sms}, clock=clock
    )
    try:
        await monitor(again).tick()
        await again.dispatcher.drain_all()
        assert len(telegram.texts(ANA_TG)) == 1 and code in telegram.texts(ANA_TG)[0]
        assert len(sms.sent) == 1
        clock.advance(timedelta(minutes=10))  # and the repeats carry on after the restart
        await monitor(again).tick()
        await again.dispatcher.drain_all()
        assert len(telegram.texts(ANA_TG)) == 2
    finally:
        await again.close()
