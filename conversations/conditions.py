"""Conditions over answers, for skip logic (``when:``) and risk rules (``if:``).

Structured data instead of an expression language: nothing is ever evaluated
as code, and every condition can be validated when the survey is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.answers import Answer

COMPARISONS = ("equals", "in", "gte", "lte", "includes", "answered")


@dataclass(frozen=True)
class Compare:
    """One test on one item's answer; ``item`` None means the rule's own item."""

    item: str | None
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Compare | AllOf | AnyOf | Not


def evaluate(cond: Condition, answers: Mapping[str, Answer], own_item: str | None = None) -> bool:
    """True if the condition holds; a skipped or unasked item makes a comparison false."""
    if isinstance(cond, AllOf):
        return all(evaluate(p, answers, own_item) for p in cond.parts)
    if isinstance(cond, AnyOf):
        return any(evaluate(p, answers, own_item) for p in cond.parts)
    if isinstance(cond, Not):
        return not evaluate(cond.part, answers, own_item)
    item = cond.item or own_item
    answer = answers.get(item) if item else None
    given = answer is not None and not answer.skipped
    if cond.op == "answered":
        return given == bool(cond.value)
    if answer is None or not given:
        return False
    value = answer.value
    if cond.op == "equals":
        return bool(value == cond.value)
    if cond.op == "in":
        return value in cond.value
    if cond.op == "includes":
        return cond.value in value if isinstance(value, list) else bool(value == cond.value)
    if isinstance(value, int) and not isinstance(value, bool):
        if cond.op == "gte":
            return bool(value >= cond.value)
        if cond.op == "lte":
            return bool(value <= cond.value)
    return False


def referenced_items(cond: Condition) -> set[str | None]:
    """Every item id a condition reads (None for 'the rule's own item')."""
    if isinstance(cond, AllOf | AnyOf):
        return set().union(*(referenced_items(p) for p in cond.parts))
    if isinstance(cond, Not):
        return referenced_items(cond.part)
    return {cond.item}
