"""What is due, in which order, and at what cost: the dispatcher's read of the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import timedelta
from typing import Any

import aiosqlite
import pytest

from bot.channels.base import Limits, Rendered
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_URGENT, PRIORITY_WAVE


class WakingChannel:
    """Accepts every message and, like an inbound arriving meanwhile, wakes the dispatcher."""

    name = "fake"
    style = "numbered"
    limits = Limits(per_second=1e9, per_address_per_second=1e9)

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.on_send = lambda: None

    async def send(self, address: str, message: Rendered) -> str | None:
        self.sent.append(address)
        self.on_send()
        return None

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)


@pytest.fixture
async def channel() -> WakingChannel:
    return WakingChannel()


@pytest.fixture
async def app(config: Config, clock: ManualClock, channel: WakingChannel) -> AsyncIterator[App]:
    opened = await open_app(config, {"fake": channel}, clock=clock)
    channel.on_send = opened.dispatcher.wake
    yield opened
    await opened.close()


async def queue(
    app: App, lane: str, priority: int = PRIORITY_WAVE, delay: timedelta = timedelta(0)
) -> int:
    now = app.service.clock.now()
    payload = {"address": lane, "message": Rendered("hello").to_json()}
    async with app.db.transaction() as tx:
        row_id = await app.service.outbox.enqueue(
            tx, lane=lane, channel="fake", kind="message", priority=priority,
            payload=payload, now=now, not_before=now + delay,
        )  # fmt: skip
    assert row_id is not None
    return row_id


def count_opens(app: App, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    opened: list[bytes] = []
    original = app.ring.open

    def counted(blob: bytes, aad: str) -> bytes:
        opened.append(blob)
        return original(blob, aad)

    monkeypatch.setattr(app.ring, "open", counted)
    return opened


async def test_due_rows_are_decrypted_only_when_used(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        await queue(app, f"lane-{n}")
    opened = count_opens(app, monkeypatch)
    rows = await app.service.outbox.due("fake", app.service.clock.now())
    assert len(rows) == 30 and opened == []
    assert rows[0].payload["address"] == "lane-0"
    assert rows[0].payload["address"] == "lane-0"  # opened once, then kept
    assert len(opened) == 1


async def test_a_wake_after_each_send_decrypts_one_row_per_read(
    app: App, channel: WakingChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(50):
        await queue(app, f"lane-{n}")
    opened = count_opens(app, monkeypatch)
    assert await app.dispatcher.drain("fake") == 1  # woken: re-read before the second send
    assert len(opened) == 1 and channel.sent == ["lane-0"]
    total = 1
    while handled := await app.dispatcher.drain("fake"):
        total += handled
    assert total == 50 and len(opened) == 50  # each row opened once, when it was sent


async def test_order_is_priority_then_due_time_and_lanes_stay_in_order(
    app: App, clock: ManualClock
) -> None:
    late = await queue(app, "a", PRIORITY_LIVE, delay=timedelta(seconds=30))
    behind_late = await queue(app, "a", PRIORITY_LIVE)  # waits for its lane's earlier row
    early = await queue(app, "b", PRIORITY_LIVE)
    urgent = await queue(app, "c", PRIORITY_URGENT, delay=timedelta(seconds=10))
    wave = await queue(app, "d", PRIORITY_WAVE)
    assert [r.id for r in await app.service.outbox.due("fake", clock.now())] == [early, wave]
    clock.advance(timedelta(minutes=1))
    due = [r.id for r in await app.service.outbox.due("fake", clock.now())]
    assert due == [urgent, early, late, wave]  # "late" is older but fell due after "early"
    assert behind_late not in due


async def test_due_walks_the_index_without_sorting_every_pending_row(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost must not grow with the backlog: no temporary B-tree for the ORDER BY."""
    seen: list[tuple[str, tuple[object, ...]]] = []
    original = app.db.fetchall

    async def capture(sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        seen.append((sql, tuple(params)))
        return await original(sql, params)

    monkeypatch.setattr(app.db, "fetchall", capture)
    await app.service.outbox.due("fake", app.service.clock.now())
    ((sql, params),) = seen
    plan = " | ".join(str(r[3]) for r in await original("EXPLAIN QUERY PLAN " + sql, params))
    assert "outbox_due" in plan
    assert "TEMP B-TREE" not in plan


async def test_stop_ends_a_drain_between_rows_and_leaves_the_rest_pending(
    app: App, channel: WakingChannel
) -> None:
    for n in range(20):
        await queue(app, f"lane-{n}")
    stop = asyncio.Event()
    channel.on_send = stop.set  # SIGTERM arrives while the first message goes out
    await asyncio.wait_for(app.dispatcher.run(stop), 10)
    assert channel.sent == ["lane-0"]
    assert await app.service.outbox.pending_count("fake") == 19
