"""Checks of staff input shared by the CLI and the dashboard: one clear message, nothing stored.

Each check raises ``InputError``; the CLI turns it into one line and exit 2
(bot/cli/validate.py), the dashboard shows it next to the form.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot.text.i18n import available_languages
from scheduler.windows import QuietHours, WindowError, parse_windows, validate_windows


class InputError(ValueError):
    """Staff input that cannot be used as given; the message names the option."""


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone '{name}' (use an IANA name such as Europe/Berlin)"
        ) from None


def language(code: str) -> str:
    if code not in available_languages():
        raise InputError(
            f"no catalog for language '{code}' (have: {', '.join(available_languages())})"
        )
    return code


def a_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} must be a date as YYYY-MM-DD, got '{value}'") from None


def window(spec: str, quiet: QuietHours) -> str:
    try:
        validate_windows(parse_windows(spec), quiet)
    except WindowError as exc:
        raise InputError(f"--window: {exc}") from None
    return spec


def phone(number: str, region: str) -> str:
    """E.164 form of a valid number, or one message naming the problem."""
    try:
        parsed = phonenumbers.parse(number, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InputError(f"--phone: not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InputError(f"--phone: '{number}' is not a valid number for region {region.upper()}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
