"""Contact timing: first contact, reminders, expiry, snooze and the sweep's next action."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.contact import (
    SNOOZE_OPTIONS,
    Attempt,
    ContactPolicy,
    expires_at,
    first_contact_at,
    next_action,
    reminder_times,
    snooze_until,
    start_of_day,
)
from scheduler.windows import (
    DEFAULT_QUIET,
    DEFAULT_WINDOWS,
    QuietHours,
    is_sendable,
    parse_windows,
)

BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TOKYO = ZoneInfo("Asia/Tokyo")
POLICY = ContactPolicy()
W, Q = DEFAULT_WINDOWS, DEFAULT_QUIET  # mon-sat 10:00-19:00, quiet 21:00-08:00
MON = date(2026, 6, 1)


def day(n: int) -> date:
    return MON + timedelta(days=n)


def b(d: date, h: int, m: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    """A local wall-clock time as an aware UTC instant."""
    return datetime.combine(d, time(h, m), tzinfo=tz).astimezone(UTC)


# --- policy ----------------------------------------------------------------------------


def test_default_policy() -> None:
    assert POLICY.reminder_after_days == (1, 3)
    assert POLICY.expiry_days == 7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reminder_after_days": (3, 1)},
        {"reminder_after_days": (1, 1)},
        {"reminder_after_days": (0,)},
        {"reminder_after_days": (1, 7), "expiry_days": 7},
        {"expiry_days": 0, "reminder_after_days": ()},
        {"min_hours_between_messages": -1},
    ],
)
def test_policy_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ContactPolicy(**kwargs)  # type: ignore[arg-type]


# --- first contact ---------------------------------------------------------------------


def test_start_of_day_is_local_midnight() -> None:
    assert start_of_day(MON, BERLIN) == datetime(2026, 5, 31, 22, 0, tzinfo=UTC)


def test_start_of_day_when_midnight_does_not_exist() -> None:
    # Sao Paulo sprang forward at midnight on 2018-11-04: the day starts at 01:00.
    start = start_of_day(date(2018, 11, 4), SAO_PAULO)
    assert start == datetime(2018, 11, 4, 3, 0, tzinfo=UTC)
    assert start.astimezone(SAO_PAULO).date() == date(2018, 11, 4)


def test_first_contact_on_due_date_window_opening() -> None:
    got = first_contact_at(MON, BERLIN, BERLIN, W, Q, not_before=b(day(-3), 12))
    assert got == b(MON, 10)


def test_first_contact_not_before_now() -> None:
    now = b(MON, 14, 7)
    assert first_contact_at(MON, BERLIN, BERLIN, W, Q, not_before=now) == now
    late = b(MON, 18, 50)  # too little of the window left: next day
    assert first_contact_at(MON, BERLIN, BERLIN, W, Q, not_before=late) == b(day(1), 10)


def test_first_contact_overdue_skips_sunday() -> None:
    got = first_contact_at(MON, BERLIN, BERLIN, W, Q, not_before=b(day(5), 19))  # Saturday
    assert got == b(day(7), 10)


def test_first_contact_waits_for_due_date_in_her_zone() -> None:
    # Midnight of Jun 2 in Berlin is still Jun 1, 19:00 in Sao Paulo, inside her window.
    evening = parse_windows("daily 18:00-20:45")
    got = first_contact_at(day(1), BERLIN, SAO_PAULO, evening, Q, not_before=b(MON, 0))
    assert got == b(day(1), 18, tz=SAO_PAULO)


def test_first_contact_waits_for_due_date_in_programme_zone() -> None:
    # 06:00 on Jun 2 in Tokyo is still Jun 1 (23:00) in Berlin: not yet due there.
    early = parse_windows("daily 06:00-07:00")
    quiet = QuietHours(time(22, 0), time(5, 0))
    got = first_contact_at(day(1), BERLIN, TOKYO, early, quiet, not_before=b(MON, 0))
    assert got == b(day(2), 6, tz=TOKYO)


def test_first_contact_requires_aware_not_before() -> None:
    with pytest.raises(ValueError):
        first_contact_at(MON, BERLIN, BERLIN, W, Q, not_before=datetime(2026, 6, 1, 10))


# --- reminders and expiry ----------------------------------------------------------------


def test_reminders_same_time_of_day() -> None:
    first = b(MON, 10, 30)
    assert reminder_times(first, POLICY, W, Q, BERLIN) == (b(day(1), 10, 30), b(day(3), 10, 30))


def test_reminders_move_into_the_next_window() -> None:
    saturday = b(day(5), 11)
    # +1 day is Sunday (no window): Monday 10:00; +3 days is Tuesday 11:00.
    assert reminder_times(saturday, POLICY, W, Q, BERLIN) == (b(day(7), 10), b(day(8), 11))
    late = b(MON, 18, 50)  # sent late in the window: the next day has too little left
    assert reminder_times(late, POLICY, W, Q, BERLIN) == (b(day(2), 10), b(day(4), 10))


def test_reminders_keep_wall_clock_time_across_dst() -> None:
    daily = parse_windows("daily 10:00-19:00")
    first = b(date(2026, 3, 28), 12)  # Saturday before the spring change
    reminders = reminder_times(first, POLICY, daily, Q, BERLIN)
    assert [r.astimezone(BERLIN).time() for r in reminders] == [time(12), time(12)]
    assert reminders[0] - first == timedelta(hours=23)


def test_reminders_only_before_expiry() -> None:
    sundays = parse_windows("sun 10:00-12:00")
    first = b(day(6), 10, 30)  # Sunday
    # The next Sunday window is after a 6-day expiry: no reminder at all.
    policy = ContactPolicy(reminder_after_days=(1, 3), expiry_days=6)
    assert reminder_times(first, policy, sundays, Q, BERLIN) == ()
    # With 7 days, next Sunday 10:00 is just before expiry (10:30): only one reminder fits.
    policy = ContactPolicy(reminder_after_days=(1, 3), expiry_days=7)
    assert reminder_times(first, policy, sundays, Q, BERLIN) == (b(day(13), 10),)


def test_expires_at() -> None:
    first = b(MON, 10, 30)
    assert expires_at(first, POLICY) == b(day(7), 10, 30)
    assert expires_at(first, POLICY).tzinfo is UTC


# --- snooze ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "option", "expected"),
    [
        (b(MON, 10), "later_today", b(MON, 13)),
        (b(MON, 15, 30), "later_today", b(MON, 18, 30)),
        (b(MON, 16, 30), "later_today", b(day(1), 10)),  # 19:30 is past the window
        (b(day(5), 17), "later_today", b(day(7), 10)),  # Saturday evening -> Monday
        (b(MON, 10), "tomorrow", b(day(1), 10)),
        (b(MON, 18), "tomorrow", b(day(1), 10)),
        (b(day(5), 11), "tomorrow", b(day(7), 10)),  # Sunday has no window
        (b(MON, 15), "next_week", b(day(7), 10)),
        (b(day(3), 9), "next_week", b(day(10), 10)),
    ],
)
def test_snooze(now: datetime, option: str, expected: datetime) -> None:
    assert snooze_until(now, option, W, Q, BERLIN) == expected


def test_snooze_tomorrow_across_dst() -> None:
    daily = parse_windows("daily 10:00-19:00")
    got = snooze_until(b(date(2026, 3, 28), 20), "tomorrow", daily, Q, BERLIN)
    assert got == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_snooze_later_today_is_at_least_three_hours() -> None:
    now = b(MON, 11, 11)
    got = snooze_until(now, "later_today", W, Q, BERLIN)
    assert got is not None and got - now == timedelta(hours=3)


def test_snooze_options_and_errors() -> None:
    assert SNOOZE_OPTIONS == ("later_today", "tomorrow", "next_week")
    with pytest.raises(ValueError, match="unknown snooze option 'someday'"):
        snooze_until(b(MON, 10), "someday", W, Q, BERLIN)
    with pytest.raises(ValueError):
        snooze_until(datetime(2026, 6, 1, 10), "tomorrow", W, Q, BERLIN)


# --- next_action ------------------------------------------------------------------------

NEW = Attempt(due=MON, first_sent=None, reminders_sent=0, snoozed_until=None)
SENT = Attempt(due=MON, first_sent=b(MON, 10), reminders_sent=0, snoozed_until=None)


def act(attempt: Attempt, now: datetime, **kw: object) -> tuple[str, datetime | None]:
    return next_action(attempt, now, POLICY, W, Q, BERLIN, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attempt", "now", "expected"),
    [
        # No opener yet.
        (NEW, b(day(-2), 12), ("wait", b(MON, 10))),
        (NEW, b(MON, 3), ("wait", b(MON, 10))),
        (NEW, b(MON, 10), ("send_opener", b(MON, 10))),
        (NEW, b(MON, 17, 3), ("send_opener", b(MON, 17, 3))),
        (NEW, b(MON, 18, 50), ("wait", b(day(1), 10))),
        (NEW, b(day(6), 12), ("wait", b(day(7), 10))),  # overdue, but Sunday
        # Opener sent Monday 10:00; reminders planned Tue 10:00 and Thu 10:00.
        (SENT, b(MON, 15), ("wait", b(day(1), 10))),
        (SENT, b(day(1), 10), ("send_reminder", b(day(1), 10))),
        (SENT, b(day(1), 11), ("send_reminder", b(day(1), 11))),  # late sweep, still safe
        (SENT, b(day(1), 20), ("wait", b(day(2), 10))),  # late sweep, outside the window
        (replace(SENT, reminders_sent=1), b(day(1), 10, 5), ("wait", b(day(3), 10))),
        (replace(SENT, reminders_sent=1), b(day(3), 12), ("send_reminder", b(day(3), 12))),
        (replace(SENT, reminders_sent=2), b(day(3), 12), ("wait", b(day(7), 10))),
        (replace(SENT, reminders_sent=5), b(day(4), 12), ("wait", b(day(7), 10))),
        (replace(SENT, reminders_sent=2), b(day(7), 10), ("expire", b(day(7), 10))),
        (SENT, b(day(9), 12), ("expire", b(day(7), 10))),  # never reminded: still expires
    ],
)
def test_next_action_decision_table(
    attempt: Attempt, now: datetime, expected: tuple[str, datetime | None]
) -> None:
    assert act(attempt, now) == expected


def test_next_action_snooze_pending_reopens() -> None:
    snoozed = replace(SENT, snoozed_until=b(MON, 13))
    assert act(snoozed, b(MON, 11)) == ("wait", b(MON, 13))
    assert act(snoozed, b(MON, 13)) == ("send_opener", b(MON, 13))
    # She asked for next week: not expired while the snooze is pending.
    next_week = replace(SENT, snoozed_until=b(day(7), 10))
    assert act(next_week, b(day(5), 12)) == ("wait", b(day(7), 10))
    assert act(next_week, b(day(7), 10)) == ("send_opener", b(day(7), 10))


def test_next_action_ignores_stale_snooze() -> None:
    stale = replace(SENT, snoozed_until=b(MON, 9))
    assert act(stale, b(MON, 15)) == ("wait", b(day(1), 10))


def test_next_action_snooze_before_opener() -> None:
    held = replace(NEW, snoozed_until=b(day(2), 12))
    assert act(held, b(MON, 10)) == ("wait", b(day(2), 12))


def test_next_action_no_window_at_all() -> None:
    night = parse_windows("daily 22:00-23:00")
    got = next_action(NEW, b(MON, 10), POLICY, night, Q, BERLIN)
    assert got == ("wait", None)


def test_next_action_spaces_reminders_after_an_outage() -> None:
    # The sweep was down Tue-Thu: reminder 1 went out Thursday 10:00 (both were overdue).
    caught_up = replace(SENT, reminders_sent=1, last_sent=b(day(3), 10))
    assert act(caught_up, b(day(3), 10, 5)) == ("wait", b(day(4), 10))
    without_guard = replace(caught_up, last_sent=None)
    assert act(without_guard, b(day(3), 10, 5)) == ("send_reminder", b(day(3), 10, 5))


def test_next_action_reminder_that_cannot_fit_before_expiry() -> None:
    sundays = parse_windows("sun 10:00-12:00")
    attempt = Attempt(due=day(6), first_sent=b(day(6), 10), reminders_sent=0, snoozed_until=None)
    got = next_action(attempt, b(day(6), 11), ContactPolicy(), sundays, Q, BERLIN)
    assert got == ("wait", b(day(13), 10))  # next Sunday is the expiry, not a reminder


def test_next_action_uses_programme_zone_for_due_date() -> None:
    evening = parse_windows("daily 18:00-20:45")
    attempt = replace(NEW, due=day(1))
    sp_evening = b(MON, 19, tz=SAO_PAULO)  # already Jun 2 in Berlin
    got = next_action(attempt, sp_evening, POLICY, evening, Q, SAO_PAULO, programme_tz=BERLIN)
    assert got == ("wait", b(day(1), 18, tz=SAO_PAULO))
    got = next_action(attempt, sp_evening, POLICY, evening, Q, SAO_PAULO)
    assert got == ("wait", b(day(1), 18, tz=SAO_PAULO))


def test_next_action_requires_aware_now() -> None:
    with pytest.raises(ValueError):
        act(NEW, datetime(2026, 6, 1, 10))


@settings(max_examples=150, deadline=None)
@given(
    minutes=st.integers(-3 * 24 * 60, 12 * 24 * 60),
    sent_offset=st.one_of(st.none(), st.integers(0, 5 * 24 * 60)),
    reminders=st.integers(0, 3),
    snooze_offset=st.one_of(st.none(), st.integers(-24 * 60, 9 * 24 * 60)),
)
def test_next_action_is_always_safe(
    minutes: int, sent_offset: int | None, reminders: int, snooze_offset: int | None
) -> None:
    now = b(MON, 0) + timedelta(minutes=minutes)
    first = None if sent_offset is None else b(MON, 10) + timedelta(minutes=sent_offset)
    snooze = None if snooze_offset is None else b(MON, 10) + timedelta(minutes=snooze_offset)
    attempt = Attempt(MON, first, reminders, snooze)
    action, at = act(attempt, now)
    if action in ("send_opener", "send_reminder"):
        assert at == now
        assert is_sendable(now, W, Q, BERLIN)
        assert now >= start_of_day(MON, BERLIN)
    elif action == "expire":
        assert first is not None and at == expires_at(first, POLICY) and at <= now
    else:
        assert action == "wait"
        assert at is not None and at > now
        # Asking again at the announced time gives an action, not another wait for it.
        again, when = act(attempt, at)
        assert (again, when) != ("wait", at)


def test_sweep_simulation_over_a_fortnight() -> None:
    """A sweep every 25 minutes with the caller's bookkeeping: one opener, two reminders
    inside the windows, then expiry; never a message outside her windows."""
    attempt = NEW
    log: list[tuple[str, datetime]] = []
    now = b(day(-1), 0, 7)
    while now < b(day(14), 0):
        action, _ = act(attempt, now)
        if action == "send_opener":
            attempt = replace(attempt, first_sent=now, reminders_sent=0, last_sent=now)
        elif action == "send_reminder":
            attempt = replace(attempt, reminders_sent=attempt.reminders_sent + 1, last_sent=now)
        elif action == "expire":
            log.append((action, now))
            break
        if action != "wait":
            assert is_sendable(now, W, Q, BERLIN)
            log.append((action, now))
        now += timedelta(minutes=25)
    kinds = [k for k, _ in log]
    assert kinds == ["send_opener", "send_reminder", "send_reminder", "expire"]
    opener = log[0][1]
    assert opener.astimezone(BERLIN).date() == MON
    assert timedelta(days=1) <= log[1][1] - opener < timedelta(days=1, minutes=25)
    assert log[-1][1] >= opener + timedelta(days=7)
