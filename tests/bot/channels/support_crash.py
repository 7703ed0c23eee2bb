"""Kill-and-restart helpers for the crash tests: partners set up in-process, the service killed
(SIGKILL) at a chosen moment, and the database read back after the crash.

``followup run`` has no simulated clock, so partners live in a time zone where *now* is well
inside contact hours and their window covers every day of the week.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import load_config
from bot.enrolment.rules import enrol
from bot.runtime.app import App, open_app
from bot.store.consent import Consent
from tests.fakes.telegram_api import FakeTelegram

from .support_telegram import SAFE_WORD, Service

#: Every day, 09:00-20:00 in her zone: the zone is chosen so that now is 10:00-18:00 there.
WINDOWS = "mon-sun 09:00-20:00"


def contact_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone (``Etc/GMT-3`` is UTC+3) where it is now closest to 14:00."""
    now = now or datetime.now(UTC)
    best = min(range(-12, 15), key=lambda h: abs((now + timedelta(hours=h)).hour - 14))
    zone = "Etc/GMT" if best == 0 else f"Etc/GMT{-best:+d}"
    assert 10 <= now.astimezone(ZoneInfo(zone)).hour < 18, zone
    return zone


def in_app(service: Service, work: Callable[[App], Awaitable[None]]) -> None:
    """Run ``await work(app)`` against the service's database while it is not running."""

    async def go() -> None:
        app = await open_app(load_config(service.config, env={}), {})
        try:
            await work(app)
        finally:
            await app.close()

    asyncio.run(go())


def prepare(
    service: Service, chats: list[int], zone: str, staff_telegram_id: int | None = None
) -> list[str]:
    """Programme 'demo' (as ``programme add`` makes it), Telegram partners already linked to
    ``chats`` with T0 due today, and optionally a WSS worker on call alerted on Telegram.
    Returns the pseudonyms; the first sweep of the service opens their T0."""
    pseudonyms: list[str] = []
    today = datetime.now(ZoneInfo(zone)).date()

    async def work(app: App) -> None:
        now = app.service.clock.now()
        async with app.db.transaction() as tx:
            programme_id = await app.service.programmes.add(tx, "demo", now, timezone=zone)
        for chat in chats:
            her = await enrol(
                app.stores, app.config, app.service.survey, programme_id=programme_id, channel="telegram", language="en",
                timezone=zone, today=today, now=now, address=str(chat), safe_word=SAFE_WORD,
                consent=Consent("v1", date(2026, 1, 1), "Test Worker"), windows=WINDOWS,
            )  # fmt: skip
            pseudonyms.append(her.pseudonym)
        if staff_telegram_id is not None:
            async with app.db.transaction() as tx:
                ana = await app.staff.add(
                    tx, name="ana", role="wss", language="en", now=now,
                    telegram_user_id=str(staff_telegram_id),
                )  # fmt: skip
                await app.staff.set_routes(tx, programme_id, [ana.id], [])

    in_app(service, work)
    return pseudonyms


def kill_when(service: Service, ready: Callable[[], object], timeout: float = 15) -> None:
    """SIGKILL the service the moment ``ready()`` holds (polled every 2 ms)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.002)
    service.kill()


def hanging(fake: FakeTelegram) -> bool:
    """The injected hang was taken, and by the latest send: the dispatcher sends one at a
    time, so that send is still waiting for its answer."""
    calls = fake.calls_to("sendMessage")
    return not fake.faults_pending("sendMessage") and bool(calls) and calls[-1].status == 0


def in_flight(service: Service) -> list[str]:
    """Participants whose message was being sent when the service died (answer unknown)."""
    rows = service.query(
        "SELECT participant_id FROM outbox WHERE state = 'sending' AND kind = 'message'"
    )
    return [str(r[0]) for r in rows]


def chat_of(service: Service, pseudonyms: list[str], chats: list[int]) -> dict[str, int]:
    """Participant id -> chat, from the order they were enrolled in."""
    by_pseudonym = dict(zip(pseudonyms, chats, strict=True))
    rows = service.query("SELECT id, pseudonym FROM participants")
    return {str(pid): by_pseudonym[str(name)] for pid, name in rows if name in by_pseudonym}
