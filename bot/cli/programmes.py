"""``followup programme add|list|set``: programmes, their timepoint offsets, contact policy
and quiet hours (stored in ``programmes.settings``; defaults from DESIGN §5)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer
from rich.table import Table

from bot.cli.common import (
    CliError,
    ConfigOption,
    cli_scope,
    config_or_exit,
    err,
    fail,
    out,
    refuse_acting_as,
    run,
)
from bot.cli.validate import check_language, check_timezone
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.plans import replan_participant
from bot.schedule.settings import SettingsError, build_rules, describe, parse_quiet, rules_for
from bot.store.housekeeping import audit
from bot.store.organisations import OrganisationError
from bot.store.participant_plan import forget_programme_decisions
from bot.store.participants import Programme
from bot.store.programme_settings import save_settings
from bot.store.scope import Scope
from conversations.neutral import revealing_in_any
from scheduler.windows import WindowError, parse_windows, validate_windows

app = typer.Typer(help="Programmes: time zone, language, helpline.", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Option(..., "--name", help="Short unique name, e.g. berlin-2027."),
    timezone: str = typer.Option(..., "--timezone", help="IANA zone, e.g. Europe/Berlin."),
    language: str = typer.Option("en", "--language", help="Default language of its partners."),
    helpline: str = typer.Option(
        "", "--helpline", help="Helpline shown to her on risk, e.g. 'Frauenhelpline 08000 116 016'."
    ),
    emergency_number: str = typer.Option("112", "--emergency-number"),
    sender_name: str = typer.Option(
        "Sam", "--sender-name", help="Neutral name in openers ('Hi, it's Sam')."
    ),
    org: str | None = typer.Option(
        None, "--org", help="Its organisation (needed once there is more than one)."
    ),
    config: str | None = ConfigOption,
) -> None:
    """Add a programme."""
    refuse_acting_as("programme add")
    cfg = config_or_exit(config)
    check_timezone(timezone)
    check_language(language)
    check_sender_name(sender_name)
    run(lambda: _add(cfg, name, timezone, language, helpline, emergency_number, sender_name, org))


def check_sender_name(name: str) -> None:
    """The name opens every message she gets: nothing in it may hint at the programme."""
    if not name.strip():
        fail("--sender-name must not be empty")
    found = revealing_in_any(name)
    if found:
        language, stem = found[0]
        fail(
            f"--sender-name '{name}' contains '{stem}', which can give her away ({language});"
            " choose an ordinary first name, e.g. 'Sam'"
        )


async def _add(
    cfg: Config,
    name: str,
    tz: str,
    language: str,
    helpline: str,
    emergency: str,
    sender: str,
    org: str | None,
) -> None:
    application = await open_app(cfg, {})
    try:
        service = application.service
        if await service.programmes.by_name(name, Scope.installation()):
            raise CliError(f"a programme named '{name}' exists already")
        try:
            organisation_id = (
                None if org is None else (await application.stores.organisations.named([org]))[0].id
            )
            now = service.clock.now()
            async with application.db.transaction() as tx:
                await service.programmes.add(
                    tx, name, now, timezone=tz, language=language, helpline=helpline,
                    emergency_number=emergency, sender_name=sender,
                    organisation_id=organisation_id,
                )  # fmt: skip
                await audit(tx, now, "cli", "programme_added", name, org)
        except OrganisationError as exc:
            raise CliError(str(exc)) from None
        out.print(f"programme {name} added ({tz}, {language}{f'; {org}' if org else ''})")
    finally:
        await application.close()


@app.command("list")
def list_(config: str | None = ConfigOption) -> None:
    """List programmes."""
    cfg = config_or_exit(config)
    run(lambda: _list(cfg))


async def _list(cfg: Config) -> None:
    application = await open_app(cfg, {})
    try:
        table = Table(
            "name", "organisation", "time zone", "language", "helpline", "emergency", "partners",
            "schedule",
        )  # fmt: skip
        stores = application.stores
        organisations = {o.id: o.name for o in await stores.organisations.all()}
        for p in await stores.programmes.all(await cli_scope(application.staff)):
            partners = await stores.participants.count_in_programme(p.id)
            try:
                schedule = describe(rules_for(cfg, p))
            except SettingsError as exc:
                schedule = f"[red]unusable settings: {exc}[/]"
            table.add_row(p.name, organisations.get(p.organisation_id, "?"), p.timezone,
                          p.language, p.helpline, p.emergency_number, str(partners),
                          schedule)  # fmt: skip
        out.print(table)
    finally:
        await application.close()


@app.command("set")
def set_(
    name: str = typer.Argument(..., help="The programme's name."),
    t0_days: int | None = typer.Option(None, "--t0-days", help="T0 N days after enrolment."),
    t1_days: int | None = typer.Option(None, "--t1-days", help="T1 N days after the start."),
    gap_days: int | None = typer.Option(
        None, "--min-gap-days", help="At least N days between timepoints (default 14)."
    ),
    t4_days: int | None = typer.Option(None, "--t4-days", help="T4 N days after the end (182)."),
    t4_after_dropout: bool | None = typer.Option(
        None, "--t4-after-dropout/--no-t4-after-dropout", help="T4 also after a drop-out?"
    ),
    reminders: str | None = typer.Option(
        None, "--reminders", help="Reminder days after the opener, e.g. 1,3 ('none': no reminder)."
    ),
    expiry_days: int | None = typer.Option(
        None, "--expiry-days", help="Give up (missed) N days after the opener (7)."
    ),
    quiet: str | None = typer.Option(
        None, "--quiet", help="Quiet hours, e.g. 21:00-08:00 ('default': the config's)."
    ),
    pool: str | None = typer.Option(
        None, "--pool", help="yes or no: its figures go into the network's pooled report."
    ),
    by: str = typer.Option(getpass.getuser(), "--by", help="Who makes the change (audit log)."),
    config: str | None = ConfigOption,
) -> None:
    """Set a programme's timepoint offsets, reminders, expiry, quiet hours and pooling.

    Timepoints that have not happened yet are re-planned at once; nothing else moves.
    """
    cfg = config_or_exit(config)
    offsets = {
        k: v
        for k, v in (
            ("t0_days_after_enrol", t0_days),
            ("t1_days_after_start", t1_days),
            ("min_days_between", gap_days),
            ("t4_days_after_end", t4_days),
            ("t4_after_dropout", t4_after_dropout),
        )
        if v is not None
    }
    contact: dict[str, Any] = {}
    if reminders is not None:
        contact["reminder_after_days"] = _reminder_days(reminders)
    if expiry_days is not None:
        contact["expiry_days"] = expiry_days
    if quiet is not None and quiet != "default":
        try:
            parse_quiet(quiet)
        except SettingsError as exc:
            fail(f"--quiet: {exc}")
    if pool is not None and pool not in ("yes", "no"):
        fail(f"--pool must be yes or no, got '{pool}'")
    if not offsets and not contact and quiet is None and pool is None:
        fail("nothing to set (see: followup programme set --help)")
    pooled = None if pool is None else pool == "yes"
    run(lambda: _set(cfg, name, offsets, contact, quiet, by, pooled))


def _reminder_days(text: str) -> list[int]:
    if text.strip().lower() == "none":
        return []
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        fail(f"--reminders must be whole days separated by commas (e.g. 1,3), got '{text}'")


async def _set(
    cfg: Config,
    name: str,
    offsets: dict[str, Any],
    contact: dict[str, Any],
    quiet: str | None,
    by: str,
    pool: bool | None,
) -> None:
    application = await open_app(cfg, {})
    try:
        programme = await application.service.programmes.by_name(
            name, await cli_scope(application.staff)
        )
        if programme is None:
            raise CliError(f"no programme named '{name}' (see: followup programme list)")
        settings = dict(programme.settings)
        settings["offsets"] = {**settings.get("offsets", {}), **offsets}
        settings["contact"] = {**settings.get("contact", {}), **contact}
        if quiet == "default":
            settings.pop("quiet", None)
        elif quiet is not None:
            settings["quiet"] = quiet
        if pool is not None:
            settings["pool"] = pool  # read by the pooled network report (issue 18 part 5)
        try:
            rules = build_rules(cfg, programme.timezone, settings)
        except SettingsError as exc:
            raise CliError(str(exc)) from None
        now = application.service.clock.now()
        stores = application.stores
        async with application.db.transaction() as tx:
            await save_settings(tx, programme.id, settings)
            members = await stores.participants.ids_in_programme(tx, programme.id)
            for member in members:
                await replan_participant(tx, member, rules.offsets)
            await forget_programme_decisions(tx, programme.id)
            await audit(tx, now, f"cli:{by}", "programme_settings_changed", name,
                        json.dumps({"offsets": offsets, "contact": contact, "quiet": quiet,
                                    "pool": pool}))  # fmt: skip
        out.print(f"programme {name}: {describe(rules)}")
        out.print(f"{len(members)} partner(s) re-planned (timepoints not yet begun)")
        await _warn_unusable_windows(application, programme, rules.quiet)
    finally:
        await application.close()


async def _warn_unusable_windows(application: App, programme: Programme, quiet: Any) -> None:
    """New quiet hours may swallow a partner's window: she could never be contacted."""
    blocked = []
    for participant in await application.service.participants.in_programme(programme.id):
        try:
            validate_windows(parse_windows(participant.windows(application.ring)), quiet)
        except WindowError:
            blocked.append(participant.pseudonym)
    if blocked:
        err.print(
            f"[yellow]warning:[/] the windows of {', '.join(blocked)} lie inside quiet hours"
            f" {quiet}; they cannot be contacted until their window is changed"
            " (followup participant set P-XXXXX --window ...)"
        )


def register(root: typer.Typer) -> None:
    """``followup programme ...``."""
    root.add_typer(app, name="programme")
