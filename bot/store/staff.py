"""Staff and escalation routes: who is told about risk, and how to reach them.

A staff member's Telegram user id and phone are sealed and found by blind
index, like her address; routes list, per programme, who is on call and who
is the backup when an URGENT alert stays unacknowledged. Every member read here
carries her organisations, and the routes and the fallback of a programme only
ever hold members of the programme's organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Database, Row, Transaction
from bot.store.organisations import only_organisation
from bot.store.scope import ORGANISATION_ROLES, OutsideScope, Scope

ROLES = ("wss", "programme", "admin", "operator", "network")
#: Roles that may acknowledge and resolve escalations.
RESPONDER_ROLES = frozenset({"wss", "admin"})
#: Every member read comes with her organisations as a comma-separated list.
_ORGANISATIONS = (
    "(SELECT group_concat(so.organisation_id) FROM staff_organisations AS so"
    " WHERE so.staff_id = s.id) AS organisation_list,"
    " (SELECT group_concat(o.name, ',') FROM staff_organisations AS so JOIN organisations AS o"
    " ON o.id = so.organisation_id WHERE so.staff_id = s.id) AS organisation_names"
)
_SELECT = f"SELECT s.*, {_ORGANISATIONS} FROM staff AS s"
#: The member ``s`` belongs to the organisation of programme ``?``.
_IN_PROGRAMME_ORGANISATION = (
    "EXISTS (SELECT 1 FROM staff_organisations AS so JOIN programmes AS g"
    " ON g.organisation_id = so.organisation_id WHERE so.staff_id = s.id AND g.id = ?)"
)
TELEGRAM = "staff:telegram"
PHONE = "staff:phone"


class StaffError(ValueError):
    """A staff change that cannot be made as asked (duplicate name, id or phone)."""


@dataclass(frozen=True)
class Route:
    """One way to reach one staff member: a channel and the address there."""

    staff_id: int
    channel: str
    address: str


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    role: str
    language: str
    active: bool
    #: Sealed contact details: opened only with the key ring, never shown in a repr.
    telegram_sealed: bytes | None = field(default=None, repr=False)
    phone_sealed: bytes | None = field(default=None, repr=False)
    organisation_ids: frozenset[int] = frozenset()
    #: Their names, for the dashboard's header (organisation names hold no comma).
    organisation_names: tuple[str, ...] = ()

    def telegram_user_id(self, ring: KeyRing) -> str | None:
        blob = self.telegram_sealed
        return ring.open_text(blob, f"staff:telegram:{self.id}") if blob else None

    def phone(self, ring: KeyRing) -> str | None:
        blob = self.phone_sealed
        return ring.open_text(blob, f"staff:phone:{self.id}") if blob else None

    def routes(self, ring: KeyRing) -> list[Route]:
        """Telegram and SMS where given; a member with neither is reached on the console only."""
        found: list[Route] = []
        telegram, phone = self.telegram_user_id(ring), self.phone(ring)
        if telegram:
            found.append(Route(self.id, "telegram", telegram))
        if phone:
            found.append(Route(self.id, "sms", phone))
        return found or [Route(self.id, "console", f"wss:{self.name}")]

    @property
    def responder(self) -> bool:
        return self.active and self.role in RESPONDER_ROLES


@dataclass(frozen=True)
class Duty:
    """One place a staff member stands in a programme's escalation route."""

    staff_id: int
    role: str  # 'on_call' | 'backup'
    programme: str


def _member(row: Row) -> StaffMember:
    return StaffMember(
        row["id"],
        row["name"],
        row["role"],
        row["language"],
        bool(row["active"]),
        row["telegram_enc"],
        row["phone_enc"],
        _organisation_ids(row["organisation_list"]),
        tuple(sorted(row["organisation_names"].split(","))) if row["organisation_names"] else (),
    )


def _organisation_ids(listed: str | None) -> frozenset[int]:
    return frozenset(int(part) for part in listed.split(",")) if listed else frozenset()


