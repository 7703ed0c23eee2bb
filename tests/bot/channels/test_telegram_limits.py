"""Rate limits as Telegram counts them: at most 30 messages/s overall and 1 per chat per second.

The fake enforces both strictly (a 429 for every breach, no per-chat burst), so the service
runs with ``chat_burst = 1``; forty partners start at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.enrolment.rules import enrol
from bot.enrolment.tokens import new_token, store_token
from bot.runtime.app import open_app
from bot.store.consent import Consent
from bot.store.scope import Scope
from tests.fakes.telegram_api import FakeTelegram

from .support_telegram import Service, next_bot_message, press

CHATS = [9100000000 + n for n in range(40)]


@pytest.fixture
def strict_fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True) as fake:
        yield fake


def enrol_many(service: Service, count: int) -> list[str]:
    """Enrol ``count`` partners in-process (the CLI takes a second each); their tokens."""

    async def go() -> list[str]:
        app = await open_app(load_config(service.config, env={}), {})
        try:
            programme = await app.service.programmes.by_name("demo", Scope.installation())
            assert programme is not None
            tokens = []
            now = app.service.clock.now()
            for _ in range(count):
                participant = await enrol(
                    app.stores, app.config, app.service.survey, programme_id=programme.id, channel="telegram", language="en",
                    timezone="Europe/London", today=date.today(), now=now,
                    consent=Consent("v1", date.today(), "Test Worker"),
                )  # fmt: skip
                token = new_token()
                async with app.db.transaction() as tx:
                    await store_token(tx, app.ring, participant.id, token, now, timedelta(days=1))
                tokens.append(token)
            return tokens
        finally:
            await app.close()

    return asyncio.run(go())


def test_forty_partners_at_once_stay_within_telegrams_limits(
    tmp_path: Path, strict_fake: FakeTelegram
) -> None:
    fake = strict_fake
    service = Service(tmp_path, fake, max_per_chat_per_second=1.0, chat_burst=1)
    service.add_programme()
    tokens = enrol_many(service, len(CHATS))
    service.start()
    try:
        for chat, token in zip(CHATS, tokens, strict=True):
            fake.user_sends(chat, f"/start {token}")
        openers = [next_bot_message(fake, chat, 0, timeout=15) for chat in CHATS]
        for chat, opener in zip(CHATS, openers, strict=True):
            press(fake, chat, opener, "_gate|yes")  # the first step follows at once, one message
        fake.wait_for(lambda f: all(len(f.sent_texts(c)) == 2 for c in CHATS), timeout=30)
        service.wait_quiet()
        assert service.stop() == 0
    finally:
        service.close()
    assert fake.rejected_429 == 0
    assert fake.max_rate() <= 30
    assert fake.max_rate_per_chat() <= 1
    assert len(fake.calls_to("sendMessage")) == 2 * len(CHATS)  # opener, first step
