"""``followup staff set-password NAME``: a dashboard login (TOTP is set up at first login)."""

from __future__ import annotations

import getpass

import typer

from bot.cli.common import CliError, ConfigOption, config_or_exit, fail, out, run
from bot.config import Config
from bot.runtime.app import open_app
from bot.web.auth import MIN_PASSWORD, TOTP_ROLES, Accounts


def set_password(
    name: str = typer.Argument(..., help="Staff name (see followup staff list)."),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Asked for when not given; at least 12 characters.",
    ),
    config: str | None = ConfigOption,
) -> None:
    """Set or reset a dashboard password; a reset also ends sessions and the TOTP set-up."""
    cfg = config_or_exit(config)
    if len(password) < MIN_PASSWORD:
        fail(f"the password must have at least {MIN_PASSWORD} characters")
    run(lambda: _set(cfg, name, password))


async def _set(cfg: Config, name: str, password: str) -> None:
    application = await open_app(cfg, {})
    try:
        accounts = Accounts(application.db, application.ring, application.staff,
                            application.service.clock)  # fmt: skip
        try:
            await accounts.set_password(name, password, f"cli:{_login()}")
        except LookupError as exc:
            raise CliError(f"{exc.args[0]} (see followup staff list)") from None
        member = await application.staff.by_name(name)
        assert member is not None
        extra = " (sets up TOTP at first login)" if member.role in TOTP_ROLES else ""
        out.print(f"password set for {name}{extra}; log in at /staff/login")
    finally:
        await application.close()


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
