"""Helpers for sweep and wave tests: a channel that records when it sent, quick enrolment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.channels.base import Inbound, Limits, Rendered
from bot.clock import Clock
from bot.enrolment.rules import enrol
from bot.runtime.app import App
from bot.schedule.report import SweepReport
from bot.schedule.sweep import Sweep
from bot.store.consent import Consent
from bot.store.participants import Participant
from bot.store.scope import Scope


@dataclass
class RecordingChannel:
    """A console-style channel that records (time, address, kind) of every message."""

    clock: Clock
    name: str = "console"
    style: str = "numbered"
    limits: Limits = field(default_factory=lambda: Limits(1000.0, 1000.0))
    sent: list[tuple[datetime, str, Rendered]] = field(default_factory=list)

    async def send(self, address: str, message: Rendered) -> str | None:
        self.sent.append((self.clock.now(), address, message))
        return f"ref-{len(self.sent)}"

    async def delete(self, address: str, refs: Any) -> set[str]:
        return set(refs)

    def kinds(self, address: str | None = None) -> list[str]:
        return [m.kind for _, a, m in self.sent if address is None or a == address]

    def openers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, address, message in self.sent:
            if message.kind == "opener":
                counts[address] = counts.get(address, 0) + 1
        return counts


async def programme(
    app: App,
    name: str = "berlin",
    tz: str = "Europe/Berlin",
    settings: dict[str, Any] | None = None,
) -> int:
    existing = await app.service.programmes.by_name(name, Scope.installation())
    if existing:
        return existing.id
    async with app.db.transaction() as tx:
        return await app.service.programmes.add(
            tx, name, app.service.clock.now(), timezone=tz, settings=settings or {}
        )


async def enrol_her(
    app: App,
    address: str,
    *,
    programme_name: str = "berlin",
    tz: str = "Europe/Berlin",
    window: str = "",
    today: date | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Participant:
    programme_id = await programme(app, programme_name)
    return await enrol(
        app.stores,
        app.config,
        app.service.survey,
        programme_id=programme_id,
        channel="console",
        language="en",
        timezone=tz,
        today=today or app.service.clock.now().date(),
        now=app.service.clock.now(),
        address=address,
        safe_word="pineapple",
        windows=window,
        start_on=start,
        end_on=end,
        consent=Consent("v1", date(2020, 1, 1), "Test Worker"),
    )


def sweep_of(app: App, **options: Any) -> Sweep:
    """The app's sweep, as ``followup tick`` builds it (options: chunk, page, keep_actions)."""
    return Sweep(app.stores, app.config, app.service, **options)


async def tick(app: App, *, dry_run: bool = False) -> SweepReport:
    """One sweep, then drain the outbox (what ``followup run`` does every 30 s)."""
    report = await sweep_of(app).run(dry_run=dry_run)
    await app.dispatcher.drain_all()
    return report


async def say(app: App, address: str, text: str) -> None:
    await app.service.handle_inbound(Inbound("console", address, text))
    await app.dispatcher.drain_all()


async def timepoint(app: App, pid: str, tp: str) -> dict[str, Any]:
    row = await app.db.fetchone(
        "SELECT * FROM timepoints WHERE participant_id = ? AND timepoint = ?", (pid, tp)
    )
    assert row is not None
    return dict(row)
