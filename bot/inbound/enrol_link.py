"""``/start <token>`` from a chat not yet linked: redeem the one-time token, link, begin T0.

Linking, recording her /start message and the neutral opener commit in one
transaction. A bad, used or expired token gets one neutral line and links
nothing; a chat that keeps trying is throttled (a blind-indexed counter, never
the chat id in clear). Everything else goes on to the next handler unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.channels.base import Inbound, InboundHandler, Rendered
from bot.enrolment.tokens import redeem_token
from bot.store.db import Transaction
from bot.store.housekeeping import audit, bump, first_time_seen
from bot.store.outbox import PRIORITY_LIVE
from bot.store.participants import Participant
from bot.store.stores import Stores
from bot.store.throttle import count_failure, recent_failures
from bot.text.i18n import Translator, available_languages
from conversations import messages as m
from conversations.vocabulary import ParticipantStatus

log = logging.getLogger(__name__)

CHANNEL = "telegram"
THROTTLE_PURPOSE = "throttle:telegram-start"
#: Bad tokens answered per chat and window; after that the chat gets silence.
MAX_BAD_TOKENS = 3
THROTTLE_WINDOW = timedelta(hours=1)


#: Opens her T0 inside the transaction that links her chat (the service's begin_contact_tx).
BeginContact = Callable[[Transaction, Participant, str, datetime], Awaitable[object]]


class TelegramEnrolment:
    """Sits in front of the service for Telegram inbound; see the module docstring."""

    def __init__(
        self,
        stores: Stores,
        begin_contact: BeginContact,
        on_outbox: Callable[[], None],
        following: InboundHandler,
    ) -> None:
        self.stores = stores
        self.begin_contact = begin_contact
        self.on_outbox = on_outbox
        self.following = following

    async def handle(self, msg: Inbound) -> None:
        token = msg.extra.get("start_token")
        if token is None or await self.stores.participants.by_address(CHANNEL, msg.address):
            await self.following(msg)  # a linked chat's /start is an ordinary message
            return
        await self._redeem(msg, token)

    async def _redeem(self, msg: Inbound, token: str) -> None:
        stores = self.stores
        now = stores.clock.now()
        key = stores.ring.blind_index(THROTTLE_PURPOSE, msg.address)
        async with stores.db.transaction() as tx:
            if msg.provider_id is not None and not await first_time_seen(
                tx, stores.ring, CHANNEL, msg.provider_id, now
            ):
                return
            tries = await recent_failures(tx, key, now, THROTTLE_WINDOW)
            if tries >= MAX_BAD_TOKENS:
                await bump(tx, "telegram_start_throttled")
                return
            pid = await redeem_token(tx, stores.ring, token, now)
            participant = await stores.participants.get(pid) if pid else None
            if (
                participant is None
                or participant.channel != CHANNEL
                or participant.status != ParticipantStatus.ACTIVE
                or participant.linked
            ):
                await count_failure(tx, key, tries, now)
                await bump(tx, "telegram_start_bad_token")
                await self._neutral_line(tx, msg, key, now)
                return
            await stores.participants.set_address(tx, participant.id, CHANNEL, msg.address)
            await audit(tx, now, "participant", "telegram_linked", participant.pseudonym)
            linked = await stores.participants.get(participant.id)
            if msg.message_ref:
                await stores.transcript.record(
                    tx,
                    participant_id=linked.id,
                    session_id=None,
                    channel=CHANNEL,
                    direction="in",
                    ref=msg.message_ref,
                    now=now,
                )
            await self.begin_contact(tx, linked, "T0", now)
        log.info("telegram chat linked for %s", participant.pseudonym)
        self.on_outbox()

    async def _neutral_line(self, tx: Transaction, msg: Inbound, key: bytes, now: datetime) -> None:
        """One line that says nothing about the survey (the decoy), in her app's language."""
        language = msg.extra.get("language_code", "")[:2]
        tr = Translator(language if language in available_languages() else "en")
        line = Rendered(text=tr.gettext(m.DECOY), kind="decoy")
        await self.stores.outbox.enqueue(
            tx,
            lane=f"start:{key.hex()[:24]}",
            channel=CHANNEL,
            kind="message",
            priority=PRIORITY_LIVE,
            payload={"address": msg.address, "message": line.to_json()},
            now=now,
        )
        self.on_outbox()
