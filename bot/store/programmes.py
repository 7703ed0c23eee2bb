"""Programmes: each belongs to exactly one organisation; its settings are one JSON object.

Look-ups by name take the request's ``Scope``: another organisation's programme is
not found (and the attempt audited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.store.db import Database, Row, Transaction
from bot.store.organisations import OrganisationError, only_organisation
from bot.store.scope import OutsideScope, Scope


@dataclass(frozen=True)
class Programme:
    id: int
    name: str
    timezone: str
    language: str
    helpline: str
    emergency_number: str
    sender_name: str
    settings: dict[str, Any]
    organisation_id: int


def _programme(row: Row) -> Programme:
    return Programme(
        id=row["id"],
        name=row["name"],
        timezone=row["timezone"],
        language=row["language"],
        helpline=row["helpline"],
        emergency_number=row["emergency_number"],
        sender_name=row["sender_name"],
        settings=json.loads(row["settings"] or "{}"),
        organisation_id=row["organisation_id"],
    )


class Programmes:
    def __init__(self, db: Database, outside: OutsideScope | None = None) -> None:
        self.db = db
        self.outside = outside

    async def add(
        self,
        tx: Transaction,
        name: str,
        now: datetime,
        *,
        timezone: str = "UTC",
        language: str = "en",
        helpline: str = "",
        emergency_number: str = "112",
        sender_name: str = "Sam",
        settings: dict[str, Any] | None = None,
        organisation_id: int | None = None,
    ) -> int:
        """A new programme of ``organisation_id``; None: the installation's only organisation
        (OrganisationError when there are several)."""
        if organisation_id is None:
            organisation_id = await only_organisation(tx)
            if organisation_id is None:
                raise OrganisationError(
                    "there is more than one organisation: say which with --org"
                    " (see: followup org list)"
                )
        cur = await tx.execute(
            "INSERT INTO programmes (name, organisation_id, timezone, language, helpline,"
            " emergency_number, sender_name, settings, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                organisation_id,
                timezone,
                language,
                helpline,
                emergency_number,
                sender_name,
                json.dumps(settings or {}),
                iso(now),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def by_name(self, name: str, scope: Scope) -> Programme | None:
        """The programme of this name inside ``scope``; another organisation's is None
        (and the attempt audited)."""
        where, params = scope.condition("organisation_id")
        row = await self.db.fetchone(
            f"SELECT * FROM programmes WHERE name = ? AND {where}", (name, *params)
        )
        if row is None and self.outside is not None:
            await self.outside.miss(scope, "programme", "programmes", "name", name)
        return _programme(row) if row else None

    async def get(self, programme_id: int) -> Programme:
        row = await self.db.fetchone("SELECT * FROM programmes WHERE id = ?", (programme_id,))
        if row is None:
            raise LookupError(f"no programme {programme_id}")
        return _programme(row)

    async def all(self, scope: Scope) -> list[Programme]:
        """The programmes inside ``scope``, by name."""
        where, params = scope.condition("organisation_id")
        rows = await self.db.fetchall(
            f"SELECT * FROM programmes WHERE {where} ORDER BY name", params
        )
        return [_programme(r) for r in rows]
