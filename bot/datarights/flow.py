"""Participant flow, CONSORT-style: enrolled, then per timepoint invited, reached and how it ended.

Invariant: pure; every invited timepoint falls in exactly one outcome row (they add up to
the invited count), and every timepoint state has a row: a new state must be placed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.store.research import ResearchRecord
from conversations.survey import TIMEPOINTS

BASELINE = TIMEPOINTS[0]

#: Rows of the invited, in order: (key, label, timepoint states). The safe word leaves a
#: timepoint ``paused``; the store tells those apart (``safe_word``) from other pauses.
OUTCOME_ROWS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("completed", "Completed", frozenset({"completed"})),
    (
        "declined_or_snoozed",
        "Declined at the gate or snoozed (no answer since)",
        frozenset({"snoozed", "declined"}),
    ),
    (
        "open",
        "Still open (no reply yet, or answering)",
        frozenset({"sent", "in_progress", "scheduled", "held"}),
    ),
    ("missed", "Missed (no reply before it expired)", frozenset({"missed"})),
    ("withdrawn", "Withdrawn", frozenset({"withdrawn"})),
    ("opted_out", "Opted out (STOP)", frozenset({"opted_out"})),
    ("safe_word", "Ended by the safe word", frozenset()),
    (
        "paused",
        "Paused otherwise (code word locked, withdrawal not yet confirmed)",
        frozenset({"paused"}),
    ),
    ("unreachable", "Unreachable", frozenset({"unreachable"})),
    ("cancelled", "Cancelled after it went out", frozenset({"cancelled"})),
)
OUTCOME_LABELS = {key: label for key, label, _ in OUTCOME_ROWS}
#: Not invited (yet): the contact may still go out.
NOT_YET_STATES = frozenset({"scheduled", "held"})
#: States in which she has answered the opener (a reply from her, whatever it said).
REPLIED_STATES = frozenset({"in_progress", "snoozed", "declined", "completed", "paused"})


def outcome_of(state: str) -> str:
    """The outcome row of an invited timepoint in ``state`` (``paused`` before the safe-word split)."""
    for key, _, states in OUTCOME_ROWS:
        if state in states:
            return key
    raise ValueError(f"timepoint state {state!r} has no row in the participant flow")


@dataclass(frozen=True)
class TimepointFlow:
    timepoint: str
    planned: int
    not_yet_invited: int
    never_invited: int
    invited: int
    reached: int
    #: Outcome row key -> timepoints; adds up to ``invited``.
    outcomes: dict[str, int]
    #: Women who completed this timepoint and the baseline.
    completed_with_baseline: int


@dataclass(frozen=True)
class Flow:
    enrolled: int
    timepoints: list[TimepointFlow]

    @property
    def baseline_completed(self) -> int:
        return self.timepoints[0].outcomes["completed"]


def participant_flow(
    records: Sequence[ResearchRecord], safe_word_endings: Mapping[str, int]
) -> Flow:
    """The flow of one programme; ``safe_word_endings`` counts, per timepoint, the paused
    timepoints whose session ended on the safe word."""
    completed_baseline = {
        r.research_id for r in records if r.timepoint == BASELINE and r.state == "completed"
    }
    flows = []
    for tp in TIMEPOINTS:
        mine = [r for r in records if r.timepoint == tp]
        invited = [r for r in mine if r.invited]
        outcomes = {key: 0 for key, _, _ in OUTCOME_ROWS}
        for r in invited:
            outcomes[outcome_of(r.state)] += 1
        ended_by_safe_word = min(safe_word_endings.get(tp, 0), outcomes["paused"])
        outcomes["safe_word"] = ended_by_safe_word
        outcomes["paused"] -= ended_by_safe_word
        not_yet = sum(1 for r in mine if not r.invited and r.state in NOT_YET_STATES)
        flows.append(
            TimepointFlow(
                timepoint=tp,
                planned=len(mine),
                not_yet_invited=not_yet,
                never_invited=len(mine) - len(invited) - not_yet,
                invited=len(invited),
                reached=sum(1 for r in invited if r.state in REPLIED_STATES or r.answers),
                outcomes=outcomes,
                completed_with_baseline=sum(
                    1
                    for r in mine
                    if r.state == "completed" and r.research_id in completed_baseline
                ),
            )
        )
    return Flow(len({r.research_id for r in records}), flows)
