"""Wire the parts together: config -> keys, database, survey, service, dispatcher, channels.

The only module that knows every concrete part; channels and scheduler are
handed what they need and import nothing of the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.channels.base import Channel, Inbound
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_updates import TelegramUpdates
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.crypto import KeyRing, load_or_create_keyring
from bot.deletion_sweep import sweep_deletions
from bot.dispatch import Dispatcher
from bot.service import FollowupService
from bot.store.db import Database
from bot.store.escalations import EscalationHook
from bot.store.housekeeping import bump
from bot.surveys import load_survey
from bot.telegram_enrol import TelegramEnrolment

if TYPE_CHECKING:
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
    clock = clock or SystemClock()
    chans = dict(channels)
    service = FollowupService(
        db=db,
        ring=ring,
        survey=survey,
        config=config,
        clock=clock,
        escalation_hooks=escalation_hooks,
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
    return App(config, db, ring, service, dispatcher, chans, created)


def build_channels(config: Config) -> dict[str, Channel]:
    """The channels this configuration turns on (a channel with no credentials is off)."""
    channels: dict[str, Channel] = {}
    if config.telegram.token:
        channels["telegram"] = TelegramChannel(config.telegram)
    return channels


def build_components(app: App) -> list[Component]:
    """Long-running parts for ``followup run``: channel adapters, scheduler, ..."""
    components: list[Component] = []
    telegram = app.channels.get("telegram")
    if isinstance(telegram, TelegramChannel):
        service = app.service

        async def to_service(msg: Inbound) -> None:
            await service.handle_inbound(msg)

        enrolment = TelegramEnrolment(service, to_service)

        async def count(name: str) -> None:
            async with app.db.transaction() as tx:
                await bump(tx, name)

        components.append(
            TelegramUpdates(
                app.config.telegram,
                telegram,
                enrolment.handle,
                count=count,
                tick=lambda: sweep_deletions(service, "telegram"),
            )
        )
    return components
