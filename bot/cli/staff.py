"""``followup staff add|list|set-orgs`` and ``followup programme set-routes``: who is told
about risk. A route never reaches outside the programme's organisation."""

from __future__ import annotations

import re

import typer
from rich.table import Table

from bot.cli import programmes
from bot.cli.common import CliError, ConfigOption, cli_scope, config_or_exit, fail, out, run
from bot.cli.validate import check_language, check_phone
from bot.config import Config
from bot.escalation.timings import timings_for
from bot.runtime.app import App, open_app
from bot.store.housekeeping import audit
from bot.store.organisations import OrganisationError
from bot.store.participants import Programme
from bot.store.programme_settings import save_settings
from bot.store.scope import ORGANISATION_ROLES, Scope
from bot.store.staff import ROLES, StaffError, StaffMember

app = typer.Typer(help="Staff who receive and act on escalations.", no_args_is_help=True)
OrgOption = typer.Option(
    None, "--org", help="An organisation they work in (repeatable; needed once there are several)."
)


@app.command("add")
def add(
    name: str = typer.Option(..., "--name", help="Unique name, used in --by and the audit log."),
    role: str = typer.Option(
        ..., "--role", help="wss, programme or admin (in their organisations), operator or network."
    ),
    telegram_user_id: str = typer.Option(
        "", "--telegram-user-id", help="Numeric Telegram user id (alerts with buttons)."
    ),
    phone: str = typer.Option("", "--phone", help="On-call phone for SMS alerts."),
    language: str = typer.Option("en", "--language", help="Language of their alerts."),
    org: list[str] | None = OrgOption,
    config: str | None = ConfigOption,
) -> None:
    """Add a staff member; Telegram id and phone are stored encrypted."""
    cfg = config_or_exit(config)
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, got '{role}'")
    if telegram_user_id and not re.fullmatch(r"[0-9]{1,20}", telegram_user_id):
        fail("--telegram-user-id must be the numeric Telegram user id")
    if not name.strip():
        fail("--name must not be empty")
    check_language(language)
    e164 = check_phone(phone, cfg.sms.default_region) if phone else None
    orgs = org or []
    run(lambda: _add(cfg, name.strip(), role, telegram_user_id or None, e164, language, orgs))


async def _add(
    cfg: Config,
    name: str,
    role: str,
    telegram: str | None,
    phone: str | None,
    language: str,
    orgs: list[str],
) -> None:
    application = await open_app(cfg, {})
    try:
        organisation_ids = await _organisation_ids(application, orgs) if orgs else None
        scope = await cli_scope(application.staff)
        if organisation_ids is None and scope.limited:
            organisation_ids = sorted(scope.organisation_ids or ())
        await _may_manage(application, scope, role, organisation_ids or [])
        now = application.service.clock.now()
        async with application.db.transaction() as tx:
            try:
                member = await application.staff.add(
                    tx, name=name, role=role, language=language, now=now,
                    telegram_user_id=telegram, phone=phone, organisation_ids=organisation_ids,
                )  # fmt: skip
            except StaffError as exc:
                raise CliError(str(exc)) from None
            await audit(tx, now, "cli", "staff_added", name, f"{role} {','.join(orgs)}".strip())
        out.print(
            f"staff member {member.name} added ({role}; alerts by {_routes(application, member)})"
        )
    finally:
        await application.close()


def _routes(application: App, member: StaffMember) -> str:
    return ", ".join(r.channel for r in member.routes(application.ring))


async def _organisation_ids(application: App, names: list[str]) -> list[int]:
    try:
        return [o.id for o in await application.stores.organisations.named(names)]
    except OrganisationError as exc:
        raise CliError(str(exc)) from None


