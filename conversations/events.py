"""What can happen to a session: the inputs of ``engine.step``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Begin:
    """The scheduler opens a contact; ``reminder`` > 0 for a reminder."""

    reminder: int = 0


@dataclass(frozen=True)
class Reply:
    """She sent something: typed ``text``, or a button with ``choices`` for item ``for_item``.

    ``edited``: she changed an earlier message; only the safety words take effect.
    """

    text: str = ""
    choices: tuple[str, ...] | None = None
    for_item: str | None = None
    edited: bool = False


@dataclass(frozen=True)
class Idle:
    """She went quiet mid-session: pause it and clear the chat."""


@dataclass(frozen=True)
class Expire:
    """The timepoint's contact window closed: the session ends as missed."""


Event = Begin | Reply | Idle | Expire
