"""TelegramChannel against the fake in-process: sends, keyboards, deletion, error mapping."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.channels import telegram_keyboards as kb
from bot.channels.base import (
    STAFF_ALERT_KIND,
    Button,
    PermanentError,
    Rendered,
    TransientError,
    UnreachableError,
)
from bot.channels.telegram import LOST_COPY_LOOKBACK, TelegramChannel, _fill, retry_seconds
from bot.config import TelegramConfig
from bot.text.i18n import Translator
from bot.text.render import ProgrammeWords, render
from bot.text.surveys import load_survey
from conversations.effects import Outgoing, Scale
from tests.fakes.telegram_api import FakeTelegram

CHAT = 5150515051


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTelegram) -> FakeTelegram:
    server.reset()
    server.open_chat(CHAT)
    return server


def make_channel(fake: FakeTelegram, **keys: object) -> TelegramChannel:
    config = TelegramConfig(token=fake.token, api_base_url=fake.base_url, **keys)  # type: ignore[arg-type]
    return TelegramChannel(config, read_timeout=0.5)


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    made = make_channel(fake)
    yield made
    await made.close()


def rows(fake: FakeTelegram, message_id: int) -> list[list[tuple[str, str]]]:
    message = {m["message_id"]: m for m in fake.visible(CHAT)}[message_id]
    return [
        [(b["text"], b["callback_data"]) for b in row]
        for row in message["reply_markup"]["inline_keyboard"]
    ]


async def test_send_protects_content_and_returns_the_message_id(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    ref = await channel.send(str(CHAT), Rendered("Hello"))
    assert ref == str(fake.visible(CHAT)[-1]["message_id"])
    params = fake.calls_to("sendMessage")[-1].params
    assert params["protect_content"] is True and params["disable_notification"] is True
    loud = make_channel(fake, disable_notification=False)
    await loud.send(str(CHAT), Rendered("Hello again"))
    await loud.close()
    assert fake.calls_to("sendMessage")[-1].params["disable_notification"] is False


async def test_staff_alerts_ring_while_her_messages_stay_silent(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    await channel.send(str(CHAT), Rendered("URGENT alert E-2345X", kind=STAFF_ALERT_KIND))
    params = fake.calls_to("sendMessage")[-1].params
    assert params["disable_notification"] is False and params["protect_content"] is True
    await channel.send(str(CHAT), Rendered("Is now a good time?", kind="opener"))
    assert fake.calls_to("sendMessage")[-1].params["disable_notification"] is True


async def test_keyboards_single_scale_and_multi(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    yes_no = Rendered("Safe?", (Button("Yes", "safe|yes"), Button("No", "safe|no")))
    scale = Rendered("0-10", tuple(Button(str(n), f"fear|{n}") for n in range(11)))
    multi = Rendered(
        "Which?",
        (Button("Afraid", "impact|afraid"), Button("Anxious", "impact|anxious"),
         Button("Done", "impact||done")),
        multi=True,
    )  # fmt: skip
    refs = [await channel.send(str(CHAT), m) for m in (yes_no, scale, multi)]
    assert rows(fake, int(refs[0] or 0)) == [[("Yes", "safe|yes"), ("No", "safe|no")]]
    assert [len(r) for r in rows(fake, int(refs[1] or 0))] == [6, 5]
    assert rows(fake, int(refs[2] or 0)) == [
        [("Afraid", "impact|afraid|+")],
        [("Anxious", "impact|anxious|+")],
        [("Done", "impact||done")],
    ]


async def test_buttons_that_cannot_fit_are_left_off(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    long = Rendered("Q", (Button("A", "x" * 60 + "|code"),))
    await channel.send(str(CHAT), long)
    assert "reply_markup" not in fake.visible(CHAT)[-1]


def test_every_partner_survey_button_fits_in_64_bytes() -> None:
    survey = load_survey("")
    words = ProgrammeWords("Sam", "112", "0800")
    for item in survey.items:
        if not item.effective_choices() and item.type not in ("scale", "number"):
            continue
        answer = "multi" if item.type == "multi" else "choice"
        scale = Scale(item.minimum or 0, item.maximum or 0) if item.type == "scale" else None
        choices = item.effective_choices()
        message = Outgoing("question", (), choices, answer, item.id, scale)
        rendered = render(message, "buttons", Translator("en"), words)
        markup = kb.build(rendered)
        assert markup is not None, item.id
        assert all(kb.fits(data) for data in kb.all_data(markup)), item.id


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB's own, without PTB_TIMEDELTA
@pytest.mark.parametrize("timedelta_env", ["1", ""])
async def test_429_becomes_transient_with_retry_after(
    channel: TelegramChannel,
    fake: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    timedelta_env: str,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", timedelta_env)
    fake.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TransientError) as caught:
        await channel.send(str(CHAT), Rendered("x"))
    assert caught.value.retry_after == 3.0


def test_retry_seconds_takes_int_or_timedelta() -> None:
    assert retry_seconds(7) == 7.0
    assert retry_seconds(dtm.timedelta(seconds=2.5)) == 2.5


async def test_error_mapping(channel: TelegramChannel, fake: FakeTelegram) -> None:
    for fault in (
        lambda: fake.fail_next("sendMessage", 500, description="Internal Server Error"),
        lambda: fake.fail_next("sendMessage", 502, description="Bad Gateway"),
        lambda: fake.malformed_next("sendMessage"),
        lambda: fake.hang_next("sendMessage", 1.0),
    ):
        fault()
        with pytest.raises(TransientError):
            await channel.send(str(CHAT), Rendered("x"))
    with pytest.raises(PermanentError):
        await channel.send(str(CHAT), Rendered("x" * 5000))
    with pytest.raises(UnreachableError) as unknown:
        await channel.send("999888777", Rendered("x"))
    assert unknown.value.reason == "chat_not_found"
    fake.block_chat(CHAT)
    with pytest.raises(UnreachableError) as blocked:
        await channel.send(str(CHAT), Rendered("x"))
    assert blocked.value.reason == "blocked"
    assert fake.sent_texts(CHAT) == []  # none of the failures sent anything


async def test_delete_batches_and_fills_gaps(channel: TelegramChannel, fake: FakeTelegram) -> None:
    refs = [await channel.send(str(CHAT), Rendered(f"m{n}")) for n in range(150)]
    fake.user_sends(CHAT, "her reply")  # not in the refs, but between them
    refs.append(await channel.send(str(CHAT), Rendered("last")))
    recorded = [*[r for r in refs if r is not None][::7], str(refs[-1])]
    gone = await channel.delete(str(CHAT), recorded)
    assert gone == set(recorded)
    assert fake.visible(CHAT) == []
    batches = [c.params["message_ids"] for c in fake.calls_to("deleteMessages")]
    assert [len(b) for b in batches] == [100, 52]


async def test_delete_falls_back_to_one_by_one_and_counts_old_ones_gone(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    refs = [str(await channel.send(str(CHAT), Rendered(f"m{n}"))) for n in range(3)]
    fake.fail_next("deleteMessages", 400, description="Bad Request: message can't be deleted")
    assert await channel.delete(str(CHAT), refs[:2]) == set(refs[:2])
    assert len(fake.calls_to("deleteMessage")) == 2
    fake.advance(49 * 3600)  # past Telegram's 48 h: cannot be deleted any more
    fake.fail_next("deleteMessages", 400, description="Bad Request: message can't be deleted")
    assert await channel.delete(str(CHAT), refs[2:]) == {refs[2]}


async def test_delete_failing_transiently_is_retried_later(
    channel: TelegramChannel, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    ref = str(await channel.send(str(CHAT), Rendered("m")))
    fake.fail_next("deleteMessages", 429, retry_after=2)
    with pytest.raises(TransientError) as caught:
        await channel.delete(str(CHAT), [ref])
    assert caught.value.retry_after == 2.0
    assert await channel.delete(str(CHAT), [ref]) == {ref}


async def test_delete_also_removes_a_lost_answer_copy_below_the_first_ref(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    """Her opener was accepted but the answer lost (a crash, a timeout): the resent copy is
    recorded, the first copy is not, and it sits just below the first recorded ref."""
    fake.user_sends(CHAT, "an old message, deleted long ago")
    await channel.delete(str(CHAT), [str(fake.visible(CHAT)[0]["message_id"])])
    fake.hang_next("sendMessage", 2, then_apply=True)
    with pytest.raises(TransientError):
        await channel.send(str(CHAT), Rendered("Is now a good time?"))
    ref = str(await channel.send(str(CHAT), Rendered("Is now a good time?")))
    assert [m["text"] for m in fake.visible(CHAT)] == ["Is now a good time?"] * 2
    assert await channel.delete(str(CHAT), [ref]) == {ref}
    assert fake.visible(CHAT) == []


def test_fill_reaches_below_the_first_ref_also_across_a_huge_gap() -> None:
    assert _fill([3, 5]) == [1, 2, 3, 4, 5]  # never below id 1
    assert _fill([50, 52]) == [*range(50 - LOST_COPY_LOOKBACK, 53)]
    assert _fill([50, 5000]) == [*range(50 - LOST_COPY_LOOKBACK, 50), 50, 5000]


async def test_every_deletion_call_waits_for_the_pace_it_is_given(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    refs = [str(await channel.send(str(CHAT), Rendered(f"m{n}"))) for n in range(230)]
    paced: list[int] = []

    async def pace() -> None:
        paced.append(len(fake.calls_to("deleteMessages")) + len(fake.calls_to("deleteMessage")))

    assert await channel.delete_paced(str(CHAT), refs, pace) == set(refs)
    assert paced == [0, 1, 2]  # before each of the three calls, none after
    fake.fail_next("deleteMessages", 400, description="Bad Request: message can't be deleted")
    refs = [str(await channel.send(str(CHAT), Rendered(f"n{n}"))) for n in range(2)]
    paced.clear()
    await channel.delete_paced(str(CHAT), refs, pace)
    assert paced == [3, 4, 5]  # the failed batch call, then one per message of the fallback


def test_limits_follow_the_config_with_a_margin_and_the_chat_burst(fake: FakeTelegram) -> None:
    assert make_channel(fake).limits.per_address_burst == 3  # the default
    limits = make_channel(fake, max_per_second=20.0, chat_burst=5).limits
    assert limits.per_address_burst == 5 and limits.burst == 10  # a clump of replies at once
    assert 19.0 < limits.per_second < 20.0  # never quite the configured rate
    assert limits.per_second_window == 19  # and no second ever holds more than that
    slow = make_channel(fake, max_per_second=4.0).limits
    assert slow.burst == 3 == slow.per_second_window  # the burst never exceeds one second's worth
