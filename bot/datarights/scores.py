"""Scores the report computes from one timepoint's answers: fear, feeling safe, PHQ-4, violence.

Invariant: pure; a score whose items were skipped or not asked is None, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean
from typing import Any

from conversations.answers import Answer

Scorer = Callable[[dict[str, Answer]], float | None]

FREQUENCY = {"never": 0, "once": 1, "few_times": 2, "monthly": 3, "weekly_or_more": 4}
PHQ = {"not_at_all": 0, "several_days": 1, "more_than_half": 2, "nearly_every_day": 3}
VIOLENCE_ITEMS = (
    "viol_physical",
    "viol_sexual",
    "viol_psychological",
    "viol_controlling",
    "viol_stalking",
)
VIOLENCE_TYPES = {
    "viol_physical": "physical",
    "viol_sexual": "sexual",
    "viol_psychological": "psychological",
    "viol_controlling": "controlling",
    "viol_stalking": "stalking",
}
PHQ_ITEMS = ("phq4_1", "phq4_2", "phq4_3", "phq4_4")
#: Kroenke et al. 2009: items 1-2 are the GAD-2 (anxiety), items 3-4 the PHQ-2 (depression).
ANXIETY_ITEMS = ("phq4_1", "phq4_2")
DEPRESSION_ITEMS = ("phq4_3", "phq4_4")


def _value(answers: dict[str, Answer], item: str) -> Any:
    a = answers.get(item)
    return None if a is None or a.skipped else a.value


def score_fear(answers: dict[str, Answer]) -> float | None:
    v = _value(answers, "fear")
    return float(v) if isinstance(v, int) else None


def score_safe(answers: dict[str, Answer]) -> float | None:
    v = _value(answers, "feel_safe")
    return float(v) if isinstance(v, int) else None


def score_safe_now(answers: dict[str, Answer]) -> float | None:
    """'Do you feel safe right now?': 1 yes, 0 no."""
    return {"yes": 1.0, "no": 0.0}.get(str(_value(answers, "safe_now")))


def _phq_sum(answers: dict[str, Answer], items: tuple[str, ...]) -> float | None:
    values = [PHQ.get(str(_value(answers, i))) for i in items]
    return float(sum(v for v in values if v is not None)) if None not in values else None


def score_phq4(answers: dict[str, Answer]) -> float | None:
    """PHQ-4 sum 0-12, only when all four items were answered."""
    return _phq_sum(answers, PHQ_ITEMS)


def score_anxiety(answers: dict[str, Answer]) -> float | None:
    """PHQ-4 anxiety subscale (GAD-2) 0-6, both items answered."""
    return _phq_sum(answers, ANXIETY_ITEMS)


def score_depression(answers: dict[str, Answer]) -> float | None:
    """PHQ-4 depression subscale (PHQ-2) 0-6, both items answered."""
    return _phq_sum(answers, DEPRESSION_ITEMS)


def score_violence(answers: dict[str, Answer]) -> float | None:
    """Mean frequency (0 never .. 4 weekly or more) over the five types; needs 3 answered."""
    values = [FREQUENCY[v] for i in VIOLENCE_ITEMS if (v := _value(answers, i)) in FREQUENCY]
    return mean(values) if len(values) >= 3 else None


def violence_of(item: str) -> Scorer:
    """The frequency code (0 never .. 4 once a week or more) of one violence type."""

    def score(answers: dict[str, Answer]) -> float | None:
        v = _value(answers, item)
        return float(FREQUENCY[v]) if v in FREQUENCY else None

    return score
