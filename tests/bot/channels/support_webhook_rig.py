"""The real app (SMS, and Telegram in webhook mode) behind in-process ASGI, for fuzzing.

Built exactly as ``followup run`` builds it (``build_channels``, ``open_app``,
``build_components``, ``build_web``) but served through ``httpx.ASGITransport``: a request
costs about a millisecond, so hundreds of fuzzed requests fit in a few seconds. The
dispatcher does not run: replies stay in the outbox. Hypothesis calls test functions
synchronously, so the rig owns an ``asyncio.Runner`` and each request is ``rig.run(...)``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from twilio.request_validator import RequestValidator

from bot.channels.sms_web import SmsWebhooks
from bot.channels.telegram_updates import TelegramUpdates
from bot.clock import ManualClock
from bot.config import Config, DatabaseConfig, SecurityConfig, SmsConfig, TelegramConfig
from bot.enrolment.rules import enrol
from bot.runtime.app import App, build_channels, open_app
from bot.runtime.components import build_components
from bot.runtime.serve import build_web
from bot.store.consent import Consent
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

T = TypeVar("T")
PUBLIC_URL = "https://followup.example.test"
OUR_NUMBER = "+15005550006"
PHONE = "+447911123456"
CHAT = 5550001234
SECRET = "fuzz-Secret_token-0123456789"
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class Rig:
    """One opened app; ``run`` drives a coroutine on the rig's own event loop."""

    def __init__(self, runner: asyncio.Runner, app: App, components: list[Any]) -> None:
        self.runner = runner
        self.app = app
        self.sms = next(c for c in components if isinstance(c, SmsWebhooks))
        self.telegram = next(c for c in components if isinstance(c, TelegramUpdates))
        self.validator = RequestValidator(app.config.sms.auth_token)
        transport = httpx.ASGITransport(app=build_web([self.sms, self.telegram]))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080")
        self.db_path = Path(app.config.database.path)
        self.her_id = ""
        self.her_chat_id = ""

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    # --- requests --------------------------------------------------------------------------

    def signed_form(self, path: str, params: Mapping[str, str], query: str = "") -> httpx.Response:
        """POST ``params`` signed as Twilio signs them for ``PUBLIC_URL + path (+ query)``."""
        url = PUBLIC_URL + path + (f"?{query}" if query else "")
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, dict(params))}
        target = path + (f"?{query}" if query else "")
        return self.run(self.client.post(target, data=dict(params), headers=headers))

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        return self.run(self.client.post(path, content=body, headers=dict(headers)))

    def telegram_update(self, update: Any, secret: str | None = SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.post("/telegram/webhook", json.dumps(update).encode(), headers)

    # --- the database ----------------------------------------------------------------------

    def scalar(self, sql: str, *params: Any) -> Any:
        with closing(sqlite3.connect(self.db_path)) as conn:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else row[0]

    def counter(self, name: str) -> int:
        return int(self.scalar("SELECT value FROM counters WHERE name = ?", name) or 0)

    def status(self, participant_id: str) -> str:
        return str(self.scalar("SELECT status FROM participants WHERE id = ?", participant_id))

    def stored_bytes(self) -> bytes:
        """Every byte SQLite keeps on disk for this database (main file and WAL)."""
        files = sorted(self.db_path.parent.glob(self.db_path.name + "*"))
        return b"".join(p.read_bytes() for p in files)


async def _open(
    tmp_path: Path, twilio: FakeTwilio, telegram: FakeTelegram
) -> tuple[App, list[Any]]:
    config = dataclasses.replace(
        Config(),
        database=DatabaseConfig(path=str(tmp_path / "f.db")),
        security=SecurityConfig(key_file=str(tmp_path / "f.keys")),
        sms=SmsConfig(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            api_base_url=twilio.base_url,
            public_url=PUBLIC_URL,
            from_number=OUR_NUMBER,
            request_timeout_seconds=1.0,
        ),
        telegram=TelegramConfig(
            token=telegram.token,
            api_base_url=telegram.base_url,
            mode="webhook",
            webhook_url=PUBLIC_URL + "/telegram/webhook",
            webhook_secret=SECRET,
        ),
    )
    app = await open_app(config, build_channels(config), clock=ManualClock(START))
    return app, list(build_components(app))


async def _enrol(app: App, channel: str, address: str) -> str:
    async with app.db.transaction() as tx:
        programme_id = await app.service.programmes.add(
            tx, f"p-{channel}", app.service.clock.now(), timezone="Europe/London",
            helpline="Helpline 0800 000 0000", emergency_number="999", settings={},
        )  # fmt: skip
    her = await enrol(
        app.stores,
        app.config,
        app.service.survey,
        programme_id=programme_id,
        channel=channel,
        language="en",
        timezone="Europe/London",
        today=date(2026, 11, 24),
        now=app.service.clock.now(),
        consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
        address=address,
        safe_word="pineapple",
    )
    assert await app.service.begin_contact(her.id, "T0") is not None
    return her.id


@contextmanager
def open_rig(tmp_path: Path, twilio: FakeTwilio, telegram: FakeTelegram) -> Iterator[Rig]:
    """A rig with her enrolled on SMS (``PHONE``) and on Telegram (``CHAT``), T0 begun."""
    with asyncio.Runner() as runner:
        app, components = runner.run(_open(tmp_path, twilio, telegram))
        rig = Rig(runner, app, components)
        try:
            rig.her_id = runner.run(_enrol(app, "sms", PHONE))
            rig.her_chat_id = runner.run(_enrol(app, "telegram", str(CHAT)))
            yield rig
        finally:
            runner.run(rig.client.aclose())
            runner.run(rig.sms.stop())
            runner.run(app.close())
