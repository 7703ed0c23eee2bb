"""An opened app on the console channel, with a manual clock."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.enrolment.rules import enrol
from bot.runtime.app import App, open_app
from bot.store.consent import Consent
from bot.store.participants import Participant
from bot.store.scope import Scope
from tests.bot.support_postgres import fresh_schema

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def console() -> ConsoleChannel:
    return ConsoleChannel(Console(file=io.StringIO(), highlight=False))


@pytest.fixture
async def app(config: Config, clock: ManualClock, console: ConsoleChannel) -> AsyncIterator[App]:
    opened = await open_app(config, {"console": console}, clock=clock)
    yield opened
    await opened.close()


async def add_programme(app: App, name: str = "demo", **settings: str) -> int:
    async with app.db.transaction() as tx:
        return await app.service.programmes.add(
            tx,
            name,
            app.service.clock.now(),
            timezone="Europe/London",
            helpline="Helpline 0800 000 0000",
            emergency_number="999",
            settings=dict(settings),
        )


async def enrol_console(
    app: App, address: str = "console:alice", *, code_word: str | None = None, **kw: str
) -> Participant:
    programme = await app.service.programmes.by_name("demo", Scope.installation())
    programme_id = programme.id if programme else await add_programme(app)
    return await enrol(
        app.stores,
        app.config,
        app.service.survey,
        programme_id=programme_id,
        channel="console",
        language="en",
        timezone="Europe/London",
        today=date(2026, 11, 24),
        now=app.service.clock.now(),
        consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
        address=address,
        safe_word="pineapple",
        code_word=code_word,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a fresh, empty PostgreSQL schema (fails the test when no server is set)."""
    with fresh_schema() as url:
        yield url
