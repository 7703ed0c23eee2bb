"""Waves: the contacts of one timepoint of one programme due on one day.

A wave id (``W3-T1-20270301``) is stored on each timepoint row when it is planned.
Staff list waves, hold and release them, and send one now: "now" means "without
waiting for the due date", never "outside her safe windows or in quiet hours".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.schedule.report import SweepReport
from bot.schedule.sweep import Sweep
from bot.store import waves as wave_store
from bot.store.housekeeping import audit
from bot.store.scope import Scope
from bot.store.stores import Stores

#: Columns of ``followup waves``: a timepoint row's state, or her status when that
#: stops contact before the attempt has ended.
COLUMNS = (
    "scheduled",
    "held",
    "sent",
    "in_progress",
    "declined",
    "completed",
    "missed",
    "unreachable",
    "opted_out",
    "paused",
)


@dataclass(frozen=True)
class WaveRow:
    wave_id: str
    programme: str
    timepoint: str
    due: date
    held: bool
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def list_waves(
    stores: Stores,
    scope: Scope,
    programme: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[WaveRow]:
    """Waves inside ``scope`` with counts by state, oldest first; cancelled timepoints are
    not counted."""
    waves: dict[str, WaveRow] = {}
    for c in await wave_store.wave_counts(stores.db, scope, programme, first, last):
        wave = waves.get(c.wave_id)
        if wave is None:
            wave = WaveRow(c.wave_id, c.programme, c.timepoint, c.due, c.held, {})
            waves[c.wave_id] = wave
        wave.counts[c.state] = wave.counts.get(c.state, 0) + c.count
    return list(waves.values())


async def wave_exists(stores: Stores, wave_id: str, scope: Scope) -> bool:
    return await wave_store.wave_exists(stores.db, wave_id, scope)


async def hold_wave(stores: Stores, wave_id: str, by: str, scope: Scope | None = None) -> bool:
    """Hold a wave: none of its openers or reminders go out until release. False if unknown
    (or outside ``scope``; None: the installation's)."""
    if not await wave_exists(stores, wave_id, scope or Scope.installation()):
        return False
    now = stores.clock.now()
    async with stores.db.transaction() as tx:
        await wave_store.hold(tx, wave_id, now, by)
        await audit(tx, now, f"cli:{by}", "wave_held", wave_id)
    return True


async def release_wave(stores: Stores, wave_id: str, by: str, scope: Scope | None = None) -> bool:
    """Release a held wave: its contacts go out at their next sendable instant (False when
    unknown or outside ``scope``)."""
    if not await wave_exists(stores, wave_id, scope or Scope.installation()):
        return False
    now = stores.clock.now()
    async with stores.db.transaction() as tx:
        await wave_store.release(tx, wave_id)
        await audit(tx, now, f"cli:{by}", "wave_released", wave_id)
    return True


async def is_held(stores: Stores, wave_id: str) -> bool:
    return await wave_store.is_held(stores.db, wave_id)


async def send_now(stores: Stores, sweep: Sweep, wave_id: str, by: str) -> SweepReport:
    """Contact the wave's members without waiting for the due date: those inside their safe
    window now are enqueued at once; the others at the start of their next window (the
    regular sweep does it). Nothing ever goes out outside her windows or in quiet hours."""
    now = stores.clock.now()
    async with stores.db.transaction() as tx:
        await wave_store.mark_send_now(tx, wave_id, now)
        await audit(tx, now, f"cli:{by}", "wave_send_now", wave_id)
    return await sweep.run(wave_id=wave_id)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    failed: int


async def outbox_progress(stores: Stores, row_keys: list[str]) -> Progress:
    """How many of these dedupe keys left the outbox (sent, failed, or dropped as too late)."""
    done = failed = 0
    for state, count in await wave_store.outbox_states(stores.db, row_keys):
        if state in ("sent", "failed", "cancelled"):
            done += count
        if state in ("failed", "cancelled"):
            failed += count
    return Progress(done, len(row_keys), failed)


async def follow(
    stores: Stores,
    row_keys: list[str],
    on_progress: Callable[[Progress], None],
    *,
    poll_seconds: float = 0.5,
    give_up_after: float | None = None,
) -> Progress:
    """Poll the outbox until these rows are gone (the dispatcher sends at the channel's rate)."""
    loop = asyncio.get_running_loop()
    deadline = None if give_up_after is None else loop.time() + give_up_after
    while True:
        progress = await outbox_progress(stores, row_keys)
        on_progress(progress)
        if progress.done >= progress.total:
            return progress
        if deadline is not None and loop.time() >= deadline:
            return progress
        await asyncio.sleep(poll_seconds)
