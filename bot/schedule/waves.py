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

from bot.clock import iso
from bot.schedule.report import SweepReport
from bot.schedule.sweep import Sweep
from bot.session.service import FollowupService
from bot.store.housekeeping import audit

#: Columns of ``followup waves``: a timepoint row's state, or her status when that
#: stops contact before the attempt has ended.
COLUMNS = (
    "scheduled",
    "held",
    "sent",
    "in_progress",
    "completed",
    "missed",
    "unreachable",
    "opted_out",
    "paused",
)

_EFFECTIVE_STATE = """
CASE
  WHEN t.state IN ('scheduled', 'sent', 'in_progress', 'snoozed')
       AND p.status IN ('unreachable', 'opted_out', 'paused') THEN p.status
  WHEN t.state = 'scheduled' AND h.wave_id IS NOT NULL THEN 'held'
  WHEN t.state = 'snoozed' THEN 'sent'
  WHEN t.state = 'withdrawn' THEN 'opted_out'
  ELSE t.state
END
"""


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
    service: FollowupService,
    programme: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[WaveRow]:
    """Waves with counts by state, oldest first; cancelled timepoints are not counted."""
    sql = (
        f"SELECT t.wave_id, g.name, t.timepoint, t.due_on, h.wave_id IS NOT NULL AS held,"
        f" {_EFFECTIVE_STATE} AS st, COUNT(*) AS n"
        " FROM timepoints AS t JOIN participants AS p ON p.id = t.participant_id"
        " JOIN programmes AS g ON g.id = p.programme_id"
        " LEFT JOIN wave_holds AS h ON h.wave_id = t.wave_id"
        " WHERE t.wave_id IS NOT NULL AND t.state != 'cancelled'"
        " AND p.status NOT IN ('withdrawn', 'erased')"
    )
    params: list[str] = []
    if programme is not None:
        sql, params = sql + " AND g.name = ?", [*params, programme]
    if first is not None:
        sql, params = sql + " AND t.due_on >= ?", [*params, first.isoformat()]
    if last is not None:
        sql, params = sql + " AND t.due_on <= ?", [*params, last.isoformat()]
    sql += " GROUP BY t.wave_id, st ORDER BY t.due_on, g.name, t.timepoint"
    waves: dict[str, WaveRow] = {}
    for r in await service.db.fetchall(sql, params):
        wave = waves.get(r[0])
        if wave is None:
            wave = WaveRow(r[0], r[1], r[2], date.fromisoformat(r[3]), bool(r[4]), {})
            waves[r[0]] = wave
        wave.counts[r["st"]] = wave.counts.get(r["st"], 0) + r["n"]
    return list(waves.values())


async def wave_exists(service: FollowupService, wave_id: str) -> bool:
    row = await service.db.fetchone(
        "SELECT 1 FROM timepoints WHERE wave_id = ? LIMIT 1", (wave_id,)
    )
    return row is not None


async def hold_wave(service: FollowupService, wave_id: str, by: str) -> bool:
    """Hold a wave: none of its openers or reminders go out until release. False if unknown."""
    if not await wave_exists(service, wave_id):
        return False
    now = service.clock.now()
    async with service.db.transaction() as tx:
        await tx.execute(
            "INSERT OR IGNORE INTO wave_holds (wave_id, held_at, held_by) VALUES (?, ?, ?)",
            (wave_id, iso(now), by),
        )
        await audit(tx, now, f"cli:{by}", "wave_held", wave_id)
    return True


async def release_wave(service: FollowupService, wave_id: str, by: str) -> bool:
    """Release a held wave: its contacts go out at their next sendable instant."""
    if not await wave_exists(service, wave_id):
        return False
    now = service.clock.now()
    async with service.db.transaction() as tx:
        await tx.execute("DELETE FROM wave_holds WHERE wave_id = ?", (wave_id,))
        await tx.execute(
            "UPDATE timepoints SET next_action_at = NULL WHERE wave_id = ?", (wave_id,)
        )
        await audit(tx, now, f"cli:{by}", "wave_released", wave_id)
    return True


async def is_held(service: FollowupService, wave_id: str) -> bool:
    return bool(await service.db.fetchone("SELECT 1 FROM wave_holds WHERE wave_id = ?", (wave_id,)))


async def send_now(service: FollowupService, wave_id: str, by: str) -> SweepReport:
    """Contact the wave's members without waiting for the due date: those inside their safe
    window now are enqueued at once; the others at the start of their next window (the
    regular sweep does it). Nothing ever goes out outside her windows or in quiet hours."""
    now = service.clock.now()
    async with service.db.transaction() as tx:
        await tx.execute(
            "UPDATE timepoints SET send_now_at = ?, next_action_at = NULL"
            " WHERE wave_id = ? AND state = 'scheduled'",
            (iso(now), wave_id),
        )
        await audit(tx, now, f"cli:{by}", "wave_send_now", wave_id)
    return await Sweep(service).run(wave_id=wave_id)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    failed: int


async def outbox_progress(service: FollowupService, row_keys: list[str]) -> Progress:
    """How many of these dedupe keys left the outbox (sent, failed, or dropped as too late)."""
    done = failed = 0
    for start in range(0, len(row_keys), 500):
        keys = row_keys[start : start + 500]
        marks = ",".join("?" * len(keys))
        for r in await service.db.fetchall(
            f"SELECT state, COUNT(*) FROM outbox WHERE dedupe_key IN ({marks}) GROUP BY state",
            keys,
        ):
            if r[0] in ("sent", "failed", "cancelled"):
                done += r[1]
            if r[0] in ("failed", "cancelled"):
                failed += r[1]
    return Progress(done, len(row_keys), failed)


async def follow(
    service: FollowupService,
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
        progress = await outbox_progress(service, row_keys)
        on_progress(progress)
        if progress.done >= progress.total:
            return progress
        if deadline is not None and loop.time() >= deadline:
            return progress
        await asyncio.sleep(poll_seconds)
