"""Research records for export tests: one woman per reason an answer can be missing."""

from __future__ import annotations

from bot.store.research import ResearchRecord
from bot.text.surveys import load_survey
from conversations.answers import Answer
from conversations.survey import Survey

SURVEY: Survey = load_survey()

#: T0 completed (fear skipped, help_now not asked); T1 stopped after viol_physical
#: (help_now not asked before it, the rest not reached); T2 planned, not yet sent.
WOMAN_A = [
    ResearchRecord(
        "R-AAAAAAAAAA",
        "T0",
        "completed",
        True,
        "2026-W48",
        {
            "safe_now": Answer("yes"),
            "viol_physical": Answer("few_times"),
            "impact": Answer(["afraid", "sleep_problems"]),
            "fear": Answer(None, skipped=True),
            "feel_safe": Answer(7),
            "children": Answer("no"),
            "hopes": Answer(["violence_stops"]),
        },
        "yes",
        "v1",
    ),
    ResearchRecord(
        "R-AAAAAAAAAA",
        "T1",
        "missed",
        True,
        "2026-W52",
        {"safe_now": Answer("yes"), "viol_physical": Answer("never")},
        "yes",
        "v2",
    ),
    ResearchRecord("R-AAAAAAAAAA", "T2", "scheduled", False, "2027-W20", {}),
]
#: T0 declined at the consent question ("not this time").
WOMAN_D = [
    ResearchRecord("R-DDDDDDDDDD", "T0", "declined", True, "2026-W49", {}, "not_this_time", "v1")
]
#: Sent T0 and never answered.
WOMAN_B = [ResearchRecord("R-BBBBBBBBBB", "T0", "missed", True, "2026-W49", {})]
#: Enrolled, nothing sent yet: in no response row.
WOMAN_C = [ResearchRecord("R-CCCCCCCCCC", "T0", "scheduled", False, "2027-W02", {})]
RECORDS = [*WOMAN_A, *WOMAN_B, *WOMAN_C]
