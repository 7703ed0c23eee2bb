"""Staff dashboard logins: password hashes, TOTP state, failure counters, lock-outs.

The store only reads and writes rows; deciding what a failure or a code means is
``bot.web.auth``'s. The TOTP secret arrives and leaves sealed (never in clear here),
and the replay step only ever moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.clock import iso, parse_iso
from bot.store.db import Database, Row, Transaction

#: The two failure counters: the password's and the second factor's, counted apart.
FailureCounter = Literal["failures", "totp_failures"]

_UPSERT_PASSWORD = (
    "INSERT INTO staff_logins (staff_id, password_hash) VALUES (?, ?)"
    " ON CONFLICT(staff_id) DO UPDATE SET password_hash = excluded.password_hash,"
    " totp_enc = NULL, totp_confirmed = 0, failures = 0, totp_failures = 0,"
    " totp_last_step = NULL, locked_until = NULL"
)
_UNLOCK = "UPDATE staff_logins SET failures = 0, totp_failures = 0, locked_until = NULL"
_RESET_TOTP = "UPDATE staff_logins SET totp_enc = NULL, totp_confirmed = 0, totp_last_step = NULL"
_FAILURE = {
    counter: f"UPDATE staff_logins SET {counter} = ?, locked_until = COALESCE(?, locked_until)"
    " WHERE staff_id = ?"
    for counter in ("failures", "totp_failures")
}


@dataclass(frozen=True)
class Login:
    """One staff member's credentials and counters, as stored."""

    staff_id: int
    password_hash: str
    totp_sealed: bytes | None
    totp_confirmed: bool
    failures: int
    totp_failures: int
    totp_last_step: int | None
    locked_until: datetime | None


@dataclass(frozen=True)
class LoginSummary:
    """What the staff page shows of a login: second factor set up, locked until when."""

    totp_confirmed: bool
    locked_until: str | None


def _login(row: Row) -> Login:
    locked = row["locked_until"]
    return Login(
        staff_id=row["staff_id"],
        password_hash=row["password_hash"],
        totp_sealed=row["totp_enc"],
        totp_confirmed=bool(row["totp_confirmed"]),
        failures=row["failures"],
        totp_failures=row["totp_failures"],
        totp_last_step=row["totp_last_step"],
        locked_until=parse_iso(locked) if locked else None,
    )


class Logins:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, staff_id: int) -> Login | None:
        row = await self.db.fetchone("SELECT * FROM staff_logins WHERE staff_id = ?", (staff_id,))
        return _login(row) if row else None

    async def summaries(self) -> dict[int, LoginSummary]:
        """Every login by staff id, for the admin's staff page."""
        rows = await self.db.fetchall(
            "SELECT staff_id, totp_confirmed, locked_until FROM staff_logins"
        )
        return {
            r["staff_id"]: LoginSummary(bool(r["totp_confirmed"]), r["locked_until"]) for r in rows
        }

    async def set_password(self, tx: Transaction, staff_id: int, password_hash: str) -> None:
        """Set or replace the hash; a reset clears failures, lock and the TOTP enrolment."""
        await tx.execute(_UPSERT_PASSWORD, (staff_id, password_hash))

    async def unlock(self, tx: Transaction, staff_id: int) -> bool:
        """Clear both failure counters and the lock; False when she has no login."""
        cur = await tx.execute(f"{_UNLOCK} WHERE staff_id = ?", (staff_id,))
        return cur.rowcount > 0

    async def reset_totp(self, tx: Transaction, staff_id: int) -> bool:
        """Forget the second factor (set up again at next login); False when no login."""
        cur = await tx.execute(f"{_RESET_TOTP} WHERE staff_id = ?", (staff_id,))
        return cur.rowcount > 0

    async def clear_password_failures(self, tx: Transaction, staff_id: int) -> None:
        await tx.execute("UPDATE staff_logins SET failures = 0 WHERE staff_id = ?", (staff_id,))

    async def set_failures(
        self,
        tx: Transaction,
        staff_id: int,
        counter: FailureCounter,
        count: int,
        locked_until: datetime | None,
    ) -> None:
        """Store a failure count; a given ``locked_until`` locks, None keeps the lock as is."""
        await tx.execute(
            _FAILURE[counter], (count, iso(locked_until) if locked_until else None, staff_id)
        )

    async def totp_sealed(self, staff_id: int) -> bytes | None:
        row = await self.db.fetchone(
            "SELECT totp_enc FROM staff_logins WHERE staff_id = ?", (staff_id,)
        )
        return row["totp_enc"] if row is not None else None

    async def keep_first_totp(self, tx: Transaction, staff_id: int, sealed: bytes) -> bytes | None:
        """Store ``sealed`` unless a secret is there already; returns the one stored.

        Two pages at once must agree on one secret: the first writer wins.
        """
        await tx.execute(
            "UPDATE staff_logins SET totp_enc = ? WHERE staff_id = ? AND totp_enc IS NULL",
            (sealed, staff_id),
        )
        cur = await tx.execute("SELECT totp_enc FROM staff_logins WHERE staff_id = ?", (staff_id,))
        stored = await cur.fetchone()
        return None if stored is None else stored[0]

    async def accept_totp_step(self, tx: Transaction, staff_id: int, step: int) -> bool:
        """Confirm the factor, clear the counters and move the replay step forward to
        ``step``; False when that step (or a later one) was accepted already."""
        cur = await tx.execute(
            "UPDATE staff_logins SET totp_confirmed = 1, failures = 0, totp_failures = 0,"
            " totp_last_step = ? WHERE staff_id = ?"
            " AND (totp_last_step IS NULL OR totp_last_step < ?)",
            (step, staff_id, step),
        )
        return cur.rowcount > 0
