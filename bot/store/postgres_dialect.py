"""The store's SQL, said in PostgreSQL: one translation at the seam instead of two copies of SQL.

The store writes the subset both engines share (``ON CONFLICT ... DO NOTHING``/``DO UPDATE``,
``substr``, ``replace``, ``||``) in SQLite's spelling; ``to_postgres`` rewrites what still
differs, once per distinct statement (cached):

- placeholders ``?`` -> ``%s`` and ``:name`` -> ``%(name)s``; every ``%`` -> ``%%``;
- blob literals ``x'00ff'`` -> ``'\\x00ff'::bytea`` (PostgreSQL reads ``x'..'`` as bits);
- ``ORDER BY rowid`` (SQLite's insertion order, asked of ``participants`` only) ->
  ``ORDER BY created_at, id``;
- ``instr(a, b)`` -> ``strpos(a, b)``; ``group_concat(x[, sep])`` ->
  ``string_agg(CAST(x AS TEXT), sep)``; scalar ``MAX(a, b)``/``MIN(a, b)`` (two or more
  arguments) -> ``GREATEST``/``LEAST``;
- SQLite's index hints ``NOT INDEXED`` and ``INDEXED BY name`` are dropped (the planner
  chooses);
- an ``INSERT`` into a table with an ``id`` key gains ``RETURNING id`` (sqlite3's
  ``lastrowid``).

Invariant: string literals and quoted names are copied as they are (only their ``%`` doubled);
nothing here changes which rows a statement touches.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["SERIAL_ID_TABLES", "inserted_table", "to_postgres"]

#: Tables whose ``id INTEGER PRIMARY KEY`` SQLite numbers itself (an identity on PostgreSQL).
SERIAL_ID_TABLES = frozenset(
    {
        "organisations",
        "programmes",
        "staff",
        "timepoints",
        "outbox",
        "transcript",
        "escalations",
        "escalation_notifications",
        "escalation_notes",
        "audit_log",
    }
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INSTR = re.compile(r"\binstr\s*\(", re.IGNORECASE)
_GROUP_CONCAT = re.compile(
    r"\bgroup_concat\s*\(\s*([^(),]+?)\s*(?:,\s*('(?:[^']|'')*'))?\s*\)", re.IGNORECASE
)
_INDEX_HINT = re.compile(
    r"\s+(?:NOT\s+INDEXED|INDEXED\s+BY\s+[A-Za-z_][A-Za-z0-9_]*)\b", re.IGNORECASE
)
_ORDER_BY_ROWID = re.compile(r"\bORDER\s+BY\s+rowid\b", re.IGNORECASE)
_MAX_MIN = re.compile(r"\b(MAX|MIN)\s*\(", re.IGNORECASE)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


def inserted_table(sql: str) -> str | None:
    """The table an ``INSERT INTO`` statement writes, else None."""
    match = _INSERT.match(sql)
    return match.group(1).lower() if match else None


@lru_cache(maxsize=1024)
def to_postgres(sql: str, returning_id: bool = True) -> str:
    """``sql`` (SQLite spelling, ``?`` or ``:name`` parameters) as psycopg runs it."""
    out = _placeholders(sql)
    out = _INSTR.sub("strpos(", out)
    out = _GROUP_CONCAT.sub(_string_agg, out)
    out = _scalar_max_min(out)
    out = _INDEX_HINT.sub("", out)
    out = _ORDER_BY_ROWID.sub("ORDER BY created_at, id", out)
    if returning_id and inserted_table(out) in SERIAL_ID_TABLES and not _RETURNING.search(out):
        out = out.rstrip().rstrip(";") + " RETURNING id"
    return out


def _string_agg(match: re.Match[str]) -> str:
    separator = match.group(2) or "','"
    return f"string_agg(CAST({match.group(1)} AS TEXT), {separator})"


def _scalar_max_min(sql: str) -> str:
    """``MAX(a, b)`` -> ``GREATEST(a, b)``, ``MIN(a, b)`` -> ``LEAST(a, b)``; aggregates stay."""
    out: list[str] = []
    start = 0
    for match in _MAX_MIN.finditer(sql):
        depth, i, several = 1, match.end(), False
        while i < len(sql) and depth:
            ch = sql[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 1:
                several = True
            i += 1
        if several:
            name = "GREATEST" if match.group(1).upper() == "MAX" else "LEAST"
            out.append(sql[start : match.start()] + name + "(")
            start = match.end()
    out.append(sql[start:])
    return "".join(out)


def _placeholders(sql: str) -> str:
    """Rewrite parameters outside literals and quoted names; double every ``%``."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if (
            ch in "xX"
            and sql[i + 1 : i + 2] == "'"
            and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_"))
        ):
            end = sql.index("'", i + 2)
            out.append(f"'\\x{sql[i + 2 : end]}'::bytea")
            i = end + 1
        elif ch in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # '' or "" inside: still quoted
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":
            out.append("::")  # a PostgreSQL cast, never a parameter
            i += 2
        elif ch == ":" and (name := _NAME.match(sql, i + 1)) is not None:
            out.append(f"%({name.group(0)})s")
            i = name.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)
