"""A fake Telegram Bot API server for end-to-end tests.

It runs a real HTTP server (Starlette under uvicorn, 127.0.0.1 only, the harness shared with the
Twilio fake) in a background thread with its own event loop, so the same fake serves a bot started as a subprocess by a sync test
and a python-telegram-bot ``Application`` running inside an async test. State (chats, visible
messages, queued updates, recorded calls, injected faults) is guarded by one lock because the
test thread and the server thread both touch it.

Typical use::

    with FakeTelegram() as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        fake.user_sends(42, "/start")
        fake.wait_for(lambda f: f.sent_texts(42))
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .harness import MALFORMED_HTML, Call, FakeServer, Fault, poll, poll_async
from .telegram_objects import ApiError, JSONDict, coerce_params, error_payload, int_param
from .telegram_state import CANONICAL, BotApiState, Pending

__all__ = ["Call", "FakeTelegram"]

_TRUNCATED_BODY = b'{"ok":true,"result":{"message_id":4'


class FakeTelegram(FakeServer, BotApiState):
    """In-process stand-in for api.telegram.org; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "followup_test_bot",
        *,
        enforce_limits: bool = False,
        bot_first_name: str = "Followup Test",
    ) -> None:
        FakeServer.__init__(self, name="FakeTelegram", methods=["GET", "POST"])
        self._waiters: set[asyncio.Future[None]] = set()  # touched only in the server loop
        BotApiState.__init__(
            self, token, bot_username, enforce_limits=enforce_limits, bot_first_name=bot_first_name
        )

    def reset(self) -> None:
        """Forget all chats, updates, calls, faults and settings (the server keeps running)."""
        with self._lock:
            BotApiState.reset(self)
            self._forget_records()

    def _on_stop(self) -> None:
        self._notify()  # long polls see `_stopping` and answer at once

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``/``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"{self.root_url}/bot"

    # ------------------------------------------------------------------ queueing updates

    def queue_update(self, update: JSONDict) -> int:
        """Queue any update dict for getUpdates and wake a waiting long poll."""
        with self._lock:
            self._queue.append(Pending(copy.deepcopy(update)))
        self._notify()
        return int(update["update_id"])

    def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "A",
        language_code: str | None = None,
    ) -> int:
        """The user writes ``text``; returns the queued update_id."""
        update = self.make_message_update(
            chat_id, text, user_id=user_id, first_name=first_name, language_code=language_code
        )
        return self.queue_update(update)

    def user_edits(self, chat_id: int, message_id: int, text: str) -> int:
        """The user edits one of her messages; returns the queued update_id."""
        return self.queue_update(self.make_edit_update(chat_id, message_id, text))

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        strict: bool = True,
    ) -> int:
        """The user presses an inline button; returns the queued update_id."""
        update = self.make_callback_update(
            chat_id, message_id, data, user_id=user_id, strict=strict
        )
        return self.queue_update(update)

    def duplicate_update(self, update_id: int) -> int:
        """Deliver an already made update once more, same update_id (idempotency tests)."""
        with self._lock:
            if update_id not in self._update_log:
                raise KeyError(f"unknown update_id {update_id}")
            self._queue.append(Pending(copy.deepcopy(self._update_log[update_id]), True))
        self._notify()
        return update_id

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` get this error and have no effect."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if status == 429 and description is None:
            description = f"Too Many Requests: retry after {retry_after}"
        fault = Fault("fail", times, status, message=description, retry_after=retry_after)
        self._add_fault_to(method, fault)

    def hang_next(
        self, method: str, seconds: float, times: int = 1, *, then_apply: bool = False
    ) -> None:
        """Delay the answer by ``seconds`` (a lost request).

        Without ``then_apply`` nothing happens and a client still waiting gets 502; with it the
        side effect happens at once and the normal answer comes late ("sent but no answer").
        """
        self._add_fault_to(method, Fault("hang", times, seconds=seconds, then_apply=then_apply))

    def malformed_next(self, method: str, times: int = 1, *, truncated: bool = False) -> None:
        """Answer 200 with an HTML body (a broken proxy) or, with ``truncated``, JSON cut off
        half-way (a dropped connection); the call has no effect."""
        self._add_fault_to(method, Fault("malformed", times, truncated=truncated))

    def faults_pending(self, method: str) -> int:
        """Injected faults of ``method`` not yet taken by a call."""
        return super().faults_pending(CANONICAL[method.lower()])

    def _add_fault_to(self, method: str, fault: Fault) -> None:
        """Queue ``fault`` for a Bot API method named in any letter case."""
        name = CANONICAL.get(method.lower())
        if name is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if fault.times > 0:
            self._add_fault(name, fault)

    # ------------------------------------------------------------------ inspection

    def visible(self, chat_id: int) -> list[JSONDict]:
        """Messages still visible in the chat, both directions, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(list(self._visible.get(chat_id, {}).values()))

    def sent_texts(self, chat_id: int) -> list[str]:
        """Texts of every message the bot sent to the chat, as sent (also deleted/edited ones)."""
        with self._lock:
            return [m.get("text", "") for m in self._sent.get(chat_id, [])]

    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by an offset."""
        with self._lock:
            return [copy.deepcopy(p.update) for p in self._queue]

    def webhook_info(self) -> JSONDict | None:
        """The current webhook settings incl. secret_token, or None when polling."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    def max_rate(self, window: float = 1.0) -> int:
        """Most sendMessage attempts (accepted or not) in any sliding window of ``window`` s."""
        return _max_in_window([c.at for c in self.calls_to("sendMessage")], window)

    def max_rate_per_chat(self, window: float = 1.0) -> int:
        """Like :meth:`max_rate` but the worst single chat."""
        per_chat: dict[Any, list[float]] = {}
        for call in self.calls_to("sendMessage"):
            per_chat.setdefault(call.params.get("chat_id"), []).append(call.at)
        return max((_max_in_window(t, window) for t in per_chat.values()), default=0)

    def wait_for(self, predicate: Callable[[FakeTelegram], Any], timeout: float = 5.0) -> None:
        """Block until ``predicate(fake)`` is truthy; for sync tests only (blocks the thread)."""
        errors: list[Exception | None] = [None]
        if not poll(lambda: self._holds(predicate, errors), timeout):
            raise AssertionError(self._timeout_message(timeout, errors[-1]))

    async def wait_for_async(
        self,
        predicate: Callable[[FakeTelegram], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for
    ) -> None:
        """Like :meth:`wait_for` but yields to the event loop, so an in-process bot can run."""
        errors: list[Exception | None] = [None]
        if not await poll_async(lambda: self._holds(predicate, errors), timeout):
            raise AssertionError(self._timeout_message(timeout, errors[-1]))

    def _holds(
        self, predicate: Callable[[FakeTelegram], Any], errors: list[Exception | None]
    ) -> bool:
        """``predicate(self)`` as a bool; what it raised (or None) is appended to ``errors``."""
        try:
            held, error = bool(predicate(self)), None
        except Exception as exc:  # e.g. IndexError before the first message arrived
            held, error = False, exc
        errors.append(error)
        return held

    def _timeout_message(self, timeout: float, error: Exception | None) -> str:
        with self._lock:
            recent = [f"{c.op}:{c.status}" for c in self._calls[-10:]]
            chats = {
                cid: [m.get("text") for m in msgs.values()] for cid, msgs in self._visible.items()
            }
        text = f"condition not met within {timeout}s; last calls {recent}; visible {chats}"
        return f"{text}; predicate raised {error!r}" if error else text

    # ------------------------------------------------------------------ HTTP layer and long polling

    async def _endpoint(self, request: Request) -> Response:
        parts = request.url.path.split("/")
        if len(parts) != 3 or not parts[1].startswith("bot"):
            return JSONResponse(error_payload(404, "Not Found"), status_code=404)
        token, raw_method = parts[1][3:], parts[2]
        try:
            params, unreadable = await _read_params(request), False
        except ValueError:
            params, unreadable = {}, True
        method = CANONICAL.get(raw_method.lower())
        fault: Fault | None = None
        with self._lock:
            call = self._record(
                Call(request.method, request.url.path, method or raw_method, params, self.now())
            )
            if token != self.token:
                return _finish(call, 401, error_payload(401, "Unauthorized"))
            if unreadable:
                return _finish(call, 400, error_payload(400, "Bad Request: can't parse JSON"))
            if method is None:
                return _finish(call, 404, error_payload(404, "Not Found: method not found"))
            fault = self._take_fault(method)
            if fault is None and method != "getUpdates":
                return _finish(call, *self._apply(method, params))
            if fault is not None and fault.kind == "fail":
                return _finish(call, fault.status, _fault_payload(fault))
            if fault is not None and fault.kind == "malformed":
                call.status = 200
                if fault.truncated:
                    return Response(_TRUNCATED_BODY, 200, media_type="application/json")
                return Response(MALFORMED_HTML, 200, media_type="text/html")
        if fault is None:  # getUpdates may long-poll: outside the lock
            return _finish(call, *await self._perform(method, params))
        outcome = await self._perform(method, params) if fault.then_apply else None
        await self._linger(fault.seconds)  # cut short when the fake stops
        return _finish(call, *(outcome or (502, error_payload(502, "Bad Gateway"))))

    async def _perform(self, method: str, params: JSONDict) -> tuple[int, JSONDict]:
        if method == "getUpdates":
            try:
                return 200, {"ok": True, "result": await self._get_updates(params)}
            except ApiError as exc:
                return exc.status, exc.payload()
        with self._lock:
            return self._apply(method, params)

    def _notify(self) -> None:
        """Wake long polls in the server loop from any thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_waiters)

    def _wake_waiters(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = int_param(params, "offset", required=False)
        limit = min(max(int_param(params, "limit", required=False) or 100, 1), 100)
        timeout = float(params.get("timeout") or 0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with self._lock:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = params["allowed_updates"] or None
            self._poll_generation += 1
            generation = self._poll_generation
            self._confirm(offset)
            batch = self._take(limit)
        self._wake_waiters()  # an older long poll must end with 409
        while not batch and loop.time() < deadline and not self._stopping.is_set():
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait([waiter], timeout=deadline - loop.time())
            finally:
                self._waiters.discard(waiter)
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                batch = self._take(limit)
        return batch


async def _read_params(request: Request) -> JSONDict:
    """Query string, then JSON or form body (form values decoded like Telegram does)."""
    params = coerce_params(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        body = await request.body()
        data = json.loads(body) if body.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        params.update(data)
    elif "form" in content_type:
        form = await request.form()
        params.update(coerce_params({k: v for k, v in form.items() if isinstance(v, str)}))
    return params


def _finish(call: Call, status: int, payload: JSONDict) -> Response:
    call.status = status
    return JSONResponse(payload, status_code=status)


def _fault_payload(fault: Fault) -> JSONDict:
    parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
    return error_payload(fault.status, fault.message, parameters)


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
