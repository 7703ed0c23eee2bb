"""The store tests run on both backends: every test that opens the app does so twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from bot.config import Config, DatabaseConfig
from tests.bot.support_postgres import fresh_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config(config: Config, backend: str) -> Iterator[Config]:
    """The shared config, on SQLite as it is, or on a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield config
        return
    with fresh_schema() as url:
        yield dataclasses.replace(
            config, database=DatabaseConfig(path=config.database.path, url=url)
        )
