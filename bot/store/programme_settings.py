"""A programme's settings (JSON), written whole: the caller merges what it changes.

Only written inside the caller's transaction, so the audit entry saying who changed them
commits with the change or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from bot.store.db import Transaction


async def save_settings(tx: Transaction, programme_id: int, settings: dict[str, Any]) -> None:
    await tx.execute(
        "UPDATE programmes SET settings = ? WHERE id = ?", (json.dumps(settings), programme_id)
    )
