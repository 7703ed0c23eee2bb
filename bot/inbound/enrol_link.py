"""``/start <token>`` from a chat not yet linked: redeem the one-time token, link, begin T0.

Linking, recording her /start message and the neutral opener commit in one
transaction. A bad, used or expired token gets one neutral line and links
nothing; a chat that keeps trying is throttled (a blind-indexed counter, never
the chat id in clear). Everything else goes on to the next handler unchanged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import aiosqlite

from bot.channels.base import Inbound, InboundHandler, Rendered
from bot.clock import iso, parse_iso
from bot.enrolment.tokens import redeem_token
from bot.session.service import FollowupService
from bot.store.housekeeping import audit, bump, first_time_seen
from bot.store.outbox import PRIORITY_LIVE
from bot.text.i18n import Translator, available_languages
from conversations import messages as m

log = logging.getLogger(__name__)

CHANNEL = "telegram"
THROTTLE_PURPOSE = "throttle:telegram-start"
#: Bad tokens answered per chat and window; after that the chat gets silence.
MAX_BAD_TOKENS = 3
THROTTLE_WINDOW = timedelta(hours=1)


class TelegramEnrolment:
    """Sits in front of the service for Telegram inbound; see the module docstring."""

    def __init__(self, service: FollowupService, following: InboundHandler) -> None:
        self.service = service
        self.following = following

    async def handle(self, msg: Inbound) -> None:
        token = msg.extra.get("start_token")
        if token is None or await self.service.participants.by_address(CHANNEL, msg.address):
            await self.following(msg)  # a linked chat's /start is an ordinary message
            return
        await self._redeem(msg, token)

    async def _redeem(self, msg: Inbound, token: str) -> None:
        service = self.service
        now = service.clock.now()
        key = service.ring.blind_index(THROTTLE_PURPOSE, msg.address)
        async with service.db.transaction() as tx:
            if msg.provider_id is not None and not await first_time_seen(
                tx, service.ring, CHANNEL, msg.provider_id, now
            ):
                return
            tries = await _failures(tx, key, now)
            if tries >= MAX_BAD_TOKENS:
                await bump(tx, "telegram_start_throttled")
                return
            pid = await redeem_token(tx, service.db, service.ring, token, now)
            participant = await service.participants.get(pid) if pid else None
            if (
                participant is None
                or participant.channel != CHANNEL
                or participant.status != "active"
                or participant.row["address_enc"] is not None
            ):
                await _fail(tx, key, tries, now)
                await bump(tx, "telegram_start_bad_token")
                await self._neutral_line(tx, msg, key, now)
                return
            await service.participants.set_address(tx, participant.id, CHANNEL, msg.address)
            await audit(tx, now, "participant", "telegram_linked", participant.pseudonym)
            linked = await service.participants.get(participant.id)
            if msg.message_ref:
                await service.transcript.record(
                    tx,
                    participant_id=linked.id,
                    session_id=None,
                    channel=CHANNEL,
                    direction="in",
                    ref=msg.message_ref,
                    now=now,
                )
            await service.begin_contact_tx(tx, linked, "T0", now)
        log.info("telegram chat linked for %s", participant.pseudonym)
        service.on_outbox()

    async def _neutral_line(
        self, tx: aiosqlite.Connection, msg: Inbound, key: bytes, now: datetime
    ) -> None:
        """One line that says nothing about the survey (the decoy), in her app's language."""
        language = msg.extra.get("language_code", "")[:2]
        tr = Translator(language if language in available_languages() else "en")
        line = Rendered(text=tr.gettext(m.DECOY), kind="decoy")
        await self.service.outbox.enqueue(
            tx,
            lane=f"start:{key.hex()[:24]}",
            channel=CHANNEL,
            kind="message",
            priority=PRIORITY_LIVE,
            payload={"address": msg.address, "message": line.to_json()},
            now=now,
        )
        self.service.on_outbox()


async def _failures(tx: aiosqlite.Connection, key: bytes, now: datetime) -> int:
    await tx.execute("DELETE FROM throttle WHERE since < ?", (iso(now - THROTTLE_WINDOW),))
    cur = await tx.execute("SELECT count, since FROM throttle WHERE key = ?", (key,))
    row = await cur.fetchone()
    if row is None or parse_iso(row["since"]) < now - THROTTLE_WINDOW:
        return 0
    return int(row["count"])


async def _fail(tx: aiosqlite.Connection, key: bytes, tries: int, now: datetime) -> None:
    if tries == 0:
        await tx.execute(
            "INSERT OR REPLACE INTO throttle (key, count, since) VALUES (?, 1, ?)", (key, iso(now))
        )
    else:
        await tx.execute("UPDATE throttle SET count = count + 1 WHERE key = ?", (key,))
