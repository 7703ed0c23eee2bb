"""Wire the parts together: config -> keys, database, survey, service, dispatcher, channels.

The only module that knows every concrete part; channels and scheduler are
handed what they need and import nothing of the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.channels.base import Channel
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.crypto import KeyRing, load_or_create_keyring
from bot.dispatch import Dispatcher
from bot.service import FollowupService
from bot.store.db import Database
from bot.store.escalations import EscalationHook
from bot.surveys import load_survey
from bot.sweep import Sweep
from bot.ticker import Ticker

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
    dispatcher = Dispatcher(db, service.outbox, service.transcript, chans, clock)
    service.on_outbox = dispatcher.wake
    return App(config, db, ring, service, dispatcher, chans, created)


def build_channels(config: Config) -> dict[str, Channel]:
    """The channels this configuration turns on (a channel with no credentials is off)."""
    channels: dict[str, Channel] = {}
    return channels


def build_components(app: App) -> list[Component]:
    """Long-running parts for ``followup run``: channel adapters, scheduler, ..."""
    sweep = Sweep(app.service)
    components: list[Component] = [
        Ticker(sweep.run, app.config.scheduler.sweep_seconds, sweep.daily),
    ]
    return components
