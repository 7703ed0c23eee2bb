"""/start <token>: one-time, expiring, throttled; strangers and duplicates leave no trace."""

from __future__ import annotations

import sqlite3
import time

from tests.fakes.telegram_api import FakeTelegram

from .conftest import BOTH
from .support_telegram import Service, next_bot_message, press
from .support_telegram_script import DECOY, OPENER

HER, OTHER, STRANGER = 4401112223, 4402223334, 4403334445


def linked(service: Service) -> int:
    return int(service.scalar("SELECT COUNT(*) FROM participants WHERE address_enc IS NOT NULL"))


def counter(service: Service, name: str) -> int:
    rows = service.query("SELECT value FROM counters WHERE name = ?", (name,))
    return int(rows[0][0]) if rows else 0


def settle(service: Service) -> None:
    time.sleep(0.4)
    service.wait_quiet()


def test_bad_used_and_expired_tokens_get_one_neutral_line(
    service: Service, fake: FakeTelegram
) -> None:
    good = service.enrol()
    expired = service.enrol()
    conn = sqlite3.connect(service.db_path)
    with conn:
        conn.execute("UPDATE enrol_tokens SET expires_at = '2000-01-01T00:00:00.000000Z'"
                     " WHERE participant_id = (SELECT id FROM participants WHERE pseudonym = ?)",
                     (expired["participant"],))  # fmt: skip
    conn.close()
    service.start()

    fake.user_sends(OTHER, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")  # unknown
    fake.wait_for(lambda f: f.sent_texts(OTHER) == [DECOY])
    fake.user_sends(OTHER, f"/start {expired['token']}")  # expired
    fake.wait_for(lambda f: f.sent_texts(OTHER) == [DECOY, DECOY])
    fake.user_sends(HER, f"/start {good['token']}")
    next_bot_message(fake, HER, 0)
    fake.user_sends(OTHER, f"/start {good['token']}")  # already used
    fake.wait_for(lambda f: f.sent_texts(OTHER) == [DECOY] * 3)
    settle(service)
    assert linked(service) == 1
    assert fake.sent_texts(HER) == [OPENER]
    assert counter(service, "telegram_start_bad_token") == 3

    # a fourth bad try within the hour is not answered, and even a good link is not tried
    third = service.enrol()
    fake.user_sends(OTHER, "/start nope")
    fake.user_sends(OTHER, f"/start {third['token']}")
    settle(service)
    assert fake.sent_texts(OTHER) == [DECOY] * 3
    assert counter(service, "telegram_start_throttled") == 2
    assert linked(service) == 1

    # her own chat sending /start again is an ordinary message: no second link
    fake.user_sends(HER, f"/start {third['token']}")
    fake.wait_for(lambda f: len(f.sent_texts(HER)) == 2)  # the gate asks again
    settle(service)
    assert linked(service) == 1
    stored = service.db_bytes()
    for secret in (str(HER), str(OTHER), good["token"], third["token"]):
        assert secret.encode() not in stored
    assert service.stop() == 0


@BOTH
def test_a_strangers_chat_gets_nothing_and_leaves_only_a_counter(
    service: Service, fake: FakeTelegram
) -> None:
    service.start()
    tables = ("sessions", "transcript", "outbox", "inbound_seen", "throttle")
    fake.user_sends(STRANGER, "hello")
    fake.user_sends(STRANGER, "/start")
    fake.user_sends(STRANGER, "is anyone there?")
    fake.wait_for(lambda f: counter(service, "unknown_sender:telegram") == 3)
    settle(service)
    assert fake.sent_texts(STRANGER) == []
    for table in tables:
        assert service.scalar(f"SELECT COUNT(*) FROM {table}") == 0, table
    assert str(STRANGER).encode() not in service.db_bytes()
    assert service.stop() == 0


@BOTH
def test_a_duplicated_update_changes_nothing(service: Service, fake: FakeTelegram) -> None:
    enrolled = service.enrol()
    service.start()
    start = fake.user_sends(HER, f"/start {enrolled['token']}")
    opener = next_bot_message(fake, HER, 0)
    fake.duplicate_update(start)  # the /start again: no second opener, no second link
    gate = press(fake, HER, opener, "_gate|yes")
    consent = next_bot_message(fake, HER, opener["message_id"])  # "Is it still OK to ask"
    fake.duplicate_update(gate)
    agreed = press(fake, HER, consent, "_consent|yes")
    question = next_bot_message(fake, HER, consent["message_id"])  # "Do you feel safe"
    fake.duplicate_update(agreed)
    answer = press(fake, HER, question, "safe_now|yes")
    physical = next_bot_message(fake, HER, question["message_id"])
    typed = fake.user_sends(HER, "never")
    fake.wait_for(lambda f: any("sexual things" in t for t in f.sent_texts(HER)))
    settle(service)
    before = (fake.sent_texts(HER), len(fake.calls_to("editMessageReplyMarkup")))
    for update_id in (answer, typed, start, gate, agreed):
        fake.duplicate_update(update_id)
    fake.wait_for(lambda f: f.pending_updates() == [])
    settle(service)
    assert (fake.sent_texts(HER), len(fake.calls_to("editMessageReplyMarkup"))) == before
    got = service.answers(enrolled["participant"])
    assert set(got) == {"safe_now", "viol_physical"}
    assert physical["text"].startswith("In the last")
    assert service.stop() == 0
