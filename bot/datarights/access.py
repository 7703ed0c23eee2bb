"""Audit of access: every staff command that shows or exports participant data says so.

Entries go to ``audit_log`` (listed by ``followup audit``): who, what, about whom
(a pseudonym or a programme, never contact data), when.
"""

from __future__ import annotations

import getpass

from bot.clock import Clock
from bot.store.db import Database
from bot.store.housekeeping import audit


def default_actor() -> str:
    """Staff identity until staff accounts exist: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def log_access(
    db: Database, clock: Clock, actor: str, action: str, subject: str | None,
    detail: str | None = None,
) -> None:  # fmt: skip
    async with db.transaction() as tx:
        await audit(tx, clock.now(), actor, action, subject, detail)
