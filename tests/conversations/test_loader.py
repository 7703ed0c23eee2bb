"""The survey loader refuses every malformed file, naming file, item and problem."""

from __future__ import annotations

import textwrap

import pytest

from conversations.loader import SurveyError, parse_survey


def load(items: str, head: str = "survey: t\nversion: 1\n") -> None:
    parse_survey(head + "items:\n" + textwrap.indent(textwrap.dedent(items), "  "), "t.yaml")


def problems(items: str, head: str = "survey: t\nversion: 1\n") -> str:
    with pytest.raises(SurveyError) as info:
        load(items, head)
    message = str(info.value)
    assert message.startswith("t.yaml: ")
    return message


YESNO = "- {id: q1, type: yesno, text: Q}\n"


def test_valid_minimal_survey_loads() -> None:
    load(YESNO)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ("- {id: q1, type: slider, text: Q}", "item q1: unknown type 'slider'"),
        ("- {id: Q-1, type: yesno, text: Q}", "'id' must be a snake_case id"),
        (YESNO + YESNO, "item q1: duplicate id"),
        ("- {id: q1, type: yesno}", "item q1: 'text' is missing"),
        ("- {id: q1, type: yesno, text: Q, colour: red}", "item q1: unknown key 'colour'"),
        ("- {id: q1, type: single, text: Q}", "item q1: 'choices' must list 2 to 9 choices"),
        (
            "- {id: q1, type: single, text: Q, choices: [{code: '1', label: A}, {code: b, label: B}]}",
            "item q1: choice 1: 'code' must be snake_case and not only digits",
        ),
        (
            "- {id: q1, type: single, text: Q, choices: [{code: a, label: A}, {code: a, label: B}]}",
            "item q1: choice codes must be unique",
        ),
        (
            "- {id: q1, type: yesno, text: Q, choices: [{code: a, label: A}]}",
            "a yesno item takes no 'choices'",
        ),
        (
            "- {id: q1, type: scale, text: Q, min: 5, max: 1}",
            "item q1: 'min' (5) must be below 'max' (1)",
        ),
        ("- {id: q1, type: scale, text: Q, min: 0, max: 20}", "a scale spans at most 11 points"),
        ("- {id: q1, type: number, text: Q}", "item q1: 'min' and 'max' must be whole numbers"),
        ("- {id: q1, type: yesno, text: Q, timepoints: [T9]}", "item q1: 'timepoints' must be"),
        ("- {id: q1, type: yesno, text: {T7: Q}}", "item q1: 'text' has unknown variant(s) T7"),
        (
            "- {id: q1, type: yesno, text: Q, when: {item: q2, equals: 'yes'}}",
            "item q1: when: refers to 'q2', which is not an earlier item",
        ),
        (
            YESNO + "- {id: q2, type: yesno, text: Q, when: {item: q1, like: 'yes'}}",
            "item q2: when: needs one of",
        ),
        (
            "- {id: q1, type: yesno, text: Q, risk: [{if: {equals: 'yes'}, level: SEVERE, reason: x}]}",
            "item q1: risk rule 1: level must be one of URGENT, HIGH, ROUTINE",
        ),
        (
            "- {id: q1, type: yesno, text: Q, risk: [{if: {equals: 'yes'}, level: HIGH}]}",
            "item q1: risk rule 1: needs exactly 'if', 'level' and 'reason'",
        ),
        ("- {id: q1, type: info, text: Hi, risk: []}", ""),
        (
            "- {id: q1, type: yesno, text: Q, attribution: phq9}",
            "attribution 'phq9' is not defined",
        ),
        (
            "- {id: q1, type: single, text: Q, exclusive: [a], choices: [{code: a, label: A}, {code: b, label: B}]}",
            "'exclusive' lists codes of this multi item's choices",
        ),
    ],
)
def test_each_validation_error(items: str, expected: str) -> None:
    if not expected:
        load(items)
        return
    assert expected in problems(items)


def test_bad_yaml_names_the_line() -> None:
    with pytest.raises(SurveyError, match=r"t.yaml: line \d+: not valid YAML"):
        parse_survey("survey: t\nitems: [\n", "t.yaml")


def test_every_problem_is_reported_at_once() -> None:
    message = problems("- {id: q1, type: slider, text: Q}\n- {id: q2, type: yesno}")
    assert "item q1" in message and "item q2" in message


def test_top_level_errors() -> None:
    assert "'survey' must be a snake_case id" in problems(YESNO, head="survey: 3\n")
    assert "unknown key 'colour'" in problems(YESNO, head="survey: t\ncolour: red\n")
    with pytest.raises(SurveyError, match="'items' must be a non-empty list"):
        parse_survey("survey: t\nitems: []\n", "t.yaml")
    with pytest.raises(SurveyError, match="must be a mapping"):
        parse_survey("- just a list\n", "t.yaml")
