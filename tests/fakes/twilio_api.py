"""A fake of Twilio's REST API (2010-04-01 Messages) for end-to-end tests.

It answers as Twilio's OpenAPI description says (paths, status codes, `api.v2010.account.message`
fields), checks HTTP Basic auth, validates like Twilio (21604, 21602, 21211, 21603, 21610, ...),
walks messages through queued -> sent -> delivered, POSTs signed status callbacks and inbound
webhooks, and injects faults (errors, hangs, "sent but no answer", refused connections).

Point twilio-python at it with `client.api.base_url = fake.base_url`; a subprocess gets the same
URL through its configuration. Every server-side change happens under one lock, so tests may read
`calls`, `messages`, ... from any thread.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlencode, urlparse

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from .threaded_asgi import ThreadedASGIServer
from .twilio_resources import (
    ACCOUNT_SID_RE,
    API_VERSION,
    FAILED_STATUSES,
    FINAL_STATUSES,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    STATUSES,
    error_body,
    inbound_webhook_form,
    is_valid_address,
    message_resource,
    new_sid,
    parse_rfc2822,
    rfc2822,
    status_callback_form,
    utcnow,
)

__all__ = ["Call", "CallbackAttempt", "FakeTwilio", "WebhookResponse"]

T = TypeVar("T")
Params = dict[str, str | list[str]]
Result = tuple[int | None, dict[str, Any] | None]

OPS = frozenset({"create", "fetch", "update", "delete", "list"})
_LIST_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_ITEM_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"
)
_LIST_OPS = {"GET": "list", "POST": "create"}
_ITEM_OPS = {"GET": "fetch", "POST": "update", "DELETE": "delete"}
_DELIVERY_ERRORS = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}
_DEFAULT_SENDER = "+15005550006"  # Twilio's "valid From" magic test number
_MAX_BODY = 1600


@dataclass(frozen=True)
class Call:
    """One request the fake received; `status` is None when the client left before the answer."""

    method: str
    path: str
    op: str | None
    params: Params
    status: int | None
    at: float


@dataclass(frozen=True)
class CallbackAttempt:
    """One status-callback POST; `status` None and `error` set when the URL was unreachable."""

    sid: str
    url: str
    params: dict[str, str]
    status: int | None
    body: str
    error: str | None
    at: float


@dataclass(frozen=True)
class WebhookResponse:
    """What the service answered to an inbound-message webhook (TwiML or an error)."""

    url: str
    params: dict[str, str]
    status: int | None
    body: str
    error: str | None = None


@dataclass
class _Fault:
    status: int
    code: int
    message: str
    times: int
    then_apply: bool


@dataclass
class _Hang:
    seconds: float
    times: int
    then_apply: bool


@dataclass
class _State:
    """Everything the fake remembers; survives stop()/start(), cleared by reset()."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent_bodies: dict[str, str] = field(default_factory=dict)
    status_callback_urls: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    status_callbacks: list[CallbackAttempt] = field(default_factory=list)
    webhook_responses: dict[str, WebhookResponse] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    delivery_outcomes: dict[str, tuple[str, int]] = field(default_factory=dict)
    faults: dict[str, deque[_Fault]] = field(default_factory=dict)
    hangs: dict[str, deque[_Hang]] = field(default_factory=dict)
    internal_errors: list[str] = field(default_factory=list)


