"""The sweep: what is due now, decided by ``scheduler.contact.next_action``, done by the service.

The database is the schedule. Each run reads the timepoints that may need something,
asks the pure rules what to do *now*, and acts: openers and reminders through the
service's ``begin_contacts`` (outbox row, session and bookkeeping in one
transaction, keyed so a second sweep - after a crash, or from another process -
writes nothing), Idle for sessions she left, Expire when an attempt runs out.
A "wait" answer is cached in ``next_action_at`` so most rows are not read again
until something is due; every change of her windows, status or rules clears it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import iso, parse_iso
from bot.config import Config
from bot.schedule.contact_request import ContactRequest
from bot.schedule.report import Action, SweepReport
from bot.schedule.settings import ProgrammeRules, rules_for
from bot.store import sweep_rows
from bot.store import waves as wave_store
from bot.store.outbox import WINDOW_CLOSED
from bot.store.stores import Stores
from bot.store.sweep_rows import DueRow
from conversations.events import Expire, Idle
from conversations.state import ACTIVE_PHASES
from conversations.vocabulary import TimepointState
from scheduler.contact import Attempt, next_action
from scheduler.windows import (
    DEFAULT_MIN_REMAINING,
    QuietHours,
    Window,
    parse_windows,
    sendable_until,
)

log = logging.getLogger(__name__)

CHUNK = 200
"""Contacts per transaction when a wave is enqueued: big enough to be fast, small enough
that a live reply never waits long for the write lock (about 0.1 s per chunk)."""
NO_WINDOW_RETRY = timedelta(hours=6)
"""When her windows allow nothing within the horizon, look again this much later."""


class SessionDriver(Protocol):
    """What the sweep asks of the service (``FollowupService`` is one): open a chunk of
    contacts, and end a session that went idle or ran out."""

    async def begin_contacts(self, requests: Sequence[ContactRequest]) -> Sequence[object | None]:
        """One result per request, None where nothing was opened."""

    async def timeout_session(self, session_id: str, event: Idle | Expire) -> object | None: ...


@dataclass
class _Row:
    """A candidate row with her zone, parsed windows and programme rules."""

    due: DueRow
    zone: ZoneInfo
    windows: tuple[Window, ...]
    rules: ProgrammeRules


def _t(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


class Sweep:
    """Run by the clock component every ``scheduler.sweep_seconds`` and by ``followup tick``."""

    def __init__(
        self,
        stores: Stores,
        config: Config,
        driver: SessionDriver,
        *,
        chunk: int = CHUNK,
        page: int = sweep_rows.PAGE,
        keep_actions: bool = True,
    ) -> None:
        self.stores = stores
        self.config = config
        self.driver = driver
        self.chunk = chunk
        self.page = page
        self.keep_actions = keep_actions
        """False: the report counts actions but keeps no list (100,000 actions: ~50 MB of peak)."""

    async def run(self, *, dry_run: bool = False, wave_id: str | None = None) -> SweepReport:
        """One sweep at the clock's now; ``wave_id`` limits it to one wave. Candidates
        are read, decided and sent a page at a time, in one order across pages."""
        started = time.perf_counter()
        now = self.stores.clock.now()
        report = SweepReport(now, dry_run, keep_actions=self.keep_actions)
        if wave_id is None:
            await self._idle(now, report)
        db = self.stores.db
        held = await wave_store.held_wave_ids(db)
        ids = await sweep_rows.candidate_ids(db, now, wave_id, with_held=dry_run)
        decide = _decider()
        rules: dict[int, ProgrammeRules] = {}
        for start in range(0, len(ids), self.page):
            rows = await sweep_rows.candidates_in(
                db, now, ids[start : start + self.page], with_held=dry_run
            )
            requests: list[tuple[ContactRequest, Action]] = []
            waits: list[tuple[str | None, str, str]] = []
            for data in rows:
                row = await self._prepare(data, rules)
                outcome = await self._decide(row, now, decide, held, report)
                if isinstance(outcome, tuple):
                    requests.append(outcome)
                elif outcome is not None:
                    waits.append((iso(outcome), data.participant_id, data.timepoint))
            report.waiting += len(waits)
            if not dry_run:
                await self._cache_waits(waits)
                await self._send(requests, report)
            else:
                for _, action in requests:
                    report.add(action)
        report.seconds = time.perf_counter() - started
        return report

    async def daily(self) -> int:
        """Daily maintenance: forget every cached decision, so a rule or code change, or a
        clock jump, is re-decided within a day; logs how many attempts are open."""
        async with self.stores.db.transaction() as tx:
            cleared = await sweep_rows.forget_decisions(tx)
        log.info("daily maintenance: %d cached sweep decisions cleared", cleared)
        return cleared

    # --- reading -----------------------------------------------------------------

    async def _prepare(self, data: DueRow, rules: dict[int, ProgrammeRules]) -> _Row:
        ring = self.stores.ring
        spec = (
            ring.open_text(data.windows_enc, f"participants:windows:{data.participant_id}")
            if data.windows_enc
            else ""
        )
        programme_id = data.programme_id
        if programme_id not in rules:
            programme = await self.stores.programmes.get(programme_id)
            rules[programme_id] = rules_for(self.config, programme)
        return _Row(data, _zone(data.timezone), _windows(spec), rules[programme_id])

    # --- deciding ----------------------------------------------------------------

    async def _decide(
        self,
        row: _Row,
        now: datetime,
        decide: Callable[..., tuple[str, datetime | None]],
        held: set[str],
        report: SweepReport,
    ) -> tuple[ContactRequest, Action] | datetime | None:
        """A contact to make, or when to look again (None: nothing to cache)."""
        due_row, rules = row.due, row.rules
        pid, tp = due_row.participant_id, due_row.timepoint
        first_sent = _t(due_row.first_sent_at)
        if (
            first_sent is not None
            and due_row.state == TimepointState.SENT
            and due_row.reminders_sent == 0
            and due_row.opener_state == "cancelled"
            and due_row.opener_error == WINDOW_CLOSED
        ):
            # The opener was dropped unsent when her window closed: it never reached her.
            first_sent = None
            if not report.dry_run:
                async with self.stores.db.transaction() as tx:
                    await sweep_rows.reopen_unsent_opener(tx, pid, tp)
        today = now.astimezone(rules.zone).date()
        later_due = due_row.later_due
        overtaken = later_due is not None and date.fromisoformat(later_due) <= today
        if first_sent is None and overtaken:
            # A later timepoint is due too (drop-out, a long pause): ask only the latest.
            await self._end_attempt(row, "superseded", now, report)
            return None
        due = date.fromisoformat(due_row.due_on)
        send_now = _t(due_row.send_now_at)
        if send_now is not None:
            due = min(due, send_now.astimezone(rules.zone).date())
        attempt = Attempt(
            due=due,
            first_sent=first_sent,
            reminders_sent=due_row.reminders_sent,
            snoozed_until=_t(due_row.snoozed_until),
            last_sent=_t(due_row.last_sent_at),
        )
        action, at = decide(
            attempt, now, rules.policy, row.windows, rules.quiet, row.zone, rules.zone
        )
        idle = timedelta(minutes=self.config.safety.idle_minutes)
        live_until = self._live_until(due_row, now, idle)
        if action == "wait":
            if at is None:
                log.warning("%s %s: no sendable time in her windows", due_row.pseudonym, tp)
                return now + NO_WINDOW_RETRY
            if due_row.wave_id in held:  # listed (at her next window) so staff see who waits
                report.add(self._action(row, "held", at, False))
            return at
        if action == "expire":
            if live_until is not None:
                return live_until  # she is answering right now: expire once she stops
            await self._end_attempt(row, "expire", now, report)
            return None
        if action == "send_reminder" and overtaken:
            return None  # no reminder for an attempt the newer timepoint's opener will close
        if due_row.wave_id in held:
            report.add(self._action(row, "held", now, False))
            return None
        if live_until is not None:
            return live_until  # never interrupt a live conversation with an opener/reminder
        if pid in report.contacted:
            return None  # one contact per partner per sweep; the next sweep looks again
        gap = timedelta(hours=rules.policy.min_hours_between_messages)
        her_last = _t(due_row.her_last_sent)
        if action == "send_opener" and her_last is not None and her_last + gap > now:
            return her_last + gap  # no new timepoint's opener right after another (drop-out mid-T2)
        opener = action == "send_opener"
        other = due_row.other_open
        if opener and other and not await self._close_other(row, other, now, idle, report):
            return now + idle
        report.contacted.add(pid)
        until = _until(now, row.windows, rules.quiet, row.zone)
        not_after = until - DEFAULT_MIN_REMAINING if until else now
        if action == "send_opener":
            key = f"opener:{pid}:{tp}:{due_row.openers_sent + 1}"
            request = ContactRequest(pid, tp, 0, True, key, not_after)
            return request, self._action(row, "opener", now, not report.dry_run, key)
        n = due_row.reminders_sent + 1
        key = f"reminder:{pid}:{tp}:{due_row.openers_sent}:{n}"
        request = ContactRequest(pid, tp, n, True, key, not_after)
        return request, self._action(row, f"reminder {n}", now, not report.dry_run, key)

    @staticmethod
    def _live_until(row: DueRow, now: datetime, idle: timedelta) -> datetime | None:
        """If her session for this timepoint is live (touched within the idle time), until when."""
        if row.session_phase not in ACTIVE_PHASES or not row.session_updated:
            return None
        until = parse_iso(row.session_updated) + idle
        return until if until > now else None

    def _action(
        self, row: _Row, what: str, at: datetime, done: bool, key: str | None = None
    ) -> Action:
        due = row.due
        return Action(due.pseudonym, due.timepoint, what, at, due.timezone, due.wave_id, done, key)

    # --- acting --------------------------------------------------------------------

    async def _end_attempt(self, row: _Row, why: str, now: datetime, report: SweepReport) -> None:
        """Expire (or supersede) one attempt: the session ends as expired, the row is missed."""
        report.add(self._action(row, why, now, not report.dry_run))
        if report.dry_run:
            return
        await self._finish(row.due.participant_id, row.due.timepoint, row.due.session_id, now)

    async def _finish(
        self, pid: str, timepoint: str, session_id: str | None, now: datetime
    ) -> None:
        if session_id is not None:
            await self.driver.timeout_session(session_id, Expire())
        async with self.stores.db.transaction() as tx:
            await sweep_rows.mark_missed(tx, pid, timepoint, now)

    async def _close_other(
        self, row: _Row, other_open: str, now: datetime, idle: timedelta, report: SweepReport
    ) -> bool:
        """Before a new opener, end her older open attempt (one open contact at a time).
        False while she is still answering it."""
        pid = row.due.participant_id
        other = await self.stores.sessions.touch_of(pid, other_open)
        if other and other.phase in ACTIVE_PHASES and parse_iso(other.updated_at) + idle > now:
            return False
        report.add(self._action(row, f"close {other_open}", now, not report.dry_run))
        if not report.dry_run:
            await self._finish(pid, other_open, other.id if other else None, now)
        return True

    async def _idle(self, now: datetime, report: SweepReport) -> None:
        """Sessions she left mid-way: pause them and clear her chat (safety.idle_minutes)."""
        idle = timedelta(minutes=self.config.safety.idle_minutes)
        for session in await self.stores.sessions.idle_since(now - idle):
            participant = await self.stores.participants.get(session.participant_id)
            report.add(
                Action(participant.pseudonym, session.timepoint, "idle", now,
                       participant.timezone, None, not report.dry_run)
            )  # fmt: skip
            if not report.dry_run:
                await self.driver.timeout_session(session.id, Idle())

    async def _cache_waits(self, waits: list[tuple[str | None, str, str]]) -> None:
        for start in range(0, len(waits), self.chunk):
            async with self.stores.db.transaction() as tx:
                await sweep_rows.cache_waits(tx, waits[start : start + self.chunk])

    async def _send(
        self, requests: list[tuple[ContactRequest, Action]], report: SweepReport
    ) -> None:
        for start in range(0, len(requests), self.chunk):
            chunk = requests[start : start + self.chunk]
            results = await self.driver.begin_contacts([r for r, _ in chunk])
            for (_, action), result in zip(chunk, results, strict=True):
                if result is None:
                    action = Action(**{**action.__dict__, "done": False})
                report.add(action)


def _decider() -> Callable[..., tuple[str, datetime | None]]:
    """``next_action`` memoised for one sweep: a wave's members mostly share every input."""
    return lru_cache(maxsize=8192)(
        lambda attempt, now, policy, windows, quiet, tz, programme_tz: next_action(
            attempt, now, policy, windows, quiet, tz, programme_tz=programme_tz
        )
    )


@lru_cache(maxsize=4096)
def _until(
    now: datetime, windows: tuple[Window, ...], quiet: QuietHours, zone: ZoneInfo
) -> datetime | None:
    return sendable_until(now, windows, quiet, zone)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _windows(spec: str) -> tuple[Window, ...]:
    return parse_windows(spec)
