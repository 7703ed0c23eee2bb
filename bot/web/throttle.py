"""Per-client-address throttle on login and code attempts: a sliding window in memory.

The per-account lock stops guessing one account's password or code; this stops one
client spraying many accounts. It is kept in memory on purpose: a staff member's address
is not worth a row, and a restart only gives an attacker one more window.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

#: Attempts (passwords and codes together) one client address may make per window.
ATTEMPTS_PER_WINDOW = 20
WINDOW = timedelta(minutes=15)
#: Addresses remembered at most; the oldest are forgotten first.
MAX_CLIENTS = 10_000


class ClientThrottle:
    """Counts attempts per client address within ``window``; refuses past ``limit``."""

    def __init__(self, limit: int = ATTEMPTS_PER_WINDOW, window: timedelta = WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._attempts: dict[str, deque[datetime]] = {}

    def allow(self, client: str, now: datetime) -> bool:
        """Record one attempt by ``client``; False when it is over the limit (not counted)."""
        attempts = self._attempts.pop(client, None) or deque()
        while attempts and now - attempts[0] >= self.window:
            attempts.popleft()
        allowed = len(attempts) < self.limit
        if allowed:
            attempts.append(now)
        if attempts:
            self._attempts[client] = attempts  # re-inserted: the dict stays oldest-first
        while len(self._attempts) > MAX_CLIENTS:
            del self._attempts[next(iter(self._attempts))]
        return allowed
