"""Checks of operator input that end in one clear line and exit code 2, storing nothing.

The rules live in ``bot.enrolment.validation`` (shared with the dashboard); these wrappers exit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from bot.cli.common import fail
from bot.enrolment import validation
from conversations.survey import TIMEPOINTS
from scheduler.windows import QuietHours

P = ParamSpec("P")
T = TypeVar("T")


def _or_exit(check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return check(*args, **kwargs)
    except validation.InputError as exc:
        fail(str(exc))


def check_timezone(name: str) -> ZoneInfo:
    return _or_exit(validation.timezone, name)


def check_language(code: str) -> str:
    return _or_exit(validation.language, code)


def check_date(value: str | None, option: str) -> date | None:
    return _or_exit(validation.a_date, value, option)


def check_window(spec: str, quiet: QuietHours) -> str:
    return _or_exit(validation.window, spec, quiet)


def check_phone(number: str, region: str) -> str:
    """E.164 form of a valid number, or one line naming the problem."""
    return _or_exit(validation.phone, number, region)


def check_timepoint(timepoint: str) -> str:
    """``--timepoint``: one of the survey's five (T0..T4)."""
    if timepoint not in TIMEPOINTS:
        fail(f"--timepoint must be one of {', '.join(TIMEPOINTS)}, got {timepoint!r}")
    return timepoint
