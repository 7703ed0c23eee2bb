"""Data for the dashboard pages other than the escalation queue (plain dicts for templates).

Answers are read only for ``ANSWER_ROLES`` and every such view is audited; the
other views reuse the CLI's logic (waves, participant schedule, enrolment rules).
"""

from __future__ import annotations

from typing import Any

from bot.datarights.access import log_access
from bot.datarights.report import SUPPRESSED, cell, escalation_counts, rate, render_report
from bot.enrolment.requests import CHANNELS, consent_record, enrol_request, parse_request
from bot.enrolment.validation import InputError
from bot.runtime.app import App
from bot.schedule.waves import COLUMNS, list_waves
from bot.store.research import all_records
from bot.web.auth import WebSession
from bot.web.security import ANSWER_ROLES

TIMEPOINTS = ("T0", "T1", "T2", "T3", "T4")


async def participant_rows(app: App, query: str) -> list[dict[str, str]]:
    """Pseudonym, programme, status, next contact; ``query`` matches the pseudonym."""
    sql = (
        "SELECT p.pseudonym, g.name AS programme, p.status, p.channel,"
        " (SELECT MIN(COALESCE(t.next_action_at, t.due_on)) FROM timepoints AS t"
        "  WHERE t.participant_id = p.id AND t.state IN ('scheduled', 'sent', 'snoozed',"
        "  'in_progress')) AS next_contact"
        " FROM participants AS p JOIN programmes AS g ON g.id = p.programme_id"
        " WHERE p.status != 'erased'"
    )
    params: list[str] = []
    if query:
        sql += " AND p.pseudonym LIKE ? ESCAPE '\\'"
        escaped = query.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    rows = await app.db.fetchall(sql + " ORDER BY p.pseudonym LIMIT 500", params)
    return [
        {"pseudonym": r["pseudonym"], "programme": r["programme"], "status": r["status"],
         "channel": r["channel"], "next_contact": (r["next_contact"] or "-")[:16]}
        for r in rows
    ]  # fmt: skip


async def participant_detail(app: App, pseudonym: str, web: WebSession) -> dict[str, Any] | None:
    """Status, channel and the T0–T4 timeline; her safe window and answers only for WSS
    (audited)."""
    participant = await app.service.participants.by_pseudonym(pseudonym)
    if participant is None or participant.status == "erased":
        return None
    programme = await app.service.programmes.get(participant.programme_id)
    timeline = {
        r["timepoint"]: r
        for r in await app.db.fetchall(
            "SELECT * FROM timepoints WHERE participant_id = ?", (participant.id,)
        )
    }
    steps = [
        {"timepoint": tp, "due": (timeline[tp]["due_on"] or "-") if tp in timeline else "-",
         "state": timeline[tp]["state"] if tp in timeline else "not planned"}
        for tp in TIMEPOINTS
    ]  # fmt: skip
    answers: dict[str, list[tuple[str, str]]] = {}
    show_answers = web.staff.role in ANSWER_ROLES
    if show_answers:
        for tp in TIMEPOINTS:
            found = await app.service.answers.for_timepoint(participant.id, tp)
            if found:
                answers[tp] = [
                    (item, "(skipped)" if a.skipped else _text(a.value))
                    for item, a in sorted(found.items())
                ]
        await log_access(
            app.db,
            app.service.clock,
            f"{web.staff.name} (web)",
            "answers_viewed",
            participant.pseudonym,
        )
    else:
        await log_access(
            app.db,
            app.service.clock,
            f"{web.staff.name} (web)",
            "participant_viewed",
            participant.pseudonym,
        )
    # Her safe window says when she is alone: only the WSS, who may call her, sees it.
    window = (participant.windows(app.ring) or "default") if show_answers else None
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


async def waves(app: App) -> dict[str, Any]:
    """The same rows and columns as ``followup waves``."""
    rows = await list_waves(app.stores)
    return {
        "columns": COLUMNS,
        "rows": [
            {"wave": w.wave_id, "programme": w.programme, "timepoint": w.timepoint,
             "due": w.due.isoformat(), "held": w.held, "total": w.total,
             "counts": [w.counts.get(c, 0) for c in COLUMNS]}
            for w in rows
        ],
    }  # fmt: skip


