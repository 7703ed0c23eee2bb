"""Her contact windows: parsing, quiet hours, and next_send_time across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scheduler.windows import (
    DEFAULT_QUIET,
    DEFAULT_WINDOWS,
    QuietHours,
    Window,
    WindowError,
    format_windows,
    is_sendable,
    next_send_time,
    parse_windows,
    sendable_until,
    validate_windows,
)

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
LISBON = ZoneInfo("Europe/Lisbon")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # 30-minute DST shift
ZONES = (BERLIN, LONDON, LISBON, SAO_PAULO, NEW_YORK, LORD_HOWE)
WEEKDAYS = frozenset(range(5))
NO_GAP = timedelta(0)
# Quiet hours that leave the small hours open, so DST-gap windows can be tested.
LATE_QUIET = QuietHours(time(22, 0), time(1, 0))
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # last Sundays, EU changes at 01:00 UTC
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def win(spec: str) -> tuple[Window, ...]:
    return parse_windows(spec)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


def local(d: date, h: int, m: int, tz: ZoneInfo, fold: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), tzinfo=tz).replace(fold=fold)


# --- parsing -----------------------------------------------------------------------


Expected = list[tuple[tuple[int, ...], tuple[int, int], tuple[int, int]]]
WEEK = (0, 1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mon-fri 09:00-13:00", [(WEEK[:5], (9, 0), (13, 0))]),
        ("daily 10:00-18:00", [(WEEK, (10, 0), (18, 0))]),
        ("mon,wed,fri 17:00-19:30", [((0, 2, 4), (17, 0), (19, 30))]),
        (
            "mon-fri 09:00-11:00,14:00-16:00",
            [(WEEK[:5], (9, 0), (11, 0)), (WEEK[:5], (14, 0), (16, 0))],
        ),
        ("fri-mon 10:00-12:00", [((4, 5, 6, 0), (10, 0), (12, 0))]),
        ("sun-sun 10:00-12:00", [((6,), (10, 0), (12, 0))]),
        ("MON-Fri 9:05-13:00", [(WEEK[:5], (9, 5), (13, 0))]),
        ("Daily 10:00-11:00", [(WEEK, (10, 0), (11, 0))]),
        (
            "mon-fri 09:00-13:00; sat 10:00-12:00;",
            [(WEEK[:5], (9, 0), (13, 0)), ((5,), (10, 0), (12, 0))],
        ),
        (
            "sat 10:00-12:00\nmon-fri 09:00-13:00",
            [(WEEK[:5], (9, 0), (13, 0)), ((5,), (10, 0), (12, 0))],
        ),
    ],
)
def test_parse_forms(spec: str, expected: Expected) -> None:
    want = tuple(
        Window(frozenset(days), time(start[0], start[1]), time(end[0], end[1]))
        for days, start, end in expected
    )
    assert parse_windows(spec) == want


def test_parse_whitespace_tolerant() -> None:
    assert parse_windows("  mon , wed - thu   10:00 - 12:00 , 13:00-14:00 ") == (
        Window(frozenset({0, 2, 3}), time(10), time(12)),
        Window(frozenset({0, 2, 3}), time(13), time(14)),
    )


def test_parse_is_canonical_sorted_and_deduplicated() -> None:
    a = parse_windows("sat 10:00-12:00; mon-fri 14:00-15:00; mon-fri 09:00-13:00; sat 10:00-12:00")
    b = parse_windows("mon-fri 09:00-13:00,14:00-15:00; sat 10:00-12:00")
    assert a == b
    assert len(a) == 3


@pytest.mark.parametrize("spec", ["", "   ", ";", " ; \n "])
def test_blank_spec_gives_default(spec: str) -> None:
    assert parse_windows(spec) == DEFAULT_WINDOWS
    assert format_windows(DEFAULT_WINDOWS) == "mon-sat 10:00-19:00"


def test_default_is_usable_with_default_quiet_hours() -> None:
    validate_windows(DEFAULT_WINDOWS, DEFAULT_QUIET)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mun-fri 09:00-13:00", "unknown day 'mun' in 'mun-fri 09:00-13:00'"),
        ("monday 09:00-13:00", "unknown day 'monday' in 'monday 09:00-13:00'"),
        ("mon-fri 09:00-13:00; xyz 10:00-11:00", "unknown day 'xyz' in 'xyz 10:00-11:00'"),
        ("1-5 09:00-13:00", "missing days in '1-5 09:00-13:00'"),
        ("mon- 09:00-13:00", "bad day range 'mon-' in 'mon- 09:00-13:00'"),
        ("mon-tue-wed 09:00-13:00", "bad day range 'mon-tue-wed'"),
        ("mon,,fri 09:00-13:00", "empty day in 'mon,,fri 09:00-13:00'"),
        ("09:00-13:00", "missing days in '09:00-13:00'"),
        ("mon-fri", "missing time range in 'mon-fri'"),
        ("mon-fri 09:00-13:00 sat", "unexpected 'sat' in 'mon-fri 09:00-13:00 sat'"),
        ("mon 9-13", "bad time range '9-13' in 'mon 9-13' (expected HH:MM-HH:MM)"),
        ("mon 09:00-13", "bad time range '09:00-13'"),
        ("mon 09:00", "bad time range '09:00'"),
        ("mon 09:00-13:00,", "bad time range ''"),
        ("mon 9h00-13h00", "bad time range '9h00-13h00'"),
        ("mon 25:00-26:00", "hour 25 out of range in 'mon 25:00-26:00'"),
        ("mon 10:00-24:00", "hour 24 out of range"),
        ("mon 10:60-11:00", "minute 60 out of range"),
        ("mon 14:00-09:00", "window 14:00-09:00 ends before it starts"),
        ("mon 22:00-02:00", "overnight is not allowed"),
        ("mon 10:00-10:00", "window 10:00-10:00 is empty in 'mon 10:00-10:00'"),
    ],
)
def test_parse_errors_name_the_bad_part(spec: str, message: str) -> None:
    with pytest.raises(WindowError) as info:
        parse_windows(spec)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("days", "start", "end"),
    [
        (frozenset(), time(9), time(10)),
        (frozenset({7}), time(9), time(10)),
        (frozenset({0}), time(10), time(9)),
        (frozenset({0}), time(10), time(10)),
        (frozenset({0}), time(9, 0, 30), time(10)),
        (frozenset({0}), time(9, tzinfo=UTC), time(10)),
    ],
)
def test_window_rejects_invalid(days: frozenset[int], start: time, end: time) -> None:
    with pytest.raises(WindowError):
        Window(days, start, end)


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("daily 10:00-18:00", "daily 10:00-18:00"),
        ("mon,tue,wed,thu,fri,sat,sun 10:00-18:00", "daily 10:00-18:00"),
        ("sun,mon,fri,sat 09:00-10:00", "fri-mon 09:00-10:00"),
        ("mon,wed,fri 17:00-19:30", "mon,wed,fri 17:00-19:30"),
        ("sat,sun 8:00-9:00", "sat-sun 08:00-09:00"),
        ("sat 10:00-12:00; mon-fri 09:00-13:00", "mon-fri 09:00-13:00; sat 10:00-12:00"),
        ("fri-mon 09:00-11:00; mon-fri 14:00-16:00", "mon-fri 14:00-16:00; fri-mon 09:00-11:00"),
        ("mon-fri 14:00-16:00, 09:00-11:00", "mon-fri 09:00-11:00,14:00-16:00"),
    ],
)
def test_format_canonical(spec: str, canonical: str) -> None:
    assert format_windows(parse_windows(spec)) == canonical
    assert format_windows(parse_windows(canonical)) == canonical


def test_format_empty_is_an_error() -> None:
    with pytest.raises(WindowError):
        format_windows(())


minutes_of_day = st.integers(0, 24 * 60 - 1)


@st.composite
def windows_strategy(
    draw: st.DrawFn, max_size: int = 3, edges: tuple[int, ...] = ()
) -> tuple[Window, ...]:
    """Random windows, biased to the small hours (DST changes) and to given edge minutes."""
    out = []
    for _ in range(draw(st.integers(1, max_size))):
        days = draw(
            st.one_of(st.frozensets(st.integers(0, 6), min_size=1), st.just(frozenset(range(7))))
        )
        starts = [st.integers(0, 24 * 60 - 2), st.integers(0, 240)]
        if edges:
            starts.append(st.sampled_from([e for e in edges if e < 24 * 60 - 1]))
        start = draw(st.one_of(starts))
        top = 24 * 60 - 1
        lengths = [st.integers(1, 600), st.integers(1, 60)]
        ends = [e for e in edges if start < e <= top]
        use_edge: bool = draw(st.booleans())
        if ends and use_edge:
            end = draw(st.sampled_from(ends))
        else:
            end = min(start + draw(st.one_of(lengths)), top)
        out.append(Window(days, time(*divmod(start, 60)), time(*divmod(end, 60))))
    return tuple(out)


@st.composite
def quiet_strategy(draw: st.DrawFn) -> QuietHours:
    if draw(st.booleans()):
        return draw(st.sampled_from([DEFAULT_QUIET, LATE_QUIET]))
    start = draw(minutes_of_day)
    end = draw(minutes_of_day.filter(lambda m: m != start))
    return QuietHours(time(*divmod(start, 60)), time(*divmod(end, 60)))


@FAST
@given(windows_strategy(max_size=5))
def test_format_parse_round_trip(windows: tuple[Window, ...]) -> None:
    text = format_windows(windows)
    parsed = parse_windows(text)
    assert set(parsed) == set(windows)
    assert format_windows(parsed) == text
    assert parse_windows(text) == parsed


# --- quiet hours and validation ------------------------------------------------------


def test_quiet_hours_wrap_midnight() -> None:
    q = QuietHours()
    assert q.contains(time(21, 0))
    assert q.contains(time(23, 59))
    assert q.contains(time(0, 0))
    assert q.contains(time(7, 59))
    assert not q.contains(time(8, 0))
    assert not q.contains(time(20, 59))


def test_quiet_hours_without_wrap() -> None:
    q = QuietHours(time(0, 0), time(7, 0))
    assert q.contains(time(0, 0))
    assert q.contains(time(6, 59))
    assert not q.contains(time(7, 0))
    assert not q.contains(time(23, 0))


def test_quiet_hours_must_not_be_empty() -> None:
    with pytest.raises(WindowError):
        QuietHours(time(8), time(8))


def test_validate_rejects_window_inside_quiet_hours() -> None:
    with pytest.raises(WindowError, match="'mon-fri 21:30-23:00' lies inside quiet hours"):
        validate_windows(win("mon-fri 10:00-12:00; mon-fri 21:30-23:00"), DEFAULT_QUIET)
    with pytest.raises(WindowError):
        validate_windows(win("daily 05:00-08:00"), DEFAULT_QUIET, min_remaining=NO_GAP)


def test_validate_accepts_partly_quiet_window() -> None:
    validate_windows(win("daily 20:00-23:00"), DEFAULT_QUIET)
    validate_windows(win("daily 07:00-08:01"), DEFAULT_QUIET, min_remaining=NO_GAP)


def test_validate_rejects_window_with_too_little_time_outside_quiet() -> None:
    with pytest.raises(WindowError):
        validate_windows(win("daily 20:50-22:00"), DEFAULT_QUIET)
    validate_windows(win("daily 20:50-22:00"), DEFAULT_QUIET, min_remaining=NO_GAP)


def test_validate_rejects_no_windows() -> None:
    with pytest.raises(WindowError):
        validate_windows((), DEFAULT_QUIET)


# --- next_send_time: plain days ------------------------------------------------------

MON = date(2026, 6, 1)  # a Monday in summer time
OFFICE = win("mon-fri 09:00-13:00")


def at_berlin(d: date, h: int, m: int = 0) -> datetime:
    return local(d, h, m, BERLIN)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (at_berlin(MON, 10), at_berlin(MON, 10)),
        (at_berlin(MON, 6), at_berlin(MON, 9)),
        (at_berlin(MON, 12, 45), at_berlin(MON, 12, 45)),  # exactly 15 minutes left
        (at_berlin(MON, 12, 46), at_berlin(MON + timedelta(days=1), 9)),
        (at_berlin(MON, 13), at_berlin(MON + timedelta(days=1), 9)),
        (at_berlin(MON + timedelta(days=4), 14), at_berlin(MON + timedelta(days=7), 9)),
    ],
)
def test_next_send_time_simple(after: datetime, expected: datetime) -> None:
    got = next_send_time(after, OFFICE, DEFAULT_QUIET, BERLIN)
    assert got == expected
    assert got is not None and got.tzinfo is UTC


def test_next_send_time_keeps_sub_minute_after() -> None:
    after = at_berlin(MON, 10) + timedelta(seconds=7, microseconds=5)
    assert next_send_time(after, OFFICE, DEFAULT_QUIET, BERLIN) == after


def test_next_send_time_accepts_any_zone_for_after() -> None:
    after = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    # 12:00 +05:30 is 08:30 in Berlin (CEST), so the window opens at 09:00 Berlin.
    assert next_send_time(after, OFFICE, DEFAULT_QUIET, BERLIN) == at_berlin(MON, 9)


def test_quiet_hours_cut_the_window_and_its_remaining_time() -> None:
    evening = win("daily 18:00-23:00")
    assert next_send_time(at_berlin(MON, 20, 45), evening, DEFAULT_QUIET, BERLIN) == (
        at_berlin(MON, 20, 45)
    )
    assert next_send_time(at_berlin(MON, 20, 46), evening, DEFAULT_QUIET, BERLIN) == (
        at_berlin(MON + timedelta(days=1), 18)
    )
    assert not is_sendable(
        at_berlin(MON, 21, 30), evening, DEFAULT_QUIET, BERLIN, min_remaining=NO_GAP
    )


def test_adjacent_windows_count_as_one_stretch() -> None:
    two = win("mon 09:00-10:00,10:00-11:00")
    assert next_send_time(at_berlin(MON, 9, 55), two, DEFAULT_QUIET, BERLIN) == at_berlin(
        MON, 9, 55
    )


def test_min_remaining_is_configurable() -> None:
    after = at_berlin(MON, 12, 59)
    assert next_send_time(after, OFFICE, DEFAULT_QUIET, BERLIN, min_remaining=NO_GAP) == after
    got = next_send_time(after, OFFICE, DEFAULT_QUIET, BERLIN, min_remaining=timedelta(hours=5))
    assert got is None  # a 4-hour window can never leave 5 hours


def test_horizon() -> None:
    sundays = win("sun 10:00-12:00")
    assert (
        next_send_time(at_berlin(MON, 10), sundays, DEFAULT_QUIET, BERLIN, horizon_days=5) is None
    )
    assert next_send_time(at_berlin(MON, 10), sundays, DEFAULT_QUIET, BERLIN, horizon_days=6) == (
        at_berlin(MON + timedelta(days=6), 10)
    )
    # Windows swallowed by quiet hours: never sendable.
    night = win("daily 22:00-23:00")
    assert next_send_time(at_berlin(MON, 10), night, DEFAULT_QUIET, BERLIN) is None


def test_naive_after_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_send_time(datetime(2026, 6, 1, 10), OFFICE, DEFAULT_QUIET, BERLIN)
    with pytest.raises(ValueError):
        is_sendable(datetime(2026, 6, 1, 10), OFFICE, DEFAULT_QUIET, BERLIN)


def test_her_zone_not_the_servers() -> None:
    # 10:00 in Berlin is 05:00 in Sao Paulo: not sendable for her there.
    after = at_berlin(MON, 10)
    got = next_send_time(after, OFFICE, DEFAULT_QUIET, SAO_PAULO)
    assert got == local(MON, 9, 0, SAO_PAULO)


# --- DST change days (EU: last Sunday of March/October, at 01:00 UTC) -------------------


def sendable_minutes(day: date, windows: tuple[Window, ...], tz: ZoneInfo) -> list[datetime]:
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC) - timedelta(hours=3)
    minutes = (start + timedelta(minutes=i) for i in range(30 * 60))
    return [
        m
        for m in minutes
        if m.astimezone(tz).date() == day
        and is_sendable(m, windows, LATE_QUIET, tz, min_remaining=NO_GAP)
    ]


def test_spring_forward_0130_0330_berlin() -> None:
    w = win("daily 01:30-03:30")
    got = next_send_time(local(SPRING, 0, 0, BERLIN), w, LATE_QUIET, BERLIN)
    assert got == utc(2026, 3, 29, 0, 30)  # 01:30 CET
    # 02:00-03:00 does not exist: 01:59 CET is followed by 03:00 CEST.
    assert next_send_time(utc(2026, 3, 29, 0, 59, 30), w, LATE_QUIET, BERLIN) == (
        utc(2026, 3, 29, 0, 59, 30)
    )
    assert next_send_time(utc(2026, 3, 29, 1, 0), w, LATE_QUIET, BERLIN, min_remaining=NO_GAP) == (
        utc(2026, 3, 29, 1, 0)
    )
    minutes = sendable_minutes(SPRING, w, BERLIN)
    assert len(minutes) == 60  # only one real hour that day
    assert minutes[0] == utc(2026, 3, 29, 0, 30) and minutes[-1] == utc(2026, 3, 29, 1, 29)
    assert all(m.astimezone(BERLIN).hour != 2 for m in minutes)


def test_spring_forward_remaining_time_is_real_time() -> None:
    w = win("daily 01:30-03:30")
    after = local(SPRING, 1, 50, BERLIN)  # 40 real minutes left, not 100
    assert next_send_time(after, w, LATE_QUIET, BERLIN, min_remaining=timedelta(minutes=40)) == (
        after
    )
    got = next_send_time(after, w, LATE_QUIET, BERLIN, min_remaining=timedelta(minutes=41))
    assert got == local(SPRING + timedelta(days=1), 1, 30, BERLIN)


def test_spring_forward_0200_0400_berlin() -> None:
    w = win("daily 02:00-04:00")
    got = next_send_time(local(SPRING, 0, 0, BERLIN), w, LATE_QUIET, BERLIN)
    assert got == utc(2026, 3, 29, 1, 0)
    assert got is not None
    assert got.astimezone(BERLIN).time() == time(3, 0)
    assert len(sendable_minutes(SPRING, w, BERLIN)) == 60
    # The day before, the full two hours.
    assert len(sendable_minutes(SPRING - timedelta(days=1), w, BERLIN)) == 120


def test_fall_back_0130_0330_berlin() -> None:
    w = win("daily 01:30-03:30")
    got = next_send_time(local(AUTUMN, 0, 0, BERLIN), w, LATE_QUIET, BERLIN)
    assert got == utc(2026, 10, 24, 23, 30)  # 01:30 CEST
    # Both runs of the repeated hour 02:00-03:00 are inside the window.
    assert is_sendable(local(AUTUMN, 2, 30, BERLIN, fold=0), w, LATE_QUIET, BERLIN)
    assert is_sendable(local(AUTUMN, 2, 30, BERLIN, fold=1), w, LATE_QUIET, BERLIN)
    minutes = sendable_minutes(AUTUMN, w, BERLIN)
    assert len(minutes) == 180
    assert minutes[-1] == utc(2026, 10, 25, 2, 29)  # 03:29 CET
    assert not is_sendable(utc(2026, 10, 25, 2, 30), w, LATE_QUIET, BERLIN, min_remaining=NO_GAP)


def test_fall_back_0200_0400_berlin() -> None:
    w = win("daily 02:00-04:00")
    got = next_send_time(local(AUTUMN, 0, 0, BERLIN), w, LATE_QUIET, BERLIN)
    assert got == utc(2026, 10, 25, 0, 0)  # first 02:00, CEST
    # Late in the second 03:xx run (CET), the real end is 04:00 CET = 03:00 UTC.
    after = local(AUTUMN, 3, 45, BERLIN, fold=0)  # 03:45 CET (not ambiguous)
    assert next_send_time(after, w, LATE_QUIET, BERLIN) == after
    assert len(sendable_minutes(AUTUMN, w, BERLIN)) == 180


def test_window_inside_the_repeated_hour_is_open_twice() -> None:
    w = win("daily 02:10-02:50")
    first = next_send_time(local(AUTUMN, 0, 0, BERLIN), w, LATE_QUIET, BERLIN)
    assert first == utc(2026, 10, 25, 0, 10)  # 02:10 CEST
    again = next_send_time(utc(2026, 10, 25, 0, 40), w, LATE_QUIET, BERLIN)
    assert again == utc(2026, 10, 25, 1, 10)  # 02:10 CET, the second 02:10
    assert len(sendable_minutes(AUTUMN, w, BERLIN)) == 80


@pytest.mark.parametrize("tz", [LONDON, LISBON])
def test_dst_days_london_and_lisbon(tz: ZoneInfo) -> None:
    # Here the clocks jump 01:00 -> 02:00 and fall back 02:00 -> 01:00 (01:00 UTC).
    w = win("daily 01:30-03:30")
    assert next_send_time(local(SPRING, 0, 0, tz), w, LATE_QUIET, tz) == utc(2026, 3, 29, 1, 0)
    assert len(sendable_minutes(SPRING, w, tz)) == 90
    assert next_send_time(local(AUTUMN, 0, 0, tz), w, LATE_QUIET, tz) == utc(2026, 10, 25, 0, 30)
    # 01:30-02:00 summer time, then the clock shows 01:00 again: 01:00-01:30 winter time
    # is outside the window by its wall-clock time, 01:30-03:30 winter time inside.
    minutes = sendable_minutes(AUTUMN, w, tz)
    assert len(minutes) == 30 + 120
    assert utc(2026, 10, 25, 0, 59) in minutes
    assert not any(utc(2026, 10, 25, 1, 0) <= m < utc(2026, 10, 25, 1, 30) for m in minutes)
    assert next_send_time(utc(2026, 10, 25, 1, 0), w, LATE_QUIET, tz) == utc(2026, 10, 25, 1, 30)
    w2 = win("daily 02:00-04:00")
    assert next_send_time(local(SPRING, 0, 0, tz), w2, LATE_QUIET, tz) == utc(2026, 3, 29, 1, 0)
    assert next_send_time(local(AUTUMN, 0, 0, tz), w2, LATE_QUIET, tz) == utc(2026, 10, 25, 2, 0)


def test_dst_windows_are_never_used_under_default_quiet_hours() -> None:
    w = win("daily 01:30-03:30")
    with pytest.raises(WindowError):
        validate_windows(w, DEFAULT_QUIET)
    assert next_send_time(local(SPRING, 0, 0, BERLIN), w, DEFAULT_QUIET, BERLIN) is None


# --- properties against a brute-force minute scan ------------------------------------


def _transitions(tz: ZoneInfo) -> list[datetime]:
    """UTC instants in 2024-2030 where ``tz`` changes offset (to the second)."""
    out = []
    t = utc(2024, 1, 1)
    while t.year < 2031:
        nxt = t + timedelta(days=1)
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo, hi = 0, 86400  # seconds after t: offset unchanged at lo, changed at hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                changed = (t + timedelta(seconds=mid)).astimezone(tz).utcoffset()
                if changed == t.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            out.append(t + timedelta(seconds=hi))
        t = nxt
    return out


TRANSITIONS = {tz.key: _transitions(tz) for tz in ZONES}


def _wall_minutes(tz: ZoneInfo) -> tuple[int, ...]:
    """Local wall-clock minutes of the first two changes (both sides): where DST bites."""
    out: set[int] = set()
    for t in TRANSITIONS[tz.key][:2]:
        for instant in (t, t - timedelta(microseconds=1)):
            lt = instant.astimezone(tz)
            out.add((lt.hour * 60 + lt.minute + (1 if lt.second else 0)) % (24 * 60))
    return tuple(sorted(out))


DST_EDGES = {tz.key: _wall_minutes(tz) for tz in ZONES}


def test_transition_table_is_sane() -> None:
    assert DST_EDGES["Europe/Berlin"] == (120, 180)
    assert DST_EDGES["Australia/Lord_Howe"] == (90, 120, 150)  # 30-minute shifts
    assert utc(2026, 3, 29, 1, 0) in TRANSITIONS["Europe/Berlin"]
    assert len(TRANSITIONS["Europe/Berlin"]) == 14
    assert TRANSITIONS["America/Sao_Paulo"] == []


AFTER_ZONES = [UTC, BERLIN, SAO_PAULO, timezone(timedelta(hours=5, minutes=30))]


@st.composite
def scenario(
    draw: st.DrawFn,
) -> tuple[datetime, tuple[Window, ...], QuietHours, ZoneInfo, timedelta]:
    tz = draw(st.sampled_from(ZONES))
    broad = st.datetimes(
        datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.sampled_from(AFTER_ZONES)
    )
    strategies = [broad]
    if TRANSITIONS[tz.key]:
        near = st.builds(
            lambda t, s: t + timedelta(seconds=s),
            st.sampled_from(TRANSITIONS[tz.key]),
            st.integers(-36 * 3600, 12 * 3600),
        )
        strategies.append(near)
    after = draw(st.one_of(strategies))
    gap = timedelta(minutes=draw(st.sampled_from([0, 1, 15, 45])))
    quiet = draw(quiet_strategy())
    edges: tuple[int, ...] = (
        quiet.start.hour * 60 + quiet.start.minute,
        quiet.end.hour * 60 + quiet.end.minute,
    )
    edges += DST_EDGES[tz.key]
    return after, draw(windows_strategy(edges=edges)), quiet, tz, gap


def _point_ok(m: datetime, windows: tuple[Window, ...], quiet: QuietHours, tz: ZoneInfo) -> bool:
    lt = m.astimezone(tz)
    t = lt.time().replace(tzinfo=None, fold=0)
    in_window = any(lt.weekday() in w.days and w.start <= t < w.end for w in windows)
    return in_window and not quiet.contains(t)


HORIZON = 2


def _case(
    after: datetime, spec: str, tz: ZoneInfo, gap: int = 0
) -> tuple[datetime, tuple[Window, ...], QuietHours, ZoneInfo, timedelta]:
    return after, win(spec), LATE_QUIET, tz, timedelta(minutes=gap)


@FAST
@given(scenario())
@example(_case(utc(2026, 10, 24, 23, 0), "daily 02:00-02:50", BERLIN))  # repeated hour
@example(_case(utc(2026, 10, 24, 23, 0), "daily 01:30-03:30", LONDON, 15))
@example(_case(utc(2026, 3, 28, 23, 0), "daily 02:00-04:00,01:30-01:45", BERLIN, 15))
@example(_case(utc(2026, 3, 28, 23, 0), "sun 02:00-02:30", BERLIN))  # only in the gap
@example(_case(utc(2026, 4, 4, 12, 0), "daily 01:30-02:10", LORD_HOWE, 1))
@example(_case(utc(2026, 10, 3, 12, 0), "daily 02:00-02:40", LORD_HOWE))
def test_next_send_time_matches_brute_force(
    case: tuple[datetime, tuple[Window, ...], QuietHours, ZoneInfo, timedelta],
) -> None:
    after, windows, quiet, tz, gap = case
    got = next_send_time(after, windows, quiet, tz, horizon_days=HORIZON, min_remaining=gap)
    start = after.astimezone(UTC)
    need = int(gap.total_seconds() // 60)
    # Minute grid from the first whole minute after `after` to the horizon (+ room).
    first = start.replace(second=0, microsecond=0)
    if first < start:
        first += timedelta(minutes=1)
    count = HORIZON * 24 * 60 + need + 2
    grid = [first + timedelta(minutes=i) for i in range(count)]
    ok = [_point_ok(m, windows, quiet, tz) for m in grid]
    # run[i] = how many consecutive sendable minutes start at grid[i].
    run = [0] * (count + 1)
    for i in range(count - 1, -1, -1):
        run[i] = run[i + 1] + 1 if ok[i] else 0

    def valid_grid(i: int) -> bool:
        return ok[i] and run[i] >= need

    limit = start + timedelta(days=HORIZON)
    expected: datetime | None = None
    if first > start and _point_ok(start, windows, quiet, tz):
        # `after` itself: the minutes up to after+gap must all be sendable too.
        inside = [i for i, m in enumerate(grid) if m < start + gap]
        if all(ok[i] for i in inside):
            expected = start
    if expected is None:
        expected = next(
            (m for i, m in enumerate(grid) if m <= limit and valid_grid(i)),
            None,
        )
    assert got == expected
    if got is not None:
        assert got >= after
        assert got.tzinfo is UTC
        lt = got.astimezone(tz)
        assert not quiet.contains(lt.time())
        assert any(lt.weekday() in w.days and w.start <= lt.time() < w.end for w in windows)
        assert is_sendable(got, windows, quiet, tz, min_remaining=gap)
    assert is_sendable(after, windows, quiet, tz, min_remaining=gap) == (got == start)

    # Every stretch of valid start minutes in the range: found from just before it,
    # and exact at both ends (catches off-by-one-minute edges anywhere, not only first).
    last = next(i for i, m in enumerate(grid) if m > limit) - 1
    valid = [valid_grid(i) for i in range(last + 1)]
    for i in range(1, last + 1):
        if valid[i] and not valid[i - 1]:
            assert next_send_time(grid[i - 1], windows, quiet, tz, min_remaining=gap) == grid[i]
        if valid[i] != valid[i - 1]:
            edge = grid[i - 1] if valid[i - 1] else grid[i]
            assert is_sendable(edge, windows, quiet, tz, min_remaining=gap)
            outside = grid[i] if valid[i - 1] else grid[i - 1]
            assert not is_sendable(outside, windows, quiet, tz, min_remaining=gap)


# --- sendable_until: how long a decided send may wait (the sweep's not_after) ----------


def test_sendable_until_is_the_end_of_the_stretch() -> None:
    windows = win("mon-fri 10:00-19:00")
    at = datetime(2026, 6, 2, 12, 0, tzinfo=BERLIN)
    assert sendable_until(at, windows, DEFAULT_QUIET, BERLIN) == datetime(
        2026, 6, 2, 19, 0, tzinfo=BERLIN
    ).astimezone(UTC)
    quiet = QuietHours(time(18, 0), time(8, 0))  # quiet hours cut the window short
    assert sendable_until(at, windows, quiet, BERLIN) == datetime(
        2026, 6, 2, 18, 0, tzinfo=BERLIN
    ).astimezone(UTC)
    assert (
        sendable_until(datetime(2026, 6, 6, 12, 0, tzinfo=BERLIN), windows, quiet, BERLIN) is None
    )


@FAST
@given(scenario())
def test_sendable_until_bounds_a_sendable_stretch(
    case: tuple[datetime, tuple[Window, ...], QuietHours, ZoneInfo, timedelta],
) -> None:
    after, windows, quiet, tz, _ = case
    at = next_send_time(after, windows, quiet, tz, horizon_days=HORIZON, min_remaining=NO_GAP)
    if at is None:
        return
    until = sendable_until(at, windows, quiet, tz)
    assert until is not None and until > at
    step = max((until - at) / 7, timedelta(seconds=1))
    probe = at
    while probe < until:  # every instant up to the end is sendable...
        assert is_sendable(probe, windows, quiet, tz, min_remaining=NO_GAP), probe
        probe += step
    assert not is_sendable(until, windows, quiet, tz, min_remaining=NO_GAP)  # ...the end is not
    assert sendable_until(until, windows, quiet, tz) is None
