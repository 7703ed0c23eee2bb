"""The 47-hour guarantee, with a controlled clock: nothing waits for Telegram's 48 h limit."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.config import Config, TelegramConfig
from bot.enrolment.rules import enrol
from bot.runtime.app import App, open_app
from bot.schedule.deletion_deadlines import sweep_deletions
from bot.store.consent import Consent
from tests.fakes.telegram_api import FakeTelegram

CHAT = 2024203040


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def app(config: Config, fake: FakeTelegram) -> AsyncIterator[App]:
    telegram = TelegramConfig(
        token=fake.token, api_base_url=fake.base_url, max_per_chat_per_second=100.0
    )
    cfg = dataclasses.replace(config, telegram=telegram)
    clock = ManualClock(datetime.now(UTC))
    opened = await open_app(cfg, {"telegram": TelegramChannel(telegram)}, clock=clock)
    yield opened
    await opened.close()


async def linked_participant(app: App) -> str:
    service = app.service
    async with app.db.transaction() as tx:
        programme_id = await service.programmes.add(tx, "demo", service.clock.now())
    participant = await enrol(
        service.stores, service.config, service.survey, programme_id=programme_id, channel="telegram", language="en",
        timezone="Europe/London", today=date.today(), now=service.clock.now(),
        address=str(CHAT), consent=Consent("v1", date.today(), "Test Worker"),
    )  # fmt: skip
    return participant.id


async def deadline_sweep(app: App) -> int:
    """The 47-hour sweep as ``followup run`` ticks it."""
    return await sweep_deletions(app.stores, app.dispatcher.wake)


async def test_abandoned_chat_is_cleared_before_47_hours(app: App, fake: FakeTelegram) -> None:
    clock = app.service.clock
    assert isinstance(clock, ManualClock)
    fake.open_chat(CHAT)
    pid = await linked_participant(app)
    await app.service.begin_contact(pid, "T0")  # the opener; she never answers
    await app.dispatcher.drain_all()
    assert len(fake.visible(CHAT)) == 1

    assert await deadline_sweep(app) == 0
    clock.advance(timedelta(hours=45, minutes=59))
    assert await deadline_sweep(app) == 0  # deadline (47 h) not within the hour yet

    clock.advance(timedelta(minutes=1))
    await app.service.begin_contact(pid, "T0", reminder=1)  # a newer message, not due yet
    await app.dispatcher.drain_all()
    assert len(fake.visible(CHAT)) == 2

    clock.advance(timedelta(minutes=2))
    assert await deadline_sweep(app) == 1
    assert await deadline_sweep(app) == 0  # already queued: deduplicated
    await app.dispatcher.drain_all()
    assert [m["text"] for m in fake.visible(CHAT)] == [
        "Hi, it's Sam again. Is now a good time for a short chat?"
    ]
    assert await deadline_sweep(app) == 0

    clock.advance(timedelta(hours=46, minutes=30))
    assert await deadline_sweep(app) == 1  # the reminder's turn
    await app.dispatcher.drain_all()
    assert fake.visible(CHAT) == []
    remaining = await app.service.transcript.undeleted(pid)
    assert remaining == []


async def test_sweep_rows_survive_a_restart(app: App, fake: FakeTelegram) -> None:
    """Deletions are outbox rows: queued by one process, done by the next."""
    clock = app.service.clock
    assert isinstance(clock, ManualClock)
    fake.open_chat(CHAT)
    pid = await linked_participant(app)
    await app.service.begin_contact(pid, "T0")
    await app.dispatcher.drain_all()
    clock.advance(timedelta(hours=46, minutes=30))
    fake.fail_next("deleteMessages", 500)
    assert await deadline_sweep(app) == 1
    await app.dispatcher.drain(name="telegram")  # fails: retried later
    assert len(fake.visible(CHAT)) == 1
    row = await app.db.fetchone("SELECT state, attempts FROM outbox WHERE kind = 'delete'")
    assert row is not None and (row[0], row[1]) == ("pending", 1)

    reopened = await open_app(app.config, {"telegram": TelegramChannel(app.config.telegram)},
                              clock=ManualClock(clock.now() + timedelta(minutes=5)))  # fmt: skip
    try:
        await reopened.dispatcher.drain_all()
    finally:
        await reopened.close()
    assert fake.visible(CHAT) == []
