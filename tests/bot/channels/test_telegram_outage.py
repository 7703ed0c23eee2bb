"""Telegram unreachable for five simulated minutes (connection refused), then answering
garbage (HTML from a proxy, JSON cut off): the opener waits with a growing back-off, goes
out exactly once when Telegram is back, and the dispatcher never falls over."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.config import Config, TelegramConfig
from bot.runtime.app import App, open_app
from tests.fakes.telegram_api import FakeTelegram

from .support_outage import RECOVERY_MINUTES, opener_row, partner, ride_out
from .support_telegram_script import OPENER

CHAT = 3141592653


@pytest.fixture
async def app(config: Config, fake: FakeTelegram) -> AsyncIterator[App]:
    # The rate limiter runs on real time; a generous per-chat gap lets simulated minutes pass.
    telegram = TelegramConfig(
        token=fake.token, api_base_url=fake.base_url, max_per_chat_per_second=1000.0
    )
    channel = TelegramChannel(telegram, read_timeout=0.5)
    clock = ManualClock(datetime.now(UTC))
    opened = await open_app(dataclasses.replace(config, telegram=telegram), {"telegram": channel},
                            clock=clock)  # fmt: skip
    yield opened
    await opened.close()


async def test_refused_for_five_minutes_then_garbage_the_opener_goes_once(
    app: App, fake: FakeTelegram
) -> None:
    fake.open_chat(CHAT)
    her = await partner(app, "telegram", str(CHAT))
    fake.refuse_connections()
    try:
        await app.service.begin_contact(her, "T0")
        await ride_out(app, "telegram", minutes=5)
        assert fake.calls_to("sendMessage") == []
        state, attempts = await opener_row(app)
        # backing off (1 s, 2 s, 4 s ... with jitter): not once per 5-s tick, i.e. not 60 times
        assert state == "pending" and 5 <= attempts <= 12, attempts
    finally:
        fake.refuse_connections(False)

    fake.malformed_next("sendMessage")
    fake.malformed_next("sendMessage", truncated=True)
    await ride_out(app, "telegram", minutes=RECOVERY_MINUTES, until=lambda: fake.sent_texts(CHAT))
    assert fake.sent_texts(CHAT) == [OPENER]
    assert [c.status for c in fake.calls_to("sendMessage")] == [200, 200, 200]  # 2 garbage
    assert (await opener_row(app))[0] == "sent"
    refs = await app.service.transcript.undeleted(her)
    assert [r.ref for r in refs] == [str(fake.visible(CHAT)[0]["message_id"])]
