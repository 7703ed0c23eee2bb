"""``followup demo`` and ``followup chat``: a participant's side in the terminal.

Both read answers line by line from stdin (so piped input works) and end, with
exit code 0 and one line saying how, when the session ends or input runs out.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from datetime import date

import typer
from rich.console import Console

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.cli.common import (
    CliError,
    ConfigOption,
    PseudonymArgument,
    TimepointOption,
    config_or_exit,
    out,
    run,
)
from bot.cli.validate import check_timepoint
from bot.config import Config
from bot.datarights.access import log_access
from bot.enrolment.rules import EnrolmentError, enrol
from bot.runtime.app import App, open_app
from bot.store.consent import Consent
from bot.store.escalations import RaisedEscalation
from bot.store.participants import Participant
from bot.store.scope import Scope

DEMO_PROGRAMME = "demo"
#: The demo records a consent like staff would: no contact is ever made without one.
DEMO_CONSENT_VERSION = "demo-1"
OUTCOME_TEXT = {
    "completed": "completed: every answer saved",
    "safe_word": "safe word: session ended, chat cleared, contact paused",
    "duress": "duress word: looked like a normal end; URGENT escalation raised",
    "locked": "locked after wrong code words; contact paused, support service told",
    "later": "paused by her (LATER); she can carry on later",
    "snoozed": "not now: snoozed",
    "declined": "not this time (consent question): this timepoint ends, no reminders",
    "idle": "paused (idle)",
    "opted_out": "opted out (STOP)",
    "stopped": "she chose to stop after seeing the helpline",
    "expired": "expired",
    "withdrawn": "withdrawn from the study: no contact ever again",
}


DEMO_WORKER = "demo-wss"


def _digest_note(escalation: RaisedEscalation) -> str:
    """ROUTINE goes to the daily digest, so the demo says where it went."""
    return (
        f"[dim](WSS: {escalation.level} {escalation.code} {', '.join(escalation.reasons)}"
        " queued for the daily digest)[/]"
    )


async def _ensure_demo_programme(app: App) -> int:
    existing = await app.service.programmes.by_name(DEMO_PROGRAMME, Scope.installation())
    if existing:
        return existing.id
    async with app.db.transaction() as tx:
        now = app.service.clock.now()
        worker = await app.staff.by_name(DEMO_WORKER)
        if worker is None:
            # No Telegram id or phone: this worker's route is the console, printed in the demo.
            worker = await app.staff.add(tx, name=DEMO_WORKER, role="wss", language="en", now=now)
        programme_id = await app.service.programmes.add(
            tx,
            DEMO_PROGRAMME,
            app.service.clock.now(),
            timezone="Europe/London",
            language="en",
            helpline="the demo helpline on 0800 000 0000",
            emergency_number="999",
            sender_name="Sam",
        )
        await app.staff.set_routes(tx, programme_id, [worker.id], [])
        return programme_id


async def demo(
    config: Config,
    language: str,
    safe_word: str,
    code_word: str | None,
    duress_word: str | None,
    address: str | None = None,
) -> None:
    console = ConsoleChannel(out)
    app = await open_app(config, {"console": console}, clock=None)
    try:
        if app.key_file_created:
            out.print(
                f"[yellow]Created key file {config.security.key_file} (mode 0600). Keep it safe:"
                " without it the database cannot be read.[/]"
            )
        programme_id = await _ensure_demo_programme(app)
        address = address or f"console:{secrets.token_hex(8)}"
        try:
            participant = await enrol(
                app.stores,
                app.config,
                app.service.survey,
                programme_id=programme_id,
                channel="console",
                language=language,
                timezone="Europe/London",
                today=date.today(),
                now=app.service.clock.now(),
                consent=Consent(DEMO_CONSENT_VERSION, date.today(), "demo"),
                address=address,
                safe_word=safe_word,
                code_word=code_word,
                duress_word=duress_word,
                actor="demo",
            )
        except EnrolmentError as exc:
            raise CliError(str(exc)) from None
        out.print(f"Demo participant [bold]{participant.pseudonym}[/] (language {language})")
        out.print(f"  safe word: [bold]{safe_word}[/]  (ends everything at once, any time)")
        if code_word:
            out.print(f"  code word: [bold]{code_word}[/]  (asked before the first question)")
        if duress_word:
            out.print(f"  duress word: [bold]{duress_word}[/]  (looks normal, alerts the WSS)")
        out.print("  Type answers; SKIP, BACK and LATER work too. Ctrl-D ends.\n")
        await converse(app, participant, "T0", address)
    finally:
        await app.close()


async def chat(config: Config, pseudonym: str, timepoint: str) -> None:
    console = ConsoleChannel(out)
    app = await open_app(config, {"console": console})
    try:
        participant = await app.service.participants.by_pseudonym(pseudonym, Scope.installation())
        if participant is None:
            raise CliError(f"no participant with pseudonym {pseudonym}")
        if participant.channel != "console":
            raise CliError(
                f"{participant.pseudonym} is enrolled on {participant.channel}; chat works for console participants"
            )
        address = participant.address(app.ring)
        if address is None:
            raise CliError(f"{participant.pseudonym} has no contact details any more")
        await log_access(
            app.db,
            app.service.clock,
            "cli",
            "participant_chat_opened",
            participant.pseudonym,
            timepoint,
        )
        await converse(app, participant, timepoint, address)
    finally:
        await app.close()


async def converse(app: App, participant: Participant, timepoint: str, address: str) -> None:
    """Open the contact, then feed stdin lines until the session ends or input runs out."""
    report = await app.service.begin_contact(participant.id, timepoint)
    await app.dispatcher.drain_all()
    if report is None:
        out.print(
            f"Session ended: {participant.pseudonym} is {participant.status}; no contact made."
        )
        return
    if report.ended:
        out.print(f"Session ended: {OUTCOME_TEXT.get(report.state.outcome or '', 'ended')}")
        return
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            out.print("[bold green]you>[/] ", end="")
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            out.print(
                "\nSession ended: end of input (her place is kept; carry on with followup chat)"
            )
            return
        text = line.rstrip("\r\n")
        if not interactive:
            out.print(f"[bold green]you>[/] {_safe(text)}")
        result = await app.handle_inbound(Inbound("console", address, text))
        await app.dispatcher.drain_all()
        if result is None:
            continue
        for escalation in result.escalations:
            if escalation.level == "ROUTINE":
                out.print(_digest_note(escalation))
        if result.ended:
            out.print(f"Session ended: {OUTCOME_TEXT.get(result.state.outcome or '', 'ended')}")
            return


def _safe(text: str) -> str:
    return text.replace("[", r"\[")


__all__ = ["Console", "chat", "demo"]


def demo_command(
    language: str = typer.Option(
        "en", "--language", "-l", help="Her language (en, de, es, it, fr)."
    ),
    safe_word: str = typer.Option("pineapple", help="Safe word for the demo participant."),
    code_word: str = typer.Option("bluebird", help="Code word asked before the first question."),
    no_code_word: bool = typer.Option(False, "--no-code-word", help="Enrol without a code word."),
    duress_word: str = typer.Option("", help="Optional duress word."),
    address: str = typer.Option("", help="Her console address (default: a new random one)."),
    config: str | None = ConfigOption,
) -> None:
    """Enrol a demo participant and run T0 in the terminal (console channel, local SQLite)."""
    cfg = config_or_exit(config)
    run(
        lambda: demo(
            cfg,
            language,
            safe_word,
            None if no_code_word else code_word,
            duress_word or None,
            address or None,
        )
    )


def chat_command(
    pseudonym: str = PseudonymArgument,
    timepoint: str = TimepointOption,
    config: str | None = ConfigOption,
) -> None:
    """Chat in the terminal as an existing console participant."""
    check_timepoint(timepoint)
    cfg = config_or_exit(config)
    run(lambda: chat(cfg, pseudonym, timepoint))


def register(root: typer.Typer) -> None:
    """``followup demo`` and ``followup chat``."""
    root.command("demo")(demo_command)
    root.command("chat")(chat_command)
