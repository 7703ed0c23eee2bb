"""The seam's translation of the store's SQL into PostgreSQL's (no server needed)."""

from __future__ import annotations

import pytest

from bot.store.postgres_dialect import to_postgres


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT a FROM t WHERE b = :b", "SELECT a FROM t WHERE b = %(b)s"),
        ("SELECT 'a?:b%' || ? FROM t", "SELECT 'a?:b%%' || %s FROM t"),
        ("SELECT 1 WHERE p LIKE ? ESCAPE '\\'", "SELECT 1 WHERE p LIKE %s ESCAPE '\\'"),
        ("SELECT CAST(a AS TEXT)::text", "SELECT CAST(a AS TEXT)::text"),
        ("UPDATE t SET n = MAX(n, ?)", "UPDATE t SET n = GREATEST(n, %s)"),
        ("SELECT MAX(id), MIN(a, b) FROM t", "SELECT MAX(id), LEAST(a, b) FROM t"),
        ("SELECT instr(d, ?) FROM t", "SELECT strpos(d, %s) FROM t"),
        (
            "SELECT group_concat(o.id), group_concat(o.name, ',') FROM o",
            "SELECT string_agg(CAST(o.id AS TEXT), ','), string_agg(CAST(o.name AS TEXT), ',')"
            " FROM o",
        ),
        ("SELECT 1 FROM t AS x NOT INDEXED WHERE 1 = 1", "SELECT 1 FROM t AS x WHERE 1 = 1"),
        ("VALUES (x'', X'00ff')", "VALUES ('\\x'::bytea, '\\x00ff'::bytea)"),
        ("SELECT id FROM participants ORDER BY rowid", "SELECT id FROM participants ORDER BY created_at, id"),
        (
            "INSERT INTO outbox (a) VALUES (?) ON CONFLICT DO NOTHING",
            "INSERT INTO outbox (a) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id",
        ),
        ("INSERT INTO answers (a) VALUES (?)", "INSERT INTO answers (a) VALUES (%s)"),
        ("INSERT INTO staff (a) VALUES (?) RETURNING id", "INSERT INTO staff (a) VALUES (%s) RETURNING id"),
    ],
)  # fmt: skip
def test_each_sqlite_spelling_becomes_postgresqls(sqlite: str, postgres: str) -> None:
    assert to_postgres(sqlite) == postgres
