"""The shape of a long-running part of ``followup run``: start, stop, and its web routes.

The runner knows no concrete part: channels, the desk and the scheduler all fit this.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.routing import BaseRoute


class Component(Protocol):
    """A long-running part of the service (a channel adapter, the scheduler, ...)."""

    name: str

    def routes(self) -> Sequence[BaseRoute]:
        """Web routes this component serves (webhooks); may be empty."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
