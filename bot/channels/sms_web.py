"""Twilio's two webhooks, ``POST /sms/inbound`` and ``POST /sms/status``, as a runner component.

Every request must carry a valid ``X-Twilio-Signature`` for ``sms.public_url`` +
path (+ query): behind the TLS proxy the URL this process sees differs, so it
is never used. A request that fails gets 403 and leaves nothing behind but an
in-memory count; bodies over 16 kB get 413. A signed request gets empty TwiML
once what it brought is committed (the reply goes through the outbox). If the
database stayed locked, the answer is an empty 503 so Twilio delivers it again
(with ``#rp=5xx`` on the webhook URL; see the README); any other failure is
answered 200 (logged): an error status would make Twilio keep the request, body
included, in its debugger log, and a retry would fail the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol
from urllib.parse import parse_qsl

import phonenumbers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import RequestValidator

from bot.channels.base import Inbound, InboundHandler, NotStored
from bot.channels.sms import INBOUND_PATH, STATUS_PATH, SmsChannel, public_url
from bot.config import SmsConfig

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
SWEEP_EVERY = timedelta(days=1)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class RecordKeeper(Protocol):
    """What the webhooks tell about provider records (bot.outbox.provider_records.ProviderRecords)."""

    async def message_final(self, sid: str, status: str) -> None: ...

    async def inbound_received(self, sid: str) -> None: ...

    async def sweep(self) -> int: ...

    async def close(self) -> None: ...


class _Params(dict[str, list[str]]):
    """Form fields with every value kept, as RequestValidator signs repeated fields."""

    def getlist(self, key: str) -> list[str]:
        return self[key]

    def first(self, key: str) -> str:
        values = self.get(key)
        return values[0] if values else ""


class _Rejected(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def e164(number: str) -> str:
    """Twilio sends E.164 already; normalise defensively so the blind index matches."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class SmsWebhooks:
    """Component: the webhook routes, the daily provider-log sweep, closing the client."""

    name = "sms"

    def __init__(
        self,
        config: SmsConfig,
        channel: SmsChannel,
        on_inbound: InboundHandler,
        records: RecordKeeper,
    ) -> None:
        self.config = config
        self.channel = channel
        self.on_inbound = on_inbound
        self.records = records
        self.validator = RequestValidator(config.auth_token)
        self.rejected = 0  # a plain count of refused requests; nothing else is kept of them
        self._sweeper: asyncio.Task[None] | None = None

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(INBOUND_PATH, self.inbound, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["POST"]),
        ]

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_daily(), name="sms-provider-sweep")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.records.close()
        await self.channel.close()

    async def _sweep_daily(self) -> None:
        """At start (callbacks may have been missed while down), then once a day."""
        while True:
            try:
                await self.records.sweep()
            except Exception as exc:
                log.error("provider-log sweep failed: %s", type(exc).__name__)
            await asyncio.sleep(SWEEP_EVERY.total_seconds())

    # --- requests ---------------------------------------------------------------------------

    async def _signed_params(self, request: Request) -> _Params:
        """The form, if the request is small enough and signed for our public URL."""
        declared = request.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > MAX_BODY:
            raise _Rejected(413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise _Rejected(413)
        params = _Params()
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            params.setdefault(key, []).append(value)
        url = public_url(self.config, request.url.path)
        if request.url.query:
            url += "?" + request.url.query
        signature = request.headers.get("x-twilio-signature", "")
        if not signature or not self.validator.validate(url, params, signature):
            raise _Rejected(403)
        return params

    async def _verified(self, request: Request) -> _Params | Response:
        try:
            return await self._signed_params(request)
        except _Rejected as exc:
            self.rejected += 1
            log.warning("SMS webhook refused with %d (%d so far)", exc.status, self.rejected)
            return PlainTextResponse("", status_code=exc.status)

    async def inbound(self, request: Request) -> Response:
        """A message from her (or anyone): handed on as an Inbound, answered with empty TwiML."""
        params = await self._verified(request)
        if isinstance(params, Response):
            return params
        sid = params.first("MessageSid") or params.first("SmsSid")
        sender = params.first("From")
        if sid and sender:
            message = Inbound(
                channel="sms",
                address=e164(sender),
                text=params.first("Body"),
                provider_id=sid,
                message_ref=sid,
            )
            try:
                await self.on_inbound(message)
            except NotStored:
                return _not_stored("inbound SMS")
            except Exception as exc:  # a bug: a retry would fail alike and log her body
                log.error("inbound SMS not handled: %s", type(exc).__name__)
            try:
                await self.records.inbound_received(sid)
            except NotStored:
                return _not_stored("provider-record deletion")
            except Exception as exc:
                log.error("provider-record deletion not queued: %s", type(exc).__name__)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def status(self, request: Request) -> Response:
        """A status callback: once final, the message's provider record is deleted."""
        params = await self._verified(request)
        if isinstance(params, Response):
            return params
        sid = params.first("MessageSid") or params.first("SmsSid")
        status = params.first("MessageStatus") or params.first("SmsStatus")
        if sid and status:
            try:
                await self.records.message_final(sid, status)
            except NotStored:
                # No 503 here: Twilio does not retry status callbacks, and a 5xx would leave a
                # debugger alert holding her number. The provider-log sweep deletes the record.
                log.warning("status callback not stored (database locked); the sweep deletes it")
            except Exception as exc:
                log.error("status callback not handled: %s", type(exc).__name__)
        return Response(EMPTY_TWIML, media_type="text/xml")


def _not_stored(what: str) -> Response:
    """An empty 503: Twilio delivers it again (``#rp=5xx``); de-dup by MessageSid is downstream."""
    log.warning("%s not stored (database locked); answered 503 for a retry", what)
    return Response(status_code=503)
