"""SIGKILL in the middle of a wave dispatch, twice, at seeded random moments: after the restart
every partner has had her T0 opener, none was planned twice, and a copy whose answer was lost
(Telegram delivered it, we never heard) is deleted with the rest of her chat."""

from __future__ import annotations

import random
import time

import pytest

from tests.fakes.telegram_api import Call, FakeTelegram

from .conftest import MakeService
from .crash_kit import chat_of, contact_zone, hanging, in_flight, kill_when, prepare
from .telegram_harness import SAFE_WORD, Service
from .telegram_script import DECOY, OPENER

PARTNERS = 60


def accepted(fake: FakeTelegram) -> list[Call]:
    return [c for c in fake.calls_to("sendMessage") if c.status == 200]


def settle(service: Service, fake: FakeTelegram, chats: list[int]) -> None:
    fake.wait_for(lambda f: all(f.sent_texts(c) for c in chats), timeout=30)
    service.wait_quiet(timeout=20)


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_wave_killed_twice_mid_dispatch_reaches_everyone_once(
    make_service: MakeService, fake: FakeTelegram, seed: int
) -> None:
    rng = random.Random(seed)
    service = make_service(programme=False, max_per_second=60.0)
    chats = [7_100_000_000 + seed * 1_000 + i for i in range(PARTNERS)]
    for chat in chats:
        fake.open_chat(chat)
    pseudonyms = prepare(service, chats, contact_zone())
    chat_by_id = chat_of(service, pseudonyms, chats)

    # 1. killed at a random moment: maybe between Telegram's answer and our commit
    service.start()
    first = rng.randrange(5, PARTNERS // 2)
    kill_when(service, lambda: len(accepted(fake)) >= first)
    doubtful = set(in_flight(service))

    # 2. a random send later, Telegram delivers an opener but the answer never comes back
    service.start()
    later = len(accepted(fake)) + rng.randrange(1, 10)
    fake.wait_for(lambda f: len(accepted(f)) >= later, timeout=20)
    fake.hang_next("sendMessage", 20, then_apply=True)
    kill_when(service, lambda: hanging(fake))
    [lost] = in_flight(service)
    doubtful.add(lost)

    # 3. restarted: the rest of the wave goes out; the lost one is sent again
    service.start()
    settle(service, fake, chats)
    delivered = {chat: fake.sent_texts(chat) for chat in chats}
    assert {t for texts in delivered.values() for t in texts} == {OPENER}
    per_chat = {chat: len(texts) for chat, texts in delivered.items()}
    twice = {chat for chat, n in per_chat.items() if n > 1}
    assert chat_by_id[lost] in twice
    assert twice <= {chat_by_id[pid] for pid in doubtful}, "an opener went out twice, unprovoked"
    assert set(per_chat.values()) == {1, 2}
    planned = service.query(
        "SELECT participant_id, COUNT(*) FROM outbox WHERE kind = 'message' GROUP BY 1"
    )
    assert len(planned) == PARTNERS and {n for _, n in planned} == {1}
    states = service.query(
        "SELECT state, COUNT(*) FROM timepoints WHERE timepoint = 'T0' GROUP BY 1"
    )
    assert states == [("sent", PARTNERS)]

    # 4. those who got two copies leave with the safe word: both copies go from their phones
    for chat in twice:
        fake.user_sends(chat, SAFE_WORD)

    def only_the_decoy_left(f: FakeTelegram) -> bool:
        return all([m["text"] for m in f.visible(chat)] == [DECOY] for chat in twice)

    fake.wait_for(only_the_decoy_left, timeout=15)
    deadline = time.monotonic() + 10
    while service.scalar("SELECT COUNT(*) FROM escalations") < len(twice):
        assert time.monotonic() < deadline, "a safe-word escalation was lost"
        time.sleep(0.05)
    assert service.stop() == 0
    assert "Traceback" not in service.log_text()
