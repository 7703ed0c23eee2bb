"""A database as main made it before organisations (schema 9), built from the migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store.schema import MIGRATIONS

#: The last schema without organisations.
BEFORE_ORGANISATIONS = 9


def old_database(path: Path) -> None:
    """Schema 9 with one programme, one WSS worker on call and one admin."""
    conn = sqlite3.connect(path)
    try:
        for script in MIGRATIONS[:BEFORE_ORGANISATIONS]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version={BEFORE_ORGANISATIONS}")
        at = "2026-01-01T00:00:00.000000Z"
        conn.execute(
            "INSERT INTO programmes (id, name, timezone, created_at)"
            " VALUES (1, 'berlin', 'Europe/Berlin', ?)",
            (at,),
        )
        conn.execute(
            "INSERT INTO staff (id, name, role, created_at) VALUES (1, 'wanda', 'wss', ?)", (at,)
        )
        conn.execute(
            "INSERT INTO staff (id, name, role, created_at) VALUES (2, 'adam', 'admin', ?)", (at,)
        )
        conn.execute(
            "INSERT INTO escalation_routes (programme_id, staff_id, role, position)"
            " VALUES (1, 1, 'on_call', 0)"
        )
        conn.commit()
    finally:
        conn.close()
