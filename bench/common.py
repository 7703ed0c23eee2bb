"""Shared benchmark helpers: a throwaway app, a recording channel, percentiles."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import tempfile
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot.channels.base import Channel, Limits, Rendered
from bot.cli.common import fast_loop_factory
from bot.config import Config, DatabaseConfig, SecurityConfig
from bot.runtime.app import App, open_app


class NullChannel:
    """Accepts everything instantly; the benchmark measures our side, not a provider."""

    style = "numbered"

    def __init__(self, name: str = "console", per_second: float = 1e9) -> None:
        self.name = name
        self.limits = Limits(per_second=per_second, per_address_per_second=1e9)
        self.sent = 0

    async def send(self, address: str, message: Rendered) -> str | None:
        self.sent += 1
        return f"ref-{self.sent}"

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)


T = TypeVar("T")


def run_like_the_service(coro: Coroutine[Any, Any, T]) -> T:
    """Run on the event loop ``followup run`` uses (uvloop where installed), so in-process
    figures measure the loop the service really runs on."""
    with asyncio.Runner(loop_factory=fast_loop_factory()) as runner:
        return runner.run(coro)


def temp_config(**sections: object) -> Config:
    root = Path(tempfile.mkdtemp(prefix="followup-bench-"))
    return dataclasses.replace(
        Config(),
        database=DatabaseConfig(path=str(root / "bench.db")),
        security=SecurityConfig(key_file=str(root / "bench.keys")),
        **sections,  # type: ignore[arg-type]
    )


async def bench_app(channels: dict[str, Channel], config: Config | None = None) -> App:
    return await open_app(config or temp_config(), channels)


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:.2f} ms, p99 {percentile(values, 99) * 1000:.2f} ms,"
        f" mean {statistics.fmean(values) * 1000:.2f} ms"
    )
