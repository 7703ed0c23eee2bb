"""What a sweep did (or, in a dry run, would do): one ``Action`` per contact, counted.

Read by ``followup tick`` and ``followup waves`` to show staff each step in her own
time zone; the service's own sweeps keep the counts only (a wave is 100,000 actions).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Action:
    """One thing the sweep did (or, in a dry run, would do)."""

    pseudonym: str
    timepoint: str
    action: str
    """opener, reminder N, expire, superseded, idle, held, close T?"""
    at: datetime
    zone: str
    wave_id: str | None
    done: bool
    key: str | None = None
    """The outbox dedupe key of an opener/reminder (to follow it out of the outbox)."""

    @property
    def local(self) -> str:
        """The instant in her time zone (what staff need to check her window)."""
        return self.at.astimezone(ZoneInfo(self.zone)).strftime("%a %Y-%m-%d %H:%M %Z")


@dataclass
class SweepReport:
    now: datetime
    dry_run: bool
    actions: list[Action] = field(default_factory=list)
    """Every action, unless the sweep keeps ``counts`` only (the service's own sweeps)."""
    waiting: int = 0
    seconds: float = 0.0
    contacted: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    """Actions done, by ``Action.action``."""
    keep_actions: bool = True

    def add(self, action: Action) -> None:
        if action.done:
            self.counts[action.action] += 1
        if self.keep_actions:
            self.actions.append(action)

    def count(self, prefix: str) -> int:
        return sum(n for what, n in self.counts.items() if what.startswith(prefix))
