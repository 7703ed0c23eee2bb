"""Research ids and the anonymous research store.

Every participant gets a random research id, kept sealed in her row, so it can only be
linked to her with the key. When her answers are to be kept without her (withdrawal or
erasure under ``on_withdrawal = "keep_anonymous"``) they move to ``research_answers``
under that id and the sealed link in her row is destroyed: from then on nothing ties
them to her, with or without the key.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from bot.clock import parse_iso
from bot.crypto import KeyRing
from bot.store.db import Database, Row, Transaction
from bot.store.ids import ALPHABET
from bot.store.sessions import Sessions
from conversations.answers import Answer
from conversations.vocabulary import Outcome
from scheduler.timepoint_states import FINAL_STATES


def new_research_id() -> str:
    return "R-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def research_aad(participant_id: str) -> str:
    return f"participants:research:{participant_id}"


def research_answer_aad(research_id: str, timepoint: str, item_id: str) -> str:
    return f"research_answers:value:{research_id}:{timepoint}:{item_id}"


def answer_aad(participant_id: str, timepoint: str, item_id: str) -> str:
    """Same convention as bot/store/sessions.py (answers.value_enc)."""
    return f"answers:value:{participant_id}:{timepoint}:{item_id}"


def iso_week(moment: date | datetime | str | None) -> str | None:
    """'2026-W48': dates leave the system rounded to the ISO week."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = parse_iso(moment) if "T" in moment else date.fromisoformat(moment)
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


#: Timepoint states that mean she was contacted (or at least a contact went out).
CONTACTED_STATES = frozenset(
    {
        "sent",
        "in_progress",
        "snoozed",
        "declined",
        "completed",
        "missed",
        "opted_out",
        "unreachable",
        "paused",
    }
)


def was_invited(row: Row) -> bool:
    return row["first_sent_at"] is not None or row["state"] in CONTACTED_STATES


def timepoint_week(row: Row) -> str | None:
    """The week a timepoint happened: ended, else first contact, else due."""
    return iso_week(row["ended_at"] or row["first_sent_at"] or row["due_on"])


async def research_id_for(tx: Transaction, ring: KeyRing, participant_id: str) -> str:
    """Her research id, created on first use (stable across key rotations: the value is sealed)."""
    cur = await tx.execute("SELECT research_enc FROM participants WHERE id = ?", (participant_id,))
    row = await cur.fetchone()
    if row is None:
        raise LookupError(participant_id)
    if row[0]:
        return ring.open_text(row[0], research_aad(participant_id))
    rid = new_research_id()
    await tx.execute(
        "UPDATE participants SET research_enc = ? WHERE id = ?",
        (ring.seal_text(rid, research_aad(participant_id)), participant_id),
    )
    return rid


async def anonymise(
    tx: Transaction, ring: KeyRing, participant_id: str, *, keep_answers: bool
) -> str | None:
    """Move her timepoint states (and, if kept, her answers) out of her reach; delete the rest.

    Timepoints still open are recorded as ``withdrawn``. Returns the research id used, or
    None when there was nothing to keep. Answers erased (``keep_answers=False``) leave
    only states, under a fresh id that matches nothing exported before.
    """
    cur = await tx.execute("SELECT programme_id FROM participants WHERE id = ?", (participant_id,))
    prow = await cur.fetchone()
    if prow is None:
        raise LookupError(participant_id)
    rows = list(
        await (
            await tx.execute("SELECT * FROM timepoints WHERE participant_id = ?", (participant_id,))
        ).fetchall()
    )
    rid = await research_id_for(tx, ring, participant_id) if keep_answers else new_research_id()
    for row in rows:
        state = row["state"] if row["state"] in FINAL_STATES else "withdrawn"
        await tx.execute(
            "INSERT INTO research_timepoints (research_id, programme_id, timepoint, state,"
            " invited, week, consent_answer, consent_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (research_id, timepoint) DO UPDATE SET"
            " programme_id = excluded.programme_id, state = excluded.state,"
            " invited = excluded.invited, week = excluded.week,"
            " consent_answer = excluded.consent_answer, consent_version = excluded.consent_version",
            (
                rid,
                prow[0],
                row["timepoint"],
                state,
                int(was_invited(row)),
                timepoint_week(row),
                row["consent_answer"],
                row["consent_version"],
            ),
        )
    if keep_answers:
        answers = await (
            await tx.execute(
                "SELECT timepoint, item_id, value_enc FROM answers WHERE participant_id = ?",
                (participant_id,),
            )
        ).fetchall()
        for a in answers:
            clear = ring.open(a["value_enc"], answer_aad(participant_id, a[0], a[1]))
            await tx.execute(
                "INSERT INTO research_answers (research_id, timepoint, item_id,"
                " value_enc) VALUES (?, ?, ?, ?) ON CONFLICT (research_id, timepoint, item_id)"
                " DO UPDATE SET value_enc = excluded.value_enc",
                (rid, a[0], a[1], ring.seal(clear, research_answer_aad(rid, a[0], a[1]))),
            )
    for table in ("answers", "sessions", "timepoints"):
        await tx.execute(f"DELETE FROM {table} WHERE participant_id = ?", (participant_id,))
    await tx.execute("UPDATE participants SET research_enc = NULL WHERE id = ?", (participant_id,))
    return rid if rows else None


