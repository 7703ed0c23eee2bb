"""Every risk rule of the partner survey fires at its level, for its answers, and only then.

The table below is written out by hand (not read from the YAML), so a changed level,
reason or trigger in the survey file fails here and gets a second look.
"""

from __future__ import annotations

from importlib import resources

import pytest

from conversations.effects import Escalate
from conversations.loader import parse_survey
from conversations.survey import Survey

from .conftest import Driver

FREQUENT = ("once", "few_times", "monthly", "weekly_or_more")

#: item, answers that fire, answers that must not, level, reason, answers needed to reach it
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...], str, str, dict[str, str]]] = [
    ("help_now", ("yes",), ("no",), "URGENT", "not_safe_wants_help", {"safe_now": "no"}),
    ("viol_physical", FREQUENT, ("never",), "HIGH", "new_physical_violence", {}),
    ("viol_sexual", FREQUENT, ("never",), "HIGH", "new_sexual_violence", {}),
    ("risk_strangulation", ("yes",), ("no",), "URGENT", "strangulation", {}),
    ("risk_threat_kill", ("yes",), ("no",), "URGENT", "threat_to_kill", {}),
    ("risk_weapon", ("yes",), ("no",), "URGENT", "weapon", {}),
    ("police_called", ("yes",), ("no",), "HIGH", "police_called", {}),
    ("fear_for_life", ("yes",), ("no",), "URGENT", "fear_for_life", {}),
    ("children_upset", ("yes",), ("no",), "HIGH", "children_afraid", {"children": "yes"}),
    ("children_harmed", ("yes",), ("no",), "HIGH", "children_harmed", {"children": "yes"}),
    ("wants_contact", ("yes",), ("no",), "ROUTINE", "contact_request", {}),
]


@pytest.fixture(scope="module")
def partner() -> Survey:
    text = resources.files("conversations").joinpath("surveys", "partner.yaml").read_text("utf-8")
    return parse_survey(text, "partner.yaml")


def neutral(survey: Survey, item_id: str) -> str:
    """An answer that raises nothing: 'no', 'never', 'none', the lowest choice."""
    item = survey.item(item_id)
    codes = [c.code for c in item.effective_choices()]
    for safe in ("no", "never", "none", "none_of_these", "not_at_all"):
        if safe in codes:
            return safe
    return codes[0] if codes else ""


def run(
    survey: Survey, answers: dict[str, str], timepoint: str = "T0"
) -> tuple[list[Escalate], Driver]:
    """Answer the whole survey: ``answers`` where given, neutral elsewhere, 'go on' after help."""
    d = Driver(survey, timepoint=timepoint)
    d.to_questions()
    for _ in range(200):
        if d.state.phase == "help":
            d.say("1")  # yes, go on
            continue
        if d.state.phase != "question":
            break
        item = survey.item(d.state.current or "")
        if item.type in ("scale", "number"):
            d.say(str(item.minimum))
        elif item.type == "text":
            d.say("skip")
        else:
            d.press(item.id, answers.get(item.id, neutral(survey, item.id)))
    assert d.state.outcome == "completed", d.state
    return [e for e in d.effects if isinstance(e, Escalate)], d


def test_every_rule_in_the_survey_is_in_the_table(partner: Survey) -> None:
    in_file = {(i.id, r.level, r.reason) for i in partner.items for r in i.risk}
    assert in_file == {(item, level, reason) for item, _, _, level, reason, _ in RULES}


@pytest.mark.parametrize("timepoint", ["T0", "T2"])
def test_neutral_answers_raise_nothing(partner: Survey, timepoint: str) -> None:
    escalations, _ = run(partner, {}, timepoint)
    assert escalations == []


CASES = [
    pytest.param(item, answer, level, reason, setup, id=f"{item}={answer}")
    for item, fire, _, level, reason, setup in RULES
    for answer in fire
]


@pytest.mark.parametrize(("item", "answer", "level", "reason", "setup"), CASES)
def test_rule_fires_at_its_level(
    partner: Survey, item: str, answer: str, level: str, reason: str, setup: dict[str, str]
) -> None:
    escalations, d = run(partner, {**setup, item: answer})
    assert escalations == [Escalate(level, (reason,), item)]
    if level in ("URGENT", "HIGH"):
        assert d.state.help_shown  # she was shown the emergency number and helpline


QUIET = [
    pytest.param(item, answer, setup, id=f"{item}={answer}")
    for item, _, quiet, _, _, setup in RULES
    for answer in quiet
]


@pytest.mark.parametrize(("item", "answer", "setup"), QUIET)
def test_rule_stays_quiet_for_other_answers(
    partner: Survey, item: str, answer: str, setup: dict[str, str]
) -> None:
    escalations, d = run(partner, {**setup, item: answer})
    assert escalations == []
    assert item in d.state.answers  # the item really was asked and answered


def test_all_rules_together_each_fire_once(partner: Survey) -> None:
    answers = {"safe_now": "no", "children": "yes"}
    answers.update({item: fire[0] for item, fire, *_ in RULES})
    escalations, _ = run(partner, answers)
    fired = sorted((e.level, e.reasons[0]) for e in escalations)
    expected = sorted(
        (level, reason)
        for item, _, _, level, reason, _ in RULES
        if item != "wants_contact"  # not asked again once she asked for help today
    )
    assert fired == expected
