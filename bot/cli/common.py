"""Shared CLI plumbing: load config, open the app, turn known errors into one clear line.

Errors an operator can fix (config, survey file, key file, bad input) end with
exit code 2 and one line; never a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from bot.config import Config, ConfigError, load_config
from bot.crypto import KeyFileError
from bot.store.db import DatabaseBusy
from conversations.loader import SurveyError

T = TypeVar("T")
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="TOML config file (default: $FOLLOWUP_CONFIG, else built-in defaults).",
)


class CliError(Exception):
    """An expected problem with what the operator asked for."""


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def config_or_exit(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc))


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
    except (ConfigError, SurveyError, KeyFileError, CliError) as exc:
        fail(str(exc))
    except DatabaseBusy:
        fail("the database is locked by another process (a backup, `followup run` busy, an "
             "open sqlite3 shell); nothing was changed. Try again in a moment.")  # fmt: skip
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
