"""``followup staff set-password NAME``: a dashboard login (TOTP is set up at first login)."""

from __future__ import annotations

import getpass

import typer

from bot.cli import staff
from bot.cli.common import CliError, ConfigOption, config_or_exit, fail, out, refuse_acting_as, run
from bot.cli.secret_input import FROM_INPUT, SecretInput
from bot.config import Config
from bot.runtime.app import open_app
from bot.web.auth import MIN_PASSWORD, TOTP_ROLES, Accounts


def set_password(
    name: str = typer.Argument(..., help="Staff name (see followup staff list)."),
    password: str | None = typer.Option(
        None,
        "--password",
        help="Asked twice, hidden, when not given (piped: one line of stdin); '-' reads it too."
        " At least 12 characters.",
    ),
    config: str | None = ConfigOption,
) -> None:
    """Set or reset a dashboard password; a reset also ends sessions and the TOTP set-up.

    The name is checked first, so nobody types a password for a name that does not exist.
    """
    refuse_acting_as("staff set-password")
    cfg = config_or_exit(config)
    run(lambda: _check_name(cfg, name))
    asked = SecretInput()
    try:
        if password is None or password == FROM_INPUT:
            password = _read_password(asked)
        else:
            password = asked.value("--password", password, "Password") or ""
    except CliError as exc:
        fail(str(exc))
    if len(password) < MIN_PASSWORD:
        fail(f"the password must have at least {MIN_PASSWORD} characters")
    run(lambda: _set(cfg, name, password))
    asked.warn()


def _read_password(asked: SecretInput) -> str:
    """Twice at a hidden prompt on a terminal; one line of stdin when piped (no warnings)."""
    if not asked.stdin.isatty():
        return asked.value("--password", FROM_INPUT, "Password") or ""
    first = getpass.getpass("Password (hidden): ")
    if getpass.getpass("Repeat it: ") != first:
        raise CliError("the two passwords differ; nothing was changed")
    return first


async def _check_name(cfg: Config, name: str) -> None:
    application = await open_app(cfg, {})
    try:
        if await application.staff.by_name(name) is None:
            raise CliError(f"no staff member named '{name}' (see followup staff list)")
    finally:
        await application.close()


async def _set(cfg: Config, name: str, password: str) -> None:
    application = await open_app(cfg, {})
    try:
        stores = application.stores
        accounts = Accounts(stores.db, stores.ring, stores.staff, stores.clock)
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


def register(root: typer.Typer) -> None:
    """``followup staff set-password``."""
    staff.app.command("set-password")(set_password)
