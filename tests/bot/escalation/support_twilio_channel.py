"""A minimal SMS staff-route channel on the real twilio async client, for the fake REST API.

Only sending (the real SMS channel is built on another branch); numbered style, no buttons.
"""

from __future__ import annotations

from collections.abc import Sequence

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels.base import Limits, PermanentError, Rendered, TransientError, UnreachableError

SENDER = "+15005550006"


class TwilioStaffChannel:
    name = "sms"
    style = "numbered"
    limits = Limits(1000.0, 1000.0)

    def __init__(self, client: Client) -> None:
        self.client = client

    async def send(self, address: str, message: Rendered) -> str | None:
        try:
            sent = await self.client.messages.create_async(
                to=address, from_=SENDER, body=message.text
            )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(f"twilio {exc.status}") from None
            if exc.code == 21610:
                raise UnreachableError("opted out", "opted_out") from None
            raise PermanentError(f"twilio {exc.status} {exc.code}") from None
        return str(sent.sid)

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)
