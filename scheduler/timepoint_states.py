"""What the end of a session makes of its timepoint: the outcome -> timepoint state map.

Invariant: an outcome absent from the map leaves the timepoint's state alone; whoever
ends a session that way (withdrawal, the shell's ``unreachable``, ``inactive``) sets it.
"""

from __future__ import annotations

from collections.abc import Mapping

from conversations.vocabulary import Outcome, TimepointState

__all__ = ["FINAL_STATES", "OUTCOME_STATES", "REPLANNABLE"]

#: A contact that got this far is over: its row gets an end time and is never reopened.
FINAL_STATES: frozenset[TimepointState] = frozenset(
    {
        TimepointState.COMPLETED,
        TimepointState.DECLINED,
        TimepointState.MISSED,
        TimepointState.CANCELLED,
        TimepointState.OPTED_OUT,
        TimepointState.WITHDRAWN,
    }
)

#: Nothing has begun yet: a new plan (new programme dates) may move these, never the others.
REPLANNABLE: frozenset[TimepointState] = frozenset(
    {TimepointState.SCHEDULED, TimepointState.CANCELLED, TimepointState.HELD}
)

OUTCOME_STATES: Mapping[Outcome, TimepointState] = {
    Outcome.COMPLETED: TimepointState.COMPLETED,
    Outcome.DURESS: TimepointState.COMPLETED,
    Outcome.STOPPED: TimepointState.COMPLETED,
    Outcome.EXPIRED: TimepointState.MISSED,
    Outcome.SAFE_WORD: TimepointState.PAUSED,
    Outcome.LOCKED: TimepointState.PAUSED,
    Outcome.WITHDRAW_REQUESTED: TimepointState.PAUSED,
    Outcome.OPTED_OUT: TimepointState.OPTED_OUT,
    Outcome.LATER: TimepointState.IN_PROGRESS,
    Outcome.IDLE: TimepointState.IN_PROGRESS,
    Outcome.SNOOZED: TimepointState.SNOOZED,
    Outcome.DECLINED: TimepointState.DECLINED,
}
