"""Her safe contact windows and the night-time quiet hours, in her own time zone.

A message at the wrong hour can endanger her, so every instant returned here is,
converted to her zone, inside one of her windows and outside quiet hours, also on
DST change days (local times in the spring-forward gap never count as existing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.window_spec import (
    DAY_NAMES,
    DEFAULT_MIN_REMAINING,
    DEFAULT_QUIET,
    DEFAULT_SPEC,
    DEFAULT_WINDOWS,
    QuietHours,
    Window,
    WindowError,
    format_windows,
    minutes_of,
    parse_windows,
    validate_windows,
)

__all__ = [
    "DAY_NAMES",
    "DEFAULT_MIN_REMAINING",
    "DEFAULT_QUIET",
    "DEFAULT_SPEC",
    "DEFAULT_WINDOWS",
    "QuietHours",
    "Window",
    "WindowError",
    "format_windows",
    "is_sendable",
    "next_send_time",
    "parse_windows",
    "sendable_until",
    "validate_windows",
]

# --- local wall-clock intervals -> UTC instants -------------------------------------


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    off = instant.astimezone(tz).utcoffset()
    assert off is not None  # ZoneInfo always has an offset
    return off


def _first_change(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """Earliest whole-second instant in (lo, hi] whose UTC offset differs from lo's.

    Zone transitions fall on whole seconds, so bisecting on seconds is exact.
    """
    before = _offset(lo, tz)
    lo_s, hi_s = 0, int((hi - lo).total_seconds())
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _offset(lo + timedelta(seconds=mid), tz) != before:
            hi_s = mid
        else:
            lo_s = mid
    return lo + timedelta(seconds=hi_s)


def _wall_to_utc(day: date, a: int, b: int, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """UTC intervals of exactly the instants whose local time on ``day`` is in [a, b) minutes.

    For each UTC offset the zone can have at the ends, the wall-clock range maps to
    one UTC interval; only the part where the zone really has that offset is kept.
    So gap times (spring forward) are skipped and both runs of a repeated hour count.
    Assumes at most one offset change inside a window, true of every real zone.
    """
    midnight = datetime.combine(day, time())
    wall_a, wall_b = midnight + timedelta(minutes=a), midnight + timedelta(minutes=b)
    offsets = set()
    for wall in (wall_a, wall_b):
        for fold in (0, 1):
            off = wall.replace(tzinfo=tz, fold=fold).utcoffset()
            assert off is not None
            offsets.add(off)
    second = timedelta(seconds=1)
    out = []
    for off in offsets:
        lo = (wall_a - off).replace(tzinfo=UTC)
        hi = (wall_b - off).replace(tzinfo=UTC)
        lo_ok, hi_ok = _offset(lo, tz) == off, _offset(hi - second, tz) == off
        if lo_ok and hi_ok:
            out.append((lo, hi))
        elif lo_ok:
            out.append((lo, _first_change(lo, hi - second, tz)))
        elif hi_ok:
            out.append((_first_change(lo, hi - second, tz), hi))
    return out


def _sendable_intervals(
    first: date, last: date, windows: Sequence[Window], quiet: QuietHours, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Merged, sorted UTC intervals when she may be contacted, for local dates first..last."""
    pieces: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        for w in windows:
            if day.weekday() not in w.days:
                continue
            lo, hi = minutes_of(w.start), minutes_of(w.end)
            for qa, qb in quiet.open_minutes():
                a, b = max(lo, qa), min(hi, qb)
                if a < b:
                    pieces.extend(_wall_to_utc(day, a, b, tz))
        day += timedelta(days=1)
    pieces.sort()
    merged: list[tuple[datetime, datetime]] = []
    for s, e in pieces:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def next_send_time(
    after: datetime,
    windows: Sequence[Window],
    quiet: QuietHours,
    tz: ZoneInfo,
    *,
    horizon_days: int = 21,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
) -> datetime | None:
    """Earliest instant >= ``after`` (aware) when she may be contacted, in UTC; None if
    there is none within ``horizon_days``.

    The instant is inside a window and outside quiet hours in her local time, and at
    least ``min_remaining`` of real time is left before that sendable stretch ends.
    """
    if horizon_days < 0 or min_remaining < timedelta(0):
        raise ValueError("horizon_days and min_remaining must not be negative")
    start = _aware_utc(after, "after")
    limit = start + timedelta(days=horizon_days)
    local_day = start.astimezone(tz).date()
    first, last = local_day - timedelta(days=1), local_day + timedelta(days=horizon_days + 1)
    for s, e in _sendable_intervals(first, last, windows, quiet, tz):
        t = max(s, start)
        if t > limit:
            return None
        if t < e and t + min_remaining <= e:
            return t
    return None


def is_sendable(
    at: datetime,
    windows: Sequence[Window],
    quiet: QuietHours,
    tz: ZoneInfo,
    *,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
) -> bool:
    """May a contact start at ``at``? Same rule as ``next_send_time`` (which returns ``at``
    exactly when this is True); pass ``min_remaining=timedelta(0)`` for the bare safety check.
    """
    instant = _aware_utc(at, "at")
    found = next_send_time(instant, windows, quiet, tz, horizon_days=0, min_remaining=min_remaining)
    return found == instant


def sendable_until(
    at: datetime, windows: Sequence[Window], quiet: QuietHours, tz: ZoneInfo
) -> datetime | None:
    """End (UTC, exclusive) of the sendable stretch containing ``at``; None if ``at`` is
    not sendable. A message decided for ``at`` must not go out at or after this instant.
    """
    instant = _aware_utc(at, "at")
    local_day = instant.astimezone(tz).date()
    first, last = local_day - timedelta(days=1), local_day + timedelta(days=1)
    for s, e in _sendable_intervals(first, last, windows, quiet, tz):
        if s <= instant < e:
            return e
    return None
