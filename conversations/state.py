"""A session's state: where she is in the survey and what she has answered.

Serialisable to JSON so the shell can store it (encrypted) after every step;
a restart resumes from exactly this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from conversations.answers import Answer
from conversations.vocabulary import Outcome, Phase

#: Phases a session moves through, in order (``Phase`` is the one definition).
PHASES = tuple(Phase)
#: Phases in which she is talking to the bot now.
ACTIVE_PHASES = frozenset(
    {Phase.GATE, Phase.SNOOZE, Phase.CODE, Phase.CONSENT, Phase.QUESTION, Phase.HELP}
)


@dataclass(frozen=True)
class SessionState:
    timepoint: str
    phase: Phase = Phase.NEW
    current: str | None = None
    answers: Mapping[str, Answer] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    invalid_tries: int = 0
    code_tries: int = 0
    code_ok: bool = False
    #: She said yes to the consent question of this timepoint (asked once per timepoint).
    consent_ok: bool = False
    #: WITHDRAW was typed: the withdrawal waits for her code word.
    withdraw_pending: bool = False
    help_shown: bool = False
    raised: frozenset[str] = frozenset()
    outcome: Outcome | None = None

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def started(self) -> bool:
        """She has reached the questions at least once."""
        return self.current is not None

    def evolve(self, **changes: Any) -> SessionState:
        return replace(self, **changes)

    def with_answer(self, item_id: str, answer: Answer | None) -> SessionState:
        answers = dict(self.answers)
        if answer is None:
            answers.pop(item_id, None)
        else:
            answers[item_id] = answer
        return replace(self, answers=answers)

    def to_json(self) -> dict[str, Any]:
        return {
            "timepoint": self.timepoint,
            "phase": self.phase,
            "current": self.current,
            "answers": {k: v.to_json() for k, v in self.answers.items()},
            "history": list(self.history),
            "invalid_tries": self.invalid_tries,
            "code_tries": self.code_tries,
            "code_ok": self.code_ok,
            "consent_ok": self.consent_ok,
            "withdraw_pending": self.withdraw_pending,
            "help_shown": self.help_shown,
            "raised": sorted(self.raised),
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionState:
        return cls(
            timepoint=data["timepoint"],
            phase=Phase(data.get("phase", Phase.NEW)),
            current=data.get("current"),
            answers={k: Answer.from_json(v) for k, v in data.get("answers", {}).items()},
            history=tuple(data.get("history", ())),
            invalid_tries=int(data.get("invalid_tries", 0)),
            code_tries=int(data.get("code_tries", 0)),
            code_ok=bool(data.get("code_ok", False)),
            consent_ok=bool(data.get("consent_ok", False)),
            withdraw_pending=bool(data.get("withdraw_pending", False)),
            help_shown=bool(data.get("help_shown", False)),
            raised=frozenset(data.get("raised", ())),
            outcome=_outcome(data.get("outcome")),
        )


def _outcome(stored: str | None) -> Outcome | None:
    return None if stored is None else Outcome(stored)
