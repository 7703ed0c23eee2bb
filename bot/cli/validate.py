"""Checks of operator input that end in one clear line and exit code 2, storing nothing."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot.cli.common import fail
from bot.i18n import available_languages
from scheduler.windows import QuietHours, WindowError, parse_windows, validate_windows


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"unknown time zone '{name}' (use an IANA name such as Europe/Berlin)")


def check_language(code: str) -> str:
    if code not in available_languages():
        fail(f"no catalog for language '{code}' (have: {', '.join(available_languages())})")
    return code


def check_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD, got '{value}'")


def check_window(spec: str, quiet: QuietHours) -> str:
    try:
        windows = parse_windows(spec)
        validate_windows(windows, quiet)
    except WindowError as exc:
        fail(f"--window: {exc}")
    return spec


def check_phone(number: str, region: str) -> str:
    """E.164 form of a valid number, or one line naming the problem."""
    try:
        parsed = phonenumbers.parse(number, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        fail(f"--phone: not a phone number ({exc})")
    if not phonenumbers.is_valid_number(parsed):
        fail(f"--phone: '{number}' is not a valid number for region {region.upper()}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
