"""``followup db migrate``: bring the database's schema to this version's numbered migrations.

The same migrations run at every start (``open_app``); this command runs them on their own
(before a deploy, or to see where a database stands) and says from which version to which.
An operator command: the schema is the installation's. The URL is shown without a password.
"""

from __future__ import annotations

import typer

from bot.cli.common import ConfigOption, config_or_exit, out, run
from bot.config import Config, redact_database_url
from bot.store.open_database import open_database

app = typer.Typer(help="The database: its schema migrations.", no_args_is_help=True)


@app.command("migrate")
def migrate(config: str | None = ConfigOption) -> None:
    """Apply every migration the database has not run yet (SQLite or PostgreSQL)."""
    cfg = config_or_exit(config)
    run(lambda: _migrate(cfg))


async def _migrate(cfg: Config) -> None:
    url = cfg.database_url()
    db = await open_database(url, migrate=False)
    try:
        before = await db.schema_version()
        await db.migrate()
        after = await db.schema_version()
    finally:
        await db.close()
    where = redact_database_url(url)
    if before == after:
        out.print(f"{where}: schema at version {after}, nothing to migrate")
    else:
        out.print(f"{where}: migrated from version {before} to {after}")


def register(root: typer.Typer) -> None:
    """``followup db ...``."""
    root.add_typer(app, name="db")
