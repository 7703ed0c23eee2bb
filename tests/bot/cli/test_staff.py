"""``followup staff set-password``: argon2 hash stored, short passwords and unknown names refused."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.common import CliError
from bot.cli.main import app
from bot.cli.secret_input import SecretInput
from bot.cli.staff_logins import _read_password
from tests.conftest import isolated_config_file

from .conftest import Invoke, ok, one_line_error


def test_set_password_stores_an_argon2_hash_only(cli: Invoke, tmp_path: Path) -> None:
    ok(cli("staff", "add", "--name", "ana", "--role", "wss"))
    out = ok(cli("staff", "set-password", "ana", "--password", "a long passphrase"))
    assert "password set for ana" in out and "TOTP" in out
    conn = sqlite3.connect(tmp_path / "f.db")
    try:
        (stored,) = conn.execute("SELECT password_hash FROM staff_logins").fetchone()
        (action,) = conn.execute("SELECT action FROM audit_log WHERE subject = 'ana' "
                                 "ORDER BY id DESC").fetchone()  # fmt: skip
    finally:
        conn.close()
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    assert action == "staff_password_set"


def test_short_password_and_unknown_name_are_one_line_errors(cli: Invoke) -> None:
    ok(cli("staff", "add", "--name", "ana", "--role", "wss"))
    one_line_error(cli("staff", "set-password", "ana", "--password", "short"), "12 characters")
    one_line_error(cli("staff", "set-password", "zed", "--password", "a long passphrase"), "zed")


def test_a_piped_password_is_read_from_stdin_without_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_config_file(tmp_path, monkeypatch)
    runner = CliRunner()
    added = runner.invoke(
        app, ["staff", "add", "--name", "ana", "--role", "wss", "-c", str(config)]
    )
    assert added.exit_code == 0, added.output
    result = runner.invoke(
        app, ["staff", "set-password", "ana", "-c", str(config)], input="a long passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert "password set for ana" in result.stdout
    assert "GetPassWarning" not in result.output and "warning" not in result.stderr
    assert "a long passphrase" not in result.output


def test_an_unknown_name_is_refused_before_any_password_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_config_file(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["staff", "set-password", "zed", "-c", str(config)], input="")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "zed" in lines[0] and "stdin" not in lines[0]


def test_two_different_passwords_at_the_terminal_are_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    typed = iter(["a long passphrase", "a long passphrasf"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(CliError, match="differ; nothing was changed"):
        _read_password(SecretInput(Terminal()))
