"""Claim order: live replies before deletions that can wait, those before everything else."""

from __future__ import annotations

from bot.crypto import KeyRing
from bot.outbox.claim_order import (
    RANK_BACKGROUND,
    RANK_DELETION,
    RANK_LIVE,
    RANK_URGENT,
    claim_rank,
    in_claim_order,
)
from bot.store.outbox import (
    PRIORITY_HOUSEKEEPING,
    PRIORITY_LIVE,
    PRIORITY_URGENT,
    PRIORITY_WAVE,
    OutboxRow,
)

RING = KeyRing.generate()


def row(row_id: int, priority: int, kind: str = "message") -> OutboxRow:
    return OutboxRow(
        id=row_id, lane=f"p:{row_id}", channel="telegram", kind=kind, priority=priority,
        attempts=0, participant_id=None, staff_id=None, session_id=None, sealed=b"", ring=RING,
    )  # fmt: skip


def test_each_kind_of_row_has_its_rank() -> None:
    assert claim_rank(row(1, PRIORITY_URGENT)) == RANK_URGENT  # an alert, her help line
    assert claim_rank(row(2, PRIORITY_URGENT, "delete")) == RANK_URGENT  # after the safe word
    assert claim_rank(row(3, PRIORITY_LIVE)) == RANK_LIVE  # a reply to her answer
    assert claim_rank(row(4, PRIORITY_LIVE, "delete")) == RANK_DELETION  # session end, 47 h
    assert claim_rank(row(5, PRIORITY_WAVE)) == RANK_BACKGROUND  # openers, reminders, digests
    assert claim_rank(row(6, PRIORITY_HOUSEKEEPING, "provider_delete")) == RANK_BACKGROUND
    assert RANK_URGENT < RANK_LIVE < RANK_DELETION < RANK_BACKGROUND


def test_a_live_reply_goes_before_deletions_that_fell_due_earlier_and_order_is_stable() -> None:
    # As the store returns them: by priority, then by when they fell due.
    due = [
        row(1, PRIORITY_URGENT, "delete"),
        row(2, PRIORITY_LIVE, "delete"),
        row(3, PRIORITY_LIVE),
        row(4, PRIORITY_LIVE, "delete"),
        row(5, PRIORITY_LIVE),
        row(6, PRIORITY_WAVE),
        row(7, PRIORITY_WAVE),
    ]
    assert [r.id for r in in_claim_order(due)] == [1, 3, 5, 2, 4, 6, 7]
