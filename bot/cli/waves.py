"""``followup waves``, ``followup wave hold|release|send-now``, ``followup tick``.

These commands write to the database only; the running service (``followup run``)
sends what they queue, at each channel's rate limit and inside her windows.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, timedelta

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from bot.cli.common import CliError, ConfigOption, cli_scope, config_or_exit, fail, out, run
from bot.cli.validate import check_date
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.report import SweepReport
from bot.schedule.sweep import Sweep
from bot.schedule.waves import (
    COLUMNS,
    follow,
    is_held,
    list_waves,
    release_wave,
    send_now,
    wave_exists,
)
from bot.schedule.waves import Progress as OutboxProgress
from bot.schedule.waves import hold_wave as hold_wave_
from bot.store.waves import scheduled_count

wave_app = typer.Typer(help="One wave: hold, release, send now.", no_args_is_help=True)
ByOption = typer.Option(getpass.getuser(), "--by", help="Who does this (audit log).")
WaveId = typer.Argument(..., help="The wave id from `followup waves`, e.g. W1-T3-20270301.")
MAX_LINES = 200
HEADERS = {"scheduled": "sched.", "in_progress": "in prog.", "completed": "done",
           "unreachable": "unreach.", "opted_out": "opted out"}  # fmt: skip
DEFAULT_PAST_DAYS = 30


async def _opened(cfg: Config, clock: ManualClock | None = None) -> App:
    return await open_app(cfg, {}, clock=clock)


def _sweep(application: App) -> Sweep:
    return Sweep(application.stores, application.config, application.service)


# --- waves -------------------------------------------------------------------------


def waves_command(
    programme: str | None = typer.Option(None, "--programme", help="Only this programme."),
    first: str | None = typer.Option(
        None, "--from", help=f"Due on or after (default: {DEFAULT_PAST_DAYS} days ago)."
    ),
    last: str | None = typer.Option(None, "--to", help="Due on or before (default: no limit)."),
    config: str | None = ConfigOption,
) -> None:
    """Upcoming and running waves with counts by state."""
    cfg = config_or_exit(config)
    first_day, last_day = check_date(first, "--from"), check_date(last, "--to")
    if first_day and last_day and last_day < first_day:
        fail(f"--to ({last_day}) is before --from ({first_day})")
    if first_day is None:
        first_day = datetime.now(UTC).date() - timedelta(days=DEFAULT_PAST_DAYS)
    run(lambda: _waves(cfg, programme, first_day, last_day))


async def _waves(cfg: Config, programme: str | None, first: date, last: date | None) -> None:
    application = await _opened(cfg)
    try:
        if (
            programme
            and await application.stores.programmes.by_name(
                programme, await cli_scope(application.staff)
            )
            is None
        ):
            raise CliError(f"no programme named '{programme}' (see: followup programme list)")
        scope = await cli_scope(application.staff)
        waves = await list_waves(application.stores, scope, programme, first, last)
        headers = (Column(HEADERS.get(c, c), justify="right") for c in COLUMNS)
        table = Table(
            Column("wave", no_wrap=True), "programme", "tp", Column("due", no_wrap=True), *headers,
            box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
        )  # fmt: skip
        for w in waves:
            label = f"{w.wave_id} [yellow](held)[/]" if w.held else w.wave_id
            table.add_row(label, w.programme, w.timepoint, w.due.isoformat(),
                          *(str(w.counts.get(c, 0) or "") for c in COLUMNS))  # fmt: skip
        out.print(table if waves else "no waves in this range")
    finally:
        await application.close()


# --- hold / release / send-now -----------------------------------------------------------


@wave_app.command("hold")
def hold(wave_id: str = WaveId, by: str = ByOption, config: str | None = ConfigOption) -> None:
    """Hold a wave: its openers and reminders are not sent until it is released."""
    cfg = config_or_exit(config)
    run(lambda: _hold_or_release(cfg, wave_id, by, hold=True))


@wave_app.command("release")
def release(wave_id: str = WaveId, by: str = ByOption, config: str | None = ConfigOption) -> None:
    """Release a held wave: contacts go out at each partner's next safe window."""
    cfg = config_or_exit(config)
    run(lambda: _hold_or_release(cfg, wave_id, by, hold=False))


async def _hold_or_release(cfg: Config, wave_id: str, by: str, *, hold: bool) -> None:
    application = await _opened(cfg)
    try:
        change = hold_wave_ if hold else release_wave
        scope = await cli_scope(application.staff)
        if not await change(application.stores, wave_id, by, scope):
            raise CliError(f"no wave '{wave_id}' (see: followup waves)")
        out.print(f"wave {wave_id} {'held' if hold else 'released'}")
    finally:
        await application.close()


