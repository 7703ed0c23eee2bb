"""How her safe windows and the quiet hours are written, read and checked.

``mon-fri 09:00-13:00; sat 10:00-12:00``: parsed into ``Window`` values, formatted
back canonically, and refused (``WindowError``, naming the part) when a window could
never be used. Pure; the instants they allow are computed in ``scheduler.windows``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time, timedelta

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: i for i, name in enumerate(DAY_NAMES)}
_MINUTES_PER_DAY = 24 * 60
_RANGE_RE = re.compile(r"^([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})$")

DEFAULT_MIN_REMAINING = timedelta(minutes=15)
"""Never open a contact in the last 15 minutes of a window: she needs time to answer."""


class WindowError(ValueError):
    """A contact-window spec or set of windows that cannot be used safely."""


def minutes_of(t: time) -> int:
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
        s, e = minutes_of(self.start), minutes_of(self.end)
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
        lo, hi = minutes_of(w.start), minutes_of(w.end)
        longest = max((min(b, hi) - max(a, lo) for a, b in quiet.open_minutes()), default=0)
        if longest <= 0 or longest < need:
            raise WindowError(f"window '{w}' lies inside quiet hours {quiet}: never usable")
