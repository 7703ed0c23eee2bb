"""A wrong or missing key file never creates a new key beside sealed data (issue 21 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config import load_config
from bot.crypto import KeyFileError
from bot.runtime.app import open_app
from tests.conftest import isolated_config_file

CONSENT = ("--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "Test")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installation with one enrolled partner: her number is sealed with f.keys."""
    config = isolated_config_file(tmp_path, monkeypatch)
    runner = CliRunner()
    for args in (
        ["programme", "add", "--name", "p1", "--timezone", "UTC"],
        ["enrol", "--programme", "p1", "--channel", "sms", "--phone", "+447911123456", *CONSENT],
    ):
        result = runner.invoke(app, [*args, "--config", str(config)])
        assert result.exit_code == 0, result.output
    return config


def test_a_missing_key_file_is_refused_with_one_line_and_not_created(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = tmp_path / "typo.keys"
    monkeypatch.setenv("FOLLOWUP_KEY_FILE", str(wrong))
    result = CliRunner().invoke(app, ["programme", "list", "--config", str(installed)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert str(wrong) in lines[0] and str(tmp_path / "f.db") in lines[0]
    assert "FOLLOWUP_KEY_FILE" in lines[0]
    assert not wrong.exists()


async def test_the_service_refuses_to_start_the_same_way(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLLOWUP_KEY_FILE", str(tmp_path / "elsewhere.keys"))
    try:
        opened = await open_app(load_config(str(installed)), {})
    except KeyFileError as refused:
        assert "already holds fields sealed" in str(refused)
    else:
        await opened.close()
        pytest.fail("a new key file was created beside sealed data")
    assert not (tmp_path / "elsewhere.keys").exists()


async def test_a_new_installation_still_gets_its_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_config_file(tmp_path, monkeypatch, "n")
    opened = await open_app(load_config(str(config)), {})
    try:
        assert opened.key_file_created and (tmp_path / "n.keys").exists()
    finally:
        await opened.close()
