"""The sweep reads its candidates a page at a time: none skipped, none twice, all re-checked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock, iso
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store import sweep_rows
from tests.bot.support_scheduling import RecordingChannel, enrol_her, sweep_of

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = date(2026, 11, 24)
ELEVEN = datetime.combine(TUESDAY, time(11), tzinfo=BERLIN).astimezone(UTC)
N = 10


@pytest.fixture
async def app(config: Config) -> AsyncIterator[App]:
    clock = ManualClock(ELEVEN)
    opened = await open_app(config, {"console": RecordingChannel(clock)}, clock=clock)
    yield opened
    await opened.close()


async def wave(app: App, n: int = N) -> list[str]:
    """n partners with T0 due today, enrolled in an order unlike their ids."""
    return [(await enrol_her(app, f"c:{i}")).id for i in range(n)]


async def openers_per_partner(app: App) -> dict[str, int]:
    rows = await app.db.fetchall(
        "SELECT participant_id, COUNT(*) FROM outbox WHERE dedupe_key LIKE 'opener:%'"
        " GROUP BY participant_id"
    )
    return {r[0]: r[1] for r in rows}


@pytest.mark.parametrize("page", [1, 3, 7, 1000])
async def test_every_candidate_is_contacted_once_whatever_the_page_size(
    app: App, page: int
) -> None:
    ids = await wave(app)
    report = await sweep_of(app, page=page, chunk=2).run()
    assert report.count("opener") == N
    assert await openers_per_partner(app) == dict.fromkeys(ids, 1)
    again = await sweep_of(app, page=page, chunk=2).run()
    assert again.count("opener") == 0 and await openers_per_partner(app) == dict.fromkeys(ids, 1)


async def test_pages_read_the_candidates_in_one_order(app: App) -> None:
    await wave(app)
    now = app.service.clock.now()
    ids = await sweep_rows.candidate_ids(app.db, now)
    whole = [
        (r.participant_id, r.timepoint) for r in await sweep_rows.candidates_in(app.db, now, ids)
    ]
    paged = []
    for start in range(0, len(ids), 3):
        page = await sweep_rows.candidates_in(app.db, now, ids[start : start + 3])
        paged += [(r.participant_id, r.timepoint) for r in page]
    assert len(whole) == N and paged == whole == sorted(whole)


async def test_a_partner_paused_after_the_ids_were_read_is_not_contacted(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await wave(app)
    real = sweep_rows.candidates_in
    pages: list[int] = []
    paused = sorted(ids)[5]  # on the third page of two

    async def pause_before_page_three(
        db: Any, now: datetime, page: Sequence[int], **options: bool
    ) -> Any:
        pages.append(len(page))
        if len(pages) == 3:  # a safe word arrives while the sweep works through the pages
            async with app.db.transaction() as tx:
                await app.service.participants.set_status(tx, paused, "paused", "safe_word", now)
        return await real(db, now, page, **options)

    monkeypatch.setattr(sweep_rows, "candidates_in", pause_before_page_three)
    report = await sweep_of(app, page=2).run()
    assert pages == [2] * 5  # never more than a page of rows in memory
    assert report.count("opener") == N - 1
    assert await openers_per_partner(app) == {p: 1 for p in ids if p != paused}


async def test_the_services_sweep_counts_without_keeping_every_action(app: App) -> None:
    await wave(app)
    listed = await sweep_of(app).run(dry_run=True)
    assert [a.action for a in listed.actions] == ["opener"] * N and listed.count("opener") == 0
    counted = await sweep_of(app, keep_actions=False, page=4).run()
    assert counted.actions == [] and counted.count("opener") == N


async def test_a_page_is_found_by_id_not_by_scanning_every_due_row(app: App) -> None:
    await wave(app)
    now = app.service.clock.now()
    ids = list(range(1, sweep_rows.PAGE + 1))  # a full page: with a few ids any plan looks fine
    plan = await app.db.fetchall(
        "EXPLAIN QUERY PLAN " + sweep_rows.candidates_page_sql(len(ids)),
        [(now + timedelta(days=1)).date().isoformat(), iso(now), *ids],
    )
    first = str(plan[0]["detail"])
    assert first.startswith("SEARCH t USING INTEGER PRIMARY KEY"), first
