"""Fuzzed Telegram webhook requests and updates against the real app.

With the secret: any JSON gets 200 or 400 (a body that is no update), never a 500 (which
Telegram would deliver again and again); a well-formed update is handled, a malformed one
dropped with a warning. Without it: 403 and one count. Her texts are never stored in the
clear. Counts are exact: each of her updates is seen once (de-duplicated by update_id),
each stranger's private message counted once, group messages not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels import telegram_keyboards as kb
from bot.channels.telegram_parse import parse_update
from tests.bot.channels.support_fuzz import (
    FUZZ,
    any_text,
    assert_never_stored,
    assert_no_traceback,
    json_values,
    new_update_id,
)
from tests.bot.channels.support_webhook_rig import CHAT, SECRET, Rig, open_rig
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

STRANGER = 5550009999
START = 1764000000
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # twilio's aiohttp use


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeTwilio, FakeTelegram]]:
    with FakeTwilio() as twilio, FakeTelegram() as telegram:
        yield twilio, telegram


@pytest.fixture
def rig(tmp_path: Path, servers: tuple[FakeTwilio, FakeTelegram]) -> Iterator[Rig]:
    twilio, telegram = servers
    telegram.reset()
    with open_rig(tmp_path, twilio, telegram) as made:
        yield made


@dataclass
class Model:
    """Expected counter totals; spans every example of a test function, as the rig does."""

    rejected: int = 0
    strangers: int = 0
    hers: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def model() -> Model:
    return Model()


def no_start(text: str) -> bool:
    """A stranger's /start <token> would go to enrolment (and be throttled): not modelled."""
    return "/start" not in text


@st.composite
def message_update(draw: st.DrawFn, hers: bool) -> dict[str, Any]:
    chat_type = draw(st.sampled_from(["private", "private", "private", "group", "channel"]))
    chat_id = CHAT if hers else STRANGER
    text = draw(any_text if hers else any_text.filter(no_start))
    user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "A"}
    language = draw(st.none() | st.sampled_from(["en", "de", "pt-br", "zz", ""]))
    if language is not None:
        user["language_code"] = language
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31 - 1)),
        "date": START,
        "chat": {"id": chat_id, "type": chat_type},
        "from": user,
        "caption" if draw(st.booleans()) and text else "text": text,
    }
    return {"update_id": new_update_id(), "message": message}


@st.composite
def callback_update(draw: st.DrawFn, hers: bool) -> dict[str, Any]:
    chat_id = CHAT if hers else STRANGER
    data = draw(
        st.sampled_from(["_gate|yes", "fear|7", "impact|afraid|+", "impact||done"]) | any_text
    )
    query: dict[str, Any] = {
        "id": f"cb{new_update_id()}",
        "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
        "chat_instance": "ci",
        "data": data,
        "message": {
            "message_id": draw(st.integers(1, 10_000)),
            "date": START,
            "chat": {"id": chat_id, "type": "private"},
        },
    }
    return {"update_id": new_update_id(), "callback_query": query}


def expect(rig: Rig, model: Model, update: dict[str, Any]) -> None:
    """Model TelegramUpdates + enrolment + App.handle_inbound for a well-formed update."""
    message = update.get("message") or update["callback_query"]["message"]
    if message["chat"]["type"] != "private":
        return
    if "callback_query" in update and kb.parse(update["callback_query"]["data"]).kind == "toggle":
        return  # a tick only edits the keyboard; nothing is handed on
    hers = message["chat"]["id"] == CHAT
    if not hers or rig.status(rig.her_chat_id) in ("erased", "withdrawn"):
        model.strangers += 1
    else:
        model.hers += 1  # update ids (and callback ids) are never reused: each is new


def mutated(draw: st.DrawFn, update: dict[str, Any]) -> dict[str, Any]:
    """Drop a field or put any JSON value in its place, one to three times."""
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(update))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = update
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return update


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))


well_formed = st.one_of(
    message_update(True), message_update(False), callback_update(True), callback_update(False)
)


