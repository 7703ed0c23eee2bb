"""Scheduling settings in the scheduler's pure types: config defaults, per-programme overrides.

A programme's ``settings`` JSON may hold ``offsets`` (``scheduler.timepoints.Offsets``
fields), ``contact`` (``reminder_after_days``, ``expiry_days``) and ``quiet``
("21:00-08:00"); anything missing falls back to DESIGN §5 and the config file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.store.participants import Programme
from scheduler.contact import ContactPolicy
from scheduler.timepoints import Offsets
from scheduler.windows import QuietHours, WindowError

OFFSET_KEYS = tuple(f.name for f in dataclasses.fields(Offsets))
CONTACT_KEYS = ("reminder_after_days", "expiry_days")


class SettingsError(ValueError):
    """A programme setting that cannot be used; the message names it."""


def _clock(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def quiet_hours(config: Config) -> QuietHours:
    """The service-wide quiet hours (config ``scheduler.quiet_start``/``quiet_end``)."""
    return QuietHours(_clock(config.scheduler.quiet_start), _clock(config.scheduler.quiet_end))


def parse_quiet(spec: str) -> QuietHours:
    """ "21:00-08:00" -> QuietHours; SettingsError naming the problem otherwise."""
    start, sep, end = spec.strip().partition("-")
    try:
        if not sep:
            raise ValueError
        parts = [p.strip().split(":") for p in (start, end)]
        if any(len(p) != 2 or not all(x.isdigit() for x in p) for p in parts):
            raise ValueError
        return QuietHours(*(time(int(h), int(m)) for h, m in parts))
    except (ValueError, WindowError):
        raise SettingsError(f"quiet hours must look like 21:00-08:00, got '{spec}'") from None


@dataclass(frozen=True)
class ProgrammeRules:
    """Everything the sweep needs to know about one programme."""

    zone: ZoneInfo
    offsets: Offsets
    policy: ContactPolicy
    quiet: QuietHours


def build_rules(config: Config, timezone: str, settings: dict[str, Any]) -> ProgrammeRules:
    """Rules from a settings dict; SettingsError if a value is unusable (nothing is clamped)."""
    try:
        offsets = Offsets(**settings.get("offsets", {}))
        contact: dict[str, Any] = dict(settings.get("contact", {}))
        if "reminder_after_days" in contact:
            contact["reminder_after_days"] = tuple(contact["reminder_after_days"])
        policy = ContactPolicy(**contact)
    except (TypeError, ValueError) as exc:
        raise SettingsError(str(exc)) from None
    quiet = parse_quiet(settings["quiet"]) if settings.get("quiet") else quiet_hours(config)
    return ProgrammeRules(ZoneInfo(timezone), offsets, policy, quiet)


def rules_for(config: Config, programme: Programme) -> ProgrammeRules:
    return build_rules(config, programme.timezone, programme.settings)


def describe(rules: ProgrammeRules) -> str:
    """One line for ``programme list``."""
    o, p = rules.offsets, rules.policy
    reminders = ",".join(str(d) for d in p.reminder_after_days) or "none"
    return (
        f"T0 +{o.t0_days_after_enrol}d, T1 start+{o.t1_days_after_start}d, T4 end+"
        f"{o.t4_days_after_end}d{' (also after drop-out)' if o.t4_after_dropout else ''},"
        f" gap {o.min_days_between}d; reminders {reminders}d; expiry {p.expiry_days}d;"
        f" quiet {rules.quiet}"
    )
