"""``followup programme add|list``: the programmes partners are enrolled in."""

from __future__ import annotations

import typer
from rich.table import Table

from bot.app import open_app
from bot.cli.common import CliError, ConfigOption, config_or_exit, out, run
from bot.cli.validate import check_language, check_timezone
from bot.config import Config
from bot.store.housekeeping import audit

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
    config: str | None = ConfigOption,
) -> None:
    """Add a programme."""
    cfg = config_or_exit(config)
    check_timezone(timezone)
    check_language(language)
    run(lambda: _add(cfg, name, timezone, language, helpline, emergency_number, sender_name))


async def _add(
    cfg: Config, name: str, tz: str, language: str, helpline: str, emergency: str, sender: str
) -> None:
    application = await open_app(cfg, {})
    try:
        service = application.service
        if await service.programmes.by_name(name):
            raise CliError(f"a programme named '{name}' exists already")
        now = service.clock.now()
        async with application.db.transaction() as tx:
            await service.programmes.add(
                tx, name, now, timezone=tz, language=language, helpline=helpline,
                emergency_number=emergency, sender_name=sender,
            )  # fmt: skip
            await audit(tx, now, "cli", "programme_added", name)
        out.print(f"programme {name} added ({tz}, {language})")
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
        table = Table("name", "time zone", "language", "helpline", "emergency", "partners")
        for p in await application.service.programmes.all():
            row = await application.db.fetchone(
                "SELECT COUNT(*) FROM participants WHERE programme_id = ?", (p.id,)
            )
            table.add_row(p.name, p.timezone, p.language, p.helpline, p.emergency_number,
                          str(row[0] if row else 0))  # fmt: skip
        out.print(table)
    finally:
        await application.close()
