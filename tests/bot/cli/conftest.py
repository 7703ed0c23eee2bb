"""Run ``followup`` in-process against a temp database and key file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.cli.main import app

Invoke = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path) -> Invoke:
    config = tmp_path / "followup.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "f.db"}"\n[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
    )
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [*args, "--config", str(config)], env={"COLUMNS": "200"})

    return invoke


@pytest.fixture
def dump(tmp_path: Path) -> Callable[[], list[str]]:
    """Every row of every table: equal before and after means nothing was stored."""

    def read() -> list[str]:
        conn = sqlite3.connect(tmp_path / "f.db")
        try:
            return list(conn.iterdump())
        finally:
            conn.close()

    return read


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def enrol(cli: Invoke, *args: str, programme: str = "berlin") -> str:
    consent = ("--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "Test")
    out = ok(
        cli("enrol", "--programme", programme, "--channel", "console", "--json", *consent, *args)
    )
    return str(json.loads(out)["participant"])


def one_line_error(result: Result, *words: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.stdout + result.stderr
