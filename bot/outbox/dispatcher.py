"""Drain the outbox to the channels: in lane order, by priority, within rate limits.

A row is marked ``sending`` before the provider call and ``sent`` (with its
transcript reference) after, so a crash can at most resend a message whose
call had no answer. Transient errors back off; nothing stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.channels.base import (
    Channel,
    PermanentError,
    Rendered,
    TransientError,
    UnreachableError,
)
from bot.clock import Clock, parse_iso
from bot.outbox.wake import OutboxWake
from bot.store.db import Database, DatabaseBusy, Transaction
from bot.store.outbox import PRIORITY_URGENT, Outbox, OutboxRow
from bot.store.transcript import Transcript

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)
#: Escalation alerts and her help line retry at least this often, so a recovered route
#: delivers within a minute, not after a ten-minute back-off.
MAX_BACKOFF_URGENT = timedelta(minutes=1)
#: Called when a channel says she cannot be reached (blocked, opted out).
UnreachableHandler = Callable[[str, str], Awaitable[None]]
#: Handles outbox rows of one extra kind (e.g. SMS provider-record deletion); it marks the
#: row sent itself and raises the channel errors to retry or give up.
KindHandler = Callable[[Channel, OutboxRow], Awaitable[None]]


class RateLimiter:
    """Overall messages per second plus a minimum gap per address, on the monotonic clock."""

    def __init__(self, per_second: float, per_address_per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.address_gap = 1.0 / per_address_per_second
        self._next = 0.0
        self._last_by_address: dict[str, float] = {}

    def address_ready(self, address: str) -> bool:
        last = self._last_by_address.get(address)
        return last is None or time.monotonic() - last >= self.address_gap

    async def acquire(self, address: str) -> None:
        now = time.monotonic()
        wait = max(self._next - now, 0.0)
        if wait:
            await asyncio.sleep(wait)
        self._next = max(now, self._next) + self.interval
        self._last_by_address[address] = time.monotonic()
        if len(self._last_by_address) > 10_000:
            cutoff = time.monotonic() - self.address_gap
            self._last_by_address = {a: t for a, t in self._last_by_address.items() if t > cutoff}

    def pause(self, seconds: float) -> None:
        """The provider asked us to slow down (429 retry_after): hold every send."""
        self._next = max(self._next, time.monotonic() + seconds)


class Dispatcher:
    """One loop per channel, woken when the service writes rows."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        transcript: Transcript,
        channels: dict[str, Channel],
        clock: Clock,
        wake: OutboxWake,
        on_unreachable: UnreachableHandler | None = None,
        kind_handlers: Mapping[str, KindHandler] | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.transcript = transcript
        self.channels = channels
        self.clock = clock
        self.on_unreachable = on_unreachable
        #: Extra row kinds and their handlers (the SMS provider-record deletions).
        self.kind_handlers: dict[str, KindHandler] = dict(kind_handlers or {})
        self.limiters = {
            name: RateLimiter(ch.limits.per_second, ch.limits.per_address_per_second)
            for name, ch in channels.items()
        }
        self.signal = wake
        self._wake = {name: wake.listen() for name in channels}
        self._stop: asyncio.Event | None = None

    def wake(self) -> None:
        """The same as calling the signal it was built with."""
        self.signal()

    #: First pause before a write is tried again while another process holds the lock.
    reset_retry_seconds = 1.0

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        # Rows a crash left ``sending`` become due again (nothing is sent if this task dies).
        if await self._waiting_out_locks("outbox reset", self.outbox.reset_in_flight):
            await asyncio.gather(*(self._loop(name, stop) for name in self.channels))

    async def _waiting_out_locks(self, what: str, write: Callable[[], Awaitable[object]]) -> bool:
        """Run ``write``, retrying with backoff while another process holds the database's
        write lock. False if the service stopped first (a restart resets ``sending`` rows)."""
        delay = self.reset_retry_seconds
        while True:
            try:
                await write()
                return True
            except DatabaseBusy:
                if self._stop is not None and self._stop.is_set():
                    log.warning("%s: database locked while stopping; left for the restart", what)
                    return False
                log.warning("%s: database locked; retrying in %.1fs", what, delay)
                if self._stop is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), delay)
                else:
                    await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _loop(self, name: str, stop: asyncio.Event) -> None:
        wake = self._wake[name]
        while not stop.is_set():
            wake.clear()
            try:
                busy = await self.drain(name)
            except DatabaseBusy:  # another process holds the lock: the row stays for later
                log.warning("outbox loop for %s: database locked; retrying", name)
                busy = 0
            except Exception:  # the loop must survive anything; the row stays for later
                log.exception("outbox loop for %s failed; retrying", name)
                busy = 0
            if busy:
                continue
            timeout = await self._idle_wait(name)
            stopper = asyncio.ensure_future(stop.wait())
            waker = asyncio.ensure_future(wake.wait())
            await asyncio.wait(
                {stopper, waker}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            stopper.cancel()
            waker.cancel()

    async def _idle_wait(self, name: str) -> float:
        nxt = await self.outbox.next_due_at(name)
        if nxt is None:
            return 5.0
        return min(max((nxt - self.clock.now()).total_seconds(), 0.02), 5.0)

    async def drain(self, name: str, limit: int = 100) -> int:
        """Send what is due now on one channel; returns how many rows were handled."""
        wake = self._wake.get(name)
        if wake is not None:
            wake.clear()  # from here on, a wake means rows newer than this read
        rows = await self.outbox.due(name, self.clock.now(), limit)
        limiter = self.limiters[name]
        handled = 0
        for row in rows:
            if self._stop is not None and self._stop.is_set():
                break  # shutting down: the rest stay pending (a backlog must not delay SIGTERM)
            if handled and row.priority > PRIORITY_URGENT and wake is not None and wake.is_set():
                break  # new rows arrived (maybe an escalation): re-read so they jump the queue
            address = str(row.payload.get("address", ""))
            if row.kind == "message" and not limiter.address_ready(address):
                continue
            await self._handle(self.channels[name], limiter, row, address)
            handled += 1
        return handled

    async def drain_all(self) -> int:
        """Drain every channel until nothing is due now (console, tests)."""
        total = 0
        while True:
            handled = sum([await self.drain(name) for name in self.channels])
            if not handled:
                if not any([await self.outbox.due(n, self.clock.now(), 1) for n in self.channels]):
                    return total
                await asyncio.sleep(0.02)
            total += handled

    async def _handle(
        self, channel: Channel, limiter: RateLimiter, row: OutboxRow, address: str
    ) -> None:
        if row.not_after is not None and self.clock.now() >= row.not_after:
            # Her safe window closed while the message waited (backlog, retries): never late.
            log.warning("outbox row %s: her window closed before sending; cancelled", row.id)
            await self._waiting_out_locks(
                f"outbox row {row.id} window closed",
                lambda: self.outbox.window_closed(row.id, row.participant_id),
            )
            return
        if not await self.outbox.mark_sending(row.id):
            return
        try:
            handler = self.kind_handlers.get(row.kind)
            if handler is not None:
                await handler(channel, row)
                return
            if row.kind == "delete":
                await self._delete(channel, row, address)
                return
            await limiter.acquire(address)
            ref = await channel.send(address, Rendered.from_json(row.payload["message"]))
        except TransientError as exc:
            if exc.retry_after:
                limiter.pause(exc.retry_after)
            await self._retry(row, exc, exc.retry_after)
            return
        except UnreachableError as exc:
            await self._give_up(row, f"unreachable: {exc.reason}")
            if self.on_unreachable and row.participant_id:
                await self.on_unreachable(row.participant_id, exc.reason)
            return
        except PermanentError as exc:
            log.error("outbox row %s failed permanently: %s", row.id, exc)
            await self._give_up(row, str(exc))
            return
        except Exception as exc:  # an unknown failure is treated as transient, never fatal
            log.exception("outbox row %s: unexpected error", row.id)
            await self._retry(row, exc, None)
            return
        # It went out: the record must land, or her lane (a worker's alerts) stays blocked
        # behind a ``sending`` row and the message is never deleted from her phone.
        await self._waiting_out_locks(f"outbox row {row.id} sent", lambda: self._sent(row, ref))

    async def _sent(self, row: OutboxRow, ref: str | None) -> None:
        now = self.clock.now()

        async def record(tx: Transaction) -> None:
            await self.outbox.mark_sent(tx, row.id, now)
            if ref is not None and row.participant_id is not None:
                await self.transcript.record(
                    tx,
                    participant_id=row.participant_id,
                    session_id=row.session_id,
                    channel=row.channel,
                    direction="out",
                    ref=ref,
                    now=now,
                )

        await self.db.run(record)  # one hand-off to the database thread

    async def _delete(self, channel: Channel, row: OutboxRow, address: str) -> None:
        if row.participant_id is None:
            await self._done(row)
            return
        due = row.payload.get("due_before")
        refs = await self.transcript.undeleted(
            row.participant_id, parse_iso(due) if isinstance(due, str) else None
        )
        refs = [r for r in refs if r.channel == row.channel]
        gone = await channel.delete(address, [r.ref for r in refs]) if refs else set()
        now = self.clock.now()
        complete = len(gone) >= len(refs)

        async def record(tx: Transaction) -> None:
            await self.transcript.mark_deleted(tx, [r.id for r in refs if r.ref in gone], now)
            if complete:
                await self.outbox.mark_sent(tx, row.id, now)

        await self.db.run(record)
        if not complete:
            raise TransientError(f"{len(refs) - len(gone)} message(s) not deleted yet")

    async def _done(self, row: OutboxRow) -> None:
        now = self.clock.now()
        await self.db.run(lambda tx: self.outbox.mark_sent(tx, row.id, now))

    async def _retry(self, row: OutboxRow, exc: Exception, retry_after: float | None) -> None:
        cap = MAX_BACKOFF_URGENT if row.priority <= PRIORITY_URGENT else MAX_BACKOFF
        backoff = min(2 ** min(row.attempts, 10), cap.total_seconds())
        delay = retry_after if retry_after else backoff * (0.5 + random.random() / 2)
        when: datetime = self.clock.now() + timedelta(seconds=delay)
        log.warning("outbox row %s (%s) retry in %.1fs: %s", row.id, row.kind, delay, exc)
        error = f"{exc.__class__.__name__}: {exc}"
        await self._waiting_out_locks(
            f"outbox row {row.id} retry", lambda: self.outbox.retry_later(row.id, when, error)
        )

    async def _give_up(self, row: OutboxRow, error: str) -> None:
        async def fail() -> None:
            await self.db.run(lambda tx: self.outbox.fail(tx, row.id, error))

        await self._waiting_out_locks(f"outbox row {row.id} failed", fail)