async def _may_manage(
    application: App, scope: Scope, role: str, organisation_ids: list[int]
) -> None:
    """``--as``: an admin manages the staff of her own organisations, an operator the
    admins of any; nobody else manages staff."""
    if not scope.limited:
        return
    if scope.role == "operator" and role == "admin":
        return
    if scope.role != "admin" or role in ("operator", "network"):
        raise CliError(f"{scope.actor} may not manage {role} staff")
    outside = [i for i in organisation_ids if not scope.covers(i)]
    if outside:
        names = {o.id: o.name for o in await application.stores.organisations.all()}
        raise CliError(f"{scope.actor} does not manage organisation {names[outside[0]]}")


@app.command("set-orgs")
def set_orgs(
    name: str = typer.Argument(..., help="Staff name (see followup staff list)."),
    orgs: str = typer.Argument(..., help="Organisation names, comma-separated: A,B."),
    config: str | None = ConfigOption,
) -> None:
    """Replace the organisations a staff member works in."""
    cfg = config_or_exit(config)
    names = _names(orgs) or []
    run(lambda: _set_orgs(cfg, name, names))


async def _set_orgs(cfg: Config, name: str, orgs: list[str]) -> None:
    application = await open_app(cfg, {})
    try:
        scope = await cli_scope(application.staff)
        member = await application.staff.in_scope(name, scope)
        if member is None:
            raise CliError(f"no staff member named '{name}' (see followup staff list)")
        if not orgs and member.role in ORGANISATION_ROLES:
            raise CliError(f"a {member.role} member needs at least one organisation")
        organisation_ids = await _organisation_ids(application, orgs)
        await _may_manage(application, scope, member.role, organisation_ids)
        if (
            scope.limited
            and scope.role == "admin"
            and member.organisation_ids - (scope.organisation_ids or frozenset())
        ):
            raise CliError(f"{name} also works in an organisation you do not manage")
        now = application.service.clock.now()
        async with application.db.transaction() as tx:
            await application.staff.set_organisations(tx, member.id, organisation_ids)
            await audit(tx, now, "cli", "staff_organisations_set", name, ",".join(orgs))
        out.print(f"staff member {name} works in {', '.join(orgs) or 'no organisation'}")
    finally:
        await application.close()


@app.command("list")
def list_(config: str | None = ConfigOption) -> None:
    """List staff: role, language, how they are reached (never the numbers), where on call."""
    cfg = config_or_exit(config)
    run(lambda: _list(cfg))


async def _list(cfg: Config) -> None:
    application = await open_app(cfg, {})
    try:
        duty = await application.staff.duties()
        organisations = {o.id: o.name for o in await application.stores.organisations.all()}
        table = Table("name", "role", "organisations", "language", "alerts by", "on call",
                      "backup", "active")  # fmt: skip
        for m in await application.staff.all_in(await cli_scope(application.staff)):
            on_call = ", ".join(
                d.programme for d in duty if d.staff_id == m.id and d.role == "on_call"
            )
            backup = ", ".join(
                d.programme for d in duty if d.staff_id == m.id and d.role == "backup"
            )
            orgs = ", ".join(sorted(organisations[i] for i in m.organisation_ids)) or "-"
            table.add_row(m.name, m.role, orgs, m.language, _routes(application, m), on_call,
                          backup, "yes" if m.active else "no")  # fmt: skip
        out.print(table)
    finally:
        await application.close()


def set_routes(
    name: str = typer.Argument(..., help="Programme name."),
    on_call: str | None = typer.Option(None, "--on-call", help="Staff names, comma-separated."),
    backup: str | None = typer.Option(
        None, "--backup", help="Staff name(s) for the URGENT ladder."
    ),
    urgent_repeat: float | None = typer.Option(None, "--urgent-repeat-minutes", min=1),
    urgent_backup: float | None = typer.Option(None, "--urgent-backup-minutes", min=0),
    high_repeat: float | None = typer.Option(None, "--high-repeat-minutes", min=1),
    digest_hour: int | None = typer.Option(None, "--digest-hour", min=0, max=23),
    config: str | None = ConfigOption,
) -> None:
    """Set a programme's on-call and backup routes and, optionally, its alert timings."""
    cfg = config_or_exit(config)
    timings: dict[str, float | int | None] = {
        "urgent_repeat_minutes": urgent_repeat,
        "urgent_backup_minutes": urgent_backup,
        "high_repeat_minutes": high_repeat,
        "digest_hour": digest_hour,
    }
    run(lambda: _set_routes(cfg, name, _names(on_call), _names(backup), timings))


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


