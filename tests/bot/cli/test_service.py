"""`followup run` runs on uvloop; every other command keeps the standard asyncio loop."""

from __future__ import annotations

import asyncio
import sys

import pytest
import typer

from bot.cli import common
from bot.cli import service as service_cmd
from bot.config import Config
from bot.store.db import DatabaseBusy


async def loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_run_uses_uvloop_only_when_asked() -> None:
    assert common.run(loop_module(), fast_loop=True).startswith("uvloop")
    assert common.run(loop_module()).startswith("asyncio")
    assert common.run(loop_module).startswith("asyncio")


def test_without_uvloop_the_service_falls_back_to_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows: the import fails
    assert common.fast_loop_factory() is None
    assert common.run(loop_module(), fast_loop=True).startswith("asyncio")


def test_the_run_command_asks_for_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    async def service(cfg: Config) -> None:
        seen.append(await loop_module())

    monkeypatch.setattr(service_cmd, "_run", service)
    monkeypatch.setattr(service_cmd, "config_or_exit", lambda path: Config())
    monkeypatch.setattr(service_cmd, "setup_logging", lambda level: None)
    service_cmd.run_command(None)
    assert len(seen) == 1 and seen[0].startswith("uvloop")


async def locked() -> None:
    raise DatabaseBusy("BEGIN IMMEDIATE: database is locked")


def test_a_locked_database_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited:
        common.run(locked())
    assert exited.value.exit_code == 2
    err = capsys.readouterr().err
    assert "locked by another process" in err and "nothing was changed" in err
    assert "Traceback" not in err
