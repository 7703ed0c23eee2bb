"""Staff replies in front of the participant path: buttons and ``ACK``/``DONE`` texts.

A Telegram callback with ``esc:`` data is always consumed: from an allow-listed
staff member it acts, from anyone else it is ignored and audited (no reply).
An ``ACK E-XXXXX`` / ``DONE E-XXXXX`` text acts only when it comes from a staff
phone or Telegram account; from anyone else it falls through to her path,
which ignores unknown senders. A worker acts only inside her own organisations:
another organisation's code gets the same answer as an unknown one, and is audited.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from bot.channels.base import Inbound, Rendered
from bot.clock import Clock
from bot.crypto import KeyRing
from bot.escalation import content
from bot.escalation.desk import Desk, EscalationNotFound, normalise_code
from bot.escalation.notifier import staff_lane
from bot.store.db import Database
from bot.store.housekeeping import first_time_seen
from bot.store.outbox import PRIORITY_URGENT, Outbox
from bot.store.scope import Scope
from bot.store.staff import StaffMember, StaffStore

log = logging.getLogger(__name__)

CALLBACK_RE = re.compile(r"^esc:(ack|resolve):(\S+)$")
TEXT_RE = re.compile(r"^\s*(ACK|DONE)\s+(\S+)\s*$", re.IGNORECASE)
ACTIONS = {"ack": "acknowledge", "resolve": "resolve", "done": "resolve"}


class StaffRouter:
    def __init__(
        self,
        db: Database,
        ring: KeyRing,
        staff: StaffStore,
        desk: Desk,
        outbox: Outbox,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.ring = ring
        self.staff = staff
        self.desk = desk
        self.outbox = outbox
        self.clock = clock
        self.wake = wake

    async def handle(self, msg: Inbound) -> bool:
        """True when the message was for the staff side (acted on or refused)."""
        data = msg.extra.get("callback_data", "")
        if msg.channel == "telegram" and data.startswith("esc:"):
            if not await self._first_time(msg):
                return True
            member = await self.staff.by_telegram(msg.extra.get("user_id", ""))
            match = CALLBACK_RE.match(data)
            code = normalise_code(match.group(2)) if match else None
            if member is None or not member.responder or match is None:
                why = "not on the staff list" if member is None else "not allowed"
                await self.desk.refuse(code, "telegram", why if match else "malformed data")
                return True
            await self._act(member, "telegram", ACTIONS[match.group(1)], match.group(2))
            return True
        text = TEXT_RE.match(msg.text or "")
        if text is None or msg.channel not in ("sms", "telegram"):
            return False
        member = await self._sender(msg)
        if member is None:
            return False
        if msg.edited:
            return True  # a staff member's edit never runs a command a second time
        if not await self._first_time(msg):
            return True
        if not member.responder:
            await self.desk.refuse(normalise_code(text.group(2)), msg.channel, "not allowed")
            return True
        await self._act(member, msg.channel, ACTIONS[text.group(1).lower()], text.group(2))
        return True

    async def _sender(self, msg: Inbound) -> StaffMember | None:
        if msg.channel == "sms":
            return await self.staff.by_phone(msg.address)
        return await self.staff.by_telegram(msg.extra.get("user_id") or msg.address)

    async def _first_time(self, msg: Inbound) -> bool:
        if msg.provider_id is None:
            return True
        async with self.db.transaction() as tx:
            return await first_time_seen(
                tx, self.ring, msg.channel, msg.provider_id, self.clock.now()
            )

    async def _act(self, member: StaffMember, channel: str, action: str, code: str) -> None:
        try:
            scope = Scope.of(member, channel)
            if action == "acknowledge":
                outcome = await self.desk.acknowledge(code, member.name, scope=scope, via=channel)
            else:
                outcome = await self.desk.resolve(code, member.name, scope=scope, via=channel)
        except EscalationNotFound:
            shown = normalise_code(code) or code[:12]
            await self._reply(
                member, channel, content.reply(content.NO_SUCH, member.language, code=shown)
            )
            return
        if outcome.changed:
            msgid = content.DONE_ACK if action == "acknowledge" else content.DONE_RESOLVE
            message = content.reply(msgid, member.language, code=outcome.code, name=member.name)
        else:
            message = content.reply(
                content.ALREADY, member.language, code=outcome.code, state=outcome.state
            )
        log.info(
            "escalation %s %s by staff %s via %s", outcome.code, outcome.state, member.id, channel
        )
        await self._reply(member, channel, message)

    async def _reply(self, member: StaffMember, channel: str, message: Rendered) -> None:
        routes = [r for r in member.routes(self.ring) if r.channel == channel]
        if not routes:
            return
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.outbox.enqueue(
                tx,
                lane=staff_lane(member.id, channel),
                channel=channel,
                kind="message",
                priority=PRIORITY_URGENT,
                payload={"address": routes[0].address, "message": message.to_json()},
                now=now,
                staff_id=member.id,
            )
        self.wake()
