"""Scheduling settings from config, in the scheduler's pure types."""

from __future__ import annotations

from datetime import time

from bot.config import Config
from scheduler.windows import QuietHours


def _clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def quiet_hours(config: Config) -> QuietHours:
    return QuietHours(_clock(config.scheduler.quiet_start), _clock(config.scheduler.quiet_end))
