"""A message over its channel's limit goes part by part: in order, buttons last, each part
recorded for deletion, a retry resuming at the next part, a cancel stopping the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta

import pytest

from bot.channels.base import Button, Limits, Rendered, TransientError
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.outbox import PRIORITY_LIVE, lane_of
from tests.bot.conftest import enrol_console

KEYS = (Button("Yes", "q|yes"), Button("No", "q|no"))
LONG = Rendered("a" * 3000 + "\n\n" + "b" * 3000, KEYS, item_id="q", kind="question")


class RecordingTelegram:
    """Named as Telegram so its 4,096-character limit applies; ``before_send`` may fail."""

    name = "telegram"
    style = "buttons"
    limits = Limits(per_second=1e9, per_address_per_second=1e9)

    def __init__(self) -> None:
        self.sent: list[Rendered] = []
        self.before_send: Callable[[Rendered], None] = lambda message: None
        self.failures = 0

    async def send(self, address: str, message: Rendered) -> str | None:
        self.before_send(message)
        self.sent.append(message)
        return str(100 + len(self.sent))

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)


@pytest.fixture
async def channel() -> RecordingTelegram:
    return RecordingTelegram()


@pytest.fixture
async def app(config: Config, clock: ManualClock, channel: RecordingTelegram) -> AsyncIterator[App]:
    opened = await open_app(config, {"telegram": channel}, clock=clock)
    yield opened
    await opened.close()


async def queue_long(app: App) -> tuple[str, int]:
    participant = await enrol_console(app)
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        row_id = await app.service.outbox.enqueue(
            tx, lane=lane_of(participant.id), channel="telegram", kind="message",
            priority=PRIORITY_LIVE, payload={"address": "77", "message": LONG.to_json()},
            now=now, participant_id=participant.id,
        )  # fmt: skip
    assert row_id is not None
    return participant.id, row_id


async def state_of(app: App, row_id: int) -> str:
    row = await app.db.fetchone("SELECT state FROM outbox WHERE id = ?", (row_id,))
    assert row is not None
    return str(row["state"])


async def refs_of(app: App, participant_id: str) -> list[str]:
    return [r.ref for r in await app.dispatcher.transcript.undeleted(participant_id)]


async def test_parts_go_in_order_with_the_keyboard_last_each_recorded(
    app: App, channel: RecordingTelegram
) -> None:
    pid, row_id = await queue_long(app)
    await app.dispatcher.drain_all()
    assert [m.text for m in channel.sent] == ["a" * 3000, "b" * 3000]
    assert [m.buttons for m in channel.sent] == [(), KEYS]
    assert await state_of(app, row_id) == "sent"
    assert await refs_of(app, pid) == ["101", "102"]  # both parts deleted at session end


async def test_a_retry_resumes_at_the_part_that_failed(
    app: App, channel: RecordingTelegram, clock: ManualClock
) -> None:
    pid, row_id = await queue_long(app)

    def fail_second_once(message: Rendered) -> None:
        if message.text.startswith("b") and not channel.failures:
            channel.failures += 1
            raise TransientError("telegram: TimedOut")

    channel.before_send = fail_second_once
    await app.dispatcher.drain_all()
    assert await state_of(app, row_id) == "pending"  # waiting to retry part 2
    clock.advance(timedelta(minutes=1))
    await app.dispatcher.drain_all()
    assert [m.text[0] for m in channel.sent] == ["a", "b"]  # part 1 was not sent again
    assert await state_of(app, row_id) == "sent"
    assert await refs_of(app, pid) == ["101", "102"]


async def test_a_cancel_while_a_part_is_in_flight_stops_the_rest(
    app: App, channel: RecordingTelegram
) -> None:
    """The safe word arrives while part 1 is with Telegram: part 2 never goes."""
    pid, row_id = await queue_long(app)
    original_send = channel.send

    async def send_then_cancel(address: str, message: Rendered) -> str | None:
        ref = await original_send(address, message)
        async with app.db.transaction() as tx:
            await app.service.outbox.cancel_lane(tx, lane_of(pid), ("message",))
        return ref

    channel.send = send_then_cancel  # type: ignore[method-assign]
    await app.dispatcher.drain_all()
    assert [m.text[0] for m in channel.sent] == ["a"]
    assert await state_of(app, row_id) == "cancelled"
    assert await refs_of(app, pid) == ["101"]  # what did go out is still deleted
