"""Secrets from stdin or a hidden prompt (``--safe-word -``); a warning when on the command line."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.common import CliError
from bot.cli.main import app
from bot.cli.secret_input import SecretInput

CONSENT = ("--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "Test")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "followup.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / "f.db"}"\n[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
    )
    result = CliRunner().invoke(
        app, ["programme", "add", "--name", "p1", "--timezone", "UTC", "--config", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def enrol(config: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        [
            "enrol",
            "--programme",
            "p1",
            "--channel",
            "sms",
            *CONSENT,
            *args,
            "--config",
            str(config),
        ],
        input=stdin,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_piped_secrets_are_read_in_order_and_never_echoed(config: Path) -> None:
    code, out, err = enrol(
        config, "--phone", "-", "--safe-word", "-", "--code-word", "-", "--json",
        stdin="+447911123456\npineapple\nheron\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["participant"].startswith("P-")
    assert "warning" not in err
    for secret in ("447911123456", "pineapple", "heron"):
        assert secret not in out + err


def test_a_piped_secret_is_checked_like_any_other(config: Path) -> None:
    code, _, err = enrol(config, "--phone", "-", "--safe-word", "-", stdin="+447911123456\nstop\n")
    assert code == 2 and "carrier keyword" in err  # the piped word, not the literal '-'


def test_a_secret_on_the_command_line_works_with_a_warning(config: Path) -> None:
    code, _, err = enrol(config, "--phone", "+447911123456", "--safe-word", "pineapple")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "shell history" in line]
    assert len(warnings) == 2 and "--phone -" in warnings[0] and "--safe-word -" in warnings[1]


def test_too_few_lines_on_stdin_is_one_clear_error_and_nothing_stored(config: Path) -> None:
    code, _, err = enrol(config, "--phone", "-", "--safe-word", "-", stdin="+447911123456\n")
    assert code == 2 and "--safe-word -: nothing left on stdin" in err
    with sqlite3.connect(config.parent / "f.db") as db:
        assert db.execute("SELECT COUNT(*) FROM participants").fetchone() == (0,)


def test_lines_keep_inner_spaces_and_lose_only_the_line_end() -> None:
    asked = SecretInput(io.StringIO("two words\r\n\n"))
    assert asked.value("--note", "-", "Note") == "two words"
    assert asked.value("--note", "-", "Note") == ""
    with pytest.raises(CliError):
        asked.value("--note", "-", "Note")
    assert asked.value("--note", None, "Note") is None
