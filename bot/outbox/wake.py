"""One wake signal for the outbox: writers call it after commit, the dispatcher's loops wait.

Created first, before anything that writes outbox rows, and handed to every side in its
constructor: nothing is wired after construction, and no writer needs the dispatcher.
"""

from __future__ import annotations

import asyncio


class OutboxWake:
    """Call it once rows are committed; each ``listen()`` event is set on every call."""

    def __init__(self) -> None:
        self._events: list[asyncio.Event] = []

    def listen(self) -> asyncio.Event:
        event = asyncio.Event()
        self._events.append(event)
        return event

    def __call__(self) -> None:
        for event in self._events:
            event.set()
