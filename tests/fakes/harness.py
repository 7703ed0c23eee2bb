"""One server harness for the API fakes: serve on 127.0.0.1, record every call, inject faults.

Invariant: a fake's state (calls, faults and its own records) is read and changed only under
``self._lock``, from the test thread and the server thread alike; an injected fault is taken by
exactly as many requests as it says, and a stopped fake keeps its records.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .threaded_asgi import HOST, ThreadedASGIServer

__all__ = ["MALFORMED_HTML", "Call", "FakeServer", "Fault", "poll", "poll_async"]

T = TypeVar("T")

#: What a broken proxy hands the client instead of the API's JSON.
MALFORMED_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@dataclass
class Call:
    """One request as a fake saw it.

    ``op`` is the API operation (a Bot API method; Twilio's create, fetch, update, delete or
    list), None when the request named none. ``status`` is 0 while no answer was given yet and
    None when the client left before the answer.
    """

    method: str
    path: str
    op: str | None
    params: dict[str, Any]
    at: float
    status: int | None = 0


@dataclass
class Fault:
    """An injected misbehaviour for the next ``times`` requests of one operation.

    ``fail`` answers ``status`` with the API's error (``code``, ``message``, ``retry_after``);
    ``hang`` answers ``seconds`` late, and with ``then_apply`` the side effect happens anyway
    (for ``fail`` too: an error although the operation happened); ``malformed`` answers a
    success status with a body that is not the API's JSON (HTML, or ``truncated`` JSON).
    """

    kind: Literal["fail", "hang", "malformed"]
    times: int = 1
    status: int = 200
    code: int | None = None
    message: str | None = None
    retry_after: int | None = None
    seconds: float = 0.0
    then_apply: bool = False
    truncated: bool = False


def poll(check: Callable[[], T], timeout: float, interval: float = 0.01) -> T | None:
    """``check()`` until it is truthy (its value) or ``timeout`` seconds passed (None)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
    return value


async def poll_async(
    check: Callable[[], T],
    timeout: float,  # noqa: ASYNC109 - the same signature as `poll`
    interval: float = 0.01,
) -> T | None:
    """`poll` that yields to the event loop between checks, so a service in it keeps running."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(interval)
    return value


class FakeServer:
    """An API fake served by uvicorn in a daemon thread; subclasses answer in `_endpoint`.

    ``refuse_connections`` makes the API unreachable and later serves again on the same port,
    as a network outage would; calls, faults and the fake's own state survive it.
    """

    def __init__(self, *, name: str, methods: Sequence[str], port: int = 0) -> None:
        self._name = name
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._stopping = threading.Event()
        self._refusing = False
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=list(methods))])
        self._server = ThreadedASGIServer(app, port=port, name=name)

    async def _endpoint(self, request: Request) -> Response:
        """Answer one request (every path and method arrives here) and record it as a `Call`."""
        raise NotImplementedError

    def _on_start(self) -> None:
        """Called before the server starts serving (from `start`)."""

    def _on_stop(self) -> None:
        """Called once `_stopping` is set, before the server thread is stopped: wake waiters."""

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, port: int | None = None) -> Self:
        """Serve on 127.0.0.1 (a free port first, the same port again after a stop)."""
        self._stopping.clear()
        self._refusing = False
        self._on_start()
        self._server.start(port)
        return self

    def stop(self) -> None:
        """Stop serving: end long polls and hangs, answer or drop requests in flight. Idempotent."""
        self._refusing = False
        self._halt()

    def _halt(self) -> None:
        self._stopping.set()
        self._on_stop()
        self._server.stop()

    def refuse_connections(self, refuse: bool = True) -> None:
        """Make the API unreachable (connection refused), then serve again on the same port."""
        if refuse:
            if self._server.running:
                self._halt()
                self._refusing = True
        elif self._refusing:
            self.start()

    def __enter__(self) -> Self:
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
        """The TCP port, also while refusing connections; RuntimeError once stopped."""
        if not (self._server.running or self._refusing):
            raise RuntimeError(f"{self._name} is not running")
        return self._server.port

    @property
    def root_url(self) -> str:
        """'http://127.0.0.1:PORT', without a trailing slash."""
        return f"http://{HOST}:{self.port}"

    @property
    def _loop(self) -> asyncio.AbstractEventLoop | None:
        """The server thread's event loop while serving."""
        return self._server.loop

    # -- recorded calls -------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request received, in order (rejected ones too)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, op: str) -> list[Call]:
        """The calls of one API operation, in order."""
        with self._lock:
            return [c for c in self._calls if c.op == op]

    def _record(self, call: Call) -> Call:
        with self._lock:
            self._calls.append(call)
        return call

    def _forget_records(self) -> None:
        """Forget calls and pending faults (for a fake shared by several tests)."""
        with self._lock:
            self._calls = []
            self._faults = {}

    # -- injected faults ------------------------------------------------------------------------

    def _add_fault(self, op: str, fault: Fault) -> None:
        with self._lock:
            self._faults.setdefault(op, deque()).append(fault)

    def _take_fault(self, op: str, kind: str | None = None) -> Fault | None:
        """The first pending fault of ``op`` (of ``kind`` if given), counted as taken once."""
        with self._lock:
            queue = self._faults.get(op)
            fault = next((f for f in queue or () if kind in (None, f.kind)), None)
            if queue is None or fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                queue.remove(fault)
            return fault

    def faults_pending(self, op: str) -> int:
        """Injected faults of ``op`` not yet taken by a call."""
        with self._lock:
            return sum(f.times for f in self._faults.get(op, ()))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    async def _linger(self, seconds: float, request: Request | None = None) -> bool:
        """Sleep up to ``seconds``; False as soon as the fake stops or the client of ``request``
        (when given) disconnects."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._stopping.is_set() or (request is not None and await request.is_disconnected()):
                return False
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
        return request is None or not await request.is_disconnected()
