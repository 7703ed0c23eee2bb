"""A fresh FakeTelegram per test and a configured (not yet started) service beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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
def make_service(tmp_path: Path, fake: FakeTelegram) -> Iterator[MakeService]:
    """``make_service(**telegram_keys)``: programme 'demo' added (unless ``programme=False``);
    start it after enrolling."""
    made: list[Service] = []

    def make(*, programme: bool = True, **telegram: Any) -> Service:
        svc = Service(tmp_path, fake, **telegram)
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
