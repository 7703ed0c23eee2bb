"""A programme's own settings (schedule rules, escalation timings, data-rights choices): one
JSON object, and this is its one writer.

Written whole, inside the caller's transaction, so a change lands with its audit row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.store.db import Transaction


async def save_settings(tx: Transaction, programme_id: int, settings: Mapping[str, Any]) -> None:
    """Replace the programme's settings with ``settings``."""
    await tx.execute(
        "UPDATE programmes SET settings = ? WHERE id = ?",
        (json.dumps(settings, sort_keys=True), programme_id),
    )
