"""A request to contact her: the sweep decides it, the session opens it.

Kept in ``schedule/`` (below ``session/``) so the sweep and the service share one type and
neither package imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ContactRequest:
    """One opener or reminder the scheduler wants sent."""

    participant_id: str
    timepoint: str
    reminder: int = 0
    wave: bool = False
    dedupe_key: str | None = None
    """Outbox key of this opener/reminder; a second try with the same key writes nothing."""
    not_after: datetime | None = None
    """End of her sendable stretch: the dispatcher drops the message if it is later."""
