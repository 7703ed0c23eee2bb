"""Her safe contact windows and the night-time quiet hours, in her own time zone.

A message at the wrong hour can endanger her, so every instant returned here is,
converted to her zone, inside one of her windows and outside quiet hours, also on
DST change days (local times in the spring-forward gap never count as existing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: i for i, name in enumerate(DAY_NAMES)}
_MINUTES_PER_DAY = 24 * 60
_RANGE_RE = re.compile(r"^([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})$")

DEFAULT_MIN_REMAINING = timedelta(minutes=15)
"""Never open a contact in the last 15 minutes of a window: she needs time to answer."""


class WindowError(ValueError):
    """A contact-window spec or set of windows that cannot be used safely."""


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _check_clock_time(t: time, what: str) -> None:
    if t.tzinfo is not None or t.second or t.microsecond:
        raise WindowError(f"{what} {t!r} must be a naive wall-clock time in whole minutes")


@dataclass(frozen=True)
class Window:
    """Days (0=Mon..6=Sun) and a same-day half-open time range [start, end)."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", frozenset(self.days))  # a plain set would break hashing
        if not self.days or not self.days <= frozenset(range(7)):
            raise WindowError(f"window days {sorted(self.days)} must be a non-empty subset of 0..6")
        _check_clock_time(self.start, "window start")
        _check_clock_time(self.end, "window end")
        if self.end <= self.start:
            # Overnight windows are refused: night is never safe, and quiet hours forbid it.
            raise WindowError(
                f"window {_hhmm(self.start)}-{_hhmm(self.end)} ends before it starts"
                " (windows must lie within one day)"
            )

    def __str__(self) -> str:
        return f"{_format_days(self.days)} {_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class QuietHours:
    """Never contact her in [start, end); wraps midnight when start > end (the usual night)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def __post_init__(self) -> None:
        _check_clock_time(self.start, "quiet hours start")
        _check_clock_time(self.end, "quiet hours end")
        if self.start == self.end:
            raise WindowError("quiet hours start and end must differ")

    def contains(self, t: time) -> bool:
        """True when wall-clock time ``t`` is inside quiet hours."""
        t = t.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def open_minutes(self) -> tuple[tuple[int, int], ...]:
        """The day's allowed (non-quiet) minute ranges [a, b), in minutes after midnight."""
        s, e = _minutes(self.start), _minutes(self.end)
        if s > e:
            return ((e, s),)
        return tuple((a, b) for a, b in ((0, s), (e, _MINUTES_PER_DAY)) if a < b)

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


DEFAULT_QUIET = QuietHours()

DEFAULT_SPEC = "mon-sat 10:00-19:00"
"""Used when she gave no preference: daytime on working days and Saturday, avoiding
early mornings, evenings and Sundays, when an abusive (ex-)partner is most likely
to be at home; it also lies well inside the default quiet hours."""


# --- parsing and formatting -------------------------------------------------------


def _parse_days(token: str, group: str) -> frozenset[int]:
    days: set[int] = set()
    for item in token.lower().split(","):
        if not item:
            raise WindowError(f"empty day in '{group}'")
        if item == "daily":
            days.update(range(7))
            continue
        ends = item.split("-")
        if len(ends) > 2 or not all(ends):
            raise WindowError(f"bad day range '{item}' in '{group}'")
        for name in ends:
            if name not in _DAY_INDEX:
                raise WindowError(f"unknown day '{name}' in '{group}'")
        first, last = _DAY_INDEX[ends[0]], _DAY_INDEX[ends[-1]]
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))  # ranges wrap
    return frozenset(days)


