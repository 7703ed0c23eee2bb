"""Why an answer is missing: skipped, not asked (skip logic), not reached."""

from __future__ import annotations

from collections.abc import Sequence

from bot.datarights.export_columns import META, AnswerReasons, Missing
from bot.store.research import ResearchRecord
from conversations.answers import Answer

from .support_export import SURVEY, WOMAN_A, WOMAN_B


def reason(record_index: int, item_id: str, woman: Sequence[ResearchRecord] = WOMAN_A) -> object:
    return AnswerReasons(SURVEY)(SURVEY.item(item_id), woman[record_index])


def test_each_reason_is_told_apart() -> None:
    assert reason(0, "viol_physical") == Answer("few_times")
    assert reason(0, "fear") is Missing.SKIPPED
    assert reason(0, "help_now") is Missing.NOT_ASKED  # safe_now was yes
    # a completed session asked all it meant to:
    assert reason(0, "risk_weapon") is Missing.NOT_ASKED
    assert reason(0, "hopes_met") is Missing.NOT_ASKED  # not an item of T0
    assert reason(1, "help_now") is Missing.NOT_ASKED  # before the last answer: skip logic
    assert reason(1, "viol_sexual") is Missing.NOT_REACHED  # after it, the session ended
    assert reason(2, "safe_now") is Missing.NOT_REACHED  # never sent
    assert reason(0, "safe_now", WOMAN_B) is Missing.NOT_REACHED


def test_codes_are_distinct_negative_numbers_and_meta_columns_come_first() -> None:
    assert [int(m) for m in Missing] == [-7, -8, -9]
    assert [m.name for m in META] == [
        "research_id", "timepoint", "week", "state", "consent", "consent_version"
    ]  # fmt: skip
