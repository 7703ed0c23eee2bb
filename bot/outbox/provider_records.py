"""Delete every SMS from the provider's log once it is final (DESIGN.md §1.4).

Each deletion is an outbox row of its own kind, one lane per message, drained
on its own loop so a message still in flight never holds up her next question.
Twilio answers 20009 until delivery is settled: the row backs off and retries
for up to 14 days. A daily sweep re-queues any reference not yet gone (a lost
status callback, a crash). The transcript's ``deleted_at`` records that the
provider record is gone. Nothing here can reach the copy on her phone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.channels.base import Channel, PermanentError, TransientError
from bot.clock import Clock, iso, parse_iso
from bot.crypto import KeyRing
from bot.store.db import Database, Transaction
from bot.store.outbox import PRIORITY_HOUSEKEEPING, Outbox, OutboxRow
from bot.store.transcript import Transcript

log = logging.getLogger(__name__)

#: Outbox kind of one provider-record deletion, and the loop that drains those rows.
PROVIDER_DELETE = "provider_delete"
RECORDS_CHANNEL = "sms-records"
GIVE_UP_AFTER = timedelta(days=14)
#: A status callback can beat the dispatcher's commit of the reference; wait that long then.
UNRECORDED_DELAY = timedelta(seconds=5)
#: SIDs remembered between queue_in_tx's commit and the webhook's inbound_received call.
QUEUED_MEMORY = 10_000
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received", "canceled", "read"})


class RecordChannel(Protocol):
    """A channel whose provider keeps a log of messages that we can list and delete."""

    name: str

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]: ...

    async def final_records(self) -> list[str]: ...


class ProviderRecords:
    """Queues, runs and sweeps provider-record deletions for one channel (SMS)."""

    def __init__(
        self,
        *,
        db: Database,
        ring: KeyRing,
        outbox: Outbox,
        transcript: Transcript,
        clock: Clock,
        channel: RecordChannel,
        enabled: bool = True,
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.ring = ring
        self.outbox = outbox
        self.transcript = transcript
        self.clock = clock
        self.channel = channel
        self.enabled = enabled
        self.on_outbox = on_outbox
        self._strays: set[asyncio.Task[None]] = set()
        self._queued: dict[str, None] = {}  # SIDs queued by queue_in_tx, oldest first

    def _key(self, sid: str) -> str:
        return "pd:" + self.ring.blind_index(f"provider:{self.channel.name}", sid).hex()

    async def _enqueue(
        self,
        tx: Transaction,
        sid: str,
        participant_id: str | None,
        now: datetime,
        delay: timedelta = timedelta(0),
    ) -> int | None:
        key = self._key(sid)
        return await self.outbox.enqueue(
            tx,
            lane=key,
            channel=RECORDS_CHANNEL,
            kind=PROVIDER_DELETE,
            priority=PRIORITY_HOUSEKEEPING,
            payload={"sid": sid, "since": iso(now)},
            now=now,
            not_before=now + delay,
            participant_id=participant_id,
            dedupe_key=key,
        )

    async def queue_in_tx(
        self, tx: Transaction, participant_id: str, sid: str, now: datetime
    ) -> None:
        """Her inbound message's deletion row, in the transaction that records her message:
        one commit per message, and never her message stored without its deletion."""
        if not self.enabled:
            return
        await self._enqueue(tx, sid, participant_id, now)
        self.db.after_commit(lambda: self._note_queued(sid))

    def _note_queued(self, sid: str) -> None:
        self._queued[sid] = None
        if len(self._queued) > QUEUED_MEMORY:  # a webhook that never asked: forget the oldest
            del self._queued[next(iter(self._queued))]
        self.on_outbox()

    async def schedule(self, sid: str, *, delay: timedelta = timedelta(0)) -> bool:
        """Queue the deletion of one provider record (or bring a waiting one forward)."""
        now = self.clock.now()
        added = await self.db.run(lambda tx: self._schedule_in(tx, sid, delay, now))
        self.on_outbox()
        return added

    async def _schedule_in(
        self, tx: Transaction, sid: str, delay: timedelta | None, now: datetime
    ) -> bool:
        """``schedule`` inside ``tx``; ``delay`` None: at once if we recorded the message,
        else after ``UNRECORDED_DELAY`` (a status callback)."""
        ref = await self.transcript.find(self.channel.name, sid)
        if delay is None:
            delay = timedelta(0) if ref else UNRECORDED_DELAY
        added = await self._enqueue(tx, sid, ref.participant_id if ref else None, now, delay)
        if added is None and not delay:
            await self.outbox.bring_forward(tx, self._key(sid), now)
        return added is not None

    async def message_final(self, sid: str, status: str) -> None:
        """A status callback: an outbound message reached ``status``."""
        if not self.enabled or status not in FINAL_STATUSES:
            return
        now = self.clock.now()
        await self.db.run(lambda tx: self._schedule_in(tx, sid, None, now))  # one hand-off
        self.on_outbox()

    async def inbound_received(self, sid: str) -> None:
        """An inbound message is final on receipt. Hers: a durable deletion row (written
        with her message by ``queue_in_tx`` when the app wires it; otherwise here).

        A stranger's (or staff's) message leaves no row (nothing is stored about a
        stranger, DESIGN.md §1.6): its record is deleted best-effort, in memory only.
        """
        if not self.enabled:
            return
        if sid in self._queued:  # queued with her message, in its transaction (queue_in_tx)
            del self._queued[sid]
            return
        if await self.transcript.find(self.channel.name, sid) is not None:
            await self.schedule(sid)
            return
        task = asyncio.create_task(self._delete_stray(sid))
        self._strays.add(task)
        task.add_done_callback(self._strays.discard)

    async def _delete_stray(self, sid: str) -> None:
        for wait in (0.5, 2.0, 8.0, 30.0):
            await asyncio.sleep(wait)
            try:
                if sid in await self.channel.delete("", [sid]):
                    return
            except Exception as exc:  # best effort; never disturbs anything else
                log.info("provider record of an unmatched SMS not deleted yet: %s", exc)

    async def handle(self, channel: Channel, row: OutboxRow) -> None:
        """Run one deletion row (the dispatcher's handler for PROVIDER_DELETE)."""
        sid = str(row.payload["sid"])
        gone = sid in await channel.delete("", [sid])
        now = self.clock.now()
        if gone:

            async def record(tx: Transaction) -> None:
                await self.transcript.mark_ref_deleted(tx, self.channel.name, sid, now)
                await self.outbox.mark_sent(tx, row.id, now)

            await self.db.run(record)  # one hand-off to the database thread
            return
        if now - parse_iso(str(row.payload["since"])) > GIVE_UP_AFTER:
            raise PermanentError("provider record still not final after 14 days; left in place")
        raise TransientError("provider record not final yet (20009)")

    async def sweep(self) -> int:
        """Find records not yet gone; returns how many were queued or deleted.

        First every reference we hold (queued as rows). Then whatever final message of
        ours the provider's log still lists (webhooks lost while the service was down, a
        crash before commit, strangers): deleted at once, in memory, since the next
        sweep lists again whatever is left.
        """
        if not self.enabled:
            return 0
        found = await self._sweep_references()
        try:
            listed = await self.channel.final_records()
            gone = await self.channel.delete("", listed) if listed else set()
        except Exception as exc:
            log.warning("provider log not swept: %s", type(exc).__name__)
            gone = set()
        if gone:
            now = self.clock.now()
            async with self.db.transaction() as tx:
                for sid in gone:
                    await self.transcript.mark_ref_deleted(tx, self.channel.name, sid, now)
        found += len(gone)
        if found:
            log.info("provider-log sweep: %d record(s) queued or deleted", found)
        return found

    async def _sweep_references(self) -> int:
        queued = 0
        now = self.clock.now()
        for ref in await self.transcript.undeleted_on(self.channel.name):
            state = await self.outbox.state_of(self._key(ref.ref))
            if state is None:
                queued += await self.schedule(ref.ref)
            elif state == "sent":  # deleted before the reference was committed
                async with self.db.transaction() as tx:
                    await self.transcript.mark_ref_deleted(tx, self.channel.name, ref.ref, now)
        return queued

    async def close(self) -> None:
        for task in list(self._strays):
            task.cancel()
        await asyncio.gather(*self._strays, return_exceptions=True)
