"""Provider outages on a simulated clock: an in-process app whose dispatcher is drained while
the manual clock moves on, so minutes of back-off take milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from bot.clock import ManualClock
from bot.enrolment.rules import enrol
from bot.outbox.dispatcher import MAX_BACKOFF
from bot.runtime.app import App
from bot.store.consent import Consent

# After an outage her message waits out the back-off already drawn, then one per garbage answer;
# each wait is at most MAX_BACKOFF, so three of them (plus a tick) bound the recovery.
RECOVERY_MINUTES = 3 * MAX_BACKOFF.total_seconds() / 60 + 1


async def partner(app: App, channel: str, address: str) -> str:
    """One active partner already linked to ``address``; returns her participant id."""
    service = app.service
    async with app.db.transaction() as tx:
        programme_id = await service.programmes.add(tx, "demo", service.clock.now())
    her = await enrol(
        service.stores, service.config, service.survey, programme_id=programme_id, channel=channel, language="en",
        timezone="Europe/London", today=date.today(), now=service.clock.now(), address=address,
        consent=Consent("v1", date(2026, 1, 1), "Test Worker"),
    )  # fmt: skip
    return her.id


async def ride_out(
    app: App,
    channel: str,
    *,
    minutes: float,
    step: float = 5.0,
    until: Callable[[], object] = lambda: False,
) -> None:
    """Drain ``channel`` every ``step`` simulated seconds for ``minutes`` or until ``until()``."""
    clock = app.service.clock
    assert isinstance(clock, ManualClock)
    for _ in range(int(minutes * 60 / step)):
        await app.dispatcher.drain(channel)
        if until():
            return
        clock.advance(timedelta(seconds=step))


async def opener_row(app: App) -> tuple[str, int]:
    """State and attempts of her one outbox message."""
    row = await app.db.fetchone("SELECT state, attempts FROM outbox WHERE kind = 'message'")
    assert row is not None
    return str(row[0]), int(row[1])
