"""A channel saying she cannot be reached marks her unreachable and raises ROUTINE once."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import Limits, Rendered, UnreachableError
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import open_app
from tests.bot.support_sealed_rows import escalations

from .conftest import RecordingChannel, notifications, on_call_team


class BlockedConsole:
    name = "console"
    style = "numbered"
    limits = Limits(1000.0, 1000.0)

    async def send(self, address: str, message: Rendered) -> str | None:
        raise UnreachableError("blocked the bot", "blocked")

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)


async def test_unreachable_participant_raises_routine_for_the_digest(
    config: Config, clock: ManualClock, telegram: RecordingChannel, sms: RecordingChannel
) -> None:
    channels = {"console": BlockedConsole(), "telegram": telegram, "sms": sms}
    app = await open_app(config, channels, clock=clock)  # type: ignore[dict-item]
    try:
        await on_call_team(app)
        her = await app.service.participants.by_address("console", "console:alice")
        assert her is not None
        await app.service.begin_contact(her.id, "T0")
        await app.dispatcher.drain_all()
        assert (await app.service.participants.get(her.id)).status == "unreachable"
        rows = await app.db.fetchall("SELECT code FROM escalations")
        assert await escalations(app) == [("ROUTINE", ("unreachable", "blocked"))]
        assert await notifications(app, rows[0][0]) == [
            ("ana", "sms", 1, "pending"),
            ("ana", "telegram", 1, "pending"),
        ]
        assert telegram.sent == [] and sms.sent == []
    finally:
        await app.close()
