"""``followup enrol``: add a partner to a programme on one channel.

Telegram: prints a one-time deep link (a bot cannot write first). SMS: the
number is validated and stored sealed. Bad input: one line, exit 2, nothing stored.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import typer

from bot.app import open_app
from bot.cli.common import CliError, ConfigOption, config_or_exit, err, fail, out, run
from bot.cli.validate import check_date, check_language, check_phone, check_timezone, check_window
from bot.config import Config
from bot.enrol_tokens import new_token, store_token
from bot.enrolment import EnrolmentError, enrol
from bot.scheduling import quiet_hours
from bot.store.consent import Consent

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


def enrol_command(
    programme: str = typer.Option(..., "--programme", help="Programme name."),
    channel: str = typer.Option(..., "--channel", help="telegram, sms or console."),
    language: str | None = typer.Option(
        None, "--language", help="Her language (default: the programme's)."
    ),
    phone: str | None = typer.Option(None, "--phone", help="Her mobile number (SMS)."),
    safe_word: str | None = typer.Option(None, "--safe-word", help="Ends everything at once."),
    code_word: str | None = typer.Option(
        None, "--code-word", help="Asked before the first question."
    ),
    duress_word: str | None = typer.Option(
        None, "--duress-word", help="Looks normal; raises URGENT."
    ),
    start: str | None = typer.Option(None, "--start", help="Programme start date YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--end", help="Programme end date YYYY-MM-DD."),
    window: str = typer.Option(
        "", "--window", help="Safe contact windows, e.g. 'mon-fri 09:00-13:00; sat 10:00-12:00'."
    ),
    timezone: str | None = typer.Option(
        None, "--timezone", help="Her time zone (default: the programme's)."
    ),
    consent_version: str | None = typer.Option(
        None, "--consent-version", help="Version of the consent text she agreed to (required)."
    ),
    consent_date: str | None = typer.Option(
        None, "--consent-date", help="Date she consented, YYYY-MM-DD (required)."
    ),
    consent_by: str | None = typer.Option(
        None, "--consent-by", help="Staff member who recorded her consent (required)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    config: str | None = ConfigOption,
) -> None:
    """Enrol a partner; prints her pseudonym (and, for Telegram, her one-time link)."""
    cfg = config_or_exit(config)
    consent = _consent(consent_version, consent_date, consent_by)
    if channel not in CHANNELS:
        fail(f"--channel must be one of {', '.join(CHANNELS)}, got '{channel}'")
    if language is not None:
        check_language(language)
    if timezone is not None:
        check_timezone(timezone)
    start_on, end_on = check_date(start, "--start"), check_date(end, "--end")
    if start_on and end_on and end_on < start_on:
        fail(f"--end ({end_on}) is before --start ({start_on})")
    if window:
        check_window(window, quiet_hours(cfg))
    address = None
    if channel == "sms":
        if not phone:
            fail("--phone is required for --channel sms")
        address = check_phone(phone, cfg.sms.default_region)
    elif phone:
        fail("--phone is only for --channel sms")
    if channel == "console":
        address = f"console:{secrets.token_hex(8)}"  # so `followup chat` and the sweep reach her
    if channel == "telegram" and not cfg.telegram.bot_username:
        fail(f"{cfg.source}: key 'telegram.bot_username' is empty; it is needed for the link")
    request = EnrolRequest(
        programme, channel, language, timezone, address, safe_word, code_word, duress_word,
        start_on, end_on, window, consent,
    )  # fmt: skip
    result = run(lambda: _enrol(cfg, request))
    if not safe_word:
        err.print("[yellow]warning:[/] no safe word set; she can still leave with STOP")
    if as_json:
        out.print_json(json.dumps(result))
        return
    out.print(f"enrolled [bold]{result['participant']}[/] on {channel}")
    if "link" in result:
        out.print(f"one-time link (valid {cfg.telegram.enrol_token_days} days): {result['link']}")


def _consent(version: str | None, on: str | None, by: str | None) -> Consent:
    """No enrolment without a consent record: all three options, or exit 2 with nothing stored."""
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
        fail(f"no consent recorded: {', '.join(missing)} required (nothing was stored)")
    assert version and by
    consented_on = check_date(on, "--consent-date")
    assert consented_on is not None
    return Consent(version.strip(), consented_on, by.strip())


async def _enrol(cfg: Config, req: EnrolRequest) -> dict[str, str]:
    application = await open_app(cfg, {})
    try:
        service = application.service
        programme = await service.programmes.by_name(req.programme)
        if programme is None:
            raise CliError(f"no programme named '{req.programme}' (see: followup programme list)")
        if req.phone and await service.participants.by_address("sms", req.phone):
            raise CliError("this number is already enrolled")
        now = service.clock.now()
        try:
            participant = await enrol(
                service, programme_id=programme.id, channel=req.channel,
                language=req.language or programme.language,
                timezone=req.timezone or programme.timezone,
                today=now.astimezone(ZoneInfo(programme.timezone)).date(), now=now,
                address=req.phone, safe_word=req.safe_word, code_word=req.code_word,
                duress_word=req.duress_word, windows=req.window, start_on=req.start,
                end_on=req.end, actor="cli", consent=req.consent,
            )  # fmt: skip
        except EnrolmentError as exc:
            raise CliError(str(exc)) from None
        result = {"participant": participant.pseudonym, "channel": req.channel}
        if req.channel == "telegram":
            token = new_token()
            async with application.db.transaction() as tx:
                await store_token(
                    tx, application.ring, participant.id, token, now,
                    timedelta(days=cfg.telegram.enrol_token_days),
                )  # fmt: skip
            result["token"] = token
            result["link"] = f"https://t.me/{cfg.telegram.bot_username}?start={token}"
        return result
    finally:
        await application.close()
