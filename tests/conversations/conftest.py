"""A small survey with every item type, and helpers to drive the engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from conversations.effects import Effect, Send
from conversations.engine import Context, step
from conversations.events import Begin, Event, Reply
from conversations.loader import parse_survey
from conversations.secrets import SecretWords, secret_digest
from conversations.state import SessionState
from conversations.survey import Survey

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
KEY = b"k" * 32
REF = "participant-1"

MINI = """
survey: mini
version: 1
title: Mini
periods: {baseline: [T0, T1], followup: [T2, T3, T4]}
items:
  - id: intro
    type: info
    text: A few questions.
  - id: safe_now
    type: yesno
    text: Do you feel safe right now?
  - id: hurt
    type: single
    text:
      baseline: In the last year, were you hurt?
      followup: Since we last asked, were you hurt?
    choices:
      - {code: never, label: Never}
      - {code: once, label: Once}
      - {code: often, label: Often}
    risk:
      - {if: {in: [once, often]}, level: HIGH, reason: new_physical_violence}
  - id: weapon
    type: yesno
    text: Did he threaten you with a weapon?
    risk:
      - {if: {equals: "yes"}, level: URGENT, reason: weapon}
  - id: impact
    type: multi
    text: How did it affect you?
    choices:
      - {code: afraid, label: Fear}
      - {code: sleep, label: Sleep problems}
      - {code: none, label: None of these}
    exclusive: [none]
  - id: fear
    type: scale
    text: How afraid are you?
    min: 0
    max: 10
    labels: {0: Not afraid, 10: Extremely afraid}
  - id: children
    type: yesno
    text: Do children live with you?
  - id: kids_count
    type: number
    text: How many?
    min: 1
    max: 12
    when: {item: children, equals: "yes"}
  - id: hopes
    type: single
    text: What do you hope for?
    timepoints: [T0, T1]
    choices:
      - {code: safety, label: To feel safe}
      - {code: change, label: That he changes}
  - id: wants_contact
    type: yesno
    text: Would you like the support service to contact you?
    risk:
      - {if: {equals: "yes"}, level: ROUTINE, reason: contact_request}
  - id: comments
    type: text
    text: Anything else?
"""


@pytest.fixture(scope="session")
def mini() -> Survey:
    return parse_survey(MINI, "mini.yaml")


def secrets(
    safe: str | None = "pineapple", code: str | None = None, duress: str | None = None
) -> SecretWords:
    def one(word: str | None) -> frozenset[bytes]:
        return frozenset({secret_digest(KEY, REF, word)}) if word else frozenset()

    return SecretWords(REF, (KEY,), one(safe), one(code), one(duress))


class Driver:
    """Feeds events to the engine and keeps the state and every effect."""

    def __init__(self, survey: Survey, ctx: Context | None = None, timepoint: str = "T0") -> None:
        self.survey = survey
        self.ctx = ctx or Context(secrets=secrets())
        self.state = SessionState(timepoint)
        self.effects: list[Effect] = []
        self.last: list[Effect] = []

    def event(self, event: Event) -> list[Effect]:
        self.state, self.last = step(self.survey, self.state, event, NOW, self.ctx)
        self.effects.extend(self.last)
        return self.last

    def begin(self) -> list[Effect]:
        return self.event(Begin())

    def say(self, *texts: str) -> list[Effect]:
        for text in texts:
            self.event(Reply(text))
        return self.last

    def press(self, for_item: str, *codes: str) -> list[Effect]:
        return self.event(Reply("", tuple(codes), for_item))

    def to_questions(self) -> None:
        """Gate and consent both answered yes: the first question is out."""
        self.begin()
        self.say("yes", "yes")
        assert self.state.phase == "question", self.state

    def sent(self, effects: Iterable[Effect] | None = None) -> list[Send]:
        return [e for e in (self.last if effects is None else effects) if isinstance(e, Send)]

    def of(self, kind: type) -> list[Effect]:
        return [e for e in self.effects if isinstance(e, kind)]