def _parse_clock(hour: str, minute: str, group: str) -> time:
    h, m = int(hour), int(minute)
    if h > 23:
        raise WindowError(f"hour {h} out of range in '{group}'")
    if m > 59:
        raise WindowError(f"minute {m} out of range in '{group}'")
    return time(h, m)


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, ignoring spaces around ',' and '-'."""
    return re.sub(r"\s*([,\-])\s*", r"\1", text).split()


def _parse_group(group: str) -> list[Window]:
    # Days are everything before the first digit, time ranges the rest.
    split = re.search(r"[0-9]", group)
    day_part, time_part = (
        (group, "") if split is None else (group[: split.start()], group[split.start() :])
    )
    day_tokens, time_tokens = _tokens(day_part), _tokens(time_part)
    if not day_tokens:
        raise WindowError(f"missing days in '{group}'")
    if not time_tokens:
        raise WindowError(f"missing time range in '{group}'")
    extra = day_tokens[1:] + time_tokens[1:]
    if extra:
        raise WindowError(f"unexpected '{extra[0]}' in '{group}'")
    days = _parse_days(day_tokens[0], group)
    windows = []
    for item in time_tokens[0].split(","):
        match = _RANGE_RE.match(item)
        if match is None:
            raise WindowError(f"bad time range '{item}' in '{group}' (expected HH:MM-HH:MM)")
        start = _parse_clock(match[1], match[2], group)
        end = _parse_clock(match[3], match[4], group)
        if end == start:
            raise WindowError(f"window {item} is empty in '{group}'")
        if end < start:
            raise WindowError(f"window {item} ends before it starts (overnight is not allowed)")
        windows.append(Window(days, start, end))
    return windows


def _canonical(windows: Iterable[Window]) -> tuple[Window, ...]:
    unique = set(windows)
    return tuple(sorted(unique, key=lambda w: (sorted(w.days), w.start, w.end)))


def parse_windows(spec: str) -> tuple[Window, ...]:
    """Parse "mon-fri 09:00-13:00; sat 10:00-12:00"; blank means ``DEFAULT_WINDOWS``.

    Groups are separated by ';' or newlines; each is days (names, wrapping ranges
    like fri-mon, or "daily") then comma-separated HH:MM-HH:MM ranges. The result
    is canonical (sorted, duplicates removed), so it round-trips with ``format_windows``.
    """
    windows: list[Window] = []
    for group in re.split(r"[;\n]", spec):
        if group.strip():
            windows.extend(_parse_group(group.strip()))
    if not windows:
        return DEFAULT_WINDOWS
    return _canonical(windows)


def _format_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "daily"
    parts = []
    for first in sorted(d for d in days if (d - 1) % 7 not in days):
        last = first
        while (last + 1) % 7 in days:
            last = (last + 1) % 7
        parts.append(DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}-{DAY_NAMES[last]}")
    return ",".join(parts)


def format_windows(windows: Iterable[Window]) -> str:
    """Canonical text for windows: ``parse_windows(format_windows(ws))`` gives them back."""
    groups: list[tuple[frozenset[int], list[str]]] = []
    for w in _canonical(windows):
        ranges = f"{_hhmm(w.start)}-{_hhmm(w.end)}"
        if groups and groups[-1][0] == w.days:
            groups[-1][1].append(ranges)
        else:
            groups.append((w.days, [ranges]))
    if not groups:
        raise WindowError("no contact windows: she could never be contacted")
    return "; ".join(f"{_format_days(days)} {','.join(r)}" for days, r in groups)


DEFAULT_WINDOWS: tuple[Window, ...] = parse_windows(DEFAULT_SPEC)


def validate_windows(
    windows: Sequence[Window],
    quiet: QuietHours,
    *,
    min_remaining: timedelta = DEFAULT_MIN_REMAINING,
) -> None:
    """Refuse windows she could never be contacted in: empty, or swallowed by quiet hours.

    A window counts as swallowed when no stretch of it outside quiet hours is at
    least ``min_remaining`` long (pass ``timedelta(0)`` for "entirely inside").
    """
    if not windows:
        raise WindowError("no contact windows: she could never be contacted")
    need = min_remaining.total_seconds() / 60
    for w in windows:
        lo, hi = _minutes(w.start), _minutes(w.end)
        longest = max((min(b, hi) - max(a, lo) for a, b in quiet.open_minutes()), default=0)
        if longest <= 0 or longest < need:
            raise WindowError(f"window '{w}' lies inside quiet hours {quiet}: never usable")


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
            lo, hi = _minutes(w.start), _minutes(w.end)
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
