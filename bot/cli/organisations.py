"""``followup org add|list``: the member organisations of one installation.

Operator commands: organisations are the installation's, so they never run with ``--as``
a staff member of one of them.
"""

from __future__ import annotations

import typer
from rich.table import Table

from bot.cli.common import CliError, ConfigOption, config_or_exit, fail, out, run
from bot.cli.validate import check_language
from bot.config import Config
from bot.runtime.app import open_app
from bot.store.housekeeping import audit
from bot.store.organisations import OrganisationError
from bot.store.scope import Scope

app = typer.Typer(help="Organisations: the member services of this installation.",
                  no_args_is_help=True)  # fmt: skip


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Short unique name, e.g. frauenhaus-berlin."),
    language: str = typer.Option("en", "--language", help="Its staff's usual language."),
    config: str | None = ConfigOption,
) -> None:
    """Add an organisation (programmes and staff are then added with --org NAME)."""
    cfg = config_or_exit(config)
    if not name.strip() or "," in name:
        fail("the organisation's name must not be empty nor contain a comma")
    check_language(language)
    run(lambda: _add(cfg, name.strip(), language))


async def _add(cfg: Config, name: str, language: str) -> None:
    application = await open_app(cfg, {})
    try:
        now = application.stores.clock.now()
        async with application.db.transaction() as tx:
            try:
                await application.stores.organisations.add(tx, name, language, now)
            except OrganisationError as exc:
                raise CliError(str(exc)) from None
            await audit(tx, now, "cli", "organisation_added", name, language)
        out.print(f"organisation {name} added ({language})")
    finally:
        await application.close()


@app.command("list")
def list_(config: str | None = ConfigOption) -> None:
    """List organisations with their programmes and how many staff work in each."""
    cfg = config_or_exit(config)
    run(lambda: _list(cfg))


async def _list(cfg: Config) -> None:
    application = await open_app(cfg, {})
    try:
        stores = application.stores
        programmes = await stores.programmes.all(Scope.installation())
        members = await stores.staff.all()
        table = Table("name", "language", "programmes", "staff")
        for org in await stores.organisations.all():
            own = [p.name for p in programmes if p.organisation_id == org.id]
            staff = sum(1 for m in members if org.id in m.organisation_ids)
            table.add_row(org.name, org.language, ", ".join(own) or "-", str(staff))
        out.print(table)
    finally:
        await application.close()


def register(root: typer.Typer) -> None:
    """``followup org ...``."""
    root.add_typer(app, name="org")
