"""SMS over Twilio (twilio 9, async HTTP client): send, delete provider records, map errors.

Every Twilio call goes through the async client with a deadline, so nothing
blocks the event loop and a hung call becomes a retry. Error messages carry
only Twilio's code and HTTP status: Twilio's own texts may contain her number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import (
    ChannelError,
    Limits,
    PermanentError,
    Rendered,
    TransientError,
    UnreachableError,
)
from bot.config import SmsConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Statuses after which Twilio lets a Message be deleted (DESIGN.md §1.4).
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received", "canceled", "read"})
#: Paths of the two webhooks, below ``sms.public_url``.
INBOUND_PATH = "/sms/inbound"
STATUS_PATH = "/sms/status"

OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient": she texted STOP
INVALID_NUMBERS = frozenset({21211, 21614})  # invalid 'To' / 'To' is not a mobile number
TOO_MANY_REQUESTS = 20429
NOT_FINAL_YET = 20009  # "cannot delete message because delivery has not been completed"
NOT_FOUND = 20404
SWEEP_LIMIT = 1000  # messages looked at per sweep of the provider's log


def public_url(config: SmsConfig, path: str) -> str:
    """The URL Twilio calls for ``path`` (behind the TLS proxy), from configuration only."""
    return config.public_url.rstrip("/") + path


def classify(exc: BaseException) -> ChannelError:
    """Map a Twilio or network failure to what the dispatcher should do about it."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status, code = int(exc.status or 0), int(exc.code or 0)
        what = f"twilio error {code or '-'} (HTTP {status})"
        if code == OPTED_OUT:
            return UnreachableError(what, "opted_out")
        if code in INVALID_NUMBERS:
            return UnreachableError(what, "invalid_number")
        if code == TOO_MANY_REQUESTS or status == 429 or status >= 500:
            return TransientError(what)
        return PermanentError(what)
    if isinstance(exc, TimeoutError | aiohttp.ClientError | OSError):
        return TransientError(f"twilio unreachable ({type(exc).__name__})")
    return TransientError(f"twilio call failed ({type(exc).__name__})")


class SmsChannel:
    """The Channel protocol over Twilio's Messages API."""

    name = "sms"
    style = "numbered"

    def __init__(self, config: SmsConfig) -> None:
        self.config = config
        self.limits = Limits(config.max_per_second, config.max_per_number_per_second)
        self.status_callback = public_url(config, STATUS_PATH)
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    def _api(self) -> Client:
        """The client, created on first use inside the running loop (aiohttp needs one)."""
        if self._client is None:
            self._http = AsyncTwilioHttpClient()
            self._client = Client(
                self.config.account_sid, self.config.auth_token, http_client=self._http
            )
            self._client.api.base_url = self.config.api_base_url.rstrip("/")
        return self._client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    async def _call(self, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, self.config.request_timeout_seconds)

    async def send(self, address: str, message: Rendered) -> str:
        """Send one SMS with the status callback set; returns the Message SID."""
        params: dict[str, Any] = {
            "to": address,
            "body": message.text,
            "status_callback": self.status_callback,
        }
        if self.config.messaging_service_sid:
            params["messaging_service_sid"] = self.config.messaging_service_sid
        else:
            params["from_"] = self.config.from_number
        try:
            created = await self._call(self._api().messages.create_async(**params))
        except Exception as exc:
            raise classify(exc) from None
        return str(created.sid)

    async def delete_record(self, sid: str) -> bool:
        """DELETE one Message; True when it is gone (now or before), False while not final."""
        try:
            await self._call(self._api().messages(sid).delete_async())
        except (TwilioRestException, TwilioServiceException) as exc:
            if exc.status == 404 or exc.code == NOT_FOUND:
                return True
            if exc.code == NOT_FINAL_YET or exc.status == 409:
                return False
            raise classify(exc) from None
        except Exception as exc:
            raise classify(exc) from None
        return True

    async def final_records(self, limit: int = SWEEP_LIMIT) -> list[str]:
        """SIDs of final messages of our number or Messaging Service still in Twilio's log.

        Finds what the service never heard of: webhooks lost while it was down, a message
        created just before a crash. Bodies and numbers are looked at here, never kept.
        """
        ours = {self.config.from_number} - {""}
        service = self.config.messaging_service_sid
        try:
            listed = await asyncio.wait_for(
                self._api().messages.list_async(limit=limit, page_size=min(limit, 1000)),
                self.config.request_timeout_seconds * 4,
            )
        except Exception as exc:
            raise classify(exc) from None
        return [
            str(m.sid)
            for m in listed
            if m.status in FINAL_STATUSES
            and (
                m.from_ in ours or m.to in ours or (service and m.messaging_service_sid == service)
            )
        ]

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        """Delete provider records; returns only the refs actually gone (the caller retries)."""
        del address  # a Message SID is enough
        gone: set[str] = set()
        for ref in refs:
            if await self.delete_record(ref):
                gone.add(ref)
        return gone
