"""Serve an ASGI app with uvicorn from a background thread, on 127.0.0.1 only.

A thread with its own event loop serves both a service started as a subprocess and async tests
running in the test's loop, without either blocking the other.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"


class _QuickServer(uvicorn.Server):
    """uvicorn.Server without the fixed 0.1 s steps in its tick loop and shutdown.

    Stock uvicorn takes ~0.2 s to stop; with a fresh fake per test that was most of the run time.
    Shutdown still closes listeners, asks connections to finish and cancels stragglers.
    """

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)  # on_tick refreshes the Date header every 10 ticks

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        while self.server_state.connections or self.server_state.tasks:
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel()


class ThreadedASGIServer:
    """One uvicorn server in a daemon thread; `stop()` then `start()` reuses the same port."""

    def __init__(self, app: ASGIApp, *, port: int = 0, name: str = "asgi-fake") -> None:
        self._app = app
        self._port = port
        self._name = name
        self._server: _QuickServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        """The bound port (also after `stop()`, so a restart can reuse it)."""
        return self._port

    @property
    def base_url(self) -> str:
        """'http://127.0.0.1:PORT', without a trailing slash."""
        return f"http://{HOST}:{self._port}"

    @property
    def running(self) -> bool:
        """True while the server thread is alive and accepting connections."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The server thread's event loop while running."""
        return self._loop if self.running else None

    def start(self, port: int | None = None, *, timeout: float = 5.0) -> None:
        """Bind (port 0 = free port, None = the previous one) and serve until `stop()`."""
        if self.running:
            return
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP; with proto 0 every reply stalls ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self._port if port is None else port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _QuickServer(config)
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name=self._name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self._name}: uvicorn did not start on {self.base_url}")
            time.sleep(0.005)

    def _run(self, server: _QuickServer, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop  # set before `server.started`, which `start()` waits for
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            sock.close()

    def stop(self, *, timeout: float = 5.0) -> None:
        """Stop accepting, finish or cancel in-flight requests, end the thread. Idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # pragma: no cover - only on a wedged app
                raise RuntimeError(f"{self._name}: server thread did not stop in {timeout}s")
        self._thread = None
        self._server = None
        self._loop = None

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any] | None:
        """Run a coroutine on the server loop from any thread; None (coroutine closed) if stopped."""
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            return None
        with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
            return asyncio.run_coroutine_threadsafe(coro, loop)
        coro.close()
        return None
