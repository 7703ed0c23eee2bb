"""Shared fixtures: an isolated config (temp database and key file) for every test."""

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
