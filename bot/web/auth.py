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

from bot.clock import Clock
from bot.crypto import KeyRing
from bot.store.db import Database
from bot.store.housekeeping import audit
from bot.store.logins import FailureCounter, Logins
from bot.store.scope import Scope
from bot.store.staff import StaffMember, StaffStore
from bot.store.web_sessions import WebSessions

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

    @property
    def scope(self) -> Scope:
        """What every query of this request may reach: the member's organisations."""
        return Scope.of(self.staff, "web")


class Accounts:
    """Passwords, second factor and sessions of the staff dashboard (and its CLI)."""

    def __init__(self, db: Database, ring: KeyRing, staff: StaffStore, clock: Clock) -> None:
        self.db = db
        self.ring = ring
        self.staff = staff
        self.clock = clock
        self.logins = Logins(db)
        self.sessions = WebSessions(db)

    async def set_password(self, name: str, password: str, actor: str) -> None:
        """Set (or reset) a password; a reset also clears the lock and the TOTP enrolment."""
        member = await self.staff.by_name(name)
        if member is None:
            raise LookupError(f"no staff member named '{name}'")
        hashed = hash_password(password)
        async with self.db.transaction() as tx:
            await self.logins.set_password(tx, member.id, hashed)
            await self.sessions.end_all_of(tx, member.id)
            await audit(tx, self.clock.now(), actor, "staff_password_set", name)

    async def admin_change(self, name: str, action: str, actor: str) -> bool:
        """``unlock`` (clear failures and lock) or ``reset_totp`` (set up again at next login).

        Both end her open sessions; False when she has no login.
        """
        member = await self.staff.by_name(name)
        if member is None:
            return False
        change = {"unlock": self.logins.unlock, "reset_totp": self.logins.reset_totp}[action]
        async with self.db.transaction() as tx:
            if not await change(tx, member.id):
                return False
            await self.sessions.end_all_of(tx, member.id)
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
        stored = await self.logins.get(member.id) if member and member.active else None
        if member is None or stored is None:
            with contextlib.suppress(VerificationError):
                _hasher.verify(_DUMMY, password)
            async with self.db.transaction() as tx:
                await audit(tx, now, "web", "login_unknown_name", _shown(name), client or None)
            raise LoginError(N_("wrong name or password"))
        await self._refuse_if_locked(member, stored.locked_until, now)
        try:
            _hasher.verify(stored.password_hash, password)
        except (VerificationError, InvalidHashError):
            await self._failed(member, "failures", stored.failures, now, "login_failed")
            raise LoginError(N_("wrong name or password")) from None
        stage = "full"
        if member.role in TOTP_ROLES:
            stage = "totp" if stored.totp_confirmed else "totp_setup"
        async with self.db.transaction() as tx:
            await self.logins.clear_password_failures(tx, member.id)
            await audit(tx, now, f"{member.name} (web)", "login_password_ok", member.name, stage)
        return await self._new_session(member, stage)

    async def _refuse_if_locked(
        self, member: StaffMember, locked_until: datetime | None, now: datetime
    ) -> None:
        if locked_until and locked_until > now:
            async with self.db.transaction() as tx:
                await audit(tx, now, f"{member.name} (web)", "login_refused_locked", member.name)
            raise LoginError(N_("too many failed attempts; try again in 15 minutes"))

    async def _failed(
        self,
        member: StaffMember,
        counter: FailureCounter,
        failures: int,
        now: datetime,
        action: str,
    ) -> None:
        """One more failure on ``counter`` (password or code); the fifth locks 15 minutes."""
        failures += 1
        locked = now + LOCK if failures >= MAX_FAILURES else None
        async with self.db.transaction() as tx:
            await self.logins.set_failures(
                tx, member.id, counter, 0 if locked else failures, locked
            )
            await audit(tx, now, f"{member.name} (web)", action, member.name)
            if locked:
                what = "15 min" if counter == "failures" else "15 min (second factor)"
                await audit(tx, now, f"{member.name} (web)", "login_locked", member.name, what)

    async def _new_session(self, member: StaffMember, stage: str) -> str:
        session_id = secrets.token_urlsafe(32)
        await self.sessions.create(
            _id_hash(session_id), member.id, self.clock.now(), secrets.token_urlsafe(32), stage
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
        stored = await self.sessions.get(key)
        if stored is None:
            return None
        member = await self.staff.get(stored.staff_id)
        expired = now - stored.last_seen > IDLE or now - stored.created_at > ABSOLUTE
        async with self.db.transaction() as tx:
            if expired or member is None or not member.active:
                await self.sessions.end(tx, key)
                return None
            if touch:
                await self.sessions.touch(tx, key, now)
        return WebSession(member, stored.csrf, stored.stage)

    async def logout(self, session_id: str) -> None:
        async with self.db.transaction() as tx:
            await self.sessions.end(tx, _id_hash(session_id))

    # --- second factor ---------------------------------------------------------------------

    async def totp_secret(self, member: StaffMember) -> str:
        """Her TOTP secret, created (unconfirmed) on first use for the enrolment page."""
        sealed = await self.logins.totp_sealed(member.id)
        aad = f"staff_logins:totp:{member.id}"
        if sealed:
            return self.ring.open_text(sealed, aad)
        async with self.db.transaction() as tx:  # two pages at once must agree on one secret
            stored = await self.logins.keep_first_totp(
                tx, member.id, self.ring.seal_text(pyotp.random_base32(), aad)
            )
        if stored is None:
            raise LoginError(N_("no second factor set up"))
        return self.ring.open_text(stored, aad)

    async def verify_totp(self, session_id: str, web: WebSession, code: str) -> str:
        """Check the code (a second-factor failure when wrong or replayed); a NEW full
        session id. A code's time step is accepted once: never at or before the last one."""
        now = self.clock.now()
        member = web.staff
        stored = await self.logins.get(member.id)
        if stored is None or not stored.totp_sealed:
            raise LoginError(N_("no second factor set up"))
        await self._refuse_if_locked(member, stored.locked_until, now)
        secret = self.ring.open_text(stored.totp_sealed, f"staff_logins:totp:{member.id}")
        given = code.strip().replace(" ", "")
        step = matching_step(secret, given, now)
        last = stored.totp_last_step
        if step is None or (last is not None and step <= last):
            await self._failed(member, "totp_failures", stored.totp_failures, now, "totp_failed")
            if step is not None:
                raise LoginError(N_("that code was used already; wait for the next one"))
            raise LoginError(N_("wrong code"))
        await self.logout(session_id)
        async with self.db.transaction() as tx:
            if not await self.logins.accept_totp_step(tx, member.id, step):
                # the same code won a race in another request
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
