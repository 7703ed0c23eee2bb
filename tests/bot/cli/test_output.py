"""What the operator reads: usage errors and config problems as ``error:`` lines, tables at full
width when piped, counts that count what was written, and the words of a few messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app

from .conftest import Invoke, enrol, ok, one_line_error


@pytest.fixture
def berlin(cli: Invoke) -> None:
    ok(cli("programme", "add", "--name", "berlin", "--timezone", "Europe/Berlin"))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["enrol", "--programme", "berlin"],
            ("Missing option '--channel'", "followup enrol --help"),
        ),
        (["nosuch"], ("No such command 'nosuch'", "followup --help")),
        (["audit", "--limit", "many"], ("Invalid value for '--limit'", "followup audit --help")),
        (["escalations", "lst"], ("No such command 'lst'",)),
        (["waves", "--bogus"], ("No such option: --bogus",)),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(cli: Invoke, args: list[str], words: str) -> None:
    result = cli(*args)
    one_line_error(result, *words)
    assert "╭" not in result.stderr and "Usage:" not in result.stderr


def test_no_arguments_still_show_the_help() -> None:
    result = CliRunner().invoke(app, ["escalations"])
    assert "Usage: followup escalations" in result.stdout + result.stderr
    assert "error:" not in result.stdout + result.stderr


def test_every_config_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[web]\nport = 0\nhots = 'x'\n[sms]\nmax_per_second = 'fast'\n[smss]\n")
    result = CliRunner().invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith(f"error: {path}: ") for line in lines), lines
    for key in ("'web.port'", "'web.hots'", "'sms.max_per_second'", "'smss'"):
        assert sum(key in line for line in lines) == 1, (key, lines)


def test_telegram_enrolment_without_a_config_file_says_where_to_set_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("FOLLOWUP_CONFIG", "FOLLOWUP_KEYS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FOLLOWUP_DATABASE", str(tmp_path / "f.db"))
    monkeypatch.setenv("FOLLOWUP_KEY_FILE", str(tmp_path / "f.keys"))
    consent = ("--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "T")
    result = CliRunner().invoke(
        app, ["enrol", "--programme", "berlin", "--channel", "telegram", *consent]
    )
    one_line_error(result, "set telegram.bot_username in a config file", "--config FILE")
    assert result.stderr.startswith("error: no config file;"), result.stderr
    assert "<defaults>" not in result.stderr


def test_tables_piped_to_a_file_keep_their_full_width(
    cli: Invoke, berlin: None, tmp_path: Path
) -> None:
    enrol(cli)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FOLLOWUP_CONFIG")}
    piped = subprocess.run(
        [sys.executable, "-m", "bot", "waves", "--config", str(tmp_path / "followup.toml")],
        capture_output=True, text=True, env=env, check=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    header = next(line for line in piped.stdout.splitlines() if "wave" in line)
    assert len(header.rstrip()) > 80 and header.rstrip().endswith("paused"), piped.stdout
    assert "…" not in piped.stdout


def test_export_counts_only_the_rows_it_wrote(cli: Invoke, berlin: None, tmp_path: Path) -> None:
    enrol(cli)
    enrol(cli)  # ten timepoints planned, none asked yet: no response row
    out_dir = tmp_path / "x"
    printed = ok(cli("export", "--programme", "berlin", "--format", "json", "--out", str(out_dir)))
    responses = json.loads((out_dir / "responses.json").read_text())
    assert responses["rows"] == []
    assert printed.startswith("0 response row(s): ")


def test_plural_openers_in_the_tick_summary(cli: Invoke, berlin: None) -> None:
    enrol(cli)
    enrol(cli)
    monday = date.today() + timedelta(days=(0 - date.today().weekday()) % 7 or 7)
    printed = ok(cli("tick", "--dry-run", "--at", f"{monday}T11:00:00+01:00"))
    assert "2 openers; 0 waiting for a later time" in printed


def test_policy_reads_as_english(cli: Invoke, berlin: None) -> None:
    kept = ok(cli("programme", "policy", "berlin", "--on-withdrawal", "keep_anonymous"))
    assert "berlin: on withdrawal, answers are kept anonymous" in kept
    erased = ok(cli("programme", "policy", "berlin", "--on-withdrawal", "erase"))
    assert "berlin: on withdrawal, answers are erased" in erased


def test_retention_help_names_its_config_section(cli: Invoke) -> None:
    assert "(see [retention] in the config)" in ok(cli("retention", "--help"))
