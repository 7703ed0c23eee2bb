"""The token bucket and a channel's send budget, driven with plain monotonic numbers."""

from __future__ import annotations

import itertools
import random

import pytest

from bot.outbox.rate import Rate, SendBudget, TokenBucket


def granted(bucket: TokenBucket, start: float, end: float) -> list[float]:
    """Take every token as soon as it is there, from ``start`` to ``end``; when each came."""
    times, t = [], start
    while t < end:
        if bucket.take(t):
            times.append(t)
        else:
            t += bucket.wait(t) + 1e-9
    return times


def test_a_full_bucket_grants_its_burst_at_once_then_waits_for_the_rate() -> None:
    bucket = TokenBucket(rate=1.0, burst=3)
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.wait(10.0) == pytest.approx(1.0)
    assert not bucket.take(10.5)
    assert bucket.take(11.0)


def test_refill_is_capped_at_the_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=2)
    assert bucket.take(0.0) and bucket.take(0.0)
    assert bucket.level(0.25) == pytest.approx(0.5)
    assert bucket.level(100.0) == 2.0  # a long idle saves up no more than the burst
    assert [bucket.take(100.0) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(("rate", "burst"), [(29.1, 1), (1.0, 3), (5.0, 2)])
def test_the_average_holds_over_any_span(rate: float, burst: int) -> None:
    times = granted(TokenBucket(rate, burst), 0.0, 20.0)
    assert len(times) == pytest.approx(burst + rate * 20.0, abs=1.5)
    for i, start in enumerate(times):  # any window of one second: at most burst + rate
        inside = [t for t in times[i:] if t < start + 1.0]
        assert len(inside) <= burst + rate


def test_one_token_a_time_never_puts_two_sends_in_the_same_interval() -> None:
    times = granted(TokenBucket(rate=29.1, burst=1), 0.0, 3.0)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 29.1 - 1e-6
    assert max(len([t for t in times if s <= t < s + 1.0]) for s in times) <= 30


def test_a_hold_grants_nothing_until_it_ends() -> None:
    bucket = TokenBucket(rate=10.0, burst=5)
    bucket.hold(0.0, 2.0)
    assert not bucket.take(1.99)
    assert bucket.wait(1.0) == pytest.approx(1.0)
    assert bucket.take(2.0)
    assert not bucket.take(2.0)  # one token when the hold ends, then the rate again
    bucket.hold(2.0, 0.5)
    bucket.hold(2.0, 0.1)  # a shorter hold never shortens a longer one
    assert not bucket.take(2.3)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0.0)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(rate=1.0, burst=0.5)


def test_a_send_needs_a_bot_wide_token_and_one_of_her_chat() -> None:
    budget = SendBudget(Rate(100.0, 1), Rate(1.0, 2))
    assert budget.take("her", 0.0)
    assert not budget.take("her", 0.001)  # no bot-wide token yet
    assert budget.take("her", 0.01)  # her burst of two
    assert budget.overall_wait(0.02) == 0
    assert budget.address_wait("her", 0.02) == pytest.approx(0.98)
    assert not budget.take("her", 0.02)
    assert budget.take("someone else", 0.02)  # her chat's limit holds back only her
    assert budget.take(None, 0.04)  # a deletion call counts only bot-wide


def test_all_or_nothing_a_refused_take_spends_no_token() -> None:
    budget = SendBudget(Rate(1.0, 1), Rate(1.0, 1))
    assert budget.take("a", 0.0)
    assert not budget.take("b", 0.5)
    assert budget.address_wait("b", 0.5) == 0  # b's chat bucket untouched
    assert budget.take("b", 1.0)


def test_a_hold_stops_every_chat() -> None:
    budget = SendBudget(Rate(30.0, 1), Rate(1.0, 3))
    budget.hold(0.0, 1.0)
    assert not budget.ready("a", 0.5) and not budget.ready(None, 0.5)
    assert budget.ready("a", 1.0)


# --- a burst beside a one-second window (Telegram's bot-wide 30/s) ------------------------


def budget_grants(budget: SendBudget, arrivals: list[float]) -> list[float]:
    """Each arrival sent as soon as the bot-wide budget allows, in order; when each went."""
    sent, t = [], 0.0
    for arrival in arrivals:
        t = max(t, arrival)
        while not budget.take(None, t):
            t += budget.overall_wait(t) + 1e-9
        sent.append(t)
    return sent


def test_a_clump_of_replies_leaves_together_up_to_the_burst() -> None:
    budget = SendBudget(Rate(29.1, burst=10, window=29), Rate(1.0))
    sent = budget_grants(budget, [5.0] * 12)
    assert sent[:10] == [5.0] * 10  # no 33 ms spacing inside the burst
    assert sent[10] == pytest.approx(5.0 + 1 / 29.1, abs=1e-6)
    without_burst = budget_grants(SendBudget(Rate(29.1), Rate(1.0)), [5.0] * 12)
    assert without_burst[9] == pytest.approx(5.0 + 9 / 29.1, abs=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_no_second_ever_holds_more_than_the_window_and_the_average_holds(seed: int) -> None:
    rng = random.Random(seed)
    arrivals = sorted(rng.uniform(0.0, 20.0) for _ in range(rng.choice([300, 600, 900])))
    sent = budget_grants(SendBudget(Rate(29.1, burst=10, window=29), Rate(1.0)), arrivals)
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t < start + 1.0) <= 29
    span = sent[-1] - sent[0]
    assert len(sent) <= 10 + 29.1 * span + 1


def test_a_window_needs_sensible_settings() -> None:
    with pytest.raises(ValueError):
        SendBudget(Rate(30.0, window=0), Rate(1.0))
