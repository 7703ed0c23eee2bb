"""Does a database already hold fields sealed (or indexed) with some key?

Asked before a missing key file is created: a new key for a database sealed with
another one would split her data in two (issue 21). Read-only; a missing file, or
one without tables, holds nothing. ``rows_hold_keyed_fields`` asks an open PostgreSQL
database the same (its catalogue lists the columns).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.db import Database

#: Column suffixes that only a key can write: sealed values and keyed blind indexes.
KEYED = ("_enc", "_idx")


def holds_keyed_fields(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                if column.endswith(KEYED):
                    query = f'SELECT 1 FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT 1'
                    if conn.execute(query).fetchone():
                        return True
    return False


async def rows_hold_keyed_fields(db: Database) -> bool:
    """Does any ``_enc`` or ``_idx`` column of this (PostgreSQL) schema hold a value?"""
    columns = await db.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
        " AND (column_name LIKE '%\\_enc' ESCAPE '\\' OR column_name LIKE '%\\_idx' ESCAPE '\\')"
    )
    for table, column in columns:
        query = f'SELECT 1 FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT 1'
        if await db.fetchone(query):
            return True
    return False