def _one(params: Params, key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _many(params: Params, key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _check_op(op: str) -> None:
    if op not in OPS:
        raise ValueError(f"op must be one of {sorted(OPS)}, not {op!r}")


class FakeTwilio:
    """In-process fake of api.twilio.com Messages, served on 127.0.0.1 from a background thread."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str = "fake-twilio-auth-token",
        *,
        messaging_service_sid: str | None = None,
        numbers: Iterable[str] | None = None,
        deliver_delay: float = 0.05,
        callback_timeout: float = 5.0,
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        if not ACCOUNT_SID_RE.match(self.account_sid):
            raise ValueError(f"account_sid must be 'AC' + 32 hex digits, not {self.account_sid!r}")
        self.auth_token = auth_token
        self.messaging_service_sid = messaging_service_sid
        # Senders owned by the account; when given, any other From answers 21606.
        self.numbers = list(numbers) if numbers is not None else None
        self.auto_deliver = True
        self.deliver_delay = deliver_delay
        self.callback_timeout = callback_timeout
        self.auto_opt_out = True  # inbound STOP/START keywords change `opted_out`, as Twilio does
        self._validator = RequestValidator(auth_token)
        self._api_keys: dict[str, str] = {}
        self._lock = threading.RLock()
        self._state = _State()
        self._stopping = threading.Event()
        self._tasks: set[asyncio.Task[Any]] = set()  # server-loop only
        self._chains: dict[str, asyncio.Task[Any]] = {}  # server-loop only
        app = Starlette(
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE", "PUT"])]
        )
        self._server = ThreadedASGIServer(app, port=port, name="fake-twilio")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port: int | None = None) -> FakeTwilio:
        """Serve on 127.0.0.1 (free port first, the same port again after `stop()`)."""
        self._stopping.clear()
        self._tasks = set()
        self._chains = {}
        self._server.start(port)
        return self

    def stop(self) -> None:
        """Stop serving; records survive, pending deliveries and callbacks are dropped."""
        self._stopping.set()
        self._server.stop()

    def refuse_connections(self, refuse: bool = True) -> None:
        """Simulate api.twilio.com being unreachable (connection refused) on the same port."""
        if refuse:
            self.stop()
        else:
            self.start()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the server accepts connections."""
        return self._server.running

    @property
    def port(self) -> int:
        """The TCP port (kept across stop()/start())."""
        return self._server.port

    @property
    def base_url(self) -> str:
        """'http://127.0.0.1:PORT': the value for `client.api.base_url`."""
        return self._server.base_url

    def add_api_key(self, sid: str | None = None, secret: str | None = None) -> tuple[str, str]:
        """Accept an API key pair (SK..., secret) as Basic-auth credentials too."""
        pair = (sid or new_sid("SK"), secret or uuid.uuid4().hex)
        with self._lock:
            self._api_keys[pair[0]] = pair[1]
        return pair

    def reset(self) -> None:
        """Forget messages, records, opt-outs and pending faults (for shared fixtures)."""
        with self._lock:
            self._state = _State()

    # -- records ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request received, in order (including rejected ones)."""
        with self._lock:
            return list(self._state.calls)

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """sid -> Message resource (copy), for every message ever created, deleted ones too."""
        with self._lock:
            return copy.deepcopy(self._state.messages)

    @property
    def deleted(self) -> set[str]:
        """Sids deleted through the API."""
        with self._lock:
            return set(self._state.deleted)

    @property
    def status_callbacks(self) -> list[CallbackAttempt]:
        """Every status-callback POST attempted, in order."""
        with self._lock:
            return list(self._state.status_callbacks)

    @property
    def webhook_responses(self) -> dict[str, WebhookResponse]:
        """Inbound sid -> what the webhook answered."""
        with self._lock:
            return dict(self._state.webhook_responses)

    @property
    def opted_out(self) -> set[str]:
        """Numbers that outbound messages are refused to (21610)."""
        with self._lock:
            return set(self._state.opted_out)

    @property
    def internal_errors(self) -> list[str]:
        """Bugs inside the fake itself (answered 500); a test seeing any should fail."""
        with self._lock:
            return list(self._state.internal_errors)

    def existing_sids(self, to: str | None = None) -> list[str]:
        """Sids not deleted, in creation order, optionally only those sent to `to`."""
        with self._lock:
            return [
                sid
                for sid, msg in self._state.messages.items()
                if sid not in self._state.deleted and (to is None or msg["to"] == to)
            ]

    def bodies_to(self, number: str, *, delivered_only: bool = False) -> list[str]:
        """Texts sent to `number`, in order, as the phone got them (before redaction/deletion)."""
        with self._lock:
            return [
                self._state.sent_bodies[sid]
                for sid, msg in self._state.messages.items()
                if msg["to"] == number
                and msg["direction"] != "inbound"
                and (not delivered_only or msg["status"] == "delivered")
            ]

    # -- scenario controls -------------------------------------------------------------------

    def opt_out(self, number: str) -> None:
        """Make sends to `number` fail with 21610, as after the recipient texted STOP."""
        with self._lock:
            self._state.opted_out.add(number)

    def opt_in(self, number: str) -> None:
        """Undo `opt_out` (the recipient texted START)."""
        with self._lock:
            self._state.opted_out.discard(number)

    def fail_delivery_to(
        self, number: str, status: str = "undelivered", error_code: int = 30003
    ) -> None:
        """Auto-delivery to `number` ends in `status` ('undelivered'/'failed') with `error_code`."""
        if status not in FAILED_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAILED_STATUSES)}")
        with self._lock:
            self._state.delivery_outcomes[number] = (status, error_code)

    def fail_next(
        self,
        op: str,
        status: int,
        code: int | None = None,
        message: str | None = None,
        times: int = 1,
        then_apply: bool = False,
    ) -> None:
        """Answer the next `times` `op` requests with a Twilio error (after auth).

        `code` defaults to 20000 + status (20429, 20500, 20503: Twilio's generic codes). With
        `then_apply` the operation still happens (e.g. a 500 although the SMS went out).
        """
        _check_op(op)
        fault = _Fault(
            status=status,
            code=code if code is not None else 20000 + status,
            message=message or HTTPStatus(status).phrase,
            times=times,
            then_apply=then_apply,
        )
        with self._lock:
            self._state.faults.setdefault(op, deque()).append(fault)

    def hang_next(self, op: str, seconds: float, times: int = 1, then_apply: bool = False) -> None:
        """Delay the next `times` `op` requests by `seconds`.

        then_apply=False: the request waits before anything happens; if the client gives up
        meanwhile it has no effect (never reached Twilio), otherwise it is served normally.
        then_apply=True: the operation happens at once and only the answer is late ("sent but
        no answer"): a client that times out has sent the SMS anyway.
        """
        _check_op(op)
        with self._lock:
            self._state.hangs.setdefault(op, deque()).append(_Hang(seconds, times, then_apply))

    def advance(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> None:
        """Set a message's status (from any thread) and fire its status callback, if any."""
        if status not in STATUSES:
            raise ValueError(f"unknown Message status {status!r}")
        with self._lock:
            if sid not in self._state.messages:
                raise KeyError(sid)
        self._transition(sid, status, error_code=error_code, error_message=error_message)

    def signed_form(
        self, url: str, params: dict[str, str]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Headers (with X-Twilio-Signature) and form for POSTing `params` to `url` as Twilio."""
        form = dict(params)
        headers = {
            "X-Twilio-Signature": self._validator.compute_signature(url, form),
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        return headers, form

    # -- inbound messages ---------------------------------------------------------------------

    def inbound(
        self,
        from_number: str,
        to_number: str,
        body: str,
        *,
        url: str,
        media_urls: Iterable[str] = (),
        timeout: float = 15.0,
    ) -> str:
        """Simulate an SMS to `to_number`: record it, POST the signed webhook, return its sid.

        Blocks the calling thread until the webhook answered; from a test whose service runs
        in the same event loop use `inbound_async`.
        """
        sid, form = self._receive(from_number, to_number, body, list(media_urls))
        headers, form = self.signed_form(url, form)
        try:
            with httpx.Client(timeout=timeout) as client:
                response = client.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            self._record_webhook(sid, WebhookResponse(url, form, None, "", _describe(exc)))
        else:
            self._record_webhook(
                sid, WebhookResponse(url, form, response.status_code, response.text)
            )
        return sid

    async def inbound_async(
        self,
        from_number: str,
        to_number: str,
        body: str,
        *,
        url: str,
        media_urls: Iterable[str] = (),
        timeout: float = 15.0,  # noqa: ASYNC109 - the webhook's HTTP timeout, as in `inbound`
    ) -> str:
        """`inbound` for async tests: the webhook is POSTed from the caller's event loop."""
        sid, form = self._receive(from_number, to_number, body, list(media_urls))
        headers, form = self.signed_form(url, form)
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            self._record_webhook(sid, WebhookResponse(url, form, None, "", _describe(exc)))
        else:
            self._record_webhook(
                sid, WebhookResponse(url, form, response.status_code, response.text)
            )
        return sid

    def _receive(
        self, from_number: str, to_number: str, body: str, media_urls: list[str]
    ) -> tuple[str, dict[str, str]]:
        sid = new_sid("MM" if media_urls else "SM")
        now = utcnow()
        resource = message_resource(
            account_sid=self.account_sid,
            sid=sid,
            to=to_number,
            from_=from_number,
            body=body,
            status="received",
            direction="inbound",
            messaging_service_sid=self.messaging_service_sid,
            num_media=len(media_urls),
            created=now,
        )
        resource["date_sent"] = rfc2822(now)
        keyword = body.strip().upper()
        with self._lock:
            self._state.messages[sid] = resource
            self._state.sent_bodies[sid] = body
            if self.auto_opt_out and keyword in OPT_OUT_KEYWORDS:
                self._state.opted_out.add(from_number)
            elif self.auto_opt_out and keyword in OPT_IN_KEYWORDS:
                self._state.opted_out.discard(from_number)
        return sid, inbound_webhook_form(resource, media_urls)

    def _record_webhook(self, sid: str, response: WebhookResponse) -> None:
        with self._lock:
            self._state.webhook_responses[sid] = response

    # -- waiting ----------------------------------------------------------------------------

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,
        *,
        interval: float = 0.01,
        what: str | None = None,
    ) -> T:
        """Poll `predicate` until truthy and return its value; AssertionError with context else.

        Blocks the thread: if the service under test runs in the test's own event loop, use
        `wait_for_async` so it keeps running.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(predicate, timeout, what))
            time.sleep(interval)

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as `wait_for`
        *,
        interval: float = 0.01,
        what: str | None = None,
    ) -> T:
        """`wait_for` that yields to the event loop between polls."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(predicate, timeout, what))
            await asyncio.sleep(interval)

    def _timeout_message(
        self, predicate: Callable[[], Any], timeout: float, what: str | None
    ) -> str:
        name = what or getattr(predicate, "__qualname__", repr(predicate))
        with self._lock:
            calls = [f"{c.method} {c.path} -> {c.status}" for c in self._state.calls[-8:]]
            statuses = {sid: m["status"] for sid, m in list(self._state.messages.items())[-8:]}
            callbacks = [
                f"{a.params.get('MessageStatus')} -> {a.status or a.error}"
                for a in self._state.status_callbacks[-8:]
            ]
            errors = self._state.internal_errors[-3:]
        return (
            f"FakeTwilio: timed out after {timeout}s waiting for {name}\n"
            f"  last calls: {calls}\n  message statuses: {statuses}\n"
            f"  last status callbacks: {callbacks}\n  fake internal errors: {errors}"
        )

    # -- HTTP side --------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Single ASGI entry point, so every request is recorded the same way."""
        method, path = request.method, request.url.path
        params: Params = {}
        op: str | None = None
        try:
            params = await self._read_params(request)
            op, status, payload = await self._serve(request, method, path, params)
        except Exception as exc:
            with self._lock:
                self._state.internal_errors.append(f"{method} {path}: {_describe(exc)}")
            status, payload = 500, error_body(500, 20500, "Internal Server Error")
        with self._lock:
            self._state.calls.append(Call(method, path, op, params, status, time.time()))
        if status is None:
            return Response(status_code=499)  # the client has gone; nobody reads this
        if payload is None:
            return Response(status_code=status)
        return JSONResponse(payload, status_code=status)

    @staticmethod
    async def _read_params(request: Request) -> Params:
        if request.method in ("POST", "PUT"):
            form = await request.form()
            items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        else:
            items = list(request.query_params.multi_items())
        params: Params = {}
        for key, value in items:
            previous = params.get(key)
            if previous is None:
                params[key] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                params[key] = [previous, value]
        return params

    def _authenticated(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if user == self.account_sid:
            return password == self.auth_token
        with self._lock:
            return user in self._api_keys and self._api_keys[user] == password

    async def _serve(
        self, request: Request, method: str, path: str, params: Params
    ) -> tuple[str | None, int | None, dict[str, Any] | None]:
        match = _LIST_PATH.match(path) or _ITEM_PATH.match(path)
        if not self._authenticated(request):
            return None, *_error(401, 20003, "Authenticate")
        if match is None:
            return None, *_error(404, 20404, f"The requested resource {path} was not found")
        op = (_ITEM_OPS if "sid" in match.groupdict() else _LIST_OPS).get(method)
        if op is None:
            return None, *_error(405, 20004, "Method not allowed")
        if match["account"] != self.account_sid:
            # Valid credentials for another account: Twilio refuses with 20003 as well.
            return op, *_error(401, 20003, "Authenticate")
        sid = match.groupdict().get("sid")
        hang = self._take(self._state.hangs, op)
        fault = self._take(self._state.faults, op)
        if hang and not hang.then_apply and not await self._linger(request, hang.seconds):
            return op, None, None  # the client gave up before Twilio did anything
        if fault is not None:
            if fault.then_apply:
                self._apply(op, sid, params, path)
            result = _error(fault.status, fault.code, fault.message)
        else:
            result = self._apply(op, sid, params, path)
        if hang and hang.then_apply and not await self._linger(request, hang.seconds):
            return op, None, None  # applied, but the answer never reached the client
        return op, *result

    def _take(self, queues: dict[str, deque[Any]], op: str) -> Any:
        with self._lock:
            queue = queues.get(op)
            if not queue:
                return None
            item = queue[0]
            item.times -= 1
            if item.times <= 0:
                queue.popleft()
            return item

    async def _linger(self, request: Request, seconds: float) -> bool:
        """Sleep up to `seconds`; False as soon as the client disconnects or the fake stops."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stopping.is_set() or await request.is_disconnected():
                return False
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return not await request.is_disconnected()

    def _apply(self, op: str, sid: str | None, params: Params, path: str) -> Result:
        if op == "create":
            return self._create(params)
        if op == "list":
            return self._list(params, path)
        assert sid is not None
        with self._lock:
            message = self._state.messages.get(sid)
            if message is None or sid in self._state.deleted:
                return _error(404, 20404, f"The requested resource {path} was not found")
            if op == "fetch":
                return 200, copy.deepcopy(message)
            if op == "update":
                return self._update(message, params)
            if message["status"] not in FINAL_STATUSES:
                # Twilio answers HTTP 409 Conflict with code 20009 here (the OpenAPI file lists
                # only the 204; clients and Twilio's error docs show 409 / 20009).
                return _error(409, 20009, _NOT_COMPLETED)
            self._state.deleted.add(sid)
            return 204, None

    def _create(self, params: Params) -> Result:
        to = _one(params, "To")
        from_ = _one(params, "From") or None
        service = _one(params, "MessagingServiceSid") or None
        body = _one(params, "Body") or ""
        media = _many(params, "MediaUrl")
        callback = _one(params, "StatusCallback") or None
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not is_valid_address(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if from_ is None and service is None:
            return _error(400, 21603, "A 'From' phone number is required.")
        if from_ is not None and self.numbers is not None and from_ not in self.numbers:
            return _error(
                400,
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if not body and not media and not _one(params, "ContentSid"):
            return _error(400, 21602, "Message body is required.")
        if len(body) > _MAX_BODY:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if callback is not None and urlparse(callback).scheme not in ("http", "https"):
            return _error(400, 21609, f"Invalid StatusCallback url: {callback}")
        sid = new_sid("MM" if media else "SM")
        resource = message_resource(
            account_sid=self.account_sid,
            sid=sid,
            to=to,
            from_=from_,
            body=body,
            # A Messaging Service first accepts the message, then picks a sender and queues it.
            status="accepted" if service else "queued",
            direction="outbound-api",
            messaging_service_sid=service,
            num_media=len(media),
            created=utcnow(),
        )
        with self._lock:
            if to in self._state.opted_out:
                return _error(400, 21610, "Attempt to send to unsubscribed recipient")
            self._state.messages[sid] = resource
            self._state.sent_bodies[sid] = body
            if callback:
                self._state.status_callback_urls[sid] = callback
            snapshot = copy.deepcopy(resource)
        if self.auto_deliver:
            self._spawn(self._auto_deliver(sid))
        return 201, snapshot

    def _update(self, message: dict[str, Any], params: Params) -> Result:
        """Redact (Body="") or cancel (Status=canceled), as POST .../Messages/{Sid}.json allows."""
        status, body = _one(params, "Status"), _one(params, "Body")
        if status is not None:
            if status != "canceled" or message["status"] != "scheduled":
                return _error(400, 30409, "This message cannot be canceled")
            message["status"] = "canceled"
        if body is not None:
            if body != "":
                # Approximation: Twilio only accepts an empty Body here (redaction).
                return _error(400, 20001, "Body can only be updated to an empty string")
            if message["status"] not in FINAL_STATUSES:
                return _error(409, 20009, _NOT_COMPLETED)
            message["body"] = ""
        message["date_updated"] = rfc2822(utcnow())
        return 200, copy.deepcopy(message)

    def _list(self, params: Params, path: str) -> Result:
        try:
            page_size = min(max(int(_one(params, "PageSize") or 50), 1), 1000)
            page = max(int(_one(params, "Page") or 0), 0)
        except ValueError:
            return _error(400, 20001, "Invalid paging parameter")
        filters = {
            key: value
            for key in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if (value := _one(params, key))
        }
        try:
            days = {key: _parse_day(value) for key, value in filters.items() if "Date" in key}
        except ValueError:
            return _error(400, 20001, "Invalid DateSent filter")
        with self._lock:
            matching = [
                copy.deepcopy(message)
                for sid, message in reversed(self._state.messages.items())  # newest first
                if sid not in self._state.deleted and _list_match(message, filters, days)
            ]
        start = page * page_size
        chunk = matching[start : start + page_size]

        def page_uri(number: int, token: str | None = None) -> str:
            query: list[tuple[str, str | int]] = [*filters.items()]
            query += [("PageSize", page_size), ("Page", number)]
            if token:
                query.append(("PageToken", token))
            return f"{path}?{urlencode(query)}"

        has_next = start + page_size < len(matching)
        return 200, {
            "end": start + len(chunk) - 1 if chunk else 0,
            "first_page_uri": page_uri(0),
            "messages": chunk,
            "next_page_uri": page_uri(page + 1, "PA" + chunk[-1]["sid"][2:]) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }

    # -- lifecycle and callbacks ------------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        """Start a background task on the server loop (caller is on that loop)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _auto_deliver(self, sid: str) -> None:
        await asyncio.sleep(self.deliver_delay)
        with self._lock:
            message = self._state.messages[sid]
            final, code = self._state.delivery_outcomes.get(message["to"], ("delivered", None))
            path = ["accepted", "queued", "sent", final]
            current = message["status"]
        if current not in path[:-1]:
            return  # a test moved it on by hand
        for new in path[path.index(current) + 1 :]:
            if not self._transition(sid, new, expected=current, error_code=code):
                return
            current = new
            await asyncio.sleep(0)

    def _transition(
        self,
        sid: str,
        status: str,
        *,
        expected: str | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Change status as Twilio would (sender, date_sent, error fields) and queue a callback."""
        now = rfc2822(utcnow())
        with self._lock:
            message = self._state.messages[sid]
            if sid in self._state.deleted or (expected and message["status"] != expected):
                return False
            message["status"] = status
            message["date_updated"] = now
            outbound = message["direction"] != "inbound"
            if outbound and status not in ("accepted", "scheduled", "canceled"):
                if message["from"] is None:  # the Messaging Service picked a sender
                    message["from"] = self.numbers[0] if self.numbers else _DEFAULT_SENDER
                if status not in ("queued", "sending") and message["date_sent"] is None:
                    message["date_sent"] = now
                    message["price_unit"] = "USD"
            if status in FAILED_STATUSES:
                code = error_code or 30008
                message["error_code"] = code
                message["error_message"] = error_message or _DELIVERY_ERRORS.get(
                    code, "Unknown error"
                )
            url = self._state.status_callback_urls.get(sid)
            form = status_callback_form(message) if url and outbound else None
        if url and form is not None:
            self._queue_status_callback(sid, url, form)
        return True

    def _queue_status_callback(self, sid: str, url: str, form: dict[str, str]) -> None:
        """Send callbacks for one message in order, from the server loop, whoever calls."""
        loop = self._server.loop
        if loop is None:
            self._record_callback(sid, url, form, None, "", "fake not running")
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._chain_callback(sid, url, form)
        else:
            with contextlib.suppress(RuntimeError):  # loop closing: callback dropped
                loop.call_soon_threadsafe(self._chain_callback, sid, url, form)

    def _chain_callback(self, sid: str, url: str, form: dict[str, str]) -> None:
        previous = self._chains.get(sid)
        task = asyncio.get_running_loop().create_task(self._post_callback(previous, sid, url, form))
        self._chains[sid] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_callback(
        self, previous: asyncio.Task[Any] | None, sid: str, url: str, form: dict[str, str]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        headers, form = self.signed_form(url, form)
        try:
            async with httpx.AsyncClient(timeout=self.callback_timeout) as client:
                response = await client.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            self._record_callback(sid, url, form, None, "", _describe(exc))
        else:
            self._record_callback(sid, url, form, response.status_code, response.text, None)

    def _record_callback(
        self,
        sid: str,
        url: str,
        form: dict[str, str],
        status: int | None,
        body: str,
        error: str | None,
    ) -> None:
        attempt = CallbackAttempt(sid, url, form, status, body, error, time.time())
        with self._lock:
            self._state.status_callbacks.append(attempt)


_NOT_COMPLETED = "Cannot delete message because delivery has not been completed"


def _error(status: int, code: int, message: str) -> Result:
    return status, error_body(status, code, message)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return parse_rfc2822(value).date()


def _list_match(message: dict[str, Any], filters: dict[str, str], days: dict[str, date]) -> bool:
    if "To" in filters and message["to"] != filters["To"]:
        return False
    if "From" in filters and message["from"] != filters["From"]:
        return False
    if not days:
        return True
    if message["date_sent"] is None:
        return False
    sent: date = parse_rfc2822(message["date_sent"]).date()
    checks: dict[str, Callable[[date], bool]] = {
        "DateSent": lambda day: sent == day,
        "DateSent<": lambda day: sent <= day,
        "DateSent>": lambda day: sent >= day,
    }
    return all(checks[key](day) for key, day in days.items())
