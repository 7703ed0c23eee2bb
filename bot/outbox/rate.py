"""Token buckets for the outbox: a steady rate with room for short bursts, bot-wide and per chat.

Pure arithmetic on a monotonic time the caller passes in (the dispatcher owns the clock), so
tests drive it with plain numbers. Invariant: over any span of ``t`` seconds a bucket grants
at most ``burst + rate * t`` tokens, and none while it is held (the provider said 429). A
``WindowCap`` beside the bot-wide bucket keeps any one-second window at ``count`` sends, so a
burst absorbs a clump of replies without a second ever holding more than the provider allows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: Per-address buckets kept before the full ones (the same as a new bucket) are dropped.
MAX_TRACKED_ADDRESSES = 10_000


@dataclass
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; starts full."""

    rate: float
    burst: float = 1.0
    tokens: float = field(init=False)
    #: When ``tokens`` was counted; before it (a hold) nothing is granted.
    stamp: float = field(default=float("-inf"), init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be above zero, got {self.rate!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst!r}")
        self.tokens = self.burst

    def level(self, now: float) -> float:
        """Tokens available at ``now`` (0 while held)."""
        if now < self.stamp:
            return 0.0
        return min(self.burst, self.tokens + (now - self.stamp) * self.rate)

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until one token is there (0: take it now)."""
        if now < self.stamp:
            return self.stamp - now + max(1.0 - self.tokens, 0.0) / self.rate
        return max(1.0 - self.level(now), 0.0) / self.rate

    def take(self, now: float) -> bool:
        """Spend one token if there is one; False (and nothing spent) if not."""
        level = self.level(now)
        if level < 1.0:
            return False
        self.tokens, self.stamp = level - 1.0, now
        return True

    def hold(self, now: float, seconds: float) -> None:
        """Grant nothing for ``seconds``, then one token (the provider's retry_after)."""
        until = now + seconds
        if until > self.stamp:
            self.tokens, self.stamp = 1.0, until

    def full(self, now: float) -> bool:
        return self.level(now) >= self.burst


class WindowCap:
    """At most ``count`` grants in any span of ``seconds`` (a sliding window of past grants)."""

    def __init__(self, count: int, seconds: float = 1.0) -> None:
        if count < 1 or seconds <= 0:
            raise ValueError(f"a window needs count >= 1 and seconds > 0, got {count}, {seconds}")
        self.count, self.seconds = count, seconds
        self._grants: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until a grant keeps every window at ``count`` (0: now)."""
        while self._grants and self._grants[0] <= now - self.seconds:
            self._grants.popleft()
        if len(self._grants) < self.count:
            return 0.0
        return self._grants[0] + self.seconds - now

    def take(self, now: float) -> None:
        self._grants.append(now)


@dataclass(frozen=True)
class Rate:
    """A bucket's settings: tokens a second and how many may be saved up; ``window``, if set,
    caps the grants in any one second (a burst never makes a second hold more than that)."""

    per_second: float
    burst: float = 1.0
    window: int | None = None

    def bucket(self) -> TokenBucket:
        return TokenBucket(self.per_second, self.burst)

    def cap(self) -> WindowCap | None:
        return None if self.window is None else WindowCap(self.window)


class SendBudget:
    """One channel's budget: a bot-wide bucket plus one bucket per address (her chat).

    A send needs a token of both. The caller picks which row spends the next bot-wide token
    (live replies first); this only counts.
    """

    def __init__(self, overall: Rate, per_address: Rate) -> None:
        self.overall = overall.bucket()
        self._overall_cap = overall.cap()
        self._per_address_rate = per_address
        self._by_address: dict[str, TokenBucket] = {}

    def overall_wait(self, now: float) -> float:
        wait = self.overall.wait(now)
        return wait if self._overall_cap is None else max(wait, self._overall_cap.wait(now))

    def address_wait(self, address: str, now: float) -> float:
        bucket = self._by_address.get(address)
        return 0.0 if bucket is None else bucket.wait(now)

    def ready(self, address: str | None, now: float) -> bool:
        """Both tokens there now (``address`` None: only the bot-wide one is needed)."""
        if self.overall_wait(now) > 0:
            return False
        return address is None or self.address_wait(address, now) <= 0

    def take(self, address: str | None, now: float) -> bool:
        """Spend a bot-wide token and, with ``address``, one of hers; all or nothing."""
        if not self.ready(address, now):
            return False
        self.overall.take(now)
        if self._overall_cap is not None:
            self._overall_cap.take(now)
        if address is not None:
            bucket = self._by_address.get(address)
            if bucket is None:
                self._forget_full(now)
                bucket = self._by_address[address] = self._per_address_rate.bucket()
            bucket.take(now)
        return True

    def hold(self, now: float, seconds: float) -> None:
        """The provider asked us to slow down (429 retry_after): hold every send."""
        self.overall.hold(now, seconds)

    def _forget_full(self, now: float) -> None:
        if len(self._by_address) >= MAX_TRACKED_ADDRESSES:
            self._by_address = {a: b for a, b in self._by_address.items() if not b.full(now)}
