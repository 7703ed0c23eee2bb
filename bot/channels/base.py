"""The small protocol every channel implements, and what flows through it.

A channel sends a rendered message, deletes messages by provider reference and
hands inbound messages to the callback it is given; it knows nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Button:
    label: str
    data: str


#: ``Rendered.kind`` of every staff message: a channel must alert staff audibly, never her.
STAFF_ALERT_KIND = "staff_alert"


@dataclass(frozen=True)
class Rendered:
    """A message ready for one channel: text plus optional buttons."""

    text: str
    buttons: tuple[Button, ...] = ()
    multi: bool = False
    item_id: str | None = None
    kind: str = "message"

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [[b.label, b.data] for b in self.buttons],
            "multi": self.multi,
            "item_id": self.item_id,
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rendered:
        return cls(
            text=data["text"],
            buttons=tuple(Button(label, value) for label, value in data.get("buttons", [])),
            multi=bool(data.get("multi")),
            item_id=data.get("item_id"),
            kind=data.get("kind", "message"),
        )


@dataclass(frozen=True)
class Inbound:
    """One message from her, adapted from any channel."""

    channel: str
    address: str
    text: str = ""
    provider_id: str | None = None
    message_ref: str | None = None
    choices: tuple[str, ...] | None = None
    for_item: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    edited: bool = False


InboundHandler = Callable[[Inbound], Awaitable[None]]


class NotStored(Exception):
    """What she sent could not be written (the database stayed locked): nothing was kept.

    A channel must make the provider deliver it again (SMS: 503; Telegram: do not confirm
    the update), never answer as if it had been stored.
    """


class ChannelError(Exception):
    """Base of what a channel may raise from ``send``/``delete``."""


class TransientError(ChannelError):
    """Try again later (429, 5xx, timeout); ``retry_after`` seconds if the provider said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnreachableError(ChannelError):
    """She cannot be reached here: blocked the bot, opted out (21610), invalid number."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermanentError(ChannelError):
    """This message can never be sent as it is; retrying will not help."""


@dataclass(frozen=True)
class Limits:
    """A channel's send budget: bot-wide and per address, each a rate plus a burst (how many
    may leave at once before the rate holds them back)."""

    per_second: float = 30.0
    per_address_per_second: float = 1.0
    burst: float = 1.0
    per_address_burst: float = 1.0
    #: At most this many bot-wide sends in any one second (None: the bucket alone decides).
    per_second_window: int | None = None


#: Awaited before each provider call of a deletion: it waits for the channel's budget.
Pace = Callable[[], Awaitable[None]]


class Channel(Protocol):
    name: str
    style: str
    limits: Limits

    async def send(self, address: str, message: Rendered) -> str | None:
        """Send; return the provider's reference for later deletion (None if none)."""
        ...

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        """Delete messages; return the refs now gone (deleted, or already gone)."""
        ...


@runtime_checkable
class PacedDeletion(Protocol):
    """A channel whose ``delete`` makes several provider calls (Telegram: 100 ids each) and
    lets the dispatcher's budget pace every one of them."""

    async def delete_paced(self, address: str, refs: Sequence[str], pace: Pace) -> set[str]:
        """Like ``Channel.delete``; ``pace`` is awaited before each provider call."""
        ...


#: How each channel shows choices; fixed per channel so a message rendered by a CLI
#: process (which opens no channel) looks right when the service sends it.
CHANNEL_STYLES: dict[str, str] = {"console": "numbered", "sms": "numbered", "telegram": "buttons"}

#: Channels whose provider records are deleted message by message once final (SMS: the
#: Twilio log), not by the session-end "delete" job, which would hold up her lane while a
#: message is still in flight.
PER_MESSAGE_DELETION: frozenset[str] = frozenset({"sms"})
