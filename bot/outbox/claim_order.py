"""Which due row spends the next token: live replies before everything that can wait.

The store reads due rows by priority (its index order); this ranks them once more, so that
within the live priority a deletion that can wait (session end, the 47-hour sweep) never
goes before a reply to her answer. Invariant: the order is stable, so rows of one rank keep
the store's order (by when they fell due) and lanes stay in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.outbox import PRIORITY_LIVE, PRIORITY_URGENT, OutboxRow

#: Escalation alerts, the help line, deletions after the safe word or a stop.
RANK_URGENT = 0
#: Her next question, a reply to her answer: what she is waiting for.
RANK_LIVE = 1
#: A deletion with minutes to spare: after every live reply, before waves.
RANK_DELETION = 2
#: Wave openers, reminders, digests, provider records: the budget that is left.
RANK_BACKGROUND = 3


def claim_rank(row: OutboxRow) -> int:
    """Lower goes first."""
    if row.priority <= PRIORITY_URGENT:
        return RANK_URGENT
    if row.priority <= PRIORITY_LIVE:
        return RANK_LIVE if row.kind == "message" else RANK_DELETION
    return RANK_BACKGROUND


def in_claim_order(rows: Iterable[OutboxRow]) -> list[OutboxRow]:
    return sorted(rows, key=claim_rank)
