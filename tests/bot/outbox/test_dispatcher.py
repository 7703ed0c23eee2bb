"""The dispatcher's claim order under load: a live reply never waits behind a wave backlog."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from bot.channels.base import Limits, Rendered
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_URGENT, PRIORITY_WAVE, OutboxRow


class RecordingChannel:
    """Accepts every message and notes when it went, in order."""

    name = "fake"
    style = "numbered"

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.sent: list[tuple[str, float]] = []
        self.deletions: list[str] = []

    async def send(self, address: str, message: Rendered) -> str | None:
        self.sent.append((address, time.monotonic()))
        return None

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        self.deletions.append(address)
        return set(refs)

    def index(self, address: str) -> int:
        return [a for a, _ in self.sent].index(address)


async def queue(
    app: App, lane: str, priority: int, *, address: str | None = None, kind: str = "message"
) -> None:
    now = app.service.clock.now()
    payload = {"address": address or lane, "message": Rendered("hello").to_json()}
    async with app.db.transaction() as tx:
        await app.service.outbox.enqueue(
            tx, lane=lane, channel="fake", kind=kind, priority=priority, payload=payload, now=now,
        )  # fmt: skip


async def queue_wave(app: App, size: int) -> None:
    now = app.service.clock.now()
    rows = [
        app.service.outbox.row(
            lane=f"wave-{n}",
            channel="fake",
            kind="message",
            priority=PRIORITY_WAVE,
            payload={"address": f"wave-{n}", "message": Rendered("opener").to_json()},
            now=now,
        )
        for n in range(size)
    ]
    async with app.db.transaction() as tx:
        await app.service.outbox.enqueue_many(tx, rows)


@pytest.fixture
async def opened(config: Config, clock: ManualClock) -> AsyncIterator[tuple[App, RecordingChannel]]:
    channel = RecordingChannel(Limits(per_second=200.0, per_address_per_second=5.0))
    app = await open_app(config, {"fake": channel}, clock=clock)
    yield app, channel
    await app.close()


async def running(app: App) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(app.dispatcher.run(stop))


async def until(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10.0
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.001)


@pytest.mark.parametrize("backlog", [300, 900])
async def test_a_live_reply_goes_next_whatever_the_wave_backlog(
    opened: tuple[App, RecordingChannel], backlog: int
) -> None:
    app, channel = opened
    await queue_wave(app, backlog)
    stop, task = await running(app)
    await until(lambda: len(channel.sent) >= 20)  # the wave is draining
    await queue(app, "p:her", PRIORITY_LIVE, address="her")
    arrived, before = time.monotonic(), len(channel.sent)
    app.dispatcher.wake()  # as the service does after commit
    await until(lambda: "her" in [a for a, _ in channel.sent])
    waited = channel.sent[channel.index("her")][1] - arrived
    stop.set()
    await task
    # At most the opener already in flight went between her reply's arrival and her reply.
    assert channel.index("her") - before <= 1
    assert waited < 0.5  # one token at 200/s is 5 ms; nothing like the backlog's seconds
    assert len(channel.sent) < backlog  # the wave was still far from done


async def test_her_chat_limit_holds_only_her_and_the_wave_uses_what_is_left(
    opened: tuple[App, RecordingChannel],
) -> None:
    app, channel = opened
    await queue_wave(app, 400)
    await queue(app, "p:her", PRIORITY_LIVE, address="her")
    await queue(app, "p:her", PRIORITY_LIVE, address="her")  # her next question, same lane
    stop, task = await running(app)
    await until(lambda: [a for a, _ in channel.sent].count("her") == 2)
    stop.set()
    await task
    order = [a for a, _ in channel.sent]
    first, second = (i for i, a in enumerate(order) if a == "her")
    assert first == 0  # live before the wave
    gap = channel.sent[second][1] - channel.sent[first][1]
    assert 0.19 <= gap < 0.4  # 5 a second in her chat (burst 1): the second waits ~0.2 s ...
    assert second - first > 5  # ... while the wave goes on to other chats meanwhile
    assert order.count("her") == 2


async def test_deletions_that_can_wait_go_after_live_replies_and_before_the_wave(
    opened: tuple[App, RecordingChannel], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = opened
    handled: list[str] = []
    original = app.dispatcher._handle

    async def noted(channel: Any, budget: Any, row: OutboxRow, address: str) -> None:
        handled.append(row.lane)
        await original(channel, budget, row, address)

    monkeypatch.setattr(app.dispatcher, "_handle", noted)
    await queue_wave(app, 3)
    await queue(app, "sweep:a", PRIORITY_LIVE, address="deadline", kind="delete")
    await queue(app, "p:live", PRIORITY_LIVE, address="live")
    await queue(app, "p:safe", PRIORITY_URGENT, address="safe-word", kind="delete")
    await app.dispatcher.drain_all()
    assert handled == ["p:safe", "p:live", "sweep:a", "wave-0", "wave-1", "wave-2"]


async def test_her_chat_gets_a_short_burst_at_once_then_the_average_holds(
    config: Config, clock: ManualClock
) -> None:
    channel = RecordingChannel(
        Limits(per_second=100.0, per_address_per_second=2.0, per_address_burst=3)
    )
    app = await open_app(config, {"fake": channel}, clock=clock)
    try:
        for _ in range(4):  # four messages of hers at once (e.g. help line, then questions)
            await queue(app, "p:her", PRIORITY_LIVE, address="her")
        stop, task = await running(app)
        await until(lambda: len(channel.sent) == 4)
        stop.set()
        await task
    finally:
        await app.close()
    times = [t - channel.sent[0][1] for _, t in channel.sent]
    assert times[2] < 0.1  # the burst of three left together
    assert 0.45 <= times[3] < 0.8  # the fourth waited for her chat's rate (2 a second)
