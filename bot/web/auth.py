"""Staff logins for the dashboard: argon2 passwords, TOTP, throttling, server-side sessions.

Only a SHA-256 hash of a session id is stored, so a copy of the database cannot be
used to log in; the TOTP secret is sealed like any other secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.clock import Clock, iso, parse_iso
from bot.crypto import KeyRing
from bot.store.db import Database
from bot.store.housekeeping import audit
from bot.store.staff import StaffMember, StaffStore

#: Roles that need a second factor (the issue: "required for wss and admin by default").
TOTP_ROLES = frozenset({"wss", "admin"})
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
IDLE = timedelta(minutes=15)
ABSOLUTE = timedelta(hours=8)
MIN_PASSWORD = 12

_hasher = PasswordHasher()
#: Verified against when the name is unknown, so timing does not tell names apart.
_DUMMY = _hasher.hash("not-a-real-password-at-all")


def N_(message: str) -> str:
    """Marks a msgid: the dashboard shows these in the staff member's language."""
    return message


class LoginError(Exception):
    """Login refused; the message is safe to show (never says which part was wrong)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def _id_hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


@dataclass(frozen=True)
class WebSession:
    staff: StaffMember
    csrf: str
    stage: str  # 'totp' | 'totp_setup' | 'full'


class Accounts:
    def __init__(self, db: Database, ring: KeyRing, staff: StaffStore, clock: Clock) -> None:
        self.db = db
        self.ring = ring
        self.staff = staff
        self.clock = clock

    async def set_password(self, name: str, password: str, actor: str) -> None:
        """Set (or reset) a password; a reset also clears the lock and the TOTP enrolment."""
        member = await self.staff.by_name(name)
        if member is None:
            raise LookupError(f"no staff member named '{name}'")
        hashed = hash_password(password)
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO staff_logins (staff_id, password_hash) VALUES (?, ?)"
                " ON CONFLICT(staff_id) DO UPDATE SET password_hash = excluded.password_hash,"
                " totp_enc = NULL, totp_confirmed = 0, failures = 0, totp_failures = 0,"
                " totp_last_step = NULL, locked_until = NULL",
                (member.id, hashed),
            )
            await tx.execute("DELETE FROM web_sessions WHERE staff_id = ?", (member.id,))
            await audit(tx, self.clock.now(), actor, "staff_password_set", name)

    async def admin_change(self, name: str, action: str, actor: str) -> bool:
        """``unlock`` (clear failures and lock) or ``reset_totp`` (set up again at next login).

        Both end her open sessions; False when she has no login.
        """
        member = await self.staff.by_name(name)
        if member is None:
            return False
        change = {
            "unlock": "failures = 0, totp_failures = 0, locked_until = NULL",
            "reset_totp": "totp_enc = NULL, totp_confirmed = 0, totp_last_step = NULL",
        }[action]
        async with self.db.transaction() as tx:
            cur = await tx.execute(
                f"UPDATE staff_logins SET {change} WHERE staff_id = ?", (member.id,)
            )
            if cur.rowcount == 0:
                return False
            await tx.execute("DELETE FROM web_sessions WHERE staff_id = ?", (member.id,))
            await audit(tx, self.clock.now(), actor, f"staff_{action}", name)
        return True

    async def login(self, name: str, password: str, client: str = "") -> str:
        """Check the password (throttled); returns a NEW session id at the next stage.

        An unknown name and a wrong password get the same answer and are both audited.
        A right password clears only the password failures: second-factor failures are
        counted apart, so re-entering the password never buys more code guesses.
        """
        now = self.clock.now()
        member = await self.staff.by_name(name.strip())
        row = (
            await self.db.fetchone("SELECT * FROM staff_logins WHERE staff_id = ?", (member.id,))
            if member and member.active
            else None
        )
        if member is None or row is None:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY, password)
            async with self.db.transaction() as tx:
                await audit(tx, now, "web", "login_unknown_name", _shown(name), client or None)
            raise LoginError(N_("wrong name or password"))
        await self._refuse_if_locked(member, row["locked_until"], now)
        try:
            _hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            await self._failed(member, "failures", row["failures"], now, "login_failed")
            raise LoginError(N_("wrong name or password")) from None
        stage = "full"
        if member.role in TOTP_ROLES:
            stage = "totp" if row["totp_confirmed"] else "totp_setup"
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE staff_logins SET failures = 0 WHERE staff_id = ?", (member.id,)
            )
            await audit(tx, now, f"{member.name} (web)", "login_password_ok", member.name, stage)
        return await self._new_session(member, stage)

    async def _refuse_if_locked(
        self, member: StaffMember, locked_until: str | None, now: datetime
    ) -> None:
        if locked_until and parse_iso(locked_until) > now:
            async with self.db.transaction() as tx:
                await audit(tx, now, f"{member.name} (web)", "login_refused_locked", member.name)
            raise LoginError(N_("too many failed attempts; try again in 15 minutes"))

    async def _failed(
        self, member: StaffMember, counter: str, failures: int, now: datetime, action: str
    ) -> None:
        """One more failure on ``counter`` (password or code); the fifth locks 15 minutes."""
        assert counter in ("failures", "totp_failures")
        failures += 1
        locked = iso(now + LOCK) if failures >= MAX_FAILURES else None
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE staff_logins SET {counter} = ?, locked_until = COALESCE(?, locked_until)"
                " WHERE staff_id = ?",
                (0 if locked else failures, locked, member.id),
            )
            await audit(tx, now, f"{member.name} (web)", action, member.name)
            if locked:
                what = "15 min" if counter == "failures" else "15 min (second factor)"
                await audit(tx, now, f"{member.name} (web)", "login_locked", member.name, what)

    async def _new_session(self, member: StaffMember, stage: str) -> str:
        session_id = secrets.token_urlsafe(32)
        now = iso(self.clock.now())
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO web_sessions (id_hash, staff_id, created_at, last_seen, csrf, stage)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_id_hash(session_id), member.id, now, now, secrets.token_urlsafe(32), stage),
            )
        return session_id

    async def session(self, session_id: str | None, *, touch: bool = True) -> WebSession | None:
        """The live session for a cookie value, or None when unknown or expired.

        ``touch=False`` for background polling: it must not keep an unattended screen alive.
        """
        if not session_id:
            return None
        now = self.clock.now()
        key = _id_hash(session_id)
        row = await self.db.fetchone("SELECT * FROM web_sessions WHERE id_hash = ?", (key,))
        if row is None:
            return None
        member = await self.staff.get(row["staff_id"])
        expired = (
            now - parse_iso(row["last_seen"]) > IDLE
            or now - parse_iso(row["created_at"]) > ABSOLUTE
        )
        async with self.db.transaction() as tx:
            if expired or member is None or not member.active:
                await tx.execute("DELETE FROM web_sessions WHERE id_hash = ?", (key,))
                return None
            if touch:
                await tx.execute(
                    "UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?", (iso(now), key)
                )
        return WebSession(member, row["csrf"], row["stage"])

    async def logout(self, session_id: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_id_hash(session_id),))

    # --- second factor ---------------------------------------------------------------------

    async def totp_secret(self, member: StaffMember) -> str:
        """Her TOTP secret, created (unconfirmed) on first use for the enrolment page."""
        row = await self.db.fetchone(
            "SELECT totp_enc FROM staff_logins WHERE staff_id = ?", (member.id,)
        )
        aad = f"staff_logins:totp:{member.id}"
        if row is not None and row["totp_enc"]:
            return self.ring.open_text(row["totp_enc"], aad)
        async with self.db.transaction() as tx:  # two pages at once must agree on one secret
            await tx.execute(
                "UPDATE staff_logins SET totp_enc = ? WHERE staff_id = ? AND totp_enc IS NULL",
                (self.ring.seal_text(pyotp.random_base32(), aad), member.id),
            )
            cur = await tx.execute(
                "SELECT totp_enc FROM staff_logins WHERE staff_id = ?", (member.id,)
            )
            stored = await cur.fetchone()
        if stored is None or stored[0] is None:
            raise LoginError(N_("no second factor set up"))
        return self.ring.open_text(stored[0], aad)

    async def verify_totp(self, session_id: str, web: WebSession, code: str) -> str:
        """Check the code (a second-factor failure when wrong or replayed); a NEW full
        session id. A code's time step is accepted once: never at or before the last one."""
        now = self.clock.now()
        member = web.staff
        row = await self.db.fetchone("SELECT * FROM staff_logins WHERE staff_id = ?", (member.id,))
        if row is None or not row["totp_enc"]:
            raise LoginError(N_("no second factor set up"))
        await self._refuse_if_locked(member, row["locked_until"], now)
        secret = self.ring.open_text(row["totp_enc"], f"staff_logins:totp:{member.id}")
        given = code.strip().replace(" ", "")
        step = matching_step(secret, given, now)
        last = row["totp_last_step"]
        if step is None or (last is not None and step <= last):
            await self._failed(member, "totp_failures", row["totp_failures"], now, "totp_failed")
            if step is not None:
                raise LoginError(N_("that code was used already; wait for the next one"))
            raise LoginError(N_("wrong code"))
        await self.logout(session_id)
        async with self.db.transaction() as tx:
            cur = await tx.execute(
                "UPDATE staff_logins SET totp_confirmed = 1, failures = 0, totp_failures = 0,"
                " totp_last_step = ? WHERE staff_id = ?"
                " AND (totp_last_step IS NULL OR totp_last_step < ?)",
                (step, member.id, step),
            )
            if cur.rowcount == 0:  # the same code won a race in another request
                raise LoginError(N_("that code was used already; wait for the next one"))
            await audit(tx, now, f"{member.name} (web)", "login_ok", member.name, "totp")
        return await self._new_session(member, "full")


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is ``code``."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _shown(name: str) -> str:
    """What an unknown name is audited as: short and printable (it may be anything)."""
    printable = "".join(c if c.isprintable() else "?" for c in name.strip())
    return printable[:40] or "(empty)"
