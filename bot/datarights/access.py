"""Audit of access: every staff command that shows or exports participant data says so.

Entries go to ``audit_log`` (listed by ``followup audit``): who, what, about whom
(a pseudonym or a programme, never contact data), when.
"""

from __future__ import annotations

import getpass

from bot.app import App
from bot.store.housekeeping import audit


def default_actor() -> str:
    """Staff identity until staff accounts exist: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def log_access(
    app: App, actor: str, action: str, subject: str | None, detail: str | None = None
) -> None:
    async with app.db.transaction() as tx:
        await audit(tx, app.service.clock.now(), actor, action, subject, detail)
