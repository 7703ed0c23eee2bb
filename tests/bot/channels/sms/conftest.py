"""A fresh FakeTwilio and an SMS service set-up (not yet started) per test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.twilio_api import FakeTwilio

from .support_sms import SmsService


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(deliver_delay=0.02) as twilio:
        yield twilio
        assert twilio.internal_errors == []


@pytest.fixture
def sms(tmp_path: Path, fake: FakeTwilio, service_database_url: str) -> Iterator[SmsService]:
    service = SmsService(tmp_path, fake, database_url=service_database_url)
    yield service
    service.stop()
    log = service.output()
    assert "Traceback" not in log, log[-4000:]
    assert not re.search(r"\+?\d{9,}", log), "a number in the service log"
