"""A locked database, as the channels see it: ``NotStored`` (they know no store).

The one place where ``DatabaseBusy`` becomes ``NotStored``: the channel then answers
its provider so that the message is delivered again (webhook 503, no getUpdates ack).
"""

from __future__ import annotations

from bot.channels.base import Inbound, InboundHandler, NotStored
from bot.outbox.provider_records import ProviderRecords
from bot.store.db import DatabaseBusy


def storing(handler: InboundHandler) -> InboundHandler:
    """``handler`` with a locked database reported as ``NotStored`` (channels know no store)."""

    async def handle(message: Inbound) -> None:
        try:
            await handler(message)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    return handle


class StoringRecords:
    """The SMS provider-record keeper, with a locked database reported as ``NotStored``."""

    def __init__(self, records: ProviderRecords) -> None:
        self.records = records

    async def message_final(self, sid: str, status: str) -> None:
        try:
            await self.records.message_final(sid, status)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    async def inbound_received(self, sid: str) -> None:
        try:
            await self.records.inbound_received(sid)
        except DatabaseBusy as exc:
            raise NotStored(str(exc)) from exc

    async def sweep(self) -> int:
        return await self.records.sweep()

    async def close(self) -> None:
        await self.records.close()
