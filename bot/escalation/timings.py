"""When alerts repeat, climb to the backup route and go out as a digest, per programme.

Defaults come from ``[escalation]`` in the config; a programme overrides any of
them in ``programmes.settings["escalation"]`` (``followup programme set-routes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import EscalationConfig

#: Keys a programme may override, with their config defaults' names.
SETTING_KEYS = (
    "urgent_repeat_minutes",
    "urgent_backup_minutes",
    "high_repeat_minutes",
    "digest_hour",
)


@dataclass(frozen=True)
class Timings:
    urgent_repeat: timedelta
    urgent_backup: timedelta
    high_repeat: timedelta
    digest_hour: int

    def repeat_for(self, level: str) -> timedelta | None:
        """How often an unacknowledged alert of ``level`` repeats (None: digest only)."""
        return {"URGENT": self.urgent_repeat, "HIGH": self.high_repeat}.get(level)

    def attempt_at(self, level: str, raised_at: datetime, now: datetime) -> int:
        """The alert round due at ``now``: 1 at once, then one more per repeat interval."""
        repeat = self.repeat_for(level)
        if repeat is None or now < raised_at:
            return 1
        return 1 + int((now - raised_at) / repeat)

    def backup_due(self, level: str, raised_at: datetime, now: datetime) -> bool:
        return level == "URGENT" and now - raised_at >= self.urgent_backup


def timings_for(defaults: EscalationConfig, settings: dict[str, Any]) -> Timings:
    """Config defaults overridden by a programme's ``settings["escalation"]``."""
    own = settings.get("escalation", {}) if isinstance(settings, dict) else {}

    def value(key: str) -> float:
        given = own.get(key)
        return float(given) if isinstance(given, int | float) else float(getattr(defaults, key))

    return Timings(
        urgent_repeat=timedelta(minutes=value("urgent_repeat_minutes")),
        urgent_backup=timedelta(minutes=value("urgent_backup_minutes")),
        high_repeat=timedelta(minutes=value("high_repeat_minutes")),
        digest_hour=int(value("digest_hour")),
    )


def next_digest(now: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The next digest time at ``hour`` o'clock in the programme's zone, strictly after now."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour), zone)
    while candidate <= local:
        candidate = datetime.combine(candidate.date() + timedelta(days=1), time(hour), zone)
    return candidate
