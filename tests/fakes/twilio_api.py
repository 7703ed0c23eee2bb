"""A fake of Twilio's REST API (2010-04-01 Messages) for end-to-end tests.

It answers as Twilio's OpenAPI description says (paths, status codes, `api.v2010.account.message`
fields), checks HTTP Basic auth, validates like Twilio (21604, 21602, 21211, 21603, 21610, ...),
walks messages through queued -> sent -> delivered, POSTs signed status callbacks and inbound
webhooks, and injects faults (errors, hangs, "sent but no answer", refused connections).

Point twilio-python at it with `client.api.base_url = fake.base_url`; a service in a subprocess
gets the same URL through its configuration. All state is behind locks, so tests may read
`calls`, `messages`, ... from any thread while the server thread changes them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from itertools import pairwise
from typing import Any, TypeVar

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from twilio.request_validator import RequestValidator

from .harness import MALFORMED_HTML, Call, FakeServer, Fault, poll, poll_async
from .twilio_resources import (
    ACCOUNT_SID_RE,
    API_VERSION,
    FAILED_STATUSES,
    STATUSES,
    error_body,
    new_sid,
)
from .twilio_store import DEFAULT_SENDER, MessageStore, Params, Result, error, not_found

__all__ = ["Call", "CallbackAttempt", "FakeTwilio", "WebhookResponse"]

T = TypeVar("T")

OPS = frozenset({"create", "fetch", "update", "delete", "list"})
_LIST_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_ITEM_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"
)
_LIST_OPS = {"GET": "list", "POST": "create"}
_ITEM_OPS = {"GET": "fetch", "POST": "update", "DELETE": "delete"}


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


#: What a dropped connection hands the client instead of Twilio's JSON.
_TRUNCATED_BODY = b'{"sid": "SM0123456789abcdef0123456789abcdef", "status": "que'


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _check_op(op: str) -> None:
    if op not in OPS:
        raise ValueError(f"op must be one of {sorted(OPS)}, not {op!r}")


class FakeTwilio(FakeServer):
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
        super().__init__(name="fake-twilio", methods=["GET", "POST", "DELETE", "PUT"], port=port)
        self.account_sid = account_sid or new_sid("AC")
        if not ACCOUNT_SID_RE.match(self.account_sid):
            raise ValueError(f"account_sid must be 'AC' + 32 hex digits, not {self.account_sid!r}")
        self.auth_token = auth_token
        self.messaging_service_sid = messaging_service_sid  # put into inbound webhooks
        # Senders owned by the account: when set, any other From answers 21606.
        self.numbers = list(numbers) if numbers is not None else None
        self.auto_deliver = True
        self.deliver_delay = deliver_delay
        self.callback_timeout = callback_timeout
        self.auto_opt_out = True  # inbound STOP/START change opt-out, as Twilio's default does
        self._validator = RequestValidator(auth_token)
        self._api_keys: dict[str, str] = {}
        self._store = MessageStore(self.account_sid)
        self._callbacks: list[CallbackAttempt] = []
        self._webhooks: dict[str, WebhookResponse] = {}
        self._internal_errors: list[str] = []
        self._proxies: list[tuple[str, str]] = []
        self._tasks: set[asyncio.Task[Any]] = set()  # server-loop only
        self._chains: dict[str, asyncio.Task[Any]] = {}  # server-loop only

    # -- lifecycle (start, stop, refuse_connections: the harness; stopping drops pending
    # deliveries and callbacks, records survive) ---------------------------------------------------

    def _on_start(self) -> None:
        self._tasks = set()
        self._chains = {}

    @property
    def base_url(self) -> str:
        """'http://127.0.0.1:PORT': the value for `client.api.base_url`."""
        return self.root_url

    def add_api_key(self, sid: str | None = None, secret: str | None = None) -> tuple[str, str]:
        """Also accept an API key pair (SK..., secret) as Basic-auth credentials."""
        pair = (sid or new_sid("SK"), secret or uuid.uuid4().hex)
        with self._lock:
            self._api_keys[pair[0]] = pair[1]
        return pair

    def reset(self) -> None:
        """Forget messages, records, opt-outs and pending faults (for shared fixtures)."""
        with self._lock:
            self._store = MessageStore(self.account_sid)
            self._callbacks, self._webhooks, self._internal_errors = [], {}, []
            self._forget_records()

    # -- records --------------------------------------------------------------------------------

    @property
    def messages(self) -> dict[str, dict[str, Any]]:
        """sid -> Message resource (a copy) for every message ever created, deleted ones too."""
        return self._store.snapshot()

    @property
    def deleted(self) -> set[str]:
        """Sids deleted through the API."""
        return self._store.deleted()

    @property
    def status_callbacks(self) -> list[CallbackAttempt]:
        """Every status-callback POST attempted, in order of completion."""
        with self._lock:
            return list(self._callbacks)

    @property
    def webhook_responses(self) -> dict[str, WebhookResponse]:
        """Inbound sid -> what the webhook answered."""
        with self._lock:
            return dict(self._webhooks)

    @property
    def opted_out(self) -> set[str]:
        """Numbers that sends are refused to (21610)."""
        return self._store.opted_out()

    @property
    def internal_errors(self) -> list[str]:
        """Bugs inside the fake itself (answered 500); a test seeing any should fail."""
        with self._lock:
            return list(self._internal_errors)

    def existing_sids(self, to: str | None = None) -> list[str]:
        """Sids not deleted, in creation order, optionally only those sent to `to`."""
        return self._store.existing_sids(to)

    def bodies_to(self, number: str, *, delivered_only: bool = False) -> list[str]:
        """Texts sent to `number`, in order, as the phone got them (before redaction/deletion)."""
        return self._store.bodies_to(number, delivered_only)

    # -- scenario controls ----------------------------------------------------------------------

    def opt_out(self, number: str) -> None:
        """Make sends to `number` fail with 21610, as after the recipient texted STOP."""
        self._store.set_opted_out(number, True)

    def opt_in(self, number: str) -> None:
        """Undo `opt_out` (the recipient texted START)."""
        self._store.set_opted_out(number, False)

    def fail_delivery_to(
        self, number: str, status: str = "undelivered", error_code: int = 30003
    ) -> None:
        """Auto-delivery to `number` ends in `status` ('undelivered'/'failed') with `error_code`."""
        if status not in FAILED_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAILED_STATUSES)}")
        self._store.set_outcome(number, status, error_code)

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
        fault = Fault(
            "fail",
            times,
            status,
            code=code if code is not None else 20000 + status,
            message=message or HTTPStatus(status).phrase,
            then_apply=then_apply,
        )
        self._add_fault(op, fault)

    def hang_next(self, op: str, seconds: float, times: int = 1, then_apply: bool = False) -> None:
        """Delay the next `times` `op` requests by `seconds`.

        then_apply=False: the request waits before anything happens; if the client gives up
        meanwhile it has no effect (it never reached Twilio), otherwise it is served late.
        then_apply=True: the operation happens at once and only the answer is late ("sent but
        no answer"): a client that times out has sent the SMS anyway.
        """
        _check_op(op)
        self._add_fault(op, Fault("hang", times, seconds=seconds, then_apply=then_apply))

    def malformed_next(self, op: str, times: int = 1, *, truncated: bool = False) -> None:
        """Answer the next `times` `op` requests with a success status and a body that is not
        Twilio's JSON (an HTML page, or with `truncated` JSON cut off); nothing happens."""
        _check_op(op)
        self._add_fault(op, Fault("malformed", times, truncated=truncated))

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
        if not self._store.has(sid):
            raise KeyError(sid)
        self._transition(sid, status, error_code=error_code, error_message=error_message)

    def behind_proxy(self, public_base: str, local_base: str) -> None:
        """POST webhooks and callbacks for URLs under `public_base` to `local_base` instead.

        The signature stays computed for the public URL, as when a TLS-terminating reverse
        proxy forwards https://public/... to the service on http://127.0.0.1:PORT/...
        """
        with self._lock:
            self._proxies.append((public_base.rstrip("/"), local_base.rstrip("/")))

    def target_of(self, url: str) -> str:
        """Where a request for `url` actually goes (see `behind_proxy`)."""
        with self._lock:
            proxies = list(self._proxies)
        for public, local in proxies:
            if url == public or url.startswith(public + "/"):
                return local + url[len(public) :]
        return url

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

    # -- inbound messages -----------------------------------------------------------------------

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
        in the test's own event loop, use `inbound_async`.
        """
        sid, headers, form = self._prepare_inbound(from_number, to_number, body, media_urls, url)
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as client:
                response = client.post(self.target_of(url), data=form, headers=headers)
        except httpx.HTTPError as exc:
            self._record_webhook(sid, WebhookResponse(url, form, None, "", _describe(exc)))
        else:
            answer = WebhookResponse(url, form, response.status_code, response.text)
            self._record_webhook(sid, answer)
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
        sid, headers, form = self._prepare_inbound(from_number, to_number, body, media_urls, url)
        try:
            async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
                response = await client.post(self.target_of(url), data=form, headers=headers)
        except httpx.HTTPError as exc:
            self._record_webhook(sid, WebhookResponse(url, form, None, "", _describe(exc)))
        else:
            answer = WebhookResponse(url, form, response.status_code, response.text)
            self._record_webhook(sid, answer)
        return sid

    def _prepare_inbound(
        self, from_number: str, to_number: str, body: str, media_urls: Iterable[str], url: str
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        sid, form = self._store.receive(
            from_number,
            to_number,
            body,
            list(media_urls),
            messaging_service_sid=self.messaging_service_sid,
            auto_opt_out=self.auto_opt_out,
        )
        headers, form = self.signed_form(url, form)
        return sid, headers, form

    def _record_webhook(self, sid: str, response: WebhookResponse) -> None:
        with self._lock:
            self._webhooks[sid] = response

    # -- waiting --------------------------------------------------------------------------------

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
        `wait_for_async` so that it keeps running.
        """
        value = poll(predicate, timeout, interval)
        if value is None:
            raise AssertionError(self._timeout_message(predicate, timeout, what))
        return value

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as `wait_for`
        *,
        interval: float = 0.01,
        what: str | None = None,
    ) -> T:
        """`wait_for` that yields to the event loop between polls."""
        value = await poll_async(predicate, timeout, interval)
        if value is None:
            raise AssertionError(self._timeout_message(predicate, timeout, what))
        return value

    def _timeout_message(
        self, predicate: Callable[[], Any], timeout: float, what: str | None
    ) -> str:
        name = what or getattr(predicate, "__qualname__", repr(predicate))
        with self._lock:
            calls = [f"{c.method} {c.path} -> {c.status}" for c in self._calls[-8:]]
            callbacks = [
                f"{a.params.get('MessageStatus')} -> {a.status or a.error}"
                for a in self._callbacks[-8:]
            ]
            errors = self._internal_errors[-3:]
        return (
            f"FakeTwilio: timed out after {timeout}s waiting for {name}\n"
            f"  last calls: {calls}\n  message statuses: {self._store.statuses(8)}\n"
            f"  last status callbacks: {callbacks}\n  fake internal errors: {errors}"
        )

    # -- HTTP side ------------------------------------------------------------------------------

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
                self._internal_errors.append(f"{method} {path}: {_describe(exc)}")
            status, payload = 500, error_body(500, 20500, "Internal Server Error")
        self._record(Call(method, path, op, params, time.time(), status))
        if status is None:
            return Response(status_code=499)  # the client has gone; nobody reads this
        if isinstance(payload, bytes):
            kind = "application/json" if payload.startswith(b"{") else "text/html"
            return Response(payload, status_code=status, media_type=kind)
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
            return self._api_keys.get(user) == password

    async def _serve(
        self, request: Request, method: str, path: str, params: Params
    ) -> tuple[str | None, int | None, dict[str, Any] | bytes | None]:
        match = _LIST_PATH.match(path) or _ITEM_PATH.match(path)
        if not self._authenticated(request):
            return None, *error(401, 20003, "Authenticate")
        if match is None:
            return None, *not_found(path)
        sid = match.groupdict().get("sid")
        op = (_LIST_OPS if sid is None else _ITEM_OPS).get(method)
        if op is None:
            return None, *error(405, 20004, "Method not allowed")
        if match["account"] != self.account_sid:
            # Valid credentials used on another account's path: Twilio refuses with 20003 too.
            return op, *error(401, 20003, "Authenticate")
        malformed = self._take_fault(op, "malformed")
        if malformed is not None:
            body = _TRUNCATED_BODY if malformed.truncated else MALFORMED_HTML
            return op, 201 if op == "create" else 200, body
        hang, fault = self._take_fault(op, "hang"), self._take_fault(op, "fail")
        if hang and not hang.then_apply and not await self._linger(hang.seconds, request):
            return op, None, None  # the client gave up before Twilio did anything
        if fault is not None:
            if fault.then_apply:
                self._apply(op, sid, params, path)
            assert fault.code is not None and fault.message is not None  # fail_next sets both
            result = error(fault.status, fault.code, fault.message)
        else:
            result = self._apply(op, sid, params, path)
        if hang and hang.then_apply and not await self._linger(hang.seconds, request):
            return op, None, None  # applied, but the answer never reached the client
        return op, *result

    def _apply(self, op: str, sid: str | None, params: Params, path: str) -> Result:
        if op == "create":
            result, created = self._store.create(params, numbers=self.numbers)
            if created and self.auto_deliver:
                self._spawn(self._auto_deliver(created))
            return result
        if op == "list":
            return self._store.list_page(params, path)
        assert sid is not None
        if op == "fetch":
            return self._store.fetch(sid, path)
        if op == "update":
            return self._store.update(sid, params, path)
        return self._store.delete(sid, path)

    # -- delivery and status callbacks ------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a background task on the server loop (the caller runs on that loop)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _auto_deliver(self, sid: str) -> None:
        await asyncio.sleep(self.deliver_delay)
        path = self._store.delivery_path(sid)  # [] once a test moved the message on by hand
        for current, new in pairwise(path):
            if not self._transition(sid, new, expected=current):
                return
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
        changed, callback = self._store.transition(
            sid,
            status,
            expected=expected,
            error_code=error_code,
            error_message=error_message,
            sender=self.numbers[0] if self.numbers else DEFAULT_SENDER,
        )
        if callback is not None:
            self._queue_status_callback(sid, *callback)
        return changed

    def _queue_status_callback(self, sid: str, url: str, form: dict[str, str]) -> None:
        """Send one message's callbacks in order, from the server loop, whoever calls."""
        loop = self._loop
        if loop is None:
            self._record_callback(CallbackAttempt(sid, url, form, None, "", "fake stopped", 0.0))
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._chain_callback(sid, url, form)
        else:
            with contextlib.suppress(RuntimeError):  # loop closing: the callback is dropped
                loop.call_soon_threadsafe(self._chain_callback, sid, url, form)

    def _chain_callback(self, sid: str, url: str, form: dict[str, str]) -> None:
        previous = self._chains.get(sid)
        self._chains[sid] = self._spawn(self._post_callback(previous, sid, url, form))

    async def _post_callback(
        self, previous: asyncio.Task[Any] | None, sid: str, url: str, form: dict[str, str]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        headers, form = self.signed_form(url, form)
        try:
            async with httpx.AsyncClient(timeout=self.callback_timeout, trust_env=False) as client:
                response = await client.post(self.target_of(url), data=form, headers=headers)
        except httpx.HTTPError as exc:
            attempt = CallbackAttempt(sid, url, form, None, "", _describe(exc), time.time())
        else:
            attempt = CallbackAttempt(
                sid, url, form, response.status_code, response.text, None, time.time()
            )
        self._record_callback(attempt)

    def _record_callback(self, attempt: CallbackAttempt) -> None:
        with self._lock:
            self._callbacks.append(attempt)
