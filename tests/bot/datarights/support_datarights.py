"""Helpers for data-rights tests: a woman who answered T0, and a search of every table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.channels.base import Inbound
from bot.clock import ManualClock
from bot.runtime.app import App
from bot.store.participants import Participant

from ..conftest import enrol_console

PHONE = "+447700900123"
ADDRESS = f"console:{PHONE}"


async def say(app: App, text: str, address: str = ADDRESS) -> Any:
    report = await app.service.handle_inbound(Inbound("console", address, text))
    await app.dispatcher.drain_all()
    return report


async def answered_t0(app: App, address: str = ADDRESS, **kw: Any) -> Participant:
    """Enrol her on the console and answer '1' to everything until T0 ends."""
    participant = await enrol_console(app, address, **kw)
    await app.service.begin_contact(participant.id, "T0")
    await app.dispatcher.drain_all()
    report = await say(app, "yes", address)
    if kw.get("code_word"):
        report = await say(app, kw["code_word"], address)
    for _ in range(80):
        report = await say(app, "1", address)
        if report is None or report.ended:
            break
    assert report is not None and report.state.outcome == "completed", report
    clock = app.service.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(seconds=10))  # the closing line's grace before the chat is deleted
    await app.dispatcher.drain_all()
    return participant


async def rows_mentioning(app: App, needles: list[str | bytes]) -> list[str]:
    """Every (table, column) in the database holding one of ``needles`` (text or bytes)."""
    found = []
    tables = await app.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    for (table,) in tables:
        for row in await app.db.fetchall(f"SELECT * FROM {table}"):
            for column in row.keys():  # noqa: SIM118 - aiosqlite.Row
                value = row[column]
                for needle in needles:
                    if isinstance(value, str) and isinstance(needle, str) and needle in value:
                        found.append(f"{table}.{column}")
                    if isinstance(value, bytes) and isinstance(needle, bytes) and needle in value:
                        found.append(f"{table}.{column}")
    return found
