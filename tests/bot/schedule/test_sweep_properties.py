"""Property: whatever her windows, zone, sweep rhythm and outbox delay, the sweep and the
dispatcher together only ever deliver inside her windows and outside quiet hours, and
never more than one opener and the planned reminders per timepoint.

This is where the sweep adds logic to the pure rules: the cached decisions, the
``not_after`` drop of a message that waited too long, and the re-opening after it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.config import Config, DatabaseConfig, SecurityConfig
from bot.runtime.app import open_app
from scheduler.windows import DAY_NAMES, DEFAULT_QUIET, is_sendable, parse_windows
from tests.bot.support_scheduling import RecordingChannel, enrol_her, sweep_of

DAYS = 9
ZONES = ("Europe/Berlin", "Europe/London", "Europe/Lisbon")
# Around the spring-forward and fall-back weekends of 2027 as well as an ordinary week.
STARTS = (datetime(2027, 3, 24, tzinfo=UTC), datetime(2027, 10, 27, tzinfo=UTC),
          datetime(2027, 6, 9, tzinfo=UTC))  # fmt: skip


@st.composite
def window_specs(draw: st.DrawFn) -> str:
    groups = []
    for _ in range(draw(st.integers(1, 2))):
        days = draw(st.sets(st.sampled_from(DAY_NAMES), min_size=1, max_size=4))
        start = draw(st.integers(8 * 4, 19 * 4))  # quarter hours, 08:00..19:00
        length = draw(st.integers(2, 12))  # 30 min .. 3 h
        end = min(start + length, 23 * 4)
        groups.append(
            f"{','.join(sorted(days, key=DAY_NAMES.index))} "
            f"{start // 4:02d}:{start % 4 * 15:02d}-{end // 4:02d}:{end % 4 * 15:02d}"
        )
    return "; ".join(groups)


async def scenario(
    root: Path, zone: str, spec: str, start: datetime, step: int, lag: int
) -> tuple[list[tuple[datetime, str]], str]:
    config = dataclasses.replace(
        Config(),
        database=DatabaseConfig(path=str(root / "f.db")),
        security=SecurityConfig(key_file=str(root / "f.keys")),
    )
    clock = ManualClock(start)
    channel = RecordingChannel(clock)
    app = await open_app(config, {"console": channel}, clock=clock)
    try:
        her = await enrol_her(app, "c:1", tz=zone, window=spec, today=start.date())
        sweep = sweep_of(app)
        end = start + timedelta(days=DAYS)
        while clock.now() < end:
            await sweep.run()
            clock.advance(timedelta(minutes=lag))  # the outbox was busy for a while
            await app.dispatcher.drain_all()
            clock.advance(timedelta(minutes=step - lag))
        row = await app.db.fetchone(
            "SELECT state FROM timepoints WHERE participant_id = ? AND timepoint = 'T0'", (her.id,)
        )
        assert row is not None
        return [(t, m.kind) for t, _, m in channel.sent], row[0]
    finally:
        await app.close()


@example(zone="Europe/Berlin", spec="mon 08:00-08:30", start=STARTS[0], offset=0, step=29, lag=21)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    spec=window_specs(),
    start=st.sampled_from(STARTS),
    offset=st.integers(0, 7 * 24 * 4),
    step=st.sampled_from((29, 47, 60)),
    lag=st.sampled_from((0, 9, 21, 45)),
)
def test_sweep_only_ever_delivers_inside_her_windows(
    zone: str, spec: str, start: datetime, offset: int, step: int, lag: int
) -> None:
    begin = start + timedelta(minutes=15 * offset)
    lag = min(lag, step - 1)
    with tempfile.TemporaryDirectory() as root:
        sent, state = asyncio.run(scenario(Path(root), zone, spec, begin, step, lag))
    tz, windows = ZoneInfo(zone), parse_windows(spec)
    for at, kind in sent:
        assert is_sendable(at, windows, DEFAULT_QUIET, tz, min_remaining=timedelta(0)), (at, kind)
    kinds = [k for _, k in sent]
    assert kinds == ["opener", "reminder", "reminder"][: len(kinds)], kinds
    if sent and sent[0][0] + timedelta(days=7, minutes=2 * step) < begin + timedelta(days=DAYS):
        assert state == "missed"
