"""Time to build the outcome report of 1,000 and 10,000 women (five timepoints each).

Synthetic research records (no database: ``all_records`` is the export's cost, not this);
timed separately: the flow and paired changes with their intervals (pure arithmetic), and the
whole page with its 17 matplotlib plots. CPU seconds are printed beside wall time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from bot.datarights.flow import participant_flow
from bot.datarights.outcome_change import changes
from bot.datarights.report import EscalationCount, render_report
from bot.store.research import ResearchRecord
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS

FREQUENCIES = ("never", "once", "few_times", "monthly", "weekly_or_more")
PHQ = ("not_at_all", "several_days", "more_than_half", "nearly_every_day")
STATES = ("completed",) * 7 + ("missed", "snoozed", "paused", "withdrawn", "sent")


def answers(rng: random.Random, step: int) -> dict[str, Answer]:
    return {
        "fear": Answer(max(0, min(10, 7 - step + rng.randint(-2, 2)))),
        "feel_safe": Answer(max(0, min(10, 4 + step + rng.randint(-2, 2)))),
        "safe_now": Answer(rng.choice(("yes", "no"))),
        **{f"phq4_{i}": Answer(rng.choice(PHQ)) for i in range(1, 5)},
        **{
            f"viol_{kind}": Answer(rng.choice(FREQUENCIES))
            for kind in ("physical", "sexual", "psychological", "controlling", "stalking")
        },
    }


def records(women: int) -> list[ResearchRecord]:
    rng = random.Random(women)
    out = []
    for i in range(women):
        for step, tp in enumerate(TIMEPOINTS):
            state = rng.choice(STATES)
            given = answers(rng, step) if state == "completed" else {}
            out.append(ResearchRecord(f"R-{i:06d}", tp, state, True, "2027-W10", given))
    return out


def timed(label: str, work: Callable[[], Any]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    print(
        f"{label:<44} {time.perf_counter() - wall:7.3f} s wall"
        f" {time.process_time() - cpu:7.3f} s CPU"
    )


def figures(found: list[ResearchRecord]) -> None:
    participant_flow(found, {"T0": 12})
    changes(found)


def main() -> None:
    levels = [EscalationCount("URGENT", 9, 7), EscalationCount("HIGH", 30, 20)]
    now = datetime(2027, 3, 8, tzinfo=UTC)
    render_report("warm-up", records(50), levels, {}, now)  # imports matplotlib and scipy
    for women in (1_000, 10_000):
        found = records(women)
        timed(f"{women:>6} women: flow + paired changes", partial(figures, found))
        timed(
            f"{women:>6} women: whole page with plots",
            partial(render_report, "bench", found, levels, {"T0": 12}, now),
        )


if __name__ == "__main__":
    main()
