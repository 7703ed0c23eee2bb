"""The survey model: items, choices, wording per timepoint, risk rules.

Built by ``conversations.loader`` from the YAML files described in
``surveys/FORMAT.md``; immutable, so one instance serves every session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.conditions import Condition
from conversations.text import tokens

TIMEPOINTS: tuple[str, ...] = ("T0", "T1", "T2", "T3", "T4")
ITEM_TYPES = ("single", "multi", "yesno", "scale", "number", "text", "info")
LEVELS = ("URGENT", "HIGH", "ROUTINE")
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class RiskRule:
    condition: Condition
    level: str
    reason: str


@dataclass(frozen=True)
class Wording:
    """Text that may differ per timepoint or period; lookup: timepoint, period, default."""

    variants: Mapping[str, str]

    def for_timepoint(self, timepoint: str, periods: Mapping[str, frozenset[str]]) -> str:
        if timepoint in self.variants:
            return self.variants[timepoint]
        for name, members in periods.items():
            if timepoint in members and name in self.variants:
                return self.variants[name]
        return self.variants.get("default") or next(iter(self.variants.values()))

    def all_texts(self) -> list[str]:
        return list(dict.fromkeys(self.variants.values()))


@dataclass(frozen=True)
class Item:
    id: str
    type: str
    text: Wording
    hint: Wording | None = None
    timepoints: frozenset[str] = frozenset(TIMEPOINTS)
    when: Condition | None = None
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    labels: Mapping[int, str] = field(default_factory=dict)
    exclusive: frozenset[str] = frozenset()
    risk: tuple[RiskRule, ...] = ()
    attribution: str | None = None

    @property
    def answerable(self) -> bool:
        return self.type != "info"

    def effective_choices(self) -> tuple[Choice, ...]:
        """Choices as she sees them; yes/no items get their implicit pair."""
        if self.type == "yesno":
            return (Choice(YES, "Yes"), Choice(NO, "No"))
        return self.choices

    def choice_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.effective_choices())


@dataclass(frozen=True)
class Survey:
    id: str
    version: int
    title: str
    items: tuple[Item, ...]
    periods: Mapping[str, frozenset[str]] = field(default_factory=dict)
    attributions: Mapping[str, str] = field(default_factory=dict)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def position(self, item_id: str) -> int:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        raise KeyError(item_id)

    def items_for(self, timepoint: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if timepoint in i.timepoints)

    def answer_words(self) -> set[str]:
        """Every folded word of an answer code or label (secret words must not be one)."""
        words: set[str] = set()
        for item in self.items:
            for choice in item.effective_choices():
                words.update(tokens(choice.code.replace("_", " ")))
                words.update(tokens(choice.label))
        return words
