"""Wire the parts together: config -> keys, database, survey, service, dispatcher, channels.

The only module that knows every concrete part; channels and scheduler are
handed what they need and import nothing of the service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.channels.base import Channel, Inbound, InboundHandler, NotStored
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_updates import TelegramUpdates
from bot.clock import Clock, SystemClock
from bot.config import Config, ConfigError
from bot.crypto import KeyRing, load_or_create_keyring
from bot.deletion_sweep import sweep_deletions
from bot.dispatch import Dispatcher
from bot.escalation.desk import Desk
from bot.escalation.monitor import EscalationMonitor
from bot.escalation.notifier import Notifier
from bot.escalation.staff_inbound import StaffRouter
from bot.service import FollowupService, StepReport
from bot.store.db import Database, DatabaseBusy
from bot.store.escalations import EscalationHook, seal_clear_reasons
from bot.store.housekeeping import bump
from bot.store.outbox import Outbox
from bot.store.staff import StaffStore
from bot.surveys import load_survey
from bot.sweep import Sweep
from bot.telegram_enrol import TelegramEnrolment
from bot.ticker import Ticker

if TYPE_CHECKING:
    from bot.provider_records import ProviderRecords
    from bot.runner import Component


@dataclass
class App:
    config: Config
    db: Database
    ring: KeyRing
    service: FollowupService
    dispatcher: Dispatcher
    channels: dict[str, Channel]
    key_file_created: bool
    staff: StaffStore
    notifier: Notifier
    desk: Desk
    staff_router: StaffRouter

    async def handle_inbound(self, msg: Inbound) -> StepReport | None:
        """THE inbound entry point for every channel: staff replies first, then her path."""
        try:
            if await self.staff_router.handle(msg):
                return None
            return await self.service.handle_inbound(msg)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    def escalation_monitor(self) -> EscalationMonitor:
        return EscalationMonitor(
            self.db,
            self.notifier,
            self.service.clock,
            interval=self.config.escalation.monitor_seconds,
            wake=self.dispatcher.wake,
        )

    async def close(self) -> None:
        for channel in self.channels.values():
            closer = getattr(channel, "close", None)
            if closer is not None:
                await closer()
        await self.db.close()


async def open_app(
    config: Config,
    channels: Mapping[str, Channel],
    *,
    clock: Clock | None = None,
    escalation_hooks: tuple[EscalationHook, ...] = (),
) -> App:
    """Open keys and database (creating both on first run) and build service and dispatcher."""
    ring, created = load_or_create_keyring(config.path(config.security.key_file))
    survey = load_survey(config.survey.file)
    db = await Database.open(config.path(config.database.path))
    await seal_clear_reasons(db, ring)  # rows from before migration 9, once
    clock = clock or SystemClock()
    chans = dict(channels)
    staff = StaffStore(db, ring)
    waker = _Waker()
    notifier = Notifier(db, ring, Outbox(db, ring), staff, config, wake=waker)
    service = FollowupService(
        db=db,
        ring=ring,
        survey=survey,
        config=config,
        clock=clock,
        escalation_hooks=(notifier.hook, *escalation_hooks),
    )
    dispatcher = Dispatcher(
        db,
        service.outbox,
        service.transcript,
        chans,
        clock,
        on_unreachable=service.mark_unreachable,
    )
    service.on_outbox = dispatcher.wake
    waker.target = dispatcher.wake
    desk = Desk(db, ring, clock, notifier)
    router = StaffRouter(db, ring, staff, desk, service.outbox, clock, wake=dispatcher.wake)
    return App(config, db, ring, service, dispatcher, chans, created, staff, notifier, desk, router)


class _Waker:
    """Calls the dispatcher's wake once it exists (the notifier is built before it)."""

    def __init__(self) -> None:
        self.target: Callable[[], None] = lambda: None

    def __call__(self) -> None:
        self.target()


