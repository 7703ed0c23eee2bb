"""An app with her console plus recording staff channels, staff on call, and helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.channels.base import Inbound, Limits, Rendered, TransientError
from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.escalation.monitor import EscalationMonitor
from bot.runtime.app import App, open_app
from bot.store.staff import StaffMember
from tests.bot.conftest import enrol_console

ANA_TG = "700001"
BEA_TG = "700002"
ANA_PHONE = "+447911123456"
BEA_PHONE = "+447911654321"


@dataclass
class RecordingChannel:
    """A staff-side channel that records what it was handed; can be told to fail (HTTP 500)."""

    name: str
    style: str = "numbered"
    limits: Limits = field(default_factory=lambda: Limits(1000.0, 1000.0))
    sent: list[tuple[str, Rendered]] = field(default_factory=list)
    failing: bool = False
    calls: int = 0

    async def send(self, address: str, message: Rendered) -> str | None:
        self.calls += 1
        if self.failing:
            raise TransientError("HTTP 500 from provider")
        self.sent.append((address, message))
        return f"{self.name}-{len(self.sent)}"

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)

    def texts(self, address: str | None = None) -> list[str]:
        return [m.text for a, m in self.sent if address is None or a == address]


@pytest.fixture
def telegram() -> RecordingChannel:
    return RecordingChannel("telegram", style="buttons")


@pytest.fixture
def sms() -> RecordingChannel:
    return RecordingChannel("sms")


@pytest.fixture
async def eapp(
    config: Config,
    clock: ManualClock,
    console: ConsoleChannel,
    telegram: RecordingChannel,
    sms: RecordingChannel,
) -> AsyncIterator[App]:
    opened = await open_app(
        config, {"console": console, "telegram": telegram, "sms": sms}, clock=clock
    )
    yield opened
    await opened.close()


def monitor(app: App) -> EscalationMonitor:
    return app.escalation_monitor()


async def add_staff(app: App, name: str, **kw: Any) -> StaffMember:
    kw.setdefault("role", "wss")
    kw.setdefault("language", "en")
    async with app.db.transaction() as tx:
        return await app.staff.add(tx, name=name, now=app.service.clock.now(), **kw)


async def on_call_team(app: App) -> tuple[StaffMember, StaffMember]:
    """Ana on call (Telegram + SMS), Bea as backup (Telegram), on the 'demo' programme."""
    her = await enrol_console(app)
    ana = await add_staff(app, "ana", telegram_user_id=ANA_TG, phone=ANA_PHONE)
    bea = await add_staff(app, "bea", telegram_user_id=BEA_TG, phone=BEA_PHONE)
    async with app.db.transaction() as tx:
        await app.staff.set_routes(tx, her.programme_id, [ana.id], [bea.id])
    return ana, bea


async def say(app: App, text: str, address: str = "console:alice") -> None:
    await app.handle_inbound(Inbound("console", address, text))
    await app.dispatcher.drain_all()


async def start_t0(app: App, address: str = "console:alice") -> None:
    participant = await app.service.participants.by_address("console", address)
    assert participant is not None
    await app.service.begin_contact(participant.id, "T0")
    await app.dispatcher.drain_all()
    await say(app, "yes", address)  # now is a good time
    await say(app, "yes", address)  # still OK to ask (consent)


async def raise_urgent(app: App) -> str:
    """Not safe now (2 = No) and wants help today (1 = Yes): URGENT not_safe_wants_help."""
    await start_t0(app)
    await say(app, "2")
    await say(app, "1")
    return await last_code(app)


async def raise_high(app: App) -> str:
    """Safe now, physical violence once: HIGH new_physical_violence."""
    await start_t0(app)
    await say(app, "1")
    await say(app, "2")
    return await last_code(app)


async def last_code(app: App) -> str:
    row = await app.db.fetchone("SELECT code FROM escalations ORDER BY id DESC LIMIT 1")
    assert row is not None
    return str(row[0])


async def notifications(app: App, code: str) -> list[tuple[str, str, int, str]]:
    """(staff, route, round, state) of every alert row of one escalation."""
    mon = monitor(app)
    await mon.notifier.sync()
    rows = await app.db.fetchall(
        "SELECT s.name, n.route, n.attempt, n.state FROM escalation_notifications AS n"
        " JOIN staff AS s ON s.id = n.staff_id JOIN escalations AS e ON e.id = n.escalation_id"
        " WHERE e.code = ? ORDER BY n.attempt, s.name, n.route",
        (code,),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
