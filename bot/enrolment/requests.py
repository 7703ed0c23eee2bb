"""Enrolment from staff input: ONE set of rules for ``followup enrol`` and the dashboard.

``parse_request`` checks every field (raising ``InputError`` with one clear message,
nothing stored); ``enrol_request`` stores her and, for Telegram, a one-time link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config, missing_key
from bot.enrolment import validation
from bot.enrolment.rules import EnrolmentError, enrol
from bot.enrolment.tokens import new_token, store_token
from bot.enrolment.validation import InputError
from bot.schedule.settings import quiet_hours
from bot.store.consent import Consent
from bot.store.scope import Scope
from bot.store.stores import Stores
from conversations.survey import Survey

CHANNELS = ("telegram", "sms", "console")


@dataclass(frozen=True)
class EnrolRequest:
    programme: str
    channel: str
    language: str | None
    timezone: str | None
    phone: str | None
    safe_word: str | None
    code_word: str | None
    duress_word: str | None
    start: date | None
    end: date | None
    window: str
    consent: Consent


def consent_record(version: str | None, on: str | None, by: str | None) -> Consent:
    """No enrolment without a consent record: all three parts, or InputError."""
    missing = [
        name
        for name, value in (
            ("--consent-version", version),
            ("--consent-date", on),
            ("--consent-by", by),
        )
        if not (value and value.strip())
    ]
    if missing:
        raise InputError(f"no consent recorded: {', '.join(missing)} required (nothing was stored)")
    assert version and by
    consented_on = validation.a_date(on, "--consent-date")
    assert consented_on is not None
    return Consent(version.strip(), consented_on, by.strip())


def parse_request(
    cfg: Config,
    *,
    programme: str,
    channel: str,
    language: str | None,
    timezone: str | None,
    phone: str | None,
    safe_word: str | None,
    code_word: str | None,
    duress_word: str | None,
    start: str | None,
    end: str | None,
    window: str,
    consent: Consent,
) -> EnrolRequest:
    """Every check ``followup enrol`` makes, in the same order, with the same messages."""
    if channel not in CHANNELS:
        raise InputError(f"--channel must be one of {', '.join(CHANNELS)}, got '{channel}'")
    if language is not None:
        validation.language(language)
    if timezone is not None:
        validation.timezone(timezone)
    start_on, end_on = validation.a_date(start, "--start"), validation.a_date(end, "--end")
    if start_on and end_on and end_on < start_on:
        raise InputError(f"--end ({end_on}) is before --start ({start_on})")
    if window:
        validation.window(window, quiet_hours(cfg))
    address = None
    if channel == "sms":
        if not phone:
            raise InputError("--phone is required for --channel sms")
        address = validation.phone(phone, cfg.sms.default_region)
    elif phone:
        raise InputError("--phone is only for --channel sms")
    if channel == "console":
        address = f"console:{secrets.token_hex(8)}"  # so `followup chat` and the sweep reach her
    if channel == "telegram" and not cfg.telegram.bot_username:
        raise InputError(missing_key(cfg, "telegram.bot_username", "it is needed for the link"))
    return EnrolRequest(
        programme, channel, language, timezone, address, safe_word, code_word, duress_word,
        start_on, end_on, window, consent,
    )  # fmt: skip


async def enrol_request(
    stores: Stores, cfg: Config, survey: Survey, req: EnrolRequest, actor: str, scope: Scope
) -> dict[str, str]:
    """Store her in a programme inside ``scope``; returns pseudonym (and the one-time
    Telegram token and link)."""
    programme = await stores.programmes.by_name(req.programme, scope)
    if programme is None:
        raise InputError(f"no programme named '{req.programme}' (see: followup programme list)")
    if req.phone and await stores.participants.by_address("sms", req.phone):
        raise InputError("this number is already enrolled")
    now = stores.clock.now()
    try:
        participant = await enrol(
            stores, cfg, survey, programme_id=programme.id, channel=req.channel,
            language=req.language or programme.language,
            timezone=req.timezone or programme.timezone,
            today=now.astimezone(ZoneInfo(programme.timezone)).date(), now=now,
            address=req.phone, safe_word=req.safe_word, code_word=req.code_word,
            duress_word=req.duress_word, windows=req.window, start_on=req.start,
            end_on=req.end, actor=actor, consent=req.consent,
        )  # fmt: skip
    except EnrolmentError as exc:
        raise InputError(str(exc)) from None
    result = {"participant": participant.pseudonym, "channel": req.channel}
    if req.channel == "telegram":
        token = new_token()
        async with stores.db.transaction() as tx:
            await store_token(
                tx, stores.ring, participant.id, token, now,
                timedelta(days=cfg.telegram.enrol_token_days),
            )  # fmt: skip
        result["token"] = token
        result["link"] = f"https://t.me/{cfg.telegram.bot_username}?start={token}"
    return result
