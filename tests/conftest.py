"""Shared fixtures: an isolated config (temp database and key file) for every test.

Layout: tests/ mirrors the code (tests/bot/<package>/ for bot/<package>/, leaf modules in
tests/bot/). Fixtures live in conftest.py files; every other shared test helper is a module named
``support_<what>.py`` in the deepest directory common to the tests that use it. The API fakes
(Telegram, Twilio) and their one server harness live in tests/fakes/.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import Config, DatabaseConfig, SecurityConfig


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Defaults, but the database and keys live in this test's temp directory."""
    return dataclasses.replace(
        Config(),
        database=DatabaseConfig(path=str(tmp_path / "followup.db")),
        security=SecurityConfig(key_file=str(tmp_path / "followup.keys")),
    )


def isolated_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "f") -> Path:
    """A TOML config with this test's own database and key file, and no FOLLOWUP_* variable
    from the environment to override them (for the CLI and ``open_app`` from a file)."""
    for var in ("FOLLOWUP_CONFIG", "FOLLOWUP_KEYS", "FOLLOWUP_KEY_FILE", "FOLLOWUP_DATABASE"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / f"{name}.db"}"\n'
        f'[security]\nkey_file = "{tmp_path / f"{name}.keys"}"\n'
    )
    return path
