"""What the engine asks the shell to do; the shell applies them in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.answers import Answer
from conversations.survey import Choice
from conversations.vocabulary import MessageKind, Outcome

#: Session outcomes after which the same timepoint can go on later.
RESUMABLE_OUTCOMES = frozenset({Outcome.LATER, Outcome.SNOOZED, Outcome.IDLE})

#: Pseudo item ids for the engine's own questions (buttons carry them).
GATE, SNOOZE, HELP, CONSENT = "_gate", "_snooze", "_help", "_consent"


@dataclass(frozen=True)
class Line:
    """One translatable line: a msgid and its placeholders; ``paragraph`` starts a new
    paragraph (what was a message of its own before the step's messages were joined)."""

    msgid: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    paragraph: bool = False


@dataclass(frozen=True)
class Scale:
    """A numeric answer range and its end labels (msgids), for hints and buttons."""

    minimum: int
    maximum: int
    min_label: str | None = None
    max_label: str | None = None


@dataclass(frozen=True)
class Outgoing:
    """A message to her, language-neutral; the shell renders it for her channel."""

    kind: MessageKind
    lines: tuple[Line, ...]
    choices: tuple[Choice, ...] = ()
    answer: str = "none"
    item_id: str | None = None
    scale: Scale | None = None
    sensitive: bool = True


@dataclass(frozen=True)
class Send:
    """A message to her; the engine returns at most one per step where they can be joined
    (``conversations.joining``)."""

    message: Outgoing


@dataclass(frozen=True)
class SaveAnswer:
    item_id: str
    answer: Answer


@dataclass(frozen=True)
class ClearAnswer:
    """An earlier answer no longer applies (she went back and changed course)."""

    item_id: str


@dataclass(frozen=True)
class Escalate:
    level: str
    reasons: tuple[str, ...]
    item_id: str | None = None


@dataclass(frozen=True)
class DeleteTranscript:
    """Her chat is cleared; the reason is the outcome that causes it (the session may go on)."""

    reason: Outcome


@dataclass(frozen=True)
class EndSession:
    outcome: Outcome

    @property
    def resumable(self) -> bool:
        return self.outcome in RESUMABLE_OUTCOMES


@dataclass(frozen=True)
class Snooze:
    option: str


@dataclass(frozen=True)
class PauseContact:
    """No further contact until staff resume her (safe word, lock)."""

    reason: str


@dataclass(frozen=True)
class OptOut:
    """She sent a carrier stop word: opted out of every contact."""


@dataclass(frozen=True)
class OptIn:
    """She sent START: recorded, but only staff re-activate her."""


@dataclass(frozen=True)
class ReaffirmConsent:
    """Her answer to "is it still OK to ask?" for this timepoint: ``yes``, ``not_this_time``
    or ``stop``; the shell stores it with her consent version."""

    answer: str


@dataclass(frozen=True)
class Withdraw:
    """She withdrew from the study: no contact ever again; her programme's policy decides
    whether her answers are erased or kept only under an unlinkable research id."""


Effect = (
    Send
    | SaveAnswer
    | ClearAnswer
    | Escalate
    | DeleteTranscript
    | EndSession
    | Snooze
    | PauseContact
    | OptOut
    | OptIn
    | ReaffirmConsent
    | Withdraw
)
