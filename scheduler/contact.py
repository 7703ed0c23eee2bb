"""Timing of one contact attempt: opener, reminders, expiry, snooze, and the next action.

Everything is recomputed from the attempt's state and "now", and every send time
comes from ``next_send_time``, so a late or restarted sweep can never send outside
her windows: a send is only ever decided for an instant that is sendable now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.windows import DEFAULT_MIN_REMAINING, QuietHours, Window, next_send_time

__all__ = [
    "SNOOZE_OPTIONS",
    "Attempt",
    "ContactPolicy",
    "expires_at",
    "first_contact_at",
    "next_action",
    "reminder_times",
    "snooze_until",
    "start_of_day",
]

SNOOZE_OPTIONS = ("later_today", "tomorrow", "next_week")
_LATER_TODAY = timedelta(hours=3)


@dataclass(frozen=True)
class ContactPolicy:
    """How hard to try for one timepoint before giving up."""

    reminder_after_days: tuple[int, ...] = (1, 3)
    """Reminders N local days after the opener (same wall-clock time, then moved into a window)."""
    expiry_days: int = 7
    """The attempt expires this long after the opener if she has not answered."""
    min_hours_between_messages: int = 20
    """No reminder sooner than this after the last message (see ``Attempt.last_sent``),
    so a sweep catching up after an outage cannot send reminders back to back."""

    def __post_init__(self) -> None:
        days = self.reminder_after_days
        if any(d < 1 for d in days) or list(days) != sorted(set(days)):
            raise ValueError(f"reminder_after_days {days} must be increasing and >= 1")
        if self.expiry_days < 1 or any(d >= self.expiry_days for d in days):
            raise ValueError("expiry_days must be >= 1 and after every reminder")
        if self.min_hours_between_messages < 0:
            raise ValueError("min_hours_between_messages must not be negative")


@dataclass(frozen=True)
class Attempt:
    """State of the contact attempt for one timepoint, as the store keeps it.

    The caller's bookkeeping: sending an opener sets ``first_sent`` (and ``last_sent``),
    resets ``reminders_sent`` to 0 and clears ``snoozed_until``; sending a reminder
    increments ``reminders_sent`` (and sets ``last_sent``); choosing a snooze sets
    ``snoozed_until`` to ``snooze_until(...)``.
    """

    due: date
    first_sent: datetime | None
    reminders_sent: int
    snoozed_until: datetime | None
    last_sent: datetime | None = None
    """When the last opener/reminder went out; enables the min-gap guard (optional)."""


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """First instant (UTC) whose local date in ``tz`` is ``day``, even if midnight is skipped."""
    candidates = (
        datetime.combine(day, time(), tzinfo=tz).replace(fold=fold).astimezone(UTC)
        for fold in (0, 1)
    )
    return min(c for c in candidates if c.astimezone(tz).date() == day)


def first_contact_at(
    due: date,
    programme_tz: ZoneInfo,
    her_tz: ZoneInfo,
    windows: Sequence[Window],
    quiet: QuietHours,
    not_before: datetime,
    *,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
    horizon_days: int = 21,
) -> datetime | None:
    """First sendable instant (UTC) on or after the due date and not before ``not_before``.

    The due date must have begun both in the programme's zone and in hers, so she is
    never contacted "a day early" when she lives in another zone.
    """
    begin = max(start_of_day(due, programme_tz), start_of_day(due, her_tz))
    earliest = max(begin, _utc(not_before, "not_before"))
    return next_send_time(
        earliest, windows, quiet, her_tz, min_remaining=min_remaining, horizon_days=horizon_days
    )


def expires_at(first_sent: datetime, policy: ContactPolicy) -> datetime:
    """When an unanswered attempt is given up: ``expiry_days`` (of 24 h) after the opener."""
    return _utc(first_sent, "first_sent") + timedelta(days=policy.expiry_days)


def reminder_times(
    first_sent: datetime,
    policy: ContactPolicy,
    windows: Sequence[Window],
    quiet: QuietHours,
    tz: ZoneInfo,
    *,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
) -> tuple[datetime, ...]:
    """Planned reminder instants (UTC), each N local days after the opener moved forward
    to the next sendable instant; only those strictly before expiry, no duplicates.
    """
    expiry = expires_at(first_sent, policy)
    spacing = timedelta(hours=policy.min_hours_between_messages)
    local = first_sent.astimezone(tz)
    previous = _utc(first_sent, "first_sent")
    out: list[datetime] = []
    for days in policy.reminder_after_days:
        # Aware arithmetic in her zone keeps the wall-clock time across DST changes.
        candidate = max((local + timedelta(days=days)).astimezone(UTC), previous + spacing)
        at = next_send_time(candidate, windows, quiet, tz, min_remaining=min_remaining)
        if at is None or at >= expiry:
            break
        out.append(at)
        previous = at
    return tuple(out)


def snooze_until(
    now: datetime,
    option: str,
    windows: Sequence[Window],
    quiet: QuietHours,
    tz: ZoneInfo,
    *,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
) -> datetime | None:
    """When to contact her again after she chose a snooze option (UTC; None if no window).

    "later_today": first sendable instant at least 3 hours later (today if a window
    allows, else the next one); "tomorrow": first sendable instant of the next local
    day or later; "next_week": first sendable instant from 7 local days later on.
    """
    now_utc = _utc(now, "now")
    today = now_utc.astimezone(tz).date()
    if option == "later_today":
        earliest = now_utc + _LATER_TODAY
    elif option == "tomorrow":
        earliest = start_of_day(today + timedelta(days=1), tz)
    elif option == "next_week":
        earliest = start_of_day(today + timedelta(days=7), tz)
    else:
        raise ValueError(f"unknown snooze option {option!r}; expected one of {SNOOZE_OPTIONS}")
    return next_send_time(earliest, windows, quiet, tz, min_remaining=min_remaining)


def _send_or_wait(action: str, at: datetime | None, now: datetime) -> tuple[str, datetime | None]:
    if at is not None and at == now:
        return action, now
    return "wait", at


def next_action(
    attempt: Attempt,
    now: datetime,
    policy: ContactPolicy,
    windows: Sequence[Window],
    quiet: QuietHours,
    tz: ZoneInfo,
    *,
    programme_tz: ZoneInfo | None = None,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
) -> tuple[str, datetime | None]:
    """The sweep's single decision for this attempt: what to do, and when (UTC).

    A send/expire action means "do it now"; ``("wait", at)`` means "nothing now, ask
    again at ``at``"; ``("wait", None)`` means no sendable instant within the horizon
    (her windows need a human's attention). Decision table, first match wins:

    ====================================================  ===================================
    state                                                 result
    ====================================================  ===================================
    no opener yet, or snooze pending (``snoozed_until``   t = first sendable >= max(start of
    set and later than ``first_sent``)                    due date, now, snoozed_until):
                                                          t == now -> ("send_opener", now),
                                                          else ("wait", t). No expiry while
                                                          a snooze is pending: she asked.
    now >= expiry                                         ("expire", expiry)
    a reminder left (``reminders_sent`` < planned)        t = first sendable >= max(planned
                                                          reminder, now, last_sent + gap);
                                                          t < expiry: t == now ->
                                                          ("send_reminder", now), else
                                                          ("wait", t)
    otherwise (no reminder left or none fits)             ("wait", expiry)
    ====================================================  ===================================

    ``programme_tz`` is the zone the due date is in (default: hers).
    """
    now_utc = _utc(now, "now")
    snooze = attempt.snoozed_until
    first = attempt.first_sent
    if first is None or (snooze is not None and snooze > first):
        not_before = now_utc if snooze is None else max(now_utc, _utc(snooze, "snoozed_until"))
        at = first_contact_at(
            attempt.due,
            programme_tz or tz,
            tz,
            windows,
            quiet,
            not_before,
            min_remaining=min_remaining,
        )
        return _send_or_wait("send_opener", at, now_utc)

    expiry = expires_at(first, policy)
    if now_utc >= expiry:
        return "expire", expiry
    planned = reminder_times(first, policy, windows, quiet, tz, min_remaining=min_remaining)
    if attempt.reminders_sent < len(planned):
        earliest = max(planned[attempt.reminders_sent], now_utc)
        if attempt.last_sent is not None:
            gap = timedelta(hours=policy.min_hours_between_messages)
            earliest = max(earliest, _utc(attempt.last_sent, "last_sent") + gap)
        at = next_send_time(earliest, windows, quiet, tz, min_remaining=min_remaining)
        if at is not None and at < expiry:
            return _send_or_wait("send_reminder", at, now_utc)
    return "wait", expiry
