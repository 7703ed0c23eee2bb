"""The long-running parts of ``followup run`` for one configuration, wired to one App.

Kept apart from the container (``bot.runtime.app``) so that building the App never
imports the SMS webhooks: only ``followup run`` needs them. The staff desk sits a
layer above (``bot.web``) and is added by ``followup run`` itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.channels.base import Inbound
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_updates import TelegramUpdates
from bot.datarights.retention import RetentionJob
from bot.inbound.enrol_link import TelegramEnrolment
from bot.inbound.storing import StoringRecords, storing
from bot.runtime.app import App
from bot.runtime.component import Component
from bot.runtime.ticker import Ticker
from bot.schedule.deletion_deadlines import sweep_deletions
from bot.schedule.sweep import Sweep
from bot.store.housekeeping import bump


def build_components(app: App) -> list[Component]:
    """Long-running parts for ``followup run``: channel adapters, scheduler, ..."""
    components: list[Component] = [app.escalation_monitor()]
    components.append(RetentionJob(app.db, app.config.retention, app.service.clock))
    telegram = app.channels.get("telegram")
    if isinstance(telegram, TelegramChannel):
        service = app.service

        async def to_service(msg: Inbound) -> None:
            await app.handle_inbound(msg)  # staff buttons first, then her path

        enrolment = TelegramEnrolment(
            app.stores, service.begin_contact_tx, app.dispatcher.wake, to_service
        )

        async def count(name: str) -> None:
            async with app.db.transaction() as tx:
                await bump(tx, name)

        components.append(
            TelegramUpdates(
                app.config.telegram,
                telegram,
                storing(enrolment.handle),
                count=count,
                tick=lambda: sweep_deletions(app.stores, app.dispatcher.wake, "telegram"),
            )
        )
    if app.config.sms.account_sid and "sms" in app.channels:
        components.extend(_sms_components(app))
    # counts only: a wave is 100,000 actions
    sweep = Sweep(app.stores, app.config, app.service, keep_actions=False)
    components.append(Ticker(sweep.run, app.config.scheduler.sweep_seconds, sweep.daily))
    return components


def _sms_components(app: App) -> list[Component]:
    from bot.channels.sms import SmsChannel
    from bot.channels.sms_web import SmsWebhooks

    sms = app.channels["sms"]
    records = app.provider_records
    if not isinstance(sms, SmsChannel) or records is None:
        return []
    return [SmsWebhooks(app.config.sms, sms, _inbound_handler(app), StoringRecords(records))]


def _inbound_handler(app: App) -> Callable[[Inbound], Awaitable[None]]:
    async def handle(message: Inbound) -> None:
        await app.handle_inbound(message)  # on-call staff replies (ACK/DONE) first, then hers

    return handle
