"""Webhook mode: setWebhook with a secret at start; requests without the right secret get 403
and leave nothing but a counter."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx

from tests.fakes.telegram_api import FakeTelegram

from .conftest import MakeService
from .support_telegram import Service, next_bot_message
from .support_telegram_script import OPENER

CHAT = 3301928374
SECRET = "s3cret-Token_for-tests"
URL = "https://followup.example.org/telegram/webhook"
TABLES = ("sessions", "transcript", "outbox", "inbound_seen", "throttle", "audit_log")


def post(service: Service, update: dict[str, Any], secret: str | None) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    response = httpx.post(
        f"{service.url}/telegram/webhook", json=update, headers=headers, timeout=10
    )
    return response.status_code


def snapshot(service: Service) -> dict[str, int]:
    counts = {t: int(service.scalar(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}
    # The daily retention job may log its start-up run at any moment: not her trace.
    counts["audit_log"] = int(
        service.scalar("SELECT COUNT(*) FROM audit_log WHERE action != 'retention_run'")
    )
    counts["linked"] = int(
        service.scalar("SELECT COUNT(*) FROM participants WHERE address_enc IS NOT NULL")
    )
    return counts


def test_webhook_checks_the_secret(make_service: MakeService, fake: FakeTelegram) -> None:
    service = make_service(mode="webhook", webhook_url=URL, webhook_secret=SECRET)
    first, second = service.enrol(), service.enrol()
    service.start()
    fake.wait_for(lambda f: f.webhook_info() is not None)
    assert fake.webhook_info() == {"url": URL, "secret_token": SECRET, "max_connections": 40}
    assert fake.calls_to("getUpdates") == []

    before = snapshot(service)
    forged = fake.make_message_update(CHAT, f"/start {second['token']}")
    assert post(service, forged, None) == 403
    assert post(service, forged, "wrong") == 403
    assert post(service, forged, SECRET + "x") == 403
    assert snapshot(service) == before
    rows = service.query("SELECT value FROM counters WHERE name = 'telegram_webhook_rejected'")
    assert rows == [(3,)]

    update = fake.make_message_update(CHAT, f"/start {first['token']}")
    assert post(service, update, SECRET) == 200
    opener = next_bot_message(fake, CHAT, 0)
    assert opener["text"] == OPENER
    assert post(service, update, SECRET) == 200  # Telegram delivering it again: nothing new
    press = fake.make_callback_update(CHAT, opener["message_id"], "_gate|yes")
    assert post(service, press, SECRET) == 200
    # how-to, intro and first question: one message
    fake.wait_for(lambda f: len(f.sent_texts(CHAT)) == 2)
    service.wait_quiet()
    assert fake.sent_texts(CHAT).count(OPENER) == 1
    assert snapshot(service)["linked"] == 1
    log = service.log_text()
    assert "Traceback" not in log and str(CHAT) not in log and SECRET not in log
    assert service.stop() == 0
    assert fake.webhook_info() is not None  # kept: Telegram holds updates while we are down


def test_webhook_mode_without_a_secret_refuses_to_start(
    make_service: MakeService, fake: FakeTelegram
) -> None:
    service = make_service(mode="webhook", webhook_url=URL)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(service.config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=service.env,
        check=False,
    )
    assert done.returncode == 2
    assert "webhook_secret" in done.stderr and "Traceback" not in done.stderr
    assert json.dumps(fake.webhook_info()) == "null"


def test_a_refused_token_stops_run_with_one_line(
    make_service: MakeService, fake: FakeTelegram
) -> None:
    service = make_service()
    service.env["TELEGRAM_BOT_TOKEN"] = "999:not-the-token"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(service.config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=service.env,
        check=False,
    )
    assert done.returncode == 2
    assert "telegram.token was refused" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "not-the-token" not in done.stderr + done.stdout