@wave_app.command("send-now")
def send_now_command(
    wave_id: str = WaveId,
    follow_outbox: bool = typer.Option(
        True, "--follow/--no-follow", help="Show a progress bar until the outbox has sent them."
    ),
    give_up_after: float | None = typer.Option(
        None, "--follow-seconds", help="Stop watching after this many seconds."
    ),
    by: str = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Contact a wave now instead of on its due date - but only inside each partner's safe
    window and never in quiet hours: the others go out when their next window opens."""
    cfg = config_or_exit(config)
    run(lambda: _send_now(cfg, wave_id, by, follow_outbox, give_up_after))


async def _send_now(
    cfg: Config, wave_id: str, by: str, follow_outbox: bool, give_up_after: float | None
) -> None:
    application = await _opened(cfg)
    try:
        stores = application.stores
        if not await wave_exists(stores, wave_id, await cli_scope(application.staff)):
            raise CliError(f"no wave '{wave_id}' (see: followup waves)")
        if await is_held(stores, wave_id):
            raise CliError(f"wave {wave_id} is held; release it first (followup wave release)")
        report = await send_now(stores, _sweep(application), wave_id, by)
        keys = [a.key for a in report.actions if a.done and a.key]
        later = await scheduled_count(stores.db, wave_id)
        out.print(
            f"wave {wave_id}: {len(keys)} contact(s) queued now (inside their safe window);"
            f" {later} wait for their next window (sent by the running service);"
            f" enqueued in {report.seconds:.2f} s"
        )
        if keys and follow_outbox:
            out.print("following the outbox: `followup run` sends at each channel's rate limit")
            await _progress(application, keys, give_up_after)
    finally:
        await application.close()


async def _progress(application: App, keys: list[str], give_up_after: float | None) -> None:
    columns = (
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out, transient=False) as bar:
        task = bar.add_task("wave", total=len(keys), note="")

        def update(p: OutboxProgress) -> None:
            note = f"{p.failed} not sent (window closed or failed)" if p.failed else ""
            bar.update(task, completed=p.done, note=note)

        result = await follow(application.stores, keys, update, give_up_after=give_up_after)
    if result.done < result.total:
        out.print(f"{result.total - result.done} still queued; the service sends them")


# --- tick --------------------------------------------------------------------------------


def _parse_at(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--at must be an ISO time such as 2027-03-01T10:00+01:00, got '{value}'")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def tick_command(
    at: str | None = typer.Option(
        None, "--at", help="Sweep as if it were this time (ISO; no offset means UTC)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be sent; write nothing."
    ),
    config: str | None = ConfigOption,
) -> None:
    """Run one sweep now and print what it queued (or, with --dry-run, would queue)."""
    cfg = config_or_exit(config)
    moment = _parse_at(at) if at is not None else None
    if moment is not None and not dry_run and moment < datetime.now(UTC) - timedelta(minutes=1):
        fail(
            "--at in the past needs --dry-run: a message queued now would go out at a time"
            " that was never checked against her windows"
        )
    run(lambda: _tick(cfg, moment, dry_run))


async def _tick(cfg: Config, moment: datetime | None, dry_run: bool) -> None:
    application = await _opened(cfg, ManualClock(moment) if moment else None)
    try:
        report = await _sweep(application).run(dry_run=dry_run)
        print_report(report)
    finally:
        await application.close()


def print_report(report: SweepReport) -> None:
    verb = "would" if report.dry_run else "did"
    out.print(
        f"sweep at {report.now:%Y-%m-%d %H:%M:%S} UTC{' (dry run)' if report.dry_run else ''}"
    )
    for action in report.actions[:MAX_LINES]:
        status = verb if report.dry_run or action.done else "skipped"
        out.print(
            f"  {status:7} {action.action:11} {action.pseudonym} {action.timepoint}"
            f"  at {action.local}  {action.wave_id or ''}"
        )
    if len(report.actions) > MAX_LINES:
        out.print(f"  ... and {len(report.actions) - MAX_LINES} more")
    kinds: dict[str, int] = {}
    for action in report.actions:
        kind = action.action.split(" ")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = ", ".join(f"{n} {_plural(k, n)}" for k, n in sorted(kinds.items())) or "nothing due"
    out.print(f"{summary}; {report.waiting} waiting for a later time; {report.seconds:.2f} s")


#: Action kinds that are nouns take a plural ("2 openers"); the others are states ("2 held").
NOUN_PLURALS = {"opener": "openers", "reminder": "reminders"}


def _plural(kind: str, count: int) -> str:
    return NOUN_PLURALS.get(kind, kind) if count != 1 else kind


def register(root: typer.Typer) -> None:
    """Add these commands to ``followup``."""
    root.command("waves")(waves_command)
    root.add_typer(wave_app, name="wave")
    root.command("tick")(tick_command)
