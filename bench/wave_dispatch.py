"""A wave of openers dispatched through the real TelegramChannel + Dispatcher to the fake Bot API.

The fake enforces Telegram's limits (30 messages/s overall, 1/s per chat; a 429 for every
breach). 600 partners are bulk-enrolled, the real Sweep enqueues their openers, the real
dispatcher drains them at the configured 30/s. Targets: achieved rate within 5 % of 30/s,
zero duplicates, zero 429s. Takes about 20-25 s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from datetime import UTC, datetime

from bench.common import run_like_the_service, temp_config
from bench.waves import bulk_enrol
from bot.channels.telegram import TelegramChannel
from bot.clock import ManualClock
from bot.config import TelegramConfig
from bot.runtime.app import open_app
from bot.schedule.sweep import Sweep
from tests.fakes.telegram_api import FakeTelegram

PARTNERS = 600
LIMIT = 30.0


async def main() -> None:
    with FakeTelegram(enforce_limits=True) as fake:
        telegram = TelegramConfig(
            token=fake.token, bot_username=fake.bot_username, api_base_url=fake.base_url,
            max_per_second=LIMIT,
        )  # fmt: skip
        config = dataclasses.replace(temp_config(), telegram=telegram)
        clock = ManualClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))  # 10:30 in Berlin
        app = await open_app(config, {"telegram": TelegramChannel(telegram)}, clock=clock)
        try:
            await bulk_enrol(app, PARTNERS, channel="telegram")
            for i in range(PARTNERS):
                fake.open_chat(100_000_000 + i)
            report = await Sweep(app.stores, app.config, app.service).run()
            stop = asyncio.Event()
            started = time.perf_counter()
            dispatcher = asyncio.create_task(app.dispatcher.run(stop))
            deadline = started + 120
            while time.perf_counter() < deadline:
                if len([c for c in fake.calls_to("sendMessage") if c.status]) >= PARTNERS:
                    break
                await asyncio.sleep(0.2)
            wall = time.perf_counter() - started
            stop.set()
            await dispatcher
            pending = await app.service.outbox.pending_count("telegram")
        finally:
            await app.close()
        calls = fake.calls_to("sendMessage")
        ok = [c for c in calls if c.status == 200]
        per_chat = Counter(c.params.get("chat_id") for c in ok)
        duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
        span = ok[-1].at - ok[0].at if len(ok) > 1 else float("nan")
        rate = (len(ok) - 1) / span
        peak = fake.max_rate()
        rejected = fake.rejected_429
    within = abs(rate - LIMIT) / LIMIT <= 0.05
    print(
        f"wave dispatch: {report.count('opener'):,} openers enqueued, {len(ok):,} delivered"
        f" in {span:.1f} s ({wall:.1f} s wall), {pending} still queued"
    )
    print(
        f"wave dispatch: achieved {rate:.2f} messages/s against a limit of {LIMIT:g}/s"
        f" ({(rate - LIMIT) / LIMIT * 100:+.1f} %; target within 5 %: {'OK' if within else 'MISSED'});"
        f" peak {peak} in any 1-s window"
    )
    print(
        f"wave dispatch: duplicates {duplicates} (target 0), 429s {rejected} (target 0):"
        f" {'OK' if duplicates == 0 and rejected == 0 else 'MISSED'}"
    )


if __name__ == "__main__":
    run_like_the_service(main())
