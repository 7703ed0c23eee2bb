"""Organisations: the member services of one installation (REDCap's Data Access Groups).

A programme belongs to exactly one organisation and staff to one or more; an installation
that never names one has a single organisation, ``default``, and never needs ``--org``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso
from bot.store.db import Database, Row, Transaction

DEFAULT_ORGANISATION = "default"


class OrganisationError(ValueError):
    """An organisation change that cannot be made as asked (duplicate or unknown name)."""


@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    language: str


def _organisation(row: Row) -> Organisation:
    return Organisation(row["id"], row["name"], row["language"])


class Organisations:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, tx: Transaction, name: str, language: str, now: datetime) -> Organisation:
        """A new organisation; OrganisationError when the name is taken."""
        if await tx.execute_fetchall("SELECT 1 FROM organisations WHERE name = ?", (name,)):
            raise OrganisationError(f"an organisation named '{name}' exists already")
        cur = await tx.execute(
            "INSERT INTO organisations (name, language, created_at) VALUES (?, ?, ?)",
            (name, language, iso(now)),
        )
        assert cur.lastrowid is not None
        return Organisation(cur.lastrowid, name, language)

    async def by_name(self, name: str) -> Organisation | None:
        row = await self.db.fetchone("SELECT * FROM organisations WHERE name = ?", (name,))
        return _organisation(row) if row else None

    async def all(self) -> list[Organisation]:
        rows = await self.db.fetchall("SELECT * FROM organisations ORDER BY name")
        return [_organisation(r) for r in rows]

    async def named(self, names: list[str]) -> list[Organisation]:
        """The organisations with these names, in that order; OrganisationError names the
        first unknown one."""
        found = {o.name: o for o in await self.all()}
        missing = [n for n in names if n not in found]
        if missing:
            raise OrganisationError(
                f"no organisation named '{missing[0]}' (see: followup org list)"
            )
        return [found[n] for n in names]


async def only_organisation(tx: Transaction) -> int | None:
    """The id of the single organisation of an installation that has one; else None."""
    rows = list(await tx.execute_fetchall("SELECT id FROM organisations LIMIT 2"))
    return int(rows[0][0]) if len(rows) == 1 else None