def expect_again(rig: Rig, model: Model, update: dict[str, Any]) -> None:
    """A redelivery: hers and every press are de-duplicated; a stranger's message counts again."""
    message = update.get("message")
    if message is None or message["chat"]["type"] != "private":
        return  # presses: the in-memory de-dup answers before anything is handed on
    if message["chat"]["id"] != CHAT or rig.status(rig.her_chat_id) in ("erased", "withdrawn"):
        model.strangers += 1


@FUZZ
@given(updates=st.lists(well_formed, min_size=1, max_size=4), redeliver=st.booleans())
def test_fuzzed_updates_are_handled_once(
    rig: Rig, model: Model, updates: list[dict[str, Any]], redeliver: bool
) -> None:
    before = (rig.counter("unknown_sender:telegram"), seen_count(rig))
    stored_before = rig.stored_bytes()
    strangers, hers = model.strangers, model.hers
    again = model.sent[-1] if redeliver and model.sent else None
    for update in updates:
        expect(rig, model, update)
        response = rig.telegram_update(update)
        assert response.status_code == 200, update
        assert_no_traceback(response.content)
    if again is not None:  # Telegram delivering an earlier update again
        expect_again(rig, model, again)
        assert rig.telegram_update(again).status_code == 200
    model.sent.extend(updates)
    after = (rig.counter("unknown_sender:telegram"), seen_count(rig))
    delta = tuple(a - b for a, b in zip(after, before, strict=True))
    assert delta == (model.strangers - strangers, model.hers - hers)
    assert_never_stored(rig, [_text(u) for u in updates if _chat_of(u) == CHAT], stored_before)


def _chat_of(update: dict[str, Any]) -> int:
    message = update.get("message") or update["callback_query"]["message"]
    return int(message["chat"]["id"])


def _text(update: dict[str, Any]) -> str:
    message = update.get("message")
    if message is None:
        return str(update["callback_query"]["data"])
    return str(message.get("text") or message.get("caption") or "")


@st.composite
def broken_update(draw: st.DrawFn) -> dict[str, Any]:
    base = draw(well_formed)
    return mutated(draw, json.loads(json.dumps(base)))


body = st.one_of(
    st.tuples(st.just("json"), json_values),
    st.tuples(st.just("broken"), broken_update()),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
    st.tuples(st.just("unsigned"), st.sampled_from([None, "", "wrong", SECRET + "x", SECRET[:-1]])),
)


@FUZZ
@given(requests=st.lists(body, min_size=1, max_size=4))
def test_fuzzed_webhook_bodies_never_get_a_500(
    rig: Rig, model: Model, requests: list[tuple[str, Any]]
) -> None:
    before = rig.counter("telegram_webhook_rejected")
    stored_before = rig.stored_bytes()
    rejected = 0
    texts: list[str] = []
    for kind, value in requests:
        if kind == "bytes":
            headers = {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            }
            response = rig.post("/telegram/webhook", value, headers)
            assert response.status_code in (200, 400)
        elif kind == "unsigned":
            rejected += 1
            response = rig.telegram_update({"update_id": new_update_id()}, secret=value)
            assert response.status_code == 403
        else:
            response = rig.telegram_update(value)
            parsed = isinstance(value, dict) and parse_update(value, _bot(rig)) is not None
            assert response.status_code == (200 if parsed else 400), value
            texts.extend(t for t in _strings(value))
        assert_no_traceback(response.content)
    assert rig.counter("telegram_webhook_rejected") - before == rejected
    assert_never_stored(rig, texts, stored_before)


def _bot(rig: Rig) -> Any:
    return rig.run(rig.telegram.channel.bot())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def seen_count(rig: Rig) -> int:
    return int(rig.scalar("SELECT COUNT(*) FROM inbound_seen"))


def test_bodies_that_are_no_update_get_400(rig: Rig) -> None:
    """Found by fuzzing: non-object JSON gave a 500 (AttributeError inside PTB's de_json)."""
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body in (b"[1, 2]", b'"x"', b"5", b"null", b"{}", b'{"update_id": 1, "message": "x"}',
                 b'{"update_id": 1, "message": {"message_id": 1, "date": 1e30}}',
                 b"[" * 100_000, b"\xff\xfe{", b""):  # fmt: skip
        response = rig.post("/telegram/webhook", body, headers)
        assert (response.status_code, response.content) == (400, b""), body[:40]
