"""Drain the outbox to the channels: in lane order, live replies first, within token buckets.

A row is marked ``sending`` before the provider call and ``sent`` (with its
transcript reference) after, so a crash can at most resend a message whose
call had no answer. A row is one step's message; one too long for its channel
goes part by part (``bot.channels.split``), each part's reference recorded and
its progress kept in the row, so a retry or restart resumes at the next part.
Transient errors back off; nothing stops the loop. Each bot-wide token goes to
the first ready row in claim order (``claim_order``), so waves, digests and
deletions only use what live replies leave.
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
    Limits,
    PacedDeletion,
    PermanentError,
    Rendered,
    TransientError,
    UnreachableError,
)
from bot.channels.split import parts
from bot.clock import Clock, parse_iso
from bot.outbox.claim_order import RANK_LIVE, RANK_URGENT, claim_rank, in_claim_order
from bot.outbox.rate import Rate, SendBudget
from bot.outbox.wake import OutboxWake
from bot.store.db import Database, DatabaseBusy, Transaction
from bot.store.outbox import PRIORITY_URGENT, Outbox, OutboxRow
from bot.store.transcript import Transcript

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)
#: Escalation alerts, her help line and deletions retry at least this often, so a recovered
#: route delivers within a minute, not after a ten-minute back-off.
MAX_BACKOFF_URGENT = timedelta(minutes=1)
#: Called when a channel says she cannot be reached (blocked, opted out).
UnreachableHandler = Callable[[str, str], Awaitable[None]]
#: Handles outbox rows of one extra kind (e.g. SMS provider-record deletion); it marks the
#: row sent itself and raises the channel errors to retry or give up.
KindHandler = Callable[[Channel, OutboxRow], Awaitable[None]]


def budget_of(limits: Limits) -> SendBudget:
    """A channel's limits as token buckets: bot-wide, and per address (her chat)."""
    return SendBudget(
        Rate(limits.per_second, limits.burst, limits.per_second_window),
        Rate(limits.per_address_per_second, limits.per_address_burst),
    )


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
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.transcript = transcript
        self.channels = channels
        self.clock = clock
        self.on_unreachable = on_unreachable
        #: Extra row kinds and their handlers (the SMS provider-record deletions).
        self.kind_handlers: dict[str, KindHandler] = dict(kind_handlers or {})
        #: The rate limits' clock (the wall ``clock`` may be a test's manual one).
        self.monotonic = monotonic
        self.budgets = {name: budget_of(ch.limits) for name, ch in channels.items()}
        #: Seconds until a chat that held back every due row has a token again.
        self._blocked_for: dict[str, float] = {}
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
            blocked_for = self._blocked_for.pop(name, None)
            timeout = blocked_for if blocked_for is not None else await self._idle_wait(name)
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
        rows = in_claim_order(await self.outbox.due(name, self.clock.now(), limit))
        budget = self.budgets[name]
        handled = 0
        lane_moved = False  # a live row went: the next row of its lane is due, not yet read
        while rows:
            if self._stop is not None and self._stop.is_set():
                break  # shutting down: the rest stay pending (a backlog must not delay SIGTERM)
            rank = claim_rank(rows[0])
            new_rows = wake is not None and wake.is_set() and rank > RANK_URGENT
            next_in_lane = lane_moved and rank > RANK_LIVE
            if handled and (new_rows or next_in_lane):
                break  # her reply or her next question may be due: re-read, they go first
            wait = budget.overall_wait(self.monotonic())
            if wait > 0:
                await self._pause(wait)
                continue  # pick again: a live row's chat may have a token by now
            row = self._first_ready(budget, rows)
            if row is None:
                # Sleep until her chat has a token; at most a second, for rows falling due.
                self._blocked_for[name] = min(max(self._chat_wait(budget, rows), 0.005), 1.0)
                break
            rows.remove(row)
            await self._handle(self.channels[name], budget, row, _address(row))
            handled += 1
            lane_moved = lane_moved or claim_rank(row) <= RANK_LIVE
        return handled

    def _first_ready(self, budget: SendBudget, rows: list[OutboxRow]) -> OutboxRow | None:
        """The first row in claim order whose chat has a token (a deletion needs none)."""
        now = self.monotonic()
        return next((r for r in rows if budget.ready(_chat_of(r), now)), None)

    def _chat_wait(self, budget: SendBudget, rows: list[OutboxRow]) -> float:
        now = self.monotonic()
        return min(budget.address_wait(_address(r), now) for r in rows)

    async def _spend(self, budget: SendBudget, chat: str | None) -> None:
        """Take the tokens of one provider call, waiting for them if need be; while stopping,
        a TransientError puts the row back (a 429 hold must not delay SIGTERM)."""
        while not budget.take(chat, self.monotonic()):
            if self._stop is not None and self._stop.is_set():
                raise TransientError("stopping while waiting for the rate limit")
            now = self.monotonic()
            wait = budget.overall_wait(now)
            if chat is not None:
                wait = max(wait, budget.address_wait(chat, now))
            await self._pause(max(wait, 0.001))

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short by the stop signal."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

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
        self, channel: Channel, budget: SendBudget, row: OutboxRow, address: str
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
                await self._delete(channel, budget, row, address)
                return
            pieces = parts(channel.name, Rendered.from_json(row.payload["message"]))
            done = min(int(row.payload.get("parts_sent", 0)), len(pieces) - 1)
            await self._spend(budget, address)
            ref = await channel.send(address, pieces[done])
        except TransientError as exc:
            if exc.retry_after:
                budget.hold(self.monotonic(), exc.retry_after)
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
        if done + 1 < len(pieces):
            # The next part goes on a later turn, when her chat's per-second gap allows,
            # so no other woman's message waits for it; her lane stays held by this row.
            await self._waiting_out_locks(
                f"outbox row {row.id} part {done + 1} sent",
                lambda: self._sent(row, ref, parts_sent=done + 1),
            )
            return
        await self._waiting_out_locks(f"outbox row {row.id} sent", lambda: self._sent(row, ref))

    async def _sent(self, row: OutboxRow, ref: str | None, parts_sent: int | None = None) -> None:
        """Record what went out; ``parts_sent``: a part of a split message, more to come."""
        now = self.clock.now()

        async def record(tx: Transaction) -> None:
            if parts_sent is None:
                await self.outbox.mark_sent(tx, row.id, now)
            else:
                await self.outbox.part_sent(tx, row, parts_sent)
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

    async def _delete(
        self, channel: Channel, budget: SendBudget, row: OutboxRow, address: str
    ) -> None:
        if row.participant_id is None:
            await self._done(row)
            return
        due = row.payload.get("due_before")
        refs = await self.transcript.undeleted(
            row.participant_id, parse_iso(due) if isinstance(due, str) else None
        )
        refs = [r for r in refs if r.channel == row.channel]
        gone = await self._delete_refs(channel, budget, address, [r.ref for r in refs])
        now = self.clock.now()
        complete = len(gone) >= len(refs)

        async def record(tx: Transaction) -> None:
            await self.transcript.mark_deleted(tx, [r.id for r in refs if r.ref in gone], now)
            if complete:
                await self.outbox.mark_sent(tx, row.id, now)

        await self.db.run(record)
        if not complete:
            raise TransientError(f"{len(refs) - len(gone)} message(s) not deleted yet")

    async def _delete_refs(
        self, channel: Channel, budget: SendBudget, address: str, refs: list[str]
    ) -> set[str]:
        """Every provider call of a deletion spends a bot-wide token (Telegram: 100 ids each)."""
        if not refs:
            return set()

        async def pace() -> None:
            await self._spend(budget, None)

        if isinstance(channel, PacedDeletion):
            return await channel.delete_paced(address, refs, pace)
        await pace()
        return await channel.delete(address, refs)

    async def _done(self, row: OutboxRow) -> None:
        now = self.clock.now()
        await self.db.run(lambda tx: self.outbox.mark_sent(tx, row.id, now))

    async def _retry(self, row: OutboxRow, exc: Exception, retry_after: float | None) -> None:
        soon = row.priority <= PRIORITY_URGENT or row.kind == "delete"  # her phone waits
        cap = MAX_BACKOFF_URGENT if soon else MAX_BACKOFF
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


def _address(row: OutboxRow) -> str:
    return str(row.payload.get("address", ""))


def _chat_of(row: OutboxRow) -> str | None:
    """The address whose bucket a row spends: a message's; a deletion's calls only count
    bot-wide."""
    return _address(row) if row.kind == "message" else None
