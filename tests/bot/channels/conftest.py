"""A fresh FakeTelegram per test and a configured (not yet started) service beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.support_postgres import fresh_schema
from tests.fakes.telegram_api import FakeTelegram

from .support_telegram import Service


@pytest.fixture(scope="module")
def telegram_server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake(telegram_server: FakeTelegram) -> FakeTelegram:
    telegram_server.reset()
    return telegram_server


MakeService = Callable[..., Service]


@pytest.fixture
def backend() -> str:
    """The service's database: SQLite unless a test parametrises ``backend`` (see BOTH)."""
    return "sqlite"


#: Runs a test once on SQLite and once on PostgreSQL (a fresh schema).
BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def service_database_url(backend: str) -> Iterator[str]:
    """'' (SQLite beside the config) or the URL of a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield ""
        return
    with fresh_schema() as url:
        yield url


@pytest.fixture
def make_service(
    tmp_path: Path, fake: FakeTelegram, service_database_url: str
) -> Iterator[MakeService]:
    """``make_service(**telegram_keys)``: programme 'demo' added (unless ``programme=False``);
    start it after enrolling."""
    made: list[Service] = []

    def make(*, programme: bool = True, **telegram: Any) -> Service:
        svc = Service(tmp_path, fake, database_url=service_database_url, **telegram)
        if programme:
            svc.add_programme()
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


@pytest.fixture
def service(make_service: MakeService) -> Service:
    return make_service()