async def _set_routes(
    cfg: Config,
    name: str,
    on_call: list[str] | None,
    backup: list[str] | None,
    timings: dict[str, float | int | None],
) -> None:
    application = await open_app(cfg, {})
    try:
        programme = await application.service.programmes.by_name(
            name, await cli_scope(application.staff)
        )
        if programme is None:
            raise CliError(f"no programme named '{name}' (see followup programme list)")
        if on_call is not None and not on_call:
            raise CliError("--on-call needs at least one staff name")
        members: dict[str, StaffMember] = {}
        for who in (on_call or []) + (backup or []):
            member = await application.staff.by_name(who)
            if member is None:
                raise CliError(f"no staff member named '{who}' (see followup staff list)")
            if not member.responder:
                raise CliError(
                    f"{who} has role '{member.role}'; only wss or admin staff can be on call"
                )
            if programme.organisation_id not in member.organisation_ids:
                raise CliError(await _outside(application, who, member, name, programme))
            members[who] = member
        settings = dict(programme.settings)
        own = dict(settings.get("escalation", {}))
        own.update({k: v for k, v in timings.items() if v is not None})
        settings["escalation"] = own
        now = application.service.clock.now()
        async with application.db.transaction() as tx:
            await application.staff.set_routes(
                tx, programme.id,
                None if on_call is None else [members[n].id for n in on_call],
                None if backup is None else [members[n].id for n in backup],
            )  # fmt: skip
            await save_settings(tx, programme.id, settings)
            await audit(tx, now, "cli", "routes_set", name,
                        f"on_call={on_call} backup={backup} timings={own}")  # fmt: skip
        current_on, current_backup = await application.staff.routes(programme.id)
        t = timings_for(cfg.escalation, settings)
        out.print(f"programme {name}: on call {', '.join(m.name for m in current_on) or '-'};"
                  f" backup {', '.join(m.name for m in current_backup) or '-'}")  # fmt: skip
        out.print(
            f"  URGENT repeats every {_min(t.urgent_repeat.total_seconds())} min, backup after"
            f" {_min(t.urgent_backup.total_seconds())} min; HIGH repeats every"
            f" {_min(t.high_repeat.total_seconds())} min; ROUTINE digest at {t.digest_hour:02d}:00"
            f" ({programme.timezone})"
        )
        for member in members.values():
            if {r.channel for r in member.routes(application.ring)} == {"console"}:
                out.print(f"[yellow]warning:[/] {member.name} has no Telegram id or phone: alerts"
                          " reach them only in the console demo")  # fmt: skip
    finally:
        await application.close()


async def _outside(
    application: App, who: str, member: StaffMember, name: str, programme: Programme
) -> str:
    """The refusal of a worker of another organisation, naming both organisations."""
    organisations = {o.id: o.name for o in await application.stores.organisations.all()}
    theirs = ", ".join(sorted(organisations[i] for i in member.organisation_ids)) or "none"
    return (
        f"{who} works in {theirs}, not in {organisations[programme.organisation_id]}"
        f" (the organisation of programme {name}): alerts never leave an organisation"
    )


def _min(seconds: float) -> str:
    return f"{seconds / 60:g}"


def register(root: typer.Typer) -> None:
    """``followup staff ...`` and ``followup programme set-routes``."""
    root.add_typer(app, name="staff")
    programmes.app.command("set-routes")(set_routes)
