"""Fuzzed Twilio webhooks against the real app: signed and unsigned, any fields, any text.

Never a 500 (nor a traceback in a reply); a signed request always gets empty TwiML, an
unsigned one 403; what she texts is never stored in the clear. Counts are exact: every
refused request is counted once, every stranger's message once, every one of hers seen
once (de-duplicated by MessageSid), and nothing else.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.channels.sms_web import EMPTY_TWIML, e164
from tests.bot.channels.support_fuzz import (
    FUZZ,
    assert_never_stored,
    assert_no_traceback,
    new_sid,
    sms_text,
)
from tests.bot.channels.support_webhook_rig import PHONE, PUBLIC_URL, Rig, open_rig
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # twilio's aiohttp use
STRANGERS = ("+447400123456", "+14155550100", "+33612345678")
field_names = st.sampled_from(
    ["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "MessageStatus", "AccountSid"]
) | st.text(st.characters(codec="utf-8"), max_size=12)


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def rig(tmp_path: Path, fake: FakeTwilio, telegram: FakeTelegram) -> Iterator[Rig]:
    with open_rig(tmp_path, fake, telegram) as made:
        yield made


@pytest.fixture
def model() -> Model:
    """One per test function, like the rig: it spans every example Hypothesis runs."""
    return Model()


@dataclass
class Model:
    """What the counters must say after an example; ``seen`` spans all examples."""

    rejected: int = 0
    strangers: int = 0
    hers: int = 0
    seen: set[str] = field(default_factory=set)


def expect_signed(rig: Rig, model: Model, params: dict[str, str]) -> None:
    """Model ``SmsWebhooks.inbound`` + ``App.handle_inbound`` for a signed inbound request."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    sender = params.get("From", "")
    if not (sid and sender):
        return
    if e164(sender) != PHONE or rig.status(rig.her_id) in ("erased", "withdrawn"):
        model.strangers += 1  # no de-dup for strangers: nothing is kept of them
    elif sid not in model.seen:
        model.seen.add(sid)
        model.hers += 1


request = st.one_of(
    st.tuples(st.just("hers"), sms_text),
    st.tuples(st.just("stranger"), sms_text, st.sampled_from(STRANGERS) | sms_text),
    st.tuples(st.just("fields"), st.dictionaries(field_names, sms_text, max_size=6)),
    st.tuples(
        st.just("unsigned"), sms_text, st.sampled_from(["none", "junk", "forged", "tampered"])
    ),
    st.tuples(st.just("raw"), st.binary(max_size=300), st.text(max_size=40)),
    st.tuples(st.just("status"), sms_text, st.booleans()),
)


def her_form(text: str, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": new_sid(), "From": sender, "To": "+15005550006", "Body": text}


def send(rig: Rig, model: Model, item: tuple[object, ...]) -> tuple[int, bytes, str]:
    """One request; returns (status, body, the text it carried)."""
    kind = item[0]
    if kind in ("hers", "stranger", "fields", "status"):
        if kind == "hers":
            params, text = her_form(str(item[1])), str(item[1])
        elif kind == "stranger":
            params, text = her_form(str(item[1]), str(item[2])), str(item[1])
        elif kind == "fields":
            params = {k: v for k, v in dict(item[1]).items()}  # type: ignore[call-overload]
            text = params.get("Body", "")
        else:
            params = {
                "MessageSid": new_sid() if item[2] else str(item[1]),
                "MessageStatus": str(item[1]),
            }
            text = ""
        path = "/sms/status" if kind == "status" else "/sms/inbound"
        if kind != "status":
            expect_signed(rig, model, params)
        response = rig.signed_form(path, params)
        assert response.status_code == 200 and response.text == EMPTY_TWIML, item
        return response.status_code, response.content, text
    model.rejected += 1
    if kind == "unsigned":
        text, how = str(item[1]), item[2]
        params = her_form(text)
        headers: dict[str, str] = {}
        if how == "junk":
            headers["X-Twilio-Signature"] = base64.b64encode(text.encode()).decode()[:40] or "x"
        elif how == "forged":
            headers["X-Twilio-Signature"] = RequestValidator("other").compute_signature(
                PUBLIC_URL + "/sms/inbound", params
            )
        elif how == "tampered":
            headers["X-Twilio-Signature"] = rig.validator.compute_signature(
                PUBLIC_URL + "/sms/inbound", {**params, "Body": text + "!"}
            )
        response = rig.run(rig.client.post("/sms/inbound", data=params, headers=headers))
    else:
        body, signature = bytes(item[1]), str(item[2])  # type: ignore[call-overload]
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature.isascii() and signature.isprintable():
            headers["X-Twilio-Signature"] = signature
        response = rig.post("/sms/inbound", body, headers)
        text = body.decode("utf-8", "replace")
    assert response.status_code == 403, item
    return response.status_code, response.content, text


@FUZZ
@given(requests=st.lists(request, min_size=1, max_size=4))
def test_fuzzed_sms_webhooks(rig: Rig, model: Model, requests: list[tuple[object, ...]]) -> None:
    before = (rig.sms.rejected, rig.counter("unknown_sender:sms"), seen_count(rig))
    stored_before = rig.stored_bytes()
    expected = (model.rejected, model.strangers, model.hers)
    texts = []
    for item in requests:
        _, body, text = send(rig, model, item)
        assert_no_traceback(body)
        texts.append(text)
    after = (rig.sms.rejected, rig.counter("unknown_sender:sms"), seen_count(rig))
    wanted = (model.rejected - expected[0], model.strangers - expected[1], model.hers - expected[2])
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == wanted
    assert_never_stored(rig, texts, stored_before)


def seen_count(rig: Rig) -> int:
    return int(rig.scalar("SELECT COUNT(*) FROM inbound_seen"))