class StaffStore:
    def __init__(self, db: Database, ring: KeyRing, outside: OutsideScope | None = None) -> None:
        self.db = db
        self.ring = ring
        self.outside = outside

    async def add(
        self,
        tx: Transaction,
        *,
        name: str,
        role: str,
        language: str,
        now: datetime,
        telegram_user_id: str | None = None,
        phone: str | None = None,
        organisation_ids: list[int] | None = None,
    ) -> StaffMember:
        """Insert a member with sealed contact details; StaffError on any duplicate.

        ``organisation_ids`` None: the installation's only organisation, for the roles that
        work inside one (StaffError when there are several to choose from).
        """
        if role not in ROLES:
            raise StaffError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if organisation_ids is None:
            only = await only_organisation(tx)
            if only is None and role in ORGANISATION_ROLES:
                raise StaffError(
                    "there is more than one organisation: say which with --org"
                    " (see: followup org list)"
                )
            organisation_ids = [only] if only is not None and role in ORGANISATION_ROLES else []
        if role in ORGANISATION_ROLES and not organisation_ids:
            raise StaffError(f"a {role} member needs at least one organisation (--org)")
        if await (await tx.execute("SELECT 1 FROM staff WHERE name = ?", (name,))).fetchone():
            raise StaffError(f"a staff member named '{name}' exists already")
        for purpose, value, what in ((TELEGRAM, telegram_user_id, "Telegram user id"),
                                     (PHONE, phone, "phone number")):  # fmt: skip
            if value and await self._find(tx, purpose, value):
                raise StaffError(f"another staff member has this {what}")
        cur = await tx.execute(
            "INSERT INTO staff (name, role, language, created_at) VALUES (?, ?, ?, ?)",
            (name, role, language, iso(now)),
        )
        assert cur.lastrowid is not None
        staff_id = cur.lastrowid
        if telegram_user_id:
            await tx.execute(
                "UPDATE staff SET telegram_idx = ?, telegram_enc = ? WHERE id = ?",
                (
                    self.ring.blind_index(TELEGRAM, telegram_user_id),
                    self.ring.seal_text(telegram_user_id, f"staff:telegram:{staff_id}"),
                    staff_id,
                ),
            )
        if phone:
            await tx.execute(
                "UPDATE staff SET phone_idx = ?, phone_enc = ? WHERE id = ?",
                (
                    self.ring.blind_index(PHONE, phone),
                    self.ring.seal_text(phone, f"staff:phone:{staff_id}"),
                    staff_id,
                ),
            )
        await self.set_organisations(tx, staff_id, organisation_ids)
        row = await (await tx.execute(_SELECT + " WHERE s.id = ?", (staff_id,))).fetchone()
        assert row is not None
        return _member(row)

    async def set_organisations(
        self, tx: Transaction, staff_id: int, organisation_ids: list[int]
    ) -> None:
        """Replace the organisations a member works in."""
        await tx.execute("DELETE FROM staff_organisations WHERE staff_id = ?", (staff_id,))
        await tx.executemany(
            "INSERT INTO staff_organisations (staff_id, organisation_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            [(staff_id, organisation_id) for organisation_id in organisation_ids],
        )

    async def _find(self, conn: Transaction, purpose: str, value: str) -> Row | None:
        column = "telegram_idx" if purpose == TELEGRAM else "phone_idx"
        keys = self.ring.blind_indexes(purpose, value)
        marks = ",".join("?" * len(keys))
        cur = await conn.execute(_SELECT + f" WHERE s.{column} IN ({marks})", keys)
        return await cur.fetchone()

    async def by_telegram(self, user_id: str) -> StaffMember | None:
        row = await self._find(self.db.reader(), TELEGRAM, user_id)
        return _member(row) if row else None

    async def by_phone(self, phone: str) -> StaffMember | None:
        row = await self._find(self.db.reader(), PHONE, phone)
        return _member(row) if row else None

    async def by_name(self, name: str) -> StaffMember | None:
        row = await self.db.fetchone(_SELECT + " WHERE s.name = ?", (name,))
        return _member(row) if row else None

    async def get(self, staff_id: int) -> StaffMember | None:
        row = await self.db.fetchone(_SELECT + " WHERE s.id = ?", (staff_id,))
        return _member(row) if row else None

    async def all(self) -> list[StaffMember]:
        return [_member(r) for r in await self.db.fetchall(_SELECT + " ORDER BY s.name")]

    async def all_in(self, scope: Scope) -> list[StaffMember]:
        """The members who work in at least one organisation of ``scope``, by name."""
        where, params = self._inside(scope)
        rows = await self.db.fetchall(_SELECT + f" WHERE {where} ORDER BY s.name", params)
        return [_member(r) for r in rows]

    async def in_scope(self, name: str, scope: Scope) -> StaffMember | None:
        """The member of this name when she works in an organisation of ``scope``; one of
        another organisation is None (and the attempt audited)."""
        where, params = self._inside(scope)
        row = await self.db.fetchone(_SELECT + f" WHERE s.name = ? AND {where}", (name, *params))
        if row is None and self.outside is not None:
            await self.outside.miss(scope, "staff", "staff", "name", name)
        return _member(row) if row else None

    @staticmethod
    def _inside(scope: Scope) -> tuple[str, tuple[int, ...]]:
        if not scope.limited:
            return "1 = 1", ()
        where, params = scope.condition("so.organisation_id")
        return (
            f"EXISTS (SELECT 1 FROM staff_organisations AS so WHERE so.staff_id = s.id AND {where})",
            params,
        )

    async def duties(self) -> list[Duty]:
        """Every route entry with its programme's name, by programme name."""
        rows = await self.db.fetchall(
            "SELECT r.staff_id, r.role, g.name FROM escalation_routes AS r"
            " JOIN programmes AS g ON g.id = r.programme_id ORDER BY g.name"
        )
        return [Duty(r["staff_id"], r["role"], r["name"]) for r in rows]

    async def set_routes(
        self,
        tx: Transaction,
        programme_id: int,
        on_call: list[int] | None,
        backup: list[int] | None,
    ) -> None:
        """Replace the on-call and/or backup list of a programme (None leaves one as it is)."""
        for role, ids in (("on_call", on_call), ("backup", backup)):
            if ids is None:
                continue
            await tx.execute(
                "DELETE FROM escalation_routes WHERE programme_id = ? AND role = ?",
                (programme_id, role),
            )
            for position, staff_id in enumerate(ids):
                await tx.execute(
                    "INSERT INTO escalation_routes (programme_id, staff_id, role,"
                    " position) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (programme_id, staff_id, role, position),
                )

    async def routes(
        self, programme_id: int | None, conn: Transaction | None = None
    ) -> tuple[list[StaffMember], list[StaffMember]]:
        """(on call, backup) active members of a programme, in their configured order.

        Only members of the programme's organisation: one moved out since the route was set
        is left out, so an alert never leaves the organisation.
        """
        cur = await (conn or self.db.reader()).execute(
            f"SELECT s.*, r.role AS route_role, {_ORGANISATIONS}"
            " FROM escalation_routes AS r JOIN staff AS s ON s.id = r.staff_id"
            f" WHERE r.programme_id = ? AND s.active = 1 AND {_IN_PROGRAMME_ORGANISATION}"
            " ORDER BY r.role, r.position",
            (programme_id, programme_id),
        )
        rows = list(await cur.fetchall())
        on_call = [_member(r) for r in rows if r["route_role"] == "on_call"]
        backup = [_member(r) for r in rows if r["route_role"] == "backup"]
        return on_call, backup

    async def fallback(
        self, programme_id: int | None, conn: Transaction | None = None
    ) -> list[StaffMember]:
        """Every active WSS worker of the programme's organisation: who is told when the
        programme has no on-call route (nobody, for an escalation without a programme)."""
        cur = await (conn or self.db.reader()).execute(
            _SELECT + f" WHERE s.role = 'wss' AND s.active = 1 AND {_IN_PROGRAMME_ORGANISATION}"
            " ORDER BY s.id",
            (programme_id,),
        )
        return [_member(r) for r in await cur.fetchall()]
