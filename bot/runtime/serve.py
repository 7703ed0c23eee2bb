"""``followup run``: one process, one asyncio loop: web server, channels, scheduler, outbox.

Each part is a ``Component`` with start/stop and optional web routes, so the
runner knows no concrete channel. SIGTERM or SIGINT stops it cleanly; the
database holds everything pending, so nothing is lost across a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from bot.runtime.app import App
from bot.runtime.component import Component

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runner owns SIGTERM and shuts down in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _until_listening(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    for _ in range(500):
        if server.started:
            return
        if task.done():
            task.result()
            raise RuntimeError("web server stopped during start-up")
        await asyncio.sleep(0.02)
    raise RuntimeError("web server did not start within 10 s")


#: Why the process should get no traffic now, or None (``Database.not_ready``).
Readiness = Callable[[], Awaitable[str | None]]


async def _health(request: Request) -> PlainTextResponse:
    """The process answers (a load balancer's liveness check)."""
    return PlainTextResponse("ok")


def _ready_route(readiness: Readiness) -> Route:
    async def ready(request: Request) -> PlainTextResponse:
        """Database reachable and migrations current: 200, else 503 with the reason."""
        reason = await readiness()
        if reason is None:
            return PlainTextResponse("ready")
        return PlainTextResponse(f"not ready: {reason}", status_code=503)

    return Route("/readyz", ready)


def build_web(components: Sequence[Component], readiness: Readiness | None = None) -> Starlette:
    """The Starlette app: health and readiness checks plus every component's routes."""
    routes: list[BaseRoute] = [Route("/healthz", _health)]
    if readiness is not None:
        routes.append(_ready_route(readiness))
    for component in components:
        routes.extend(component.routes())
    return Starlette(routes=routes)


async def serve(
    app: App, components: Sequence[Component], *, ready: asyncio.Event | None = None
) -> None:
    """Run until SIGTERM/SIGINT: web server, components, dispatcher; then stop in reverse."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    web = build_web(components, app.db.not_ready)
    config = uvicorn.Config(
        web,
        host=app.config.web.host,
        port=app.config.web.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = _QuietServer(config)
    web_task = asyncio.create_task(server.serve(), name="web")
    dispatch_task = asyncio.create_task(app.dispatcher.run(stop), name="dispatcher")
    started: list[Component] = []
    try:
        for component in components:
            await component.start()
            started.append(component)
            log.info("started %s", component.name)
        await _until_listening(server, web_task)
        log.info("followup running on %s:%s", app.config.web.host, app.config.web.port)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        log.info("stopping")
        stop.set()
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", component.name)
        server.should_exit = True
        await asyncio.gather(web_task, dispatch_task, return_exceptions=True)
