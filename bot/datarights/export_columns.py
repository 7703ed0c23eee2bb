"""What an export's columns are: the meta columns, the items, and why a cell is empty.

One list of meta columns (``META``) drives every format, the codebook and the data
dictionary, so adding one (e.g. a consent column) is one entry here. An empty item cell
always has one of three reasons, told apart in every format: she skipped it, skip logic
did not ask it, or the session ended before it (not reached).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from bot.store.research import ResearchRecord
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS, Item, Survey
from conversations.vocabulary import TimepointState


class Missing(IntEnum):
    """Why an item has no answer; the value is the numeric user-missing code (SPSS, CSV)."""

    SKIPPED = -7
    NOT_ASKED = -8
    NOT_REACHED = -9


MISSING_LABELS: dict[Missing, str] = {
    Missing.SKIPPED: "skipped",
    Missing.NOT_ASKED: "not asked (skip logic)",
    Missing.NOT_REACHED: "not reached",
}
#: Stata's extended missing values, one letter per reason.
STATA_MISSING: dict[Missing, str] = {
    Missing.SKIPPED: "a",
    Missing.NOT_ASKED: "b",
    Missing.NOT_REACHED: "c",
}


@dataclass(frozen=True)
class MetaColumn:
    """A column about the record rather than an answer; never identifying, never a date."""

    name: str
    label: str
    note: str
    value: Callable[[ResearchRecord], str | None]
    #: False: one value per woman (kept once in the wide layout, not suffixed).
    per_timepoint: bool = True
    #: False: left out of the wide layout, where the suffix says it.
    in_wide: bool = True
    #: Its Table Schema constraints in the data package.
    constraints: Mapping[str, Any] = field(default_factory=dict)


META: tuple[MetaColumn, ...] = (
    MetaColumn(
        "research_id",
        "Research id",
        "Random id per participant; not linkable to her without the key, "
        "and not at all once her answers are kept anonymously.",
        lambda r: r.research_id,
        per_timepoint=False,
        constraints={"required": True},
    ),
    MetaColumn(
        "timepoint",
        "Timepoint",
        "T0 baseline, T1 programme start, T2 halfway, T3 end, T4 follow-up.",
        lambda r: r.timepoint,
        in_wide=False,
        constraints={"enum": list(TIMEPOINTS)},
    ),
    MetaColumn(
        "week",
        "ISO week",
        "ISO week (YYYY-Www) in which the timepoint ended, else was first sent, else was due.",
        lambda r: r.week,
        constraints={"pattern": r"^\d{4}-W\d{2}$"},
    ),
    MetaColumn(
        "state",
        "Timepoint state",
        "completed, missed, withdrawn, in_progress, scheduled, ... (timepoint state).",
        lambda r: r.state,
    ),
    MetaColumn(
        "consent",
        "Consent reaffirmed",
        "Her answer at this timepoint to 'Is it still OK to ask you a few questions?': yes, "
        "not_this_time (the timepoint ended as declined) or stop (withdrawal); empty where she "
        "was not asked (she never got past the first question, or before it was asked).",
        lambda r: r.consent_answer,
        constraints={"enum": ["yes", "not_this_time", "stop"]},
    ),
    MetaColumn(
        "consent_version",
        "Consent version",
        "Version of the consent text on record for her when she answered the consent question.",
        lambda r: r.consent_version,
    ),
)


def exported_items(survey: Survey) -> list[Item]:
    """Answerable items, free text left out (it may name people and places)."""
    return [i for i in survey.items if i.answerable and i.type != "text"]


class AnswerReasons:
    """Her answer to an item, or why there is none; built once per export.

    An item after the last one she answered in a session that did not complete was
    not reached; one before it (or any in a completed session) was left out by skip
    logic. Positions and each record's last answer are computed once, not per cell.
    """

    def __init__(self, survey: Survey) -> None:
        self._position = {item.id: n for n, item in enumerate(survey.items)}
        self._last: dict[tuple[str, str], int] = {}

    def __call__(self, item: Item, record: ResearchRecord) -> Answer | Missing:
        if not record.invited:
            return Missing.NOT_REACHED
        if record.timepoint not in item.timepoints:
            return Missing.NOT_ASKED
        answer = record.answers.get(item.id)
        if answer is not None:
            return Missing.SKIPPED if answer.skipped else answer
        if record.state == TimepointState.COMPLETED:
            return Missing.NOT_ASKED
        if self._position[item.id] < self._last_answered(record):
            return Missing.NOT_ASKED
        return Missing.NOT_REACHED

    def _last_answered(self, record: ResearchRecord) -> int:
        key = (record.research_id, record.timepoint)
        if key not in self._last:
            known = [self._position[i] for i in record.answers if i in self._position]
            self._last[key] = max(known, default=-1)
        return self._last[key]


def placeholder(research_id: str, timepoint: str) -> ResearchRecord:
    """A timepoint she has no record for (not planned): empty meta, every item not reached."""
    return ResearchRecord(research_id, timepoint, "", False, None, {})
