"""Her inbound SMS and the deletion of its provider record commit in ONE transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from bot.channels.base import Inbound
from bot.channels.sms import SmsChannel
from bot.channels.sms_web import SmsWebhooks
from bot.clock import ManualClock
from bot.config import Config
from bot.inbound.storing import StoringRecords
from bot.outbox.provider_records import PROVIDER_DELETE, RECORDS_CHANNEL, ProviderRecords
from bot.runtime.app import App, open_app
from bot.runtime.components import _sms_components
from bot.store.db import Transaction
from tests.fakes.twilio_api import FakeTwilio

from .support_sms import PHONE
from .test_sms_channel import settings
from .test_sms_provider_records import opener_sent

pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)

SID = "SM" + "a" * 32


@pytest.fixture
async def app(config: Config, clock: ManualClock, fake: FakeTwilio) -> AsyncIterator[App]:
    fake.auto_deliver = False
    cfg = dataclasses.replace(config, sms=settings(fake))
    channel = SmsChannel(cfg.sms)
    opened = await open_app(cfg, {"sms": channel, RECORDS_CHANNEL: channel}, clock=clock)
    yield opened
    await channel.close()
    await opened.close()


def wired(app: App) -> ProviderRecords:
    """The records keeper as ``followup run`` wires it (hook into the service included)."""
    (webhooks,) = _sms_components(app)
    assert isinstance(webhooks, SmsWebhooks) and isinstance(webhooks.records, StoringRecords)
    return webhooks.records.records  # under the wrapper that reports a locked database


def count_transactions(app: App, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts transactions of both kinds: ``transaction()`` blocks and ``run`` bodies."""
    begun: list[int] = []
    original, original_run = app.db.transaction, app.db.run

    def counted() -> AbstractAsyncContextManager[Transaction]:
        begun.append(1)
        return original()

    async def counted_run(body: Callable[[Transaction], Awaitable[Any]]) -> Any:
        begun.append(1)
        return await original_run(body)

    monkeypatch.setattr(app.db, "transaction", counted)
    monkeypatch.setattr(app.db, "run", counted_run)
    return begun


async def deletion_rows(app: App) -> list[tuple[str, str | None]]:
    rows = await app.db.fetchall(
        "SELECT dedupe_key, participant_id FROM outbox WHERE kind = ? ORDER BY id",
        (PROVIDER_DELETE,),
    )
    return [(r[0], r[1]) for r in rows]


async def her_sms(app: App, records: ProviderRecords, text: str = "yes") -> None:
    """What the webhook does with a signed inbound: the service, then the records keeper."""
    await app.handle_inbound(Inbound("sms", PHONE, text, provider_id=SID, message_ref=SID))
    await records.inbound_received(SID)


async def test_her_message_and_its_deletion_row_are_one_commit(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = wired(app)
    await opener_sent(app)
    her = await app.db.fetchone("SELECT id FROM participants")
    assert her is not None
    begun = count_transactions(app, monkeypatch)
    await her_sms(app, records)
    assert begun == [1]  # her message, her answer, the reply and the deletion row: one commit
    assert await deletion_rows(app) == [(records._key(SID), her[0])]
    assert await app.service.transcript.find("sms", SID) is not None


async def test_a_failed_step_rolls_back_the_deletion_row_with_her_message(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = wired(app)
    await opener_sent(app)

    async def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(app.service.sessions, "save", broken)
        with pytest.raises(RuntimeError):
            await app.handle_inbound(Inbound("sms", PHONE, "yes", provider_id=SID, message_ref=SID))
    await records.inbound_received(SID)  # the webhook goes on: nothing of hers was stored
    assert await deletion_rows(app) == []
    assert await app.service.transcript.find("sms", SID) is None
    assert await app.db.fetchone("SELECT 1 FROM inbound_seen") is None
    await records.close()

    await her_sms(app, records)  # Twilio retries the webhook: now all of it, once
    assert len(await deletion_rows(app)) == 1
    assert await app.service.transcript.find("sms", SID) is not None


async def test_switched_off_the_hook_writes_no_row(app: App) -> None:
    records = wired(app)
    records.enabled = False
    await opener_sent(app)
    await her_sms(app, records)
    assert await deletion_rows(app) == []
    assert await app.service.transcript.find("sms", SID) is not None


async def test_without_the_hook_the_webhook_still_queues_her_deletion(app: App) -> None:
    """An app wired without the hook (older wiring, tests): the row comes in a second commit."""
    records = wired(app)
    app.service.inbound_ref_hooks.clear()
    await opener_sent(app)
    await her_sms(app, records)
    assert len(await deletion_rows(app)) == 1
