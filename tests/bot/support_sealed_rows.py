"""Escalation rows as a test reads them: the reasons are sealed (migration 9), so opened here."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.crypto import load_or_create_keyring
from bot.runtime.app import App
from bot.store.escalations import open_reasons
from conversations.state import SessionState
from tests.bot.support_service_db import ServiceDatabase

SELECT = (
    "SELECT e.code, p.pseudonym, e.level, e.reasons_enc, e.participant_id FROM escalations e"
    " LEFT JOIN participants p ON p.id = e.participant_id ORDER BY e.id"
)


async def escalations(app: App) -> list[tuple[str, tuple[str, ...]]]:
    """(level, reasons) of every escalation, oldest first."""
    rows = await app.db.fetchall(SELECT)
    return [(r["level"], open_reasons(app.ring, r["code"], r["reasons_enc"])) for r in rows]


def _rows(db: Path | ServiceDatabase, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    if isinstance(db, ServiceDatabase):
        return db.query(sql, params)
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        return list(conn.execute(sql, params).fetchall())


def escalation_rows(
    db: Path | ServiceDatabase, key_file: Path
) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
    """(code, her pseudonym, level, reasons) of every escalation in a service's database."""
    ring, _ = load_or_create_keyring(key_file)
    rows = _rows(db, SELECT)
    return [
        (code, name, level, open_reasons(ring, code, sealed))
        for code, name, level, sealed, _ in rows
    ]


def session_ends(
    db: Path | ServiceDatabase, key_file: Path, pseudonym: str | None = None
) -> list[tuple[str, str | None]]:
    """(phase, outcome) of every session (of one woman): the outcome is only inside the
    sealed state."""
    ring, _ = load_or_create_keyring(key_file)
    rows = _rows(
        db,
        "SELECT s.id, s.state_enc FROM sessions s JOIN participants p"
        " ON p.id = s.participant_id WHERE ? IS NULL OR p.pseudonym = ? ORDER BY s.started_at",
        (pseudonym, pseudonym),
    )
    states = [
        SessionState.from_json(json.loads(ring.open(sealed, f"sessions:state:{sid}")))
        for sid, sealed in rows
    ]
    return [(state.phase, state.outcome) for state in states]
