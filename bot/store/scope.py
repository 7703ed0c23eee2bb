"""The reach of one staff request: which organisations' rows the store may return.

Every staff-facing query takes a ``Scope`` and filters in SQL, so no page or command
filters on its own. ``Scope.installation()`` is the CLI's operator reach (every
organisation, as before organisations existed); a staff member's scope holds her
organisations only, and ``operator`` and ``network`` staff reach no individual row.
An object outside the scope is "not found" to the caller, and the attempt is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.store.db import Database
from bot.store.housekeeping import audit

#: The CLI's role when run without ``--as``.
OPERATOR = "operator"
#: Roles that work inside their organisations (and need at least one).
ORGANISATION_ROLES = frozenset({"wss", "programme", "admin"})


class Member(Protocol):
    """What a scope is made of: a staff member's name, role and organisations."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def organisation_ids(self) -> frozenset[int]: ...


@dataclass(frozen=True)
class Scope:
    #: None: every organisation (the installation's reach); else only these.
    organisation_ids: frozenset[int] | None
    role: str
    #: Who asks and through which door, as the audit log names them: "ana (web)".
    actor: str

    @classmethod
    def installation(cls, actor: str = "cli") -> Scope:
        """The CLI without ``--as``: the operator's reach over every organisation."""
        return cls(None, OPERATOR, actor)

    @classmethod
    def of(cls, member: Member, via: str) -> Scope:
        """A staff member's reach: her organisations, and none for operator or network."""
        reach = member.organisation_ids if member.role in ORGANISATION_ROLES else frozenset()
        return cls(frozenset(reach), member.role, f"{member.name} ({via})")

    @property
    def limited(self) -> bool:
        return self.organisation_ids is not None

    def covers(self, organisation_id: int | None) -> bool:
        if self.organisation_ids is None:
            return True
        return organisation_id is not None and organisation_id in self.organisation_ids

    def condition(self, column: str) -> tuple[str, tuple[int, ...]]:
        """SQL limiting ``column`` (an organisation id) to the scope, and its parameters."""
        if self.organisation_ids is None:
            return "1 = 1", ()
        ids = tuple(sorted(self.organisation_ids))
        if not ids:
            return "0 = 1", ()
        return f"{column} IN ({','.join('?' * len(ids))})", ids


class OutsideScope:
    """Audits an attempt on another organisation's object; the caller then answers 404.

    It writes in its own transaction: a scoped look-up runs before the caller's write.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def miss(self, scope: Scope, what: str, table: str, column: str, value: str) -> None:
        """A scoped look-up found nothing: audited when ``table`` has the row after all."""
        if scope.limited and await self.db.fetchone(
            f"SELECT 1 FROM {table} WHERE {column} = ?", (value,)
        ):
            await self.record(scope, what, value)

    async def record(self, scope: Scope, what: str, subject: str) -> None:
        async with self.db.transaction() as tx:
            await audit(tx, self.clock.now(), scope.actor, "outside_scope", subject[:40], what)
