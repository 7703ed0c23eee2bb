"""Shared CLI plumbing: load config, open the app, turn known errors into one clear line.

Errors an operator can fix (config, survey file, key file, bad input, a mistyped
command or option) end with exit code 2 and one line per problem; never a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

# Typer (>= 0.26) vendors Click as typer._click: the errors it raises are these classes, not click's.
from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from bot.config import Config, ConfigError, load_config
from bot.crypto import KeyFileError
from bot.store.db import DatabaseBusy
from bot.store.scope import Scope
from bot.store.staff import StaffStore
from conversations.loader import SurveyError

T = TypeVar("T")
#: Output piped to a file or a program has no screen to fit: tables keep their full width.
PIPED_WIDTH = 10_000
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="TOML config file (default: $FOLLOWUP_CONFIG, else built-in defaults).",
)

PseudonymArgument = typer.Argument(..., help="Her pseudonym, e.g. P-7QX3K.")
TimepointOption = typer.Option("T0", "--timepoint", "-t", help="T0..T4")


class CliError(Exception):
    """An expected problem with what the operator asked for."""


class _ActingAs:
    """``followup --as NAME``: set by the root callback on every invocation."""

    name: str | None = None


#: Commands that run the installation itself: ``--as`` a staff member makes no sense there.
OPERATOR_COMMANDS = frozenset(
    {"org", "keys", "run", "demo", "chat", "retention", "check-config", "db"}
)


def set_acting_as(name: str | None) -> None:
    _ActingAs.name = name.strip() if name else None


def refuse_acting_as(command: str) -> None:
    """An operator command: exit 2 when run ``--as`` a staff member."""
    if _ActingAs.name is not None:
        fail(f"--as does not apply to followup {command}: it runs the installation")


async def cli_scope(staff: StaffStore) -> Scope:
    """What this run may reach: the operator's every organisation, or with ``--as NAME``
    that staff member's scope (CliError when there is no such active member)."""
    name = _ActingAs.name
    if name is None:
        return Scope.installation("cli")
    member = await staff.by_name(name)
    if member is None or not member.active:
        raise CliError(
            f"--as {name}: no active staff member of that name (see: followup staff list)"
        )
    return Scope.of(member, "cli")


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def fail_all(problems: tuple[str, ...], code: int = 2) -> NoReturn:
    """Every problem at once, one ``error:`` line each, so one run shows all there is to fix."""
    for problem in problems[:-1]:
        err.print(f"[bold red]error:[/] {problem}")
    fail(problems[-1], code)


def config_or_exit(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail_all(exc.problems)


class OneLineUsageErrors(TyperGroup):
    """The root group: Click's usage errors (missing option, bad value, unknown command) are
    one ``error:`` line and exit 2 like every other error, not a framed box."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            usage_failure(exc)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            usage_failure(exc)


def usage_failure(exc: UsageError) -> NoReturn:
    """One line naming the problem and where the help is; no arguments at all still shows help."""
    if isinstance(exc, NoArgsIsHelpError):
        raise exc
    message = " ".join(exc.format_message().split())
    if exc.ctx is not None:
        message += f" (see: {exc.ctx.command_path} --help)"
    fail(escape(message), exc.exit_code)


def fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed (not on Windows): cheaper I/O per request."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(
    coro_factory: Callable[[], Coroutine[Any, Any, T]] | Awaitable[T], *, fast_loop: bool = False
) -> T:
    """Run a coroutine; known errors become one line on stderr and exit code 2.

    ``fast_loop``: uvloop, for the long-running service only (``followup run``); short
    commands keep the standard loop (nothing to gain, one dependency less on their path).
    """
    try:
        coro = coro_factory() if callable(coro_factory) else coro_factory
        factory = fast_loop_factory() if fast_loop else None
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(coro)  # type: ignore[arg-type]
    except ConfigError as exc:
        fail_all(exc.problems)
    except (SurveyError, KeyFileError, CliError) as exc:
        fail(str(exc))
    except DatabaseBusy:
        fail("the database is locked by another process (a backup, `followup run` busy, an "
             "open sqlite3 shell); nothing was changed. Try again in a moment.")  # fmt: skip
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
