"""``followup participant show|set``, ``dropout``, ``complete``, ``pause``, ``resume``.

Staff see her schedule and status, never her answers; every view and change is in
the audit log with who did it. Only ``resume`` makes a paused, opted-out or
unreachable partner active again (DESIGN §1.7). Bad input: one line, exit 2.
"""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.cli.common import (
    CliError,
    ConfigOption,
    PseudonymArgument,
    cli_scope,
    config_or_exit,
    fail,
    out,
    run,
)
from bot.cli.validate import check_date, check_timezone, check_window
from bot.clock import parse_iso
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.plans import DateError, replan_participant
from bot.schedule.settings import ProgrammeRules, describe, quiet_hours, rules_for
from bot.store.db import Transaction
from bot.store.housekeeping import audit
from bot.store.outbox import lane_of
from bot.store.participant_plan import forget_decisions, planned_timepoints
from bot.store.participants import Participant, Participants, ProgrammeEnd
from conversations.vocabulary import ParticipantStatus
from scheduler.windows import DEFAULT_SPEC, WindowError, parse_windows, validate_windows

app = typer.Typer(help="One partner: schedule, dates, safe window.", no_args_is_help=True)

ByOption = typer.Option(getpass.getuser(), "--by", help="Who does this (audit log).")
#: Statuses only staff may turn back into 'active'.
RESUMABLE = (
    ParticipantStatus.PAUSED,
    ParticipantStatus.OPTED_OUT,
    ParticipantStatus.UNREACHABLE,
)

Action = Callable[[App, Participant, Transaction, datetime], Awaitable[str]]


async def _with_participant(cfg: Config, pseudonym: str, action: Action) -> None:
    """Open the app, find her, run ``action`` in one transaction, print its line."""
    application = await open_app(cfg, {})
    try:
        participant = await application.service.participants.by_pseudonym(
            pseudonym, await cli_scope(application.staff)
        )
        if participant is None:
            raise CliError(f"no participant with pseudonym '{pseudonym}'")
        now = application.service.clock.now()
        try:
            async with application.db.transaction() as tx:
                message = await action(application, participant, tx, now)
        except DateError as exc:
            raise CliError(f"{participant.pseudonym}: {exc}; nothing changed") from None
        if message:
            out.print(message)
    finally:
        await application.close()


async def _rules(application: App, participant: Participant) -> ProgrammeRules:
    programme = await application.service.programmes.get(participant.programme_id)
    return rules_for(application.config, programme)


# --- show ---------------------------------------------------------------------------


@app.command("show")
def show(
    pseudonym: str = PseudonymArgument, by: str = ByOption, config: str | None = ConfigOption
) -> None:
    """Her status, zone, window and the schedule and state of each timepoint (no answers)."""
    cfg = config_or_exit(config)
    run(lambda: _with_participant(cfg, pseudonym, lambda *a: _show(*a, by=by)))


def _local(value: str | None, zone: ZoneInfo) -> str:
    return parse_iso(value).astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z") if value else ""


async def _show(
    application: App, participant: Participant, tx: Transaction, now: datetime, *, by: str
) -> str:
    programme = await application.service.programmes.get(participant.programme_id)
    row = participant.row
    zone = ZoneInfo(participant.timezone)
    window = participant.windows(application.ring) or f"{DEFAULT_SPEC} (default)"
    reason = f" ({row['status_reason']})" if row["status_reason"] else ""
    out.print(
        f"[bold]{participant.pseudonym}[/]  programme {programme.name}  channel"
        f" {participant.channel}{'' if participant.linked else ' (not linked yet)'}"
        f"  language {participant.language}  status [bold]{participant.status}[/]{reason}"
    )
    out.print(f"her time zone {participant.timezone}; safe window: {window}")
    dates = [
        f"{label} {row[column]}"
        for label, column in (
            ("enrolled", "enrolled_on"),
            ("start", "start_on"),
            ("end", "end_on"),
            ("drop-out", "dropout_on"),
            ("completed", "completed_on"),
        )
        if row[column]
    ]
    out.print("programme dates: " + ", ".join(dates))
    out.print(f"rules: {describe(rules_for(application.config, programme))}")
    table = Table("timepoint", "due", "state", "wave", "contacted (her time)", "reminders",
                  "next look (her time)")  # fmt: skip
    for tp in await planned_timepoints(tx, participant.id):
        table.add_row(
            tp.timepoint,
            tp.due_on or "-",
            tp.state + (" (wave held)" if tp.wave_held else ""),
            tp.wave_id or "",
            _local(tp.first_sent_at, zone),
            str(tp.reminders_sent),
            _local(tp.next_action_at or tp.snoozed_until, zone),
        )
    out.print(table)
    await audit(tx, now, f"cli:{by}", "participant_viewed", participant.pseudonym)
    return ""


