"""A wave of 10,000 partners is enqueued once each, in chunked transactions, quickly."""

from __future__ import annotations

import time as monotonic
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.clock import ManualClock, iso
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.waves import list_waves
from bot.store import timepoints as tps
from bot.store.ids import ALPHABET
from bot.store.participants import address_aad, address_purpose
from bot.store.scope import Scope
from tests.bot.support_scheduling import RecordingChannel, programme, sweep_of

N = 10_000
TUESDAY = date(2026, 11, 24)


@pytest.fixture
async def app(config: Config) -> AsyncIterator[App]:
    clock = ManualClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))  # 10:30 in Berlin
    opened = await open_app(config, {"console": RecordingChannel(clock)}, clock=clock)
    yield opened
    await opened.close()


def pseudonym(i: int) -> str:
    digits = []
    for _ in range(5):
        i, r = divmod(i, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "P-" + "".join(digits)


async def bulk_enrol(app: App, n: int) -> int:
    """Insert n active console partners with T0 due today (fast path for the test only)."""
    programme_id = await programme(app)
    now = iso(app.service.clock.now())
    ring = app.ring
    wave = tps.wave_id(programme_id, "T0", TUESDAY)
    people, points = [], []
    for i in range(n):
        pid = f"p{i:08d}"
        address = f"console:{i}"
        people.append(
            (pid, pseudonym(i), programme_id, "console",
             ring.blind_index(address_purpose("console"), address),
             ring.seal_text(address, address_aad(pid)), "en", "Europe/Berlin",
             TUESDAY.isoformat(), now, now)
        )  # fmt: skip
        points.append((pid, "T0", TUESDAY.isoformat(), wave))
    async with app.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO participants (id, pseudonym, programme_id, channel, address_idx,"
            " address_enc, language, timezone, enrolled_on, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            people,
        )
        await tx.executemany(
            "INSERT INTO timepoints (participant_id, timepoint, due_on, wave_id) VALUES (?, ?, ?, ?)",
            points,
        )
        await tx.executemany(
            "INSERT INTO consents (participant_id, consent_version, consented_on, recorded_by,"
            " recorded_at) VALUES (?, 'v1', ?, 'Test Worker', ?)",
            [(p[0], TUESDAY.isoformat(), now) for p in people],
        )
    return programme_id


async def test_a_wave_of_ten_thousand_is_enqueued_exactly_once(app: App) -> None:
    await bulk_enrol(app, N)
    started = monotonic.perf_counter()
    report = await sweep_of(app).run()
    seconds = monotonic.perf_counter() - started
    print(f"\n10,000-partner wave enqueued in {seconds:.2f} s ({N / seconds:,.0f} contacts/s)")
    assert report.count("opener") == N

    rows = await app.db.fetchall(
        "SELECT COUNT(*), COUNT(DISTINCT participant_id), MIN(priority), MAX(priority)"
        " FROM outbox WHERE kind = 'message'"
    )
    assert tuple(rows[0]) == (N, N, 2, 2)  # one opener each, all at wave priority
    keys = await app.db.fetchone(
        "SELECT COUNT(DISTINCT dedupe_key) FROM outbox WHERE dedupe_key LIKE 'opener:%:T0:1'"
    )
    assert keys is not None and keys[0] == N
    waves = await list_waves(app.stores, Scope.installation())
    assert [(w.timepoint, w.counts) for w in waves] == [("T0", {"sent": N})]

    again = await sweep_of(app).run()  # a second sweep (or a restart) adds nothing
    assert again.count("opener") == 0
    total = await app.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert total is not None and total[0] == N
