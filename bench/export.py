"""Research export of 10,000 women x 5 timepoints in every format, long and wide.

The records are built in memory (every item answered with its first choice, a third of
the sessions stopped halfway), so the figures are the export's own cost: the tables,
pyreadstat, the CSV and JSON writers; reading the database is not in them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bot.datarights.export import FORMATS, write_export
from bot.datarights.export_columns import exported_items
from bot.store.research import ResearchRecord
from bot.text.surveys import load_survey
from conversations.answers import Answer
from conversations.survey import TIMEPOINTS, Item

WOMEN = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def first_answer(item: Item) -> Answer:
    if item.type == "multi":
        return Answer([item.choices[0].code])
    if item.type in ("scale", "number"):
        return Answer(item.minimum or 0)
    return Answer(item.choice_codes()[0])


def records() -> list[ResearchRecord]:
    survey = load_survey()
    items = exported_items(survey)
    out = []
    for n in range(WOMEN):
        for t, tp in enumerate(TIMEPOINTS):
            asked = [i for i in items if tp in i.timepoints]
            stopped = (n + t) % 3 == 0
            kept = asked[: len(asked) // 2] if stopped else asked
            answers = {i.id: first_answer(i) for i in kept}
            state = "missed" if stopped else "completed"
            out.append(ResearchRecord(f"R-{n:010d}", tp, state, True, "2026-W48", answers))
    return out


def main() -> None:
    survey = load_survey()
    data = records()
    print(f"{WOMEN:,} women, {len(data):,} records, {len(exported_items(survey))} items")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            for wide in (False, True):
                start, cpu = time.perf_counter(), time.process_time()
                files = write_export(Path(tmp) / f"{fmt}-{wide}", fmt, survey, data, wide=wide)
                wall, used = time.perf_counter() - start, time.process_time() - cpu
                size = sum(f.stat().st_size for f in files) / 1e6
                layout = "wide" if wide else "long"
                print(f"{fmt:>12} {layout}: {wall:6.2f} s wall, {used:6.2f} s CPU, {size:6.1f} MB")


if __name__ == "__main__":
    main()
