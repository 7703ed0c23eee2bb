"""An answer as the engine keeps it: a value, or the fact that she skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AnswerValue = str | int | list[str] | None


@dataclass(frozen=True)
class Answer:
    value: AnswerValue
    skipped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"skipped": True} if self.skipped else {"value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        if data.get("skipped"):
            return cls(None, skipped=True)
        return cls(data.get("value"))
