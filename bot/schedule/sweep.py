"""The sweep: what is due now, decided by ``scheduler.contact.next_action``, done by the service.

The database is the schedule. Each run reads the timepoints that may need something,
asks the pure rules what to do *now*, and acts: openers and reminders through
``FollowupService.begin_contacts`` (outbox row, session and bookkeeping in one
transaction, keyed so a second sweep - after a crash, or from another process -
writes nothing), Idle for sessions she left, Expire when an attempt runs out.
A "wait" answer is cached in ``next_action_at`` so most rows are not read again
until something is due; every change of her windows, status or rules clears it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import iso, parse_iso
from bot.schedule.report import Action, SweepReport
from bot.schedule.settings import ProgrammeRules, rules_for
from bot.session.contacts import ContactRequest
from bot.session.service import FollowupService
from bot.store import timepoints as tps
from bot.store.outbox import WINDOW_CLOSED
from conversations.events import Expire, Idle
from conversations.state import ACTIVE_PHASES
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


@dataclass
class _Row:
    """A candidate row with her zone, parsed windows and programme rules."""

    data: aiosqlite.Row
    zone: ZoneInfo
    windows: tuple[Window, ...]
    rules: ProgrammeRules

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def _t(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


class Sweep:
    """Run by the clock component every ``scheduler.sweep_seconds`` and by ``followup tick``."""

    def __init__(
        self,
        service: FollowupService,
        *,
        chunk: int = CHUNK,
        page: int = tps.PAGE,
        keep_actions: bool = True,
    ) -> None:
        self.service = service
        self.chunk = chunk
        self.page = page
        self.keep_actions = keep_actions
        """False: the report counts actions but keeps no list (100,000 actions: ~50 MB of peak)."""

    async def run(self, *, dry_run: bool = False, wave_id: str | None = None) -> SweepReport:
        """One sweep at the service clock's now; ``wave_id`` limits it to one wave. Candidates
        are read, decided and sent a page at a time, in one order across pages."""
        started = time.perf_counter()
        now = self.service.clock.now()
        report = SweepReport(now, dry_run, keep_actions=self.keep_actions)
        if wave_id is None:
            await self._idle(now, report)
        held = {r[0] for r in await self.service.db.fetchall("SELECT wave_id FROM wave_holds")}
        ids = await tps.sweep_candidate_ids(self.service.db, now, wave_id, with_held=dry_run)
        decide = _decider()
        rules: dict[int, ProgrammeRules] = {}
        for start in range(0, len(ids), self.page):
            rows = await tps.sweep_candidates_in(
                self.service.db, now, ids[start : start + self.page], with_held=dry_run
            )
            requests: list[tuple[ContactRequest, Action]] = []
            waits: list[tuple[str | None, str, str]] = []
            for data in rows:
                row = await self._prepare(data, rules)
                outcome = await self._decide(row, now, decide, held, report)
                if isinstance(outcome, tuple):
                    requests.append(outcome)
                elif outcome is not None:
                    waits.append((iso(outcome), row["participant_id"], row["timepoint"]))
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
        async with self.service.db.transaction() as tx:
            cur = await tx.execute(
                "UPDATE timepoints SET next_action_at = NULL"
                " WHERE state IN ('scheduled', 'sent', 'in_progress', 'snoozed')"
                " AND next_action_at IS NOT NULL"
            )
            cleared = cur.rowcount
        log.info("daily maintenance: %d cached sweep decisions cleared", cleared)
        return cleared

    # --- reading -----------------------------------------------------------------

    async def _prepare(self, data: aiosqlite.Row, rules: dict[int, ProgrammeRules]) -> _Row:
        ring = self.service.ring
        spec = (
            ring.open_text(data["windows_enc"], f"participants:windows:{data['participant_id']}")
            if data["windows_enc"]
            else ""
        )
        programme_id = data["programme_id"]
        if programme_id not in rules:
            programme = await self.service.programmes.get(programme_id)
            rules[programme_id] = rules_for(self.service.config, programme)
        return _Row(data, _zone(data["timezone"]), _windows(spec), rules[programme_id])

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
        rules, pid, tp = row.rules, row["participant_id"], row["timepoint"]
        first_sent = _t(row["first_sent_at"])
        if (
            first_sent is not None
            and row["state"] == "sent"
            and row["reminders_sent"] == 0
            and row["opener_state"] == "cancelled"
            and row["opener_error"] == WINDOW_CLOSED
        ):
            # The opener was dropped unsent when her window closed: it never reached her.
            first_sent = None
            if not report.dry_run:
                await self._write(
                    "UPDATE timepoints SET state = 'scheduled', first_sent_at = NULL,"
                    " last_sent_at = NULL WHERE participant_id = ? AND timepoint = ?",
                    (pid, tp),
                )
        today = now.astimezone(rules.zone).date()
        later_due = row["later_due"]
        overtaken = later_due is not None and date.fromisoformat(later_due) <= today
        if first_sent is None and overtaken:
            # A later timepoint is due too (drop-out, a long pause): ask only the latest.
            await self._end_attempt(row, "superseded", now, report)
            return None
        due = date.fromisoformat(row["due_on"])
        send_now = _t(row["send_now_at"])
        if send_now is not None:
            due = min(due, send_now.astimezone(rules.zone).date())
        attempt = Attempt(
            due=due,
            first_sent=first_sent,
            reminders_sent=row["reminders_sent"],
            snoozed_until=_t(row["snoozed_until"]),
            last_sent=_t(row["last_sent_at"]),
        )
        action, at = decide(
            attempt, now, rules.policy, row.windows, rules.quiet, row.zone, rules.zone
        )
        idle = timedelta(minutes=self.service.config.safety.idle_minutes)
        live_until = self._live_until(row, now, idle)
        if action == "wait":
            if at is None:
                log.warning("%s %s: no sendable time in her windows", row["pseudonym"], tp)
                return now + NO_WINDOW_RETRY
            if row["wave_id"] in held:  # listed (at her next window) so staff see who waits
                report.add(self._action(row, "held", at, False))
            return at
        if action == "expire":
            if live_until is not None:
                return live_until  # she is answering right now: expire once she stops
            await self._end_attempt(row, "expire", now, report)
            return None
        if action == "send_reminder" and overtaken:
            return None  # no reminder for an attempt the newer timepoint's opener will close
        if row["wave_id"] in held:
            report.add(self._action(row, "held", now, False))
            return None
        if live_until is not None:
            return live_until  # never interrupt a live conversation with an opener/reminder
        if row["participant_id"] in report.contacted:
            return None  # one contact per partner per sweep; the next sweep looks again
        gap = timedelta(hours=rules.policy.min_hours_between_messages)
        her_last = _t(row["her_last_sent"])
        if action == "send_opener" and her_last is not None and her_last + gap > now:
            return her_last + gap  # no new timepoint's opener right after another (drop-out mid-T2)
        opener = action == "send_opener"
        if opener and row["other_open"] and not await self._close_other(row, now, idle, report):
            return now + idle
        report.contacted.add(row["participant_id"])
        until = _until(now, row.windows, rules.quiet, row.zone)
        not_after = until - DEFAULT_MIN_REMAINING if until else now
        if action == "send_opener":
            key = f"opener:{pid}:{tp}:{row['openers_sent'] + 1}"
            request = ContactRequest(pid, tp, 0, True, key, not_after)
            return request, self._action(row, "opener", now, not report.dry_run, key)
        n = row["reminders_sent"] + 1
        key = f"reminder:{pid}:{tp}:{row['openers_sent']}:{n}"
        request = ContactRequest(pid, tp, n, True, key, not_after)
        return request, self._action(row, f"reminder {n}", now, not report.dry_run, key)

    @staticmethod
    def _live_until(row: _Row, now: datetime, idle: timedelta) -> datetime | None:
        """If her session for this timepoint is live (touched within the idle time), until when."""
        if row["session_phase"] not in ACTIVE_PHASES or not row["session_updated"]:
            return None
        until = parse_iso(row["session_updated"]) + idle
        return until if until > now else None

    def _action(
        self, row: _Row, what: str, at: datetime, done: bool, key: str | None = None
    ) -> Action:
        return Action(
            row["pseudonym"], row["timepoint"], what, at, row["timezone"], row["wave_id"], done, key
        )

    # --- acting --------------------------------------------------------------------

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self.service.db.transaction() as tx:
            await tx.execute(sql, params)

    async def _end_attempt(self, row: _Row, why: str, now: datetime, report: SweepReport) -> None:
        """Expire (or supersede) one attempt: the session ends as expired, the row is missed."""
        report.add(self._action(row, why, now, not report.dry_run))
        if report.dry_run:
            return
        await self._finish(row["participant_id"], row["timepoint"], row["session_id"], now)

    async def _finish(
        self, pid: str, timepoint: str, session_id: str | None, now: datetime
    ) -> None:
        if session_id is not None:
            await self.service.timeout_session(session_id, Expire())
        async with self.service.db.transaction() as tx:
            await tx.execute(
                "UPDATE timepoints SET state = 'missed', ended_at = ?, next_action_at = NULL"
                " WHERE participant_id = ? AND timepoint = ?"
                " AND state IN ('scheduled', 'sent', 'in_progress', 'snoozed')",
                (iso(now), pid, timepoint),
            )

    async def _close_other(
        self, row: _Row, now: datetime, idle: timedelta, report: SweepReport
    ) -> bool:
        """Before a new opener, end her older open attempt (one open contact at a time).
        False while she is still answering it."""
        other = await self.service.db.fetchone(
            "SELECT id, phase, updated_at FROM sessions WHERE participant_id = ? AND timepoint = ?",
            (row["participant_id"], row["other_open"]),
        )
        if (
            other
            and other["phase"] in ACTIVE_PHASES
            and parse_iso(other["updated_at"]) + idle > now
        ):
            return False
        report.add(self._action(row, f"close {row['other_open']}", now, not report.dry_run))
        if not report.dry_run:
            await self._finish(
                row["participant_id"], row["other_open"], other["id"] if other else None, now
            )
        return True

    async def _idle(self, now: datetime, report: SweepReport) -> None:
        """Sessions she left mid-way: pause them and clear her chat (safety.idle_minutes)."""
        idle = timedelta(minutes=self.service.config.safety.idle_minutes)
        for session in await self.service.sessions.idle_since(now - idle):
            participant = await self.service.participants.get(session.participant_id)
            report.add(
                Action(participant.pseudonym, session.timepoint, "idle", now,
                       participant.timezone, None, not report.dry_run)
            )  # fmt: skip
            if not report.dry_run:
                await self.service.timeout_session(session.id, Idle())

    async def _cache_waits(self, waits: list[tuple[str | None, str, str]]) -> None:
        for start in range(0, len(waits), self.chunk):
            async with self.service.db.transaction() as tx:
                await tx.executemany(
                    "UPDATE timepoints SET next_action_at = ? WHERE participant_id = ?"
                    " AND timepoint = ?",
                    waits[start : start + self.chunk],
                )

    async def _send(
        self, requests: list[tuple[ContactRequest, Action]], report: SweepReport
    ) -> None:
        for start in range(0, len(requests), self.chunk):
            chunk = requests[start : start + self.chunk]
            results = await self.service.begin_contacts([r for r, _ in chunk])
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
