"""What leaves for her phone: rendering in her language and the outbox rows of a step.

One implementation for the single path (``bot.session.effects``) and the wave batch
(``bot.session.wave_batch``): the same words, styles, priorities and lanes. A message
for a woman without an address yet (a Telegram link not opened) is dropped, logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.base import CHANNEL_STYLES, PER_MESSAGE_DELETION
from bot.config import Config
from bot.crypto import KeyRing
from bot.schedule.contact_request import ContactRequest
from bot.schedule.settings import rules_for
from bot.store.contact_batch import DuplicateContact
from bot.store.db import Transaction
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_URGENT, Outbox, lane_of
from bot.store.participants import Participant, Programme
from bot.text.i18n import Translator, format_day
from bot.text.render import ProgrammeWords, render
from conversations import messages as m
from conversations.effects import Line, Outgoing
from conversations.vocabulary import SCHEDULED_KINDS, MessageKind
from scheduler.contact import snooze_until
from scheduler.windows import parse_windows

log = logging.getLogger(__name__)

#: Deletions that must not wait for anything (she may be in danger now).
IMMEDIATE_DELETION = frozenset(
    {"safe_word", "opted_out", "locked", "withdrawn", "erased", "unreachable"}
)


def programme_words(programme: Programme) -> ProgrammeWords:
    """The programme's own words in her messages: sender name, emergency number, helpline."""
    return ProgrammeWords(
        programme.sender_name,
        programme.emergency_number,
        programme.helpline or programme.emergency_number,
    )


def rendered(participant: Participant, programme: Programme, message: Outgoing) -> dict[str, Any]:
    """``message`` in her language and her channel's style, as the outbox stores it."""
    style = CHANNEL_STYLES.get(participant.channel, "numbered")
    words = programme_words(programme)
    return render(message, style, Translator(participant.language), words).to_json()


def message_priority(kind: str, priority: int) -> int:
    """Help on risk jumps every queue; a live reply never waits behind a wave."""
    if kind == MessageKind.HELP:
        return PRIORITY_URGENT
    if kind not in SCHEDULED_KINDS:
        return min(priority, PRIORITY_LIVE)
    return priority


async def enqueue_message(
    tx: Transaction,
    outbox: Outbox,
    ring: KeyRing,
    participant: Participant,
    programme: Programme,
    session_id: str | None,
    message: Outgoing,
    now: datetime,
    priority: int,
    contact: ContactRequest | None = None,
) -> None:
    """Queue one message of hers; an opener or reminder carries its contact's dedupe key
    (raises ``DuplicateContact`` when that key was used: another sweep got there first)."""
    address = participant.address(ring)
    if address is None:
        log.warning("participant %s has no address yet; message dropped", participant.pseudonym)
        return
    kind = message.kind
    scheduled = contact is not None and kind in SCHEDULED_KINDS
    dedupe_key = contact.dedupe_key if contact and scheduled else None
    row_id = await outbox.enqueue(
        tx,
        lane=lane_of(participant.id),
        channel=participant.channel,
        kind="message",
        priority=message_priority(kind, priority),
        payload={"address": address, "message": rendered(participant, programme, message)},
        now=now,
        participant_id=participant.id,
        session_id=session_id,
        dedupe_key=dedupe_key,
        not_after=contact.not_after if contact and scheduled else None,
    )
    if row_id is None and dedupe_key is not None:
        raise DuplicateContact(dedupe_key)


async def enqueue_deletion(
    tx: Transaction,
    outbox: Outbox,
    ring: KeyRing,
    config: Config,
    participant: Participant,
    session_id: str | None,
    reason: str,
    now: datetime,
) -> None:
    """Queue the deletion of her chat. After a safe word or a stop, unsent questions are
    cancelled first and the deletion goes at once; otherwise after a short grace."""
    lane = lane_of(participant.id)
    delay = timedelta(0)
    if reason in IMMEDIATE_DELETION:
        await outbox.cancel_lane(tx, lane, ("message",))
    else:
        delay = timedelta(seconds=config.telegram.delete_after_seconds)
    if participant.channel in PER_MESSAGE_DELETION:
        return  # each message is deleted from the provider once final, not per session
    address = participant.address(ring) or ""
    await outbox.enqueue(
        tx,
        lane=lane,
        channel=participant.channel,
        kind="delete",
        priority=PRIORITY_URGENT if not delay else PRIORITY_LIVE,
        payload={"address": address, "reason": reason},
        now=now,
        not_before=now + delay,
        participant_id=participant.id,
        session_id=session_id,
    )


def snooze_end(
    config: Config,
    ring: KeyRing,
    participant: Participant,
    programme: Programme,
    option: str,
    now: datetime,
) -> datetime:
    """When a snooze she chose ends: her next safe window after it, outside quiet hours."""
    quiet = rules_for(config, programme).quiet
    windows = parse_windows(participant.windows(ring))
    until = snooze_until(now, option, windows, quiet, ZoneInfo(participant.timezone))
    return until or now + timedelta(days=1)


def with_snooze_day(
    message: Outgoing, participant: Participant, now: datetime, until: datetime
) -> Outgoing:
    """'Thanks. Talk soon.' becomes 'Thanks. Talk again on Tuesday 3 March.' when the snooze
    ends on another day of her calendar; the day only, in her language (still a neutral line)."""
    if tuple(line.msgid for line in message.lines) != (m.SNOOZE_OK,):
        return message
    zone = ZoneInfo(participant.timezone)
    day = until.astimezone(zone).date()
    if day <= now.astimezone(zone).date():
        return message
    line = Line(m.SNOOZE_OK_DAY, {"day": format_day(day, participant.language)})
    return replace(message, lines=(line,))