async def staff_rows(app: App) -> list[dict[str, str]]:
    logins = {
        r["staff_id"]: r
        for r in await app.db.fetchall(
            "SELECT staff_id, totp_confirmed, locked_until FROM staff_logins"
        )
    }
    return [
        {"name": m.name, "role": m.role, "language": m.language,
         "active": "yes" if m.active else "no",
         "password": "yes" if m.id in logins else "no",
         "totp": "yes" if m.id in logins and logins[m.id]["totp_confirmed"] else "no",
         "locked": (logins[m.id]["locked_until"] or "")[:16] if m.id in logins else ""}
        for m in await app.staff.all()
    ]  # fmt: skip


async def audit_rows(app: App, limit: int = 300) -> list[dict[str, str]]:
    rows = await app.db.fetchall("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
    return [
        {"at": r["at"][:19], "actor": r["actor"], "action": r["action"],
         "subject": r["subject"] or "", "detail": r["detail"] or ""}
        for r in rows
    ]  # fmt: skip


async def enrol_form(app: App) -> dict[str, Any]:
    programmes = [p.name for p in await app.service.programmes.all()]
    return {"programmes": programmes, "channels": CHANNELS}


async def enrol_submit(app: App, fields: dict[str, str], by: str) -> dict[str, str]:
    """The rules of ``followup enrol``; returns the result or ``{"error": message}``."""

    def opt(key: str) -> str | None:
        value = fields.get(key, "").strip()
        return value or None

    try:
        consent = consent_record(opt("consent_version"), opt("consent_date"), opt("consent_by"))
        request = parse_request(
            app.config, programme=fields.get("programme", ""), channel=fields.get("channel", ""),
            language=opt("language"), timezone=opt("timezone"), phone=opt("phone"),
            safe_word=opt("safe_word"), code_word=opt("code_word"),
            duress_word=opt("duress_word"), start=opt("start"), end=opt("end"),
            window=fields.get("window", "").strip(), consent=consent,
        )  # fmt: skip
        return await enrol_request(app.service, request, f"{by} (web)")
    except InputError as exc:
        return {"error": str(exc)}


async def programme_rows(app: App) -> list[dict[str, Any]]:
    """Per programme and timepoint: completed of those whose attempt has ended (response rate).

    The report's small-number rule: no rate when the completed or the ended attempts are
    fewer than ``MIN_CELL`` women (a rate over 20 would tell that one woman answered).
    """
    rows = await app.db.fetchall(
        "SELECT g.name, t.timepoint, COUNT(*) AS planned,"
        " SUM(t.state = 'completed') AS done,"
        " SUM(t.state IN ('completed', 'missed', 'unreachable', 'opted_out', 'withdrawn')) AS ended"
        " FROM programmes AS g LEFT JOIN participants AS p ON p.programme_id = g.id"
        " LEFT JOIN timepoints AS t ON t.participant_id = p.id AND t.state != 'cancelled'"
        " GROUP BY g.name, t.timepoint ORDER BY g.name, t.timepoint"
    )
    found: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = found.setdefault(r["name"], {"name": r["name"], "rates": {}})
        if r["timepoint"] is None:
            continue
        ended, done = r["ended"] or 0, r["done"] or 0
        share = rate(done, ended)
        shown_rate = f"{round(100 * share)} %" if share is not None else SUPPRESSED
        entry["rates"][r["timepoint"]] = {"planned": cell(r["planned"]), "rate": shown_rate}
    return list(found.values())


async def report_html(app: App, name: str, by: str) -> str | None:
    """The outcome report of ``followup report`` (small numbers suppressed); audited."""
    programme = await app.service.programmes.by_name(name)
    if programme is None:
        return None
    records = await all_records(app.db, app.ring, programme.id)
    levels = await escalation_counts(app.db, programme.id)
    html = render_report(name, records, levels, app.service.clock.now())
    await log_access(app.db, app.service.clock, f"{by} (web)", "outcome_report", name, "dashboard")
    return html
