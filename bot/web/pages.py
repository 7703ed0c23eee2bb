"""Data for the dashboard pages other than the escalation queue (plain dicts for templates).

Answers are read only for ``ANSWER_ROLES`` and every such view is audited; the
other views reuse the CLI's logic (waves, participant schedule, enrolment rules).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from markupsafe import Markup

from bot.config import Config
from bot.datarights.access import log_access
from bot.datarights.network_report import network_report, render_network_tables
from bot.datarights.report import SUPPRESSED, cell, escalation_counts, rate, render_report
from bot.enrolment.requests import (
    CHANNELS,
    EnrolRequest,
    consent_record,
    parse_request,
)
from bot.enrolment.validation import InputError
from bot.schedule.waves import COLUMNS, WaveRow
from bot.store import dashboard as queries
from bot.store.audit_trail import newest_entries
from bot.store.db import Database
from bot.store.logins import Logins
from bot.store.participants import Programmes
from bot.store.research import all_records, safe_word_endings
from bot.store.scope import Scope
from bot.store.staff import StaffStore
from bot.store.stores import Stores
from bot.web.auth import WebSession
from bot.web.security import ANSWER_ROLES
from conversations.vocabulary import ParticipantStatus

#: The waves inside a scope as ``followup waves`` lists them (wired in ``bot/cli/service.py``).
WaveLister = Callable[[Scope], Awaitable[list[WaveRow]]]
#: Stores one enrolment by the rules of ``followup enrol`` (actor, scope); returns pseudonym
#: (token, link).
Enroller = Callable[[EnrolRequest, str, Scope], Awaitable[dict[str, str]]]

TIMEPOINTS = ("T0", "T1", "T2", "T3", "T4")


async def participant_rows(db: Database, scope: Scope, query: str) -> list[dict[str, str]]:
    """Pseudonym, programme, status, next contact; ``query`` matches the pseudonym."""
    return [
        {"pseudonym": line.pseudonym, "programme": line.programme, "status": line.status,
         "channel": line.channel, "next_contact": (line.next_contact or "-")[:16]}
        for line in await queries.participant_lines(db, scope, query)
    ]  # fmt: skip


async def participant_detail(
    stores: Stores, pseudonym: str, web: WebSession
) -> dict[str, Any] | None:
    """Status, channel and the T0–T4 timeline; her safe window and answers only for WSS
    (audited)."""
    participant = await stores.participants.by_pseudonym(pseudonym, web.scope)
    if participant is None or participant.status == ParticipantStatus.ERASED:
        return None
    programme = await stores.programmes.get(participant.programme_id)
    timeline = await queries.timeline(stores.db, participant.id)
    steps = [
        {"timepoint": tp, "due": (timeline[tp].due_on or "-") if tp in timeline else "-",
         "state": timeline[tp].state if tp in timeline else "not planned"}
        for tp in TIMEPOINTS
    ]  # fmt: skip
    answers: dict[str, list[tuple[str, str]]] = {}
    show_answers = web.staff.role in ANSWER_ROLES
    if show_answers:
        for tp in TIMEPOINTS:
            found = await stores.answers.for_timepoint(participant.id, tp)
            if found:
                answers[tp] = [
                    (item, "(skipped)" if a.skipped else _text(a.value))
                    for item, a in sorted(found.items())
                ]
        await log_access(
            stores.db,
            stores.clock,
            f"{web.staff.name} (web)",
            "answers_viewed",
            participant.pseudonym,
        )
    else:
        await log_access(
            stores.db,
            stores.clock,
            f"{web.staff.name} (web)",
            "participant_viewed",
            participant.pseudonym,
        )
    # Her safe window says when she is alone: only the WSS, who may call her, sees it.
    window = (participant.windows(stores.ring) or "default") if show_answers else None
    return {
        "p": {"pseudonym": participant.pseudonym, "programme": programme.name,
              "status": participant.status, "channel": participant.channel,
              "language": participant.language, "timezone": participant.timezone,
              "window": window},
        "steps": steps,
        "show_answers": show_answers,
        "answers": answers,
    }  # fmt: skip


def _text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


async def waves(list_waves: WaveLister, scope: Scope) -> dict[str, Any]:
    """The same rows and columns as ``followup waves``."""
    rows = await list_waves(scope)
    return {
        "columns": COLUMNS,
        "rows": [
            {"wave": w.wave_id, "programme": w.programme, "timepoint": w.timepoint,
             "due": w.due.isoformat(), "held": w.held, "total": w.total,
             "counts": [w.counts.get(c, 0) for c in COLUMNS]}
            for w in rows
        ],
    }  # fmt: skip


async def staff_rows(staff: StaffStore, logins: Logins, scope: Scope) -> list[dict[str, str]]:
    found = await logins.summaries()
    return [
        {"name": m.name, "role": m.role, "language": m.language,
         "active": "yes" if m.active else "no",
         "password": "yes" if m.id in found else "no",
         "totp": "yes" if m.id in found and found[m.id].totp_confirmed else "no",
         "locked": (found[m.id].locked_until or "")[:16] if m.id in found else ""}
        for m in await staff.all_in(scope)
    ]  # fmt: skip


async def audit_rows(db: Database, scope: Scope, limit: int = 300) -> list[dict[str, str]]:
    return [
        {"at": e.at[:19], "actor": e.actor, "action": e.action,
         "subject": e.subject or "", "detail": e.detail or ""}
        for e in await newest_entries(db, scope, limit)
    ]  # fmt: skip


async def enrol_form(programmes: Programmes, scope: Scope) -> dict[str, Any]:
    names = [p.name for p in await programmes.all(scope)]
    return {"programmes": names, "channels": CHANNELS}


async def enrol_submit(
    config: Config, enrol: Enroller, fields: dict[str, str], by: str, scope: Scope
) -> dict[str, str]:
    """The rules of ``followup enrol``; returns the result or ``{"error": message}``."""

    def opt(key: str) -> str | None:
        value = fields.get(key, "").strip()
        return value or None

    try:
        consent = consent_record(opt("consent_version"), opt("consent_date"), opt("consent_by"))
        request = parse_request(
            config, programme=fields.get("programme", ""), channel=fields.get("channel", ""),
            language=opt("language"), timezone=opt("timezone"), phone=opt("phone"),
            safe_word=opt("safe_word"), code_word=opt("code_word"),
            duress_word=opt("duress_word"), start=opt("start"), end=opt("end"),
            window=fields.get("window", "").strip(), consent=consent,
        )  # fmt: skip
        return await enrol(request, f"{by} (web)", scope)
    except InputError as exc:
        return {"error": str(exc)}


async def programme_rows(db: Database, scope: Scope) -> list[dict[str, Any]]:
    """Per programme and timepoint: completed of those whose attempt has ended (response rate).

    The report's small-number rule: no rate when the completed or the ended attempts are
    fewer than ``MIN_CELL`` women (a rate over 20 would tell that one woman answered).
    """
    found: dict[str, dict[str, Any]] = {}
    for c in await queries.response_counts(db, scope):
        entry = found.setdefault(c.programme, {"name": c.programme, "rates": {}})
        if c.timepoint is None:
            continue
        share = rate(c.completed, c.ended)
        shown_rate = f"{round(100 * share)} %" if share is not None else SUPPRESSED
        entry["rates"][c.timepoint] = {"planned": cell(c.planned), "rate": shown_rate}
    return list(found.values())


async def network_tables(stores: Stores, by: str) -> Markup:
    """The pooled network report's tables (every pooling programme, small cells protected);
    audited."""
    report = await network_report(stores.db, stores.ring, stores.programmes)
    await log_access(stores.db, stores.clock, f"{by} (web)", "network_report", "network",
                     f"dashboard, {len(report.programmes)} programme(s)")  # fmt: skip
    return render_network_tables(report, stores.clock.now())


async def report_html(stores: Stores, name: str, by: str, scope: Scope) -> str | None:
    """The outcome report of ``followup report`` (small numbers suppressed); audited."""
    programme = await stores.programmes.by_name(name, scope)
    if programme is None:
        return None
    records = await all_records(stores.db, stores.ring, programme.id)
    levels = await escalation_counts(stores.db, programme.id)
    endings = await safe_word_endings(stores.db, stores.ring, programme.id)
    html = render_report(name, records, levels, endings, stores.clock.now())
    await log_access(stores.db, stores.clock, f"{by} (web)", "outcome_report", name, "dashboard")
    return html