# --- set ----------------------------------------------------------------------------


@app.command("set")
def set_(
    pseudonym: str = PseudonymArgument,
    start: str | None = typer.Option(None, "--start", help="Programme start YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--end", help="Programme end YYYY-MM-DD."),
    window: str | None = typer.Option(
        None, "--window", help="Her safe windows, e.g. 'mon-fri 09:00-13:00; sat 10:00-12:00'."
    ),
    timezone: str | None = typer.Option(None, "--timezone", help="Her IANA time zone."),
    by: str = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Change her programme dates, safe window or time zone; re-plans what has not happened."""
    cfg = config_or_exit(config)
    start_on, end_on = check_date(start, "--start"), check_date(end, "--end")
    if start_on and end_on and end_on < start_on:
        fail(f"--end ({end_on}) is before --start ({start_on})")
    if timezone is not None:
        check_timezone(timezone)
    if window is not None:
        check_window(window, quiet_hours(cfg))
    if start is None and end is None and window is None and timezone is None:
        fail("nothing to set (give --start, --end, --window or --timezone)")

    async def action(
        application: App, participant: Participant, tx: Transaction, now: datetime
    ) -> str:
        rules = await _rules(application, participant)
        participants = application.stores.participants
        if window is not None:
            try:
                validate_windows(parse_windows(window), rules.quiet)
            except WindowError as exc:
                raise CliError(f"--window: {exc}") from None
            await participants.set_windows(tx, participant.id, window)
        if timezone is not None:
            await participants.set_timezone(tx, participant.id, timezone)
        await participants.set_programme_dates(tx, participant.id, start_on, end_on)
        plan = await replan_participant(tx, participant.id, rules.offsets)
        await forget_decisions(tx, participant.id)
        what = [
            name
            for name, v in (("start", start), ("end", end), ("window", window), ("zone", timezone))
            if v is not None
        ]
        await audit(tx, now, f"cli:{_by(by)}", "participant_changed", participant.pseudonym,
                    ",".join(what))  # fmt: skip
        return f"{participant.pseudonym}: {', '.join(what)} changed; plan {_plan_text(plan)}"

    run(lambda: _with_participant(cfg, pseudonym, action))


def _by(by: str) -> str:
    return by or "unknown"


def _plan_text(plan: dict[str, date | None]) -> str:
    return ", ".join(f"{tp} {d.isoformat() if d else '-'}" for tp, d in plan.items())


# --- drop-out, completion -------------------------------------------------------------


def dropout_command(
    pseudonym: str = PseudonymArgument,
    when: str | None = typer.Option(None, "--date", help="Drop-out date (default: today)."),
    by: str = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Record that he left the programme: T3 is due at once, T4 per programme policy."""
    cfg = config_or_exit(config)
    day = check_date(when, "--date")

    async def action(
        application: App, participant: Participant, tx: Transaction, now: datetime
    ) -> str:
        rules = await _rules(application, participant)
        dropout = day or now.astimezone(rules.zone).date()  # today where the programme is
        plan = await _record_end(
            application.stores.participants, tx, participant, "dropout", dropout, rules, now, by
        )
        return f"{participant.pseudonym}: drop-out {dropout}; plan {_plan_text(plan)}"

    run(lambda: _with_participant(cfg, pseudonym, action))


#: How his programme ended -> the audit action recording it.
_END_ACTIONS: dict[ProgrammeEnd, str] = {
    "dropout": "dropout_recorded",
    "completion": "completion_recorded",
}


async def _record_end(
    participants: Participants,
    tx: Transaction,
    participant: Participant,
    how: ProgrammeEnd,
    day: date,
    rules: ProgrammeRules,
    now: datetime,
    by: str,
) -> dict[str, date | None]:
    """Drop-out or completion: store the date, re-plan T3/T4, forget cached decisions, audit."""
    await participants.set_programme_end(tx, participant.id, how, day)
    plan = await replan_participant(tx, participant.id, rules.offsets)
    await forget_decisions(tx, participant.id)
    await audit(tx, now, f"cli:{_by(by)}", _END_ACTIONS[how], participant.pseudonym,
                day.isoformat())  # fmt: skip
    return plan


def complete_command(
    pseudonym: str = PseudonymArgument,
    when: str = typer.Option(..., "--date", help="Date he completed the programme."),
    by: str = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Record that he completed the programme: T3 on that date, T4 the offset later."""
    cfg = config_or_exit(config)
    day = check_date(when, "--date")
    assert day is not None

    async def action(
        application: App, participant: Participant, tx: Transaction, now: datetime
    ) -> str:
        rules = await _rules(application, participant)
        plan = await _record_end(
            application.stores.participants, tx, participant, "completion", day, rules, now, by
        )
        return f"{participant.pseudonym}: completed {day}; plan {_plan_text(plan)}"

    run(lambda: _with_participant(cfg, pseudonym, action))


# --- pause, resume ----------------------------------------------------------------------


def pause_command(
    pseudonym: str = PseudonymArgument,
    reason: str = typer.Option("staff", "--reason", help="A short code, e.g. 'wss_advice'."),
    by: str = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Stop contacting her now; queued messages are cancelled. Only ``resume`` restarts."""
    cfg = config_or_exit(config)

    async def action(
        application: App, participant: Participant, tx: Transaction, now: datetime
    ) -> str:
        if participant.status != ParticipantStatus.ACTIVE:
            return f"{participant.pseudonym} is {participant.status}; nothing changed"
        await application.service.participants.set_status(
            tx, participant.id, ParticipantStatus.PAUSED, reason, now
        )
        cancelled = await application.service.outbox.cancel_lane(
            tx, lane_of(participant.id), ("message",)
        )
        await audit(tx, now, f"cli:{_by(by)}", "contact_paused", participant.pseudonym, reason)
        return f"{participant.pseudonym}: contact paused ({cancelled} queued message(s) cancelled)"

    run(lambda: _with_participant(cfg, pseudonym, action))


def resume_command(
    pseudonym: str = PseudonymArgument, by: str = ByOption, config: str | None = ConfigOption
) -> None:
    """Make a paused, opted-out or unreachable partner active again (staff only; audited)."""
    cfg = config_or_exit(config)

    async def action(
        application: App, participant: Participant, tx: Transaction, now: datetime
    ) -> str:
        if participant.status == ParticipantStatus.ACTIVE:
            return f"{participant.pseudonym} is active already; nothing changed"
        if participant.status not in RESUMABLE:
            raise CliError(f"{participant.pseudonym} is {participant.status}; cannot be resumed")
        await application.service.participants.set_status(
            tx, participant.id, ParticipantStatus.ACTIVE, None, now
        )
        await forget_decisions(tx, participant.id)
        await audit(tx, now, f"cli:{_by(by)}", "contact_resumed", participant.pseudonym,
                    f"was {participant.status}")  # fmt: skip
        return f"{participant.pseudonym}: contact resumed (was {participant.status})"

    run(lambda: _with_participant(cfg, pseudonym, action))


def register(root: typer.Typer) -> None:
    """Add these commands to ``followup``."""
    root.add_typer(app, name="participant")
    root.command("dropout")(dropout_command)
    root.command("complete")(complete_command)
    root.command("pause")(pause_command)
    root.command("resume")(resume_command)
