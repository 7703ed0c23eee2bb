"""Wire the parts together: config -> keys, database, survey, service, dispatcher, channels.

The only module that knows every concrete part; channels and scheduler are
handed what they need and import nothing of the service.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bot.channels.base import Channel, Inbound, NotStored
from bot.channels.telegram import TelegramChannel
from bot.clock import Clock, SystemClock
from bot.config import Config, ConfigError
from bot.crypto import KeyFileError, KeyRing, load_or_create_keyring
from bot.escalation.desk import Desk
from bot.escalation.monitor import EscalationMonitor
from bot.escalation.notifier import Notifier
from bot.escalation.staff_inbound import StaffRouter
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.provider_records import (
    PROVIDER_DELETE,
    RECORDS_CHANNEL,
    ProviderRecords,
    RecordChannel,
)
from bot.outbox.wake import OutboxWake
from bot.session.effects import StepReport
from bot.session.service import FollowupService
from bot.store.db import Database, DatabaseBusy
from bot.store.escalations import EscalationHook, seal_clear_reasons
from bot.store.open_database import is_postgres_url, open_database
from bot.store.sealed_check import holds_keyed_fields, rows_hold_keyed_fields
from bot.store.staff import StaffStore
from bot.store.stores import Stores
from bot.text.surveys import load_survey


@dataclass
class App:
    config: Config
    db: Database
    ring: KeyRing
    stores: Stores
    service: FollowupService
    dispatcher: Dispatcher
    channels: dict[str, Channel]
    key_file_created: bool
    staff: StaffStore
    notifier: Notifier
    desk: Desk
    staff_router: StaffRouter
    provider_records: ProviderRecords | None

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
    key_file = config.path(config.security.key_file)
    refuse_new_key_for_sealed_data(config, key_file)
    survey = load_survey(config.survey.file)
    db = await open_database(config.database_url())
    try:
        await refuse_new_key_for_sealed_rows(config, key_file, db)
        ring, created = load_or_create_keyring(key_file)
    except BaseException:
        await db.close()
        raise
    await seal_clear_reasons(db, ring)  # rows from before migration 9, once
    clock = clock or SystemClock()
    chans = dict(channels)
    stores = Stores.over(db, ring, clock)
    staff = stores.staff
    wake = OutboxWake()  # first: everything below writes outbox rows and calls it
    notifier = Notifier(db, ring, stores.outbox, staff, config.escalation, wake=wake)
    records = provider_records(config, chans, stores, wake)
    service = FollowupService(
        stores=stores,
        survey=survey,
        config=config,
        escalation_hooks=(notifier.hook, *escalation_hooks),
        on_outbox=wake,
        # her SMS and the deletion of its provider record commit together
        inbound_ref_hooks={records.channel.name: records.queue_in_tx} if records else None,
    )
    dispatcher = Dispatcher(
        db,
        stores.outbox,
        stores.transcript,
        chans,
        clock,
        wake=wake,
        on_unreachable=service.mark_unreachable,
        kind_handlers={PROVIDER_DELETE: records.handle} if records else None,
    )
    desk = Desk(db, ring, clock, notifier)
    router = StaffRouter(db, ring, staff, desk, stores.outbox, clock, wake=wake)
    return App(
        config,
        db,
        ring,
        stores,
        service,
        dispatcher,
        chans,
        created,
        staff,
        notifier,
        desk,
        router,
        records,
    )


def provider_records(
    config: Config, channels: Mapping[str, Channel], stores: Stores, wake: Callable[[], None]
) -> ProviderRecords | None:
    """The SMS provider-log keeper, when SMS is on (``build_channels`` adds its loop)."""
    channel = channels.get(RECORDS_CHANNEL)
    if channel is None or not config.sms.account_sid:
        return None
    return ProviderRecords(
        db=stores.db,
        ring=stores.ring,
        outbox=stores.outbox,
        transcript=stores.transcript,
        clock=stores.clock,
        channel=cast(RecordChannel, channel),  # build_channels puts the SmsChannel there
        enabled=config.sms.delete_provider_records,
        on_outbox=wake,
    )


def refuse_new_key_for_sealed_data(config: Config, key_file: Path) -> None:
    """A missing key file is created only for a database that no key has written to yet:
    a new key beside data sealed with another would split her data (issue 21)."""
    if os.environ.get("FOLLOWUP_KEYS") or key_file.exists():
        return
    if is_postgres_url(config.database_url()):
        return  # checked once the database is open: refuse_new_key_for_sealed_rows
    database = config.path(config.database.path)
    if holds_keyed_fields(database):
        where = "FOLLOWUP_KEY_FILE" if os.environ.get("FOLLOWUP_KEY_FILE") else "security.key_file"
        raise KeyFileError(
            f"{key_file}: no such key file, but {database} already holds fields sealed with a"
            f" key; nothing was created. Point {where} (config: {config.source}) at the key"
            " file that sealed them, or restore it from its backup"
        )


async def refuse_new_key_for_sealed_rows(config: Config, key_file: Path, db: Database) -> None:
    """``refuse_new_key_for_sealed_data`` for a database that is no file (PostgreSQL): its
    rows are asked, once it is open."""
    if not _key_file_would_be_created(key_file):
        return
    if not is_postgres_url(config.database_url()):
        return  # a file: refuse_new_key_for_sealed_data has looked before it was opened
    if await rows_hold_keyed_fields(db):
        where = "FOLLOWUP_KEY_FILE" if os.environ.get("FOLLOWUP_KEY_FILE") else "security.key_file"
        raise KeyFileError(
            f"{key_file}: no such key file, but the database already holds fields sealed with a"
            f" key; nothing was created. Point {where} (config: {config.source}) at the key"
            " file that sealed them, or restore it from its backup"
        )


def _key_file_would_be_created(key_file: Path) -> bool:
    return not (os.environ.get("FOLLOWUP_KEYS") or key_file.exists())


def build_channels(config: Config) -> dict[str, Channel]:
    """The channels this configuration turns on (a channel with no credentials is off)."""
    channels: dict[str, Channel] = {}
    if config.telegram.token:
        channels["telegram"] = TelegramChannel(config.telegram)
    if config.sms.account_sid:
        # Imported here: twilio and aiohttp cost every CLI command a third of a second.
        from bot.channels.sms import SmsChannel

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
