"""The Telegram load bench, briefly: 5 women, both bots, every question asked and answered.

The questions she must be asked are derived here from the survey file (through the plain bot's
walk and the women's choices), so either bot skipping, repeating or inventing a question fails
the test, and so does a table without figures.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bench.plain_ptb_bot import CONSENT, GATE, PlainSurvey, keyboard
from bench.telegram_load import NO_LIMIT, Load, choose, report, run
from bot.text.surveys import load_survey
from conversations.answers import Answer

WOMEN = 5


def expected_items() -> list[str]:
    """The questions a woman answering as the bench's women do must be asked, in order."""
    walk = PlainSurvey(load_survey())
    asked, answers, item = [GATE, CONSENT], {}, walk.next_item(GATE, {})
    while item is not None:
        if item.answerable:
            markup = keyboard(item)
            message: dict[str, Any] = {"reply_markup": markup.to_dict() if markup else {}}
            how, what = choose(message)
            if how == "type":
                answers[item.id] = walk.parse_text(item, what) or Answer(None, skipped=True)
            else:
                code = what.split("|")[1]
                answers[item.id] = Answer(int(code) if code.isdigit() else code)
            asked.append(item.id)
        item = walk.next_item(item.id, answers)
    return asked


def test_both_bots_ask_every_woman_every_question(capsys: pytest.CaptureFixture[str]) -> None:
    load = Load(women=WOMEN, rate=25.0, seconds=60.0, prompts=NO_LIMIT, seed=3, chat_limit=20.0)
    rows = asyncio.run(run(load))
    report(load, rows)
    printed = capsys.readouterr().out

    expected = expected_items()
    assert len(expected) > 15
    assert [row.name for row in rows] == ["partner-followup", "plain PTB"]
    for row in rows:
        assert [w.items for w in row.women] == [expected] * WOMEN, row.name
        assert all(w.done for w in row.women), row.name
        assert row.tally.prompts == WOMEN * len(expected)
        assert len(row.tally.latencies) == row.tally.prompts  # every answer got its reply
        line = next(ln for ln in printed.splitlines() if ln.startswith(row.name + " "))
        figures = [float(f.replace(",", "")) for f in re.findall(r"[\d,]+\.?\d*", line)]
        assert len(figures) == 8 and all(f > 0 for f in figures), line
