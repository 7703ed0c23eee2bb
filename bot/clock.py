"""Time for the shell: a real clock in production, a settable one in tests.

Times are stored as ISO-8601 UTC text with a fixed width so they sort.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


@lru_cache(maxsize=1024)
def iso(moment: datetime) -> str:
    """Fixed-width UTC text: '2026-11-24T10:00:00.000000Z'.

    ``isoformat`` rather than ``strftime`` (the same text, a third cheaper) and cached: a
    request formats a dozen timestamps and a wave writes one ``now`` several times per contact.
    """
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_iso(text: str) -> datetime:
    if len(text) == 27 and text[10] == "T" and text[19] == "." and text[-1] == "Z":
        try:  # what iso() wrote: the fast path (strptime stays the judge of anything else)
            parsed = datetime.fromisoformat(text[:-1])
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
