"""A reply to her answer while a wave drains: its wait must not grow with the wave backlog.

The real TelegramChannel + Dispatcher against the fake Bot API enforcing Telegram's limits
(30 messages/s overall, 1/s per chat). A backlog of wave openers is queued (1,000, then
10,000), the dispatcher starts, and 20 live replies arrive one every 0.4 s, each written and
woken as the service does: one message, then (second run) two in her lane at once (a help line
and the next question; with ``chat_burst = 1`` the second waits for her chat's 1/s). Printed:
the wait from her reply's commit until Telegram accepted her last message, per backlog.
Target: the same for both backlogs (one message: well under 1 s). About 45 s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time

from bench.common import run_like_the_service, temp_config
from bot.channels.base import Rendered
from bot.channels.telegram import TelegramChannel
from bot.config import TelegramConfig
from bot.runtime.app import App, open_app
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_WAVE
from tests.fakes.telegram_api import FakeTelegram

BACKLOGS = (1_000, 10_000)
REPLIES = 20
WAVE_CHAT = 300_000_000
HER_CHAT = 400_000_000


async def queue_wave(app: App, size: int) -> None:
    now = app.service.clock.now()
    outbox = app.service.outbox
    for start in range(0, size, 500):
        rows = [
            outbox.row(
                lane=f"wave:{i}",
                channel="telegram",
                kind="message",
                priority=PRIORITY_WAVE,
                payload={"address": str(WAVE_CHAT + i), "message": Rendered("Hello").to_json()},
                now=now,
            )
            for i in range(start, min(start + 500, size))
        ]
        async with app.db.transaction() as tx:
            await outbox.enqueue_many(tx, rows)


async def reply(app: App, chat: int, messages: int) -> None:
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        for _ in range(messages):
            await app.service.outbox.enqueue(
                tx, lane=f"p:{chat}", channel="telegram", kind="message", priority=PRIORITY_LIVE,
                payload={"address": str(chat), "message": Rendered("Thanks. Next...").to_json()},
                now=now,
            )  # fmt: skip
    app.dispatcher.wake()


def accepted_at(fake: FakeTelegram, chat: int, messages: int) -> float | None:
    times = [
        c.at
        for c in fake.calls_to("sendMessage")
        if c.params.get("chat_id") == chat and c.status == 200
    ]
    return times[messages - 1] if len(times) >= messages else None


async def one_backlog(backlog: int, messages: int) -> tuple[list[float], int, int]:
    with FakeTelegram(enforce_limits=True) as fake:
        # The fake allows no per-chat burst (Telegram does), so neither may we here.
        telegram = TelegramConfig(token=fake.token, api_base_url=fake.base_url, chat_burst=1)
        config = dataclasses.replace(temp_config(), telegram=telegram)
        channel = TelegramChannel(telegram)
        app = await open_app(config, {"telegram": channel}, clock=None)
        try:
            for i in range(backlog):
                fake.open_chat(WAVE_CHAT + i)
            for n in range(REPLIES):
                fake.open_chat(HER_CHAT + n)
            await queue_wave(app, backlog)
            stop = asyncio.Event()
            task = asyncio.create_task(app.dispatcher.run(stop))
            await asyncio.sleep(2.0)  # the wave is draining at Telegram's rate
            arrived: list[float] = []
            for n in range(REPLIES):
                arrived.append(fake.now())
                await reply(app, HER_CHAT + n, messages)
                await asyncio.sleep(0.4)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                done = [accepted_at(fake, HER_CHAT + n, messages) for n in range(REPLIES)]
                if all(t is not None for t in done):
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await task
            waits = [t - a for t, a in zip(done, arrived, strict=True) if t is not None]
            pending = await app.service.outbox.pending_count("telegram")
        finally:
            await app.close()
            await channel.close()
        return waits, pending, fake.rejected_429


async def main() -> None:
    for messages, backlog in ((m, b) for m in (1, 2) for b in BACKLOGS):
        waits, pending, rejected = await one_backlog(backlog, messages)
        ms = sorted(w * 1000 for w in waits)
        print(
            f"live reply ({messages} message{'s' if messages > 1 else ''}) behind"
            f" {backlog:,} wave openers: {len(ms)}/{REPLIES} sent;"
            f" wait p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms;"
            f" {pending:,} openers still queued; 429s {rejected}"
        )


if __name__ == "__main__":
    run_like_the_service(main())
