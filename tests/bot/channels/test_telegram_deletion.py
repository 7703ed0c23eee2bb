"""A session end deletes her whole chat through the dispatcher, the real PTB client and the
fake Bot API: ``deleteMessages`` calls of up to 100 ids, each one paced by the budget."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from bot.channels.base import Rendered
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.config import Config, TelegramConfig
from bot.enrolment.rules import enrol
from bot.runtime.app import App, open_app
from bot.session.outgoing import enqueue_deletion
from bot.store.consent import Consent
from bot.store.participants import Participant
from tests.bot.conftest import add_programme
from tests.fakes.telegram_api import FakeTelegram

CHAT = 6160616061


@pytest.fixture
async def telegram_app(
    config: Config, clock: ManualClock, fake: FakeTelegram
) -> AsyncIterator[tuple[App, TelegramChannel]]:
    fake.open_chat(CHAT)
    channel = TelegramChannel(
        TelegramConfig(token=fake.token, api_base_url=fake.base_url), read_timeout=2.0
    )
    app = await open_app(config, {"telegram": channel}, clock=clock)
    yield app, channel
    await app.close()
    await channel.close()


async def her(app: App) -> Participant:
    programme_id = await add_programme(app)
    return await enrol(
        app.stores, app.config, app.service.survey, programme_id=programme_id,
        channel="telegram", language="en", timezone="Europe/London", today=date(2026, 11, 24),
        now=app.service.clock.now(), consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
        address=str(CHAT), safe_word="pineapple",
    )  # fmt: skip


async def her_chat_of(app: App, channel: TelegramChannel, participant: Participant, n: int) -> None:
    """``n`` messages in her chat, every one recorded for deletion (as the dispatcher does)."""
    for i in range(n):
        ref = await channel.send(str(CHAT), Rendered(f"question {i}"))
        assert ref is not None
        async with app.db.transaction() as tx:
            await app.stores.transcript.record(
                tx, participant_id=participant.id, session_id=None, channel="telegram",
                direction="out", ref=ref, now=app.service.clock.now(),
            )  # fmt: skip


async def end_session(app: App, participant: Participant, reason: str) -> None:
    async with app.db.transaction() as tx:
        await enqueue_deletion(
            tx, app.stores.outbox, app.ring, app.config, participant, None, reason,
            app.service.clock.now(),
        )  # fmt: skip


@pytest.mark.parametrize("count", [101, 250])
async def test_a_session_end_deletes_her_chat_in_calls_of_up_to_100_ids(
    telegram_app: tuple[App, TelegramChannel],
    fake: FakeTelegram,
    clock: ManualClock,
    count: int,
) -> None:
    app, channel = telegram_app
    participant = await her(app)
    await her_chat_of(app, channel, participant, count)
    assert len(fake.visible(CHAT)) == count
    await end_session(app, participant, "completed")
    await app.dispatcher.drain_all()
    assert len(fake.visible(CHAT)) == count  # the closing message stays for the grace
    clock.advance(timedelta(seconds=app.config.telegram.delete_after_seconds))
    await app.dispatcher.drain_all()
    batches = [c.params["message_ids"] for c in fake.calls_to("deleteMessages")]
    assert len(batches) == math.ceil(count / 100)
    assert all(1 <= len(b) <= 100 for b in batches)
    assert fake.visible(CHAT) == []
    assert fake.calls_to("deleteMessage") == []  # no one-by-one fallback was needed
    assert await app.stores.transcript.undeleted(participant.id, None) == []


async def test_too_old_messages_fail_their_batch_which_is_split_until_the_rest_is_gone(
    telegram_app: tuple[App, TelegramChannel], fake: FakeTelegram
) -> None:
    """Telegram refuses a whole ``deleteMessages`` call when one message is past 48 h; the
    channel halves the batch until every message that can still go is gone, also one between
    her recorded refs that was never recorded (a lost answer's copy, here her own message)."""
    app, channel = telegram_app
    participant = await her(app)
    await her_chat_of(app, channel, participant, 3)
    fake.advance(48 * 3600 + 60)  # the first three are too old now
    fake.user_sends(CHAT, "not recorded")
    await her_chat_of(app, channel, participant, 2)
    await end_session(app, participant, "safe_word")  # immediate: no grace
    await app.dispatcher.drain_all()
    batches = [c.params["message_ids"] for c in fake.calls_to("deleteMessages")]
    assert batches == [[1, 2, 3, 4, 5, 6], [1, 2, 3], [2, 3], [4, 5, 6]]
    assert [c.params["message_id"] for c in fake.calls_to("deleteMessage")] == [1, 2, 3]
    assert [m["text"] for m in fake.visible(CHAT)] == ["question 0", "question 1", "question 2"]
    assert await app.stores.transcript.undeleted(participant.id, None) == []  # counted gone