def build_channels(config: Config) -> dict[str, Channel]:
    """The channels this configuration turns on (a channel with no credentials is off)."""
    channels: dict[str, Channel] = {}
    if config.telegram.token:
        channels["telegram"] = TelegramChannel(config.telegram)
    if config.sms.account_sid:
        # Imported here: twilio and aiohttp cost every CLI command a third of a second.
        from bot.channels.sms import SmsChannel
        from bot.provider_records import RECORDS_CHANNEL

        _check_sms(config)
        sms = SmsChannel(config.sms)
        channels["sms"] = sms
        # Provider-log deletions drain on a loop of their own: never ahead of her questions.
        channels[RECORDS_CHANNEL] = sms
    return channels


def _check_sms(config: Config) -> None:
    sms = config.sms
    for key, missing in (
        ("auth_token", not sms.auth_token),
        ("public_url", not sms.public_url),
        ("from_number", not (sms.messaging_service_sid or sms.from_number)),
    ):
        if missing:
            hint = " (or messaging_service_sid)" if key == "from_number" else ""
            raise ConfigError(
                f"{config.source}: key 'sms.{key}'{hint}: needed when sms.account_sid is set"
            )


def build_components(app: App) -> list[Component]:
    """Long-running parts for ``followup run``: channel adapters, scheduler, ..."""
    from bot.datarights.retention import RetentionJob
    from bot.web.dashboard import Dashboard

    components: list[Component] = [app.escalation_monitor(), Dashboard(app)]
    components.append(RetentionJob(app.db, app.config.retention, app.service.clock))
    telegram = app.channels.get("telegram")
    if isinstance(telegram, TelegramChannel):
        service = app.service

        async def to_service(msg: Inbound) -> None:
            await app.handle_inbound(msg)  # staff buttons first, then her path

        enrolment = TelegramEnrolment(service, to_service)

        async def count(name: str) -> None:
            async with app.db.transaction() as tx:
                await bump(tx, name)

        components.append(
            TelegramUpdates(
                app.config.telegram,
                telegram,
                storing(enrolment.handle),
                count=count,
                tick=lambda: sweep_deletions(service, "telegram"),
            )
        )
    if app.config.sms.account_sid and "sms" in app.channels:
        components.extend(_sms_components(app))
    sweep = Sweep(app.service, keep_actions=False)  # counts only: a wave is 100,000 actions
    components.append(Ticker(sweep.run, app.config.scheduler.sweep_seconds, sweep.daily))
    return components


def _sms_components(app: App) -> list[Component]:
    from bot.channels.sms import SmsChannel
    from bot.channels.sms_web import SmsWebhooks
    from bot.provider_records import PROVIDER_DELETE, ProviderRecords

    sms = app.channels["sms"]
    if not isinstance(sms, SmsChannel):
        return []
    records = ProviderRecords(
        db=app.db,
        ring=app.ring,
        outbox=app.service.outbox,
        transcript=app.service.transcript,
        clock=app.service.clock,
        channel=sms,
        enabled=app.config.sms.delete_provider_records,
        on_outbox=app.dispatcher.wake,
    )
    app.dispatcher.kind_handlers[PROVIDER_DELETE] = records.handle
    app.service.inbound_ref_hooks[sms.name] = records.queue_in_tx  # her SMS and its deletion
    return [SmsWebhooks(app.config.sms, sms, _inbound_handler(app), _StoringRecords(records))]


def _inbound_handler(app: App) -> Callable[[Inbound], Awaitable[None]]:
    async def handle(message: Inbound) -> None:
        await app.handle_inbound(message)  # on-call staff replies (ACK/DONE) first, then hers

    return handle


def storing(handler: InboundHandler) -> InboundHandler:
    """``handler`` with a locked database reported as ``NotStored`` (channels know no store)."""

    async def handle(message: Inbound) -> None:
        try:
            await handler(message)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    return handle


class _StoringRecords:
    """The SMS provider-record keeper, with a locked database reported as ``NotStored``."""

    def __init__(self, records: ProviderRecords) -> None:
        self.records = records

    async def message_final(self, sid: str, status: str) -> None:
        try:
            await self.records.message_final(sid, status)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    async def inbound_received(self, sid: str) -> None:
        try:
            await self.records.inbound_received(sid)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    async def sweep(self) -> int:
        return await self.records.sweep()

    async def close(self) -> None:
        await self.records.close()
