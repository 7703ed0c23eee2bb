"""Session state and answers, sealed; saved in the same transaction as the step's effects.

A session's phase and last touch are stored in clear beside its sealed state, so the
scheduler can tell a live conversation from an idle one without opening it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Database, Row, Transaction
from bot.store.ids import new_row_id
from conversations.answers import Answer
from conversations.state import SessionState
from conversations.vocabulary import Phase


@dataclass(frozen=True)
class StoredSession:
    id: str
    participant_id: str
    timepoint: str
    state: SessionState
    updated_at: str


@dataclass(frozen=True)
class SessionTouch:
    """A session's id, phase and last update, read without opening its sealed state."""

    id: str
    phase: str
    updated_at: str


def _state_aad(session_id: str) -> str:
    return f"sessions:state:{session_id}"


def _answer_aad(participant_id: str, timepoint: str, item_id: str) -> str:
    return f"answers:value:{participant_id}:{timepoint}:{item_id}"


SAVE_SQL = (
    "INSERT INTO sessions (id, participant_id, timepoint, state_enc, phase, outcome,"
    " started_at, updated_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET state_enc = excluded.state_enc,"
    " phase = excluded.phase, outcome = excluded.outcome,"
    " updated_at = excluded.updated_at, ended_at = COALESCE(sessions.ended_at, excluded.ended_at)"
)


class Sessions:
    def __init__(self, db: Database, ring: KeyRing) -> None:
        self.db = db
        self.ring = ring

    def _load(self, row: Row) -> StoredSession:
        data = json.loads(self.ring.open(row["state_enc"], _state_aad(row["id"])))
        return StoredSession(
            row["id"],
            row["participant_id"],
            row["timepoint"],
            SessionState.from_json(data),
            row["updated_at"],
        )

    async def for_timepoint(self, participant_id: str, timepoint: str) -> StoredSession | None:
        row = await self.db.fetchone(
            "SELECT * FROM sessions WHERE participant_id = ? AND timepoint = ?",
            (participant_id, timepoint),
        )
        return self._load(row) if row else None

    async def touch_of(self, participant_id: str, timepoint: str) -> SessionTouch | None:
        """Her session for ``timepoint``: is it live, and since when (nothing unsealed)."""
        row = await self.db.fetchone(
            "SELECT id, phase, updated_at FROM sessions WHERE participant_id = ? AND timepoint = ?",
            (participant_id, timepoint),
        )
        return SessionTouch(row["id"], row["phase"], row["updated_at"]) if row else None

    async def for_pairs(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], StoredSession]:
        """Sessions for many (participant, timepoint) pairs, one query per 500 participants."""
        wanted = set(pairs)
        ids = sorted({pid for pid, _ in pairs})
        found: dict[tuple[str, str], StoredSession] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in await self.db.fetchall(
                f"SELECT * FROM sessions WHERE participant_id IN ({marks})", chunk
            ):
                key = (row["participant_id"], row["timepoint"])
                if key in wanted:
                    found[key] = self._load(row)
        return found

    async def current(self, participant_id: str) -> StoredSession | None:
        """Her open session if any, else the most recently touched one."""
        row = await self.db.fetchone(
            "SELECT * FROM sessions WHERE participant_id = ?"
            " ORDER BY (phase = 'ended'), updated_at DESC LIMIT 1",
            (participant_id,),
        )
        return self._load(row) if row else None

    async def get(self, session_id: str) -> StoredSession | None:
        row = await self.db.fetchone("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return self._load(row) if row else None

    async def save(
        self,
        tx: Transaction,
        participant_id: str,
        state: SessionState,
        now: datetime,
        session_id: str | None = None,
    ) -> str:
        """Insert or update the session for (participant, timepoint); returns its id."""
        sid, params = self.row(participant_id, state, now, session_id)
        await tx.execute(SAVE_SQL, params)
        return sid

    def row(
        self, participant_id: str, state: SessionState, now: datetime, session_id: str | None
    ) -> tuple[str, tuple[object, ...]]:
        """The sealed parameters of ``SAVE_SQL`` (and the session's id), for one or many saves."""
        sid = session_id or new_row_id()
        sealed = self.ring.seal(json.dumps(state.to_json()).encode(), _state_aad(sid))
        ended = iso(now) if state.phase == Phase.ENDED else None
        return sid, (
            sid,
            participant_id,
            state.timepoint,
            sealed,
            state.phase,
            None,  # her outcome (e.g. duress) is in the sealed state only (migration 9)
            iso(now),
            iso(now),
            ended,
        )

    async def save_many(self, tx: Transaction, rows: list[tuple[object, ...]]) -> None:
        """Many ``row()``s in one statement (a chunk of a wave: one hand-off, not one each)."""
        if rows:
            await tx.executemany(SAVE_SQL, rows)

    async def idle_since(self, before: datetime) -> list[StoredSession]:
        """Open sessions untouched since ``before`` (candidates for the Idle event)."""
        rows = await self.db.fetchall(
            "SELECT * FROM sessions WHERE phase IN ('gate','snooze','code','question','help')"
            " AND updated_at < ?",
            (iso(before),),
        )
        return [self._load(r) for r in rows]


class Answers:
    def __init__(self, db: Database, ring: KeyRing) -> None:
        self.db = db
        self.ring = ring

    async def save(
        self,
        tx: Transaction,
        participant_id: str,
        timepoint: str,
        item_id: str,
        answer: Answer,
        now: datetime,
    ) -> None:
        sealed = self.ring.seal(
            json.dumps(answer.to_json()).encode(), _answer_aad(participant_id, timepoint, item_id)
        )
        await tx.execute(
            "INSERT INTO answers (participant_id, timepoint, item_id, value_enc, answered_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (participant_id, timepoint, item_id)"
            " DO UPDATE SET value_enc = excluded.value_enc, answered_at = excluded.answered_at",
            (participant_id, timepoint, item_id, sealed, iso(now)),
        )

    async def clear(
        self, tx: Transaction, participant_id: str, timepoint: str, item_id: str
    ) -> None:
        await tx.execute(
            "DELETE FROM answers WHERE participant_id = ? AND timepoint = ? AND item_id = ?",
            (participant_id, timepoint, item_id),
        )

    async def for_timepoint(self, participant_id: str, timepoint: str) -> dict[str, Answer]:
        rows = await self.db.fetchall(
            "SELECT item_id, value_enc FROM answers WHERE participant_id = ? AND timepoint = ?",
            (participant_id, timepoint),
        )
        return {
            r["item_id"]: Answer.from_json(
                json.loads(
                    self.ring.open(
                        r["value_enc"], _answer_aad(participant_id, timepoint, r["item_id"])
                    )
                )
            )
            for r in rows
        }