@dataclass(frozen=True)
class ResearchRecord:
    """One participant-timepoint as research sees it: no identity, week-rounded."""

    research_id: str
    timepoint: str
    state: str
    invited: bool
    week: str | None
    answers: dict[str, Answer]
    #: Her answer to "is it still OK to ask?" at this timepoint and the consent version.
    consent_answer: str | None = None
    consent_version: str | None = None


async def live_records(db: Database, ring: KeyRing, programme_id: int) -> list[ResearchRecord]:
    """Records of participants still in the system (research ids created where missing)."""
    people = await db.fetchall(
        "SELECT id FROM participants WHERE programme_id = ? AND status != 'erased' ORDER BY rowid",
        (programme_id,),
    )
    ids: dict[str, str] = {}
    async with db.transaction() as tx:
        for p in people:
            ids[p["id"]] = await research_id_for(tx, ring, p["id"])
    records: list[ResearchRecord] = []
    for pid, rid in ids.items():
        tps = await db.fetchall(
            "SELECT * FROM timepoints WHERE participant_id = ? ORDER BY timepoint", (pid,)
        )
        for row in tps:
            rows = await db.fetchall(
                "SELECT item_id, value_enc FROM answers WHERE participant_id = ? AND timepoint = ?",
                (pid, row["timepoint"]),
            )
            answers = {
                a[0]: _answer(ring.open(a[1], answer_aad(pid, row["timepoint"], a[0])))
                for a in rows
            }
            records.append(
                ResearchRecord(
                    rid,
                    row["timepoint"],
                    row["state"],
                    was_invited(row),
                    timepoint_week(row),
                    answers,
                    row["consent_answer"],
                    row["consent_version"],
                )
            )
    return records


async def anonymous_records(db: Database, ring: KeyRing, programme_id: int) -> list[ResearchRecord]:
    rows = await db.fetchall(
        "SELECT * FROM research_timepoints WHERE programme_id = ? ORDER BY research_id, timepoint",
        (programme_id,),
    )
    records: list[ResearchRecord] = []
    for row in rows:
        rid, tp = row["research_id"], row["timepoint"]
        values = await db.fetchall(
            "SELECT item_id, value_enc FROM research_answers WHERE research_id = ? AND timepoint = ?",
            (rid, tp),
        )
        answers = {
            v[0]: _answer(ring.open(v[1], research_answer_aad(rid, tp, v[0]))) for v in values
        }
        records.append(
            ResearchRecord(
                rid,
                tp,
                row["state"],
                bool(row["invited"]),
                row["week"],
                answers,
                row["consent_answer"],
                row["consent_version"],
            )
        )
    return records


async def all_records(db: Database, ring: KeyRing, programme_id: int) -> list[ResearchRecord]:
    """Everyone's records for research: live participants and anonymous ones, sorted."""
    records = [
        *await live_records(db, ring, programme_id),
        *await anonymous_records(db, ring, programme_id),
    ]
    return sorted(records, key=lambda r: (r.research_id, r.timepoint))


async def escalations_per_level(db: Database, programme_id: int) -> dict[str, tuple[int, int]]:
    """{level: (escalations, women)}; erased women, no longer told apart, count as one."""
    rows = await db.fetchall(
        "SELECT level, COUNT(*), COUNT(DISTINCT participant_id)"
        " + MAX(CASE WHEN participant_id IS NULL THEN 1 ELSE 0 END) FROM escalations WHERE programme_id = ? GROUP BY level",
        (programme_id,),
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


async def safe_word_endings(db: Database, ring: KeyRing, programme_id: int) -> dict[str, int]:
    """{timepoint: paused timepoints whose session ended on the safe word}: counts only.

    The outcome is in the sealed session state alone (migration 9), so it is opened here;
    anonymised women's timepoints were closed as ``withdrawn`` and are not among them.
    """
    rows = await db.fetchall(
        "SELECT t.participant_id, t.timepoint FROM timepoints AS t"
        " JOIN participants AS p ON p.id = t.participant_id"
        " WHERE p.programme_id = ? AND p.status != 'erased' AND t.state = 'paused'",
        (programme_id,),
    )
    found = await Sessions(db, ring).for_pairs([(r[0], r[1]) for r in rows])
    return dict(Counter(tp for (_, tp), s in found.items() if s.state.outcome == Outcome.SAFE_WORD))


def _answer(blob: bytes) -> Answer:
    return Answer.from_json(json.loads(blob))
