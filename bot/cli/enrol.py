"""``followup enrol``: add a partner to a programme on one channel.

Telegram: prints a one-time deep link (a bot cannot write first). SMS: the
number is validated and stored sealed. Bad input: one line, exit 2, nothing stored.
"""

from __future__ import annotations

import json

import typer

from bot.cli.common import CliError, ConfigOption, cli_scope, config_or_exit, err, fail, out, run
from bot.cli.secret_input import SecretInput
from bot.config import Config
from bot.enrolment.requests import EnrolRequest, consent_record, enrol_request, parse_request
from bot.enrolment.validation import InputError
from bot.runtime.app import open_app


def enrol_command(
    programme: str = typer.Option(..., "--programme", help="Programme name."),
    channel: str = typer.Option(..., "--channel", help="telegram, sms or console."),
    language: str | None = typer.Option(
        None, "--language", help="Her language (default: the programme's)."
    ),
    phone: str | None = typer.Option(
        None, "--phone", help="Her mobile number (SMS); '-' to type it hidden or pipe it."
    ),
    safe_word: str | None = typer.Option(
        None, "--safe-word", help="Ends everything at once; '-' to type it hidden or pipe it."
    ),
    code_word: str | None = typer.Option(
        None, "--code-word", help="Asked before the first question; '-' as for --safe-word."
    ),
    duress_word: str | None = typer.Option(
        None, "--duress-word", help="Looks normal; raises URGENT; '-' as for --safe-word."
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
    """Enrol a partner; prints her pseudonym (and, for Telegram, her one-time link).

    Secrets given as '-' are asked at a hidden prompt, or read from stdin one line each
    in this order: phone, safe word, code word, duress word.
    """
    cfg = config_or_exit(config)
    try:
        asked = SecretInput()
        phone = asked.value("--phone", phone, "Her mobile number")
        safe_word = asked.value("--safe-word", safe_word, "Her safe word")
        code_word = asked.value("--code-word", code_word, "Her code word")
        duress_word = asked.value("--duress-word", duress_word, "Her duress word")
    except CliError as exc:
        fail(str(exc))
    try:
        consent = consent_record(consent_version, consent_date, consent_by)
        request = parse_request(
            cfg, programme=programme, channel=channel, language=language, timezone=timezone,
            phone=phone, safe_word=safe_word, code_word=code_word, duress_word=duress_word,
            start=start, end=end, window=window, consent=consent,
        )  # fmt: skip
    except InputError as exc:
        fail(str(exc))
    result = run(lambda: _enrol(cfg, request))
    asked.warn()
    if not safe_word:
        err.print("[yellow]warning:[/] no safe word set; she can still leave with STOP")
    if as_json:
        out.print_json(json.dumps(result))
        return
    out.print(f"enrolled [bold]{result['participant']}[/] on {channel}")
    if "link" in result:
        out.print(f"one-time link (valid {cfg.telegram.enrol_token_days} days): {result['link']}")


async def _enrol(cfg: Config, req: EnrolRequest) -> dict[str, str]:
    application = await open_app(cfg, {})
    try:
        scope = await cli_scope(application.staff)
        return await enrol_request(
            application.stores, application.config, application.service.survey, req, "cli", scope
        )
    except InputError as exc:
        raise CliError(str(exc)) from None
    finally:
        await application.close()


def register(root: typer.Typer) -> None:
    """``followup enrol``."""
    root.command("enrol")(enrol_command)
