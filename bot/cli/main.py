"""The ``followup`` command: one entry point for staff and operators.

Each module of ``bot/cli/`` is one noun and adds its commands with ``register(root)``;
the order here is the order of ``followup --help``.
"""

from __future__ import annotations

import typer

from bot.cli import (
    config_file,
    console,
    contact,
    database,
    datarights,
    enrol,
    escalations,
    keys,
    language,
    organisations,
    participants,
    programmes,
    service,
    staff,
    staff_logins,
    waves,
)
from bot.cli.common import OPERATOR_COMMANDS, OneLineUsageErrors, fail, set_acting_as

app = typer.Typer(
    name="followup",
    help="Partner follow-up surveys over Telegram, SMS and the console.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineUsageErrors,
)


@app.callback()
def root(
    ctx: typer.Context,
    acting_as: str | None = typer.Option(
        None,
        "--as",
        help="Run as this staff member: see and change only what they may (their organisations).",
    ),
) -> None:
    """Partner follow-up surveys over Telegram, SMS and the console."""
    set_acting_as(acting_as)
    if acting_as and ctx.invoked_subcommand in OPERATOR_COMMANDS:
        fail(f"--as does not apply to followup {ctx.invoked_subcommand}: it runs the installation")


for noun in (
    organisations,
    programmes,
    enrol,
    service,
    staff,
    escalations,
    datarights,
    keys,
    participants,
    language,
    waves,
    contact,
    staff_logins,
    console,
    config_file,
    database,
):
    noun.register(app)


def main() -> None:
    app()
