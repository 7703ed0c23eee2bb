"""Time for the real Sweep to compute and enqueue the due contacts of 10,000 and 100,000 partners.

Partners are bulk-inserted (sealed addresses, blind indexes, consent rows, T0 due today) as in
tests/bot/schedule/test_wave_scale.py; only ``Sweep(...).run()`` is timed. Targets: < 2 s and < 15 s.
CPU seconds (process-wide: the event loop's thread and aiosqlite's) are printed next to wall time,
which other work on a shared machine inflates.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from bench.common import NullChannel, run_like_the_service, temp_config
from bot.clock import ManualClock, iso
from bot.runtime.app import App, open_app
from bot.schedule.sweep import Sweep
from bot.store import timepoints as tps
from bot.store.ids import ALPHABET
from bot.store.participants import address_aad, address_purpose

TUESDAY = date(2026, 11, 24)
BATCH = 5_000


def pseudonym(i: int) -> str:
    digits = []
    for _ in range(5):
        i, r = divmod(i, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "P-" + "".join(digits)


def address_for(channel: str, i: int) -> str:
    """A distinct address per partner in the channel's own format."""
    if channel == "console":
        return f"console:{i}"
    if channel == "sms":
        return f"+4479{i:08d}"
    return str(100_000_000 + i)


async def bulk_enrol(app: App, n: int, channel: str = "console", tz: str = "Europe/Berlin") -> int:
    """Insert n active partners with T0 due today and consent on record (bench set-up only)."""
    now_dt = app.service.clock.now()
    async with app.db.transaction() as tx:
        programme_id = await app.service.programmes.add(tx, "bench", now_dt, timezone=tz)
    now = iso(now_dt)
    ring = app.ring
    wave = tps.wave_id(programme_id, "T0", TUESDAY)
    for start in range(0, n, BATCH):
        people, points, consents = [], [], []
        for i in range(start, min(n, start + BATCH)):
            pid = f"p{i:08d}"
            address = address_for(channel, i)
            people.append(
                (pid, pseudonym(i), programme_id, channel,
                 ring.blind_index(address_purpose(channel), address),
                 ring.seal_text(address, address_aad(pid)), "en", tz,
                 TUESDAY.isoformat(), now, now)
            )  # fmt: skip
            points.append((pid, "T0", TUESDAY.isoformat(), wave))
            consents.append((pid, TUESDAY.isoformat(), now))
        async with app.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO participants (id, pseudonym, programme_id, channel, address_idx,"
                " address_enc, language, timezone, enrolled_on, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                people,
            )
            await tx.executemany(
                "INSERT INTO timepoints (participant_id, timepoint, due_on, wave_id)"
                " VALUES (?, ?, ?, ?)",
                points,
            )
            await tx.executemany(
                "INSERT INTO consents (participant_id, consent_version, consented_on,"
                " recorded_by, recorded_at) VALUES (?, 'v1', ?, 'Bench', ?)",
                consents,
            )
    return programme_id


async def one(n: int, target: float) -> None:
    clock = ManualClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))  # 10:30 in Berlin
    app = await open_app(temp_config(), {"console": NullChannel()}, clock=clock)
    try:
        t = time.perf_counter()
        await bulk_enrol(app, n)
        setup = time.perf_counter() - t
        started, cpu_started = time.perf_counter(), time.process_time()
        sweep = Sweep(app.stores, app.config, app.service, keep_actions=False)  # as `run` has it
        report = await sweep.run()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # both threads: the loop's and aiosqlite's
        queued = await app.db.fetchone("SELECT COUNT(*) FROM outbox WHERE kind = 'message'")
    finally:
        await app.close()
    count = report.count("opener")
    verdict = "OK" if seconds < target and count == n else "MISSED"
    print(
        f"waves: {n:,} participants enqueued in {seconds:.2f} s wall, {cpu:.2f} s CPU"
        f" (target < {target:g} s: {verdict}); {n / seconds:,.0f} contacts/s, {queued[0] if queued else 0:,} outbox rows,"
        f" set-up {setup:.1f} s"
    )


async def main() -> None:
    await one(10_000, 2.0)
    await one(100_000, 15.0)


if __name__ == "__main__":
    run_like_the_service(main())
