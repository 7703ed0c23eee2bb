"""The webhooks of the real service: signatures, sizes, duplicates, strangers.

Every refused request must leave the database exactly as it was (row counts of every data
table) and send nothing; a signed one is answered with empty TwiML.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.twilio_resources import new_sid

from .support_sms import CONSENT_ASK, OUR_NUMBER, PHONE, PUBLIC_URL, SmsService

STRANGER = "+447400123456"


def form(body: str, sender: str = PHONE, sid: str | None = None) -> dict[str, str]:
    """An inbound-message webhook form as Twilio posts it."""
    return {
        "MessageSid": sid or new_sid("SM"),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


def post(
    sms: SmsService, path: str, data: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{sms.port}{path}", data=data, headers=headers, timeout=5)


def refused_requests(
    sms: SmsService, fake: FakeTwilio
) -> Iterator[tuple[str, int, httpx.Response]]:
    """(what, expected status, response) for every kind of request that must be refused."""
    stop = form("STOP")
    public = PUBLIC_URL + "/sms/inbound"
    headers, data = fake.signed_form(public, stop)
    missing = {k: v for k, v in headers.items() if k != "X-Twilio-Signature"}
    yield "missing signature", 403, post(sms, "/sms/inbound", data, missing)
    yield (
        "empty signature",
        403,
        post(sms, "/sms/inbound", data, {**headers, "X-Twilio-Signature": ""}),
    )
    forged = RequestValidator("not-the-auth-token").compute_signature(public, stop)
    yield "forged", 403, post(sms, "/sms/inbound", data, {**headers, "X-Twilio-Signature": forged})
    local_headers, _ = fake.signed_form(f"http://127.0.0.1:{sms.port}/sms/inbound", stop)
    yield "signed for the URL the app sees", 403, post(sms, "/sms/inbound", data, local_headers)
    status_headers, _ = fake.signed_form(PUBLIC_URL + "/sms/status", stop)
    yield "signed for the other path", 403, post(sms, "/sms/inbound", data, status_headers)
    yield (
        "body changed after signing",
        403,
        post(sms, "/sms/inbound", {**data, "Body": "pineapple"}, headers),
    )
    query_headers, _ = fake.signed_form(public, stop)
    yield "query added after signing", 403, post(sms, "/sms/inbound?x=1", data, query_headers)
    status = {"MessageSid": new_sid("SM"), "MessageStatus": "delivered"}
    yield "status callback unsigned", 403, post(sms, "/sms/status", status, {})
    big = form("x" * 17_000)
    big_headers, big_data = fake.signed_form(public, big)
    yield "over 16 kB", 413, post(sms, "/sms/inbound", big_data, big_headers)

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"Body=" + b"y" * 1000 + b"&"

    streamed = httpx.post(
        f"http://127.0.0.1:{sms.port}/sms/inbound",
        content=chunks(),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    yield "over 16 kB, streamed without Content-Length", 413, streamed


def test_refused_requests_store_nothing_and_send_nothing(sms: SmsService, fake: FakeTwilio) -> None:
    pseudonym = sms.enrol()
    sms.contact(pseudonym)
    sms.start()
    sms.wait_for_text("Is now a good time")
    sms.wait_all_records_gone()
    before = sms.counts()
    for what, expected, response in refused_requests(sms, fake):
        assert response.status_code == expected, what
        assert sms.counts() == before, what
    assert sms.status(pseudonym) == "active"
    assert len(sms.received()) == 1
    assert "pineapple" not in sms.output() and "STOP" not in sms.output()

    # The same webhook signed properly is taken (with a query string, signed with it).
    headers, data = fake.signed_form(PUBLIC_URL + "/sms/inbound?v=2", form("yes"))
    response = post(sms, "/sms/inbound?v=2", data, headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    sms.wait_for_text(CONSENT_ASK)


def test_duplicate_message_sid_is_handled_once(sms: SmsService, fake: FakeTwilio) -> None:
    pseudonym = sms.enrol()
    sms.contact(pseudonym)
    sms.start()
    sms.wait_for_text("Is now a good time")
    ready = httpx.get(f"http://127.0.0.1:{sms.port}/readyz", timeout=5)  # the load balancer's
    assert (ready.status_code, ready.text) == (200, "ready")
    sid = sms.say("yes")
    count = sms.wait_for_text(CONSENT_ASK)
    again = dict(fake.webhook_responses[sid].params)
    headers, data = fake.signed_form(PUBLIC_URL + "/sms/inbound", again)
    for _ in range(3):  # Twilio retrying, or a replay of a captured request
        assert post(sms, "/sms/inbound", data, headers).status_code == 200
    sms.exchange("yes", "Do you feel safe right now?")  # a fresh "yes" answers the consent
    sms.exchange("yes", "pushed, slapped")  # and the next is her answer to safe_now
    assert sms.answers(pseudonym) == {"safe_now": "yes"}
    assert len(sms.received()) == count + 2
    assert sms.query("SELECT COUNT(*) FROM transcript WHERE direction = 'in'") == [(3,)]


def test_stranger_gets_no_reply_and_leaves_only_a_counter(
    sms: SmsService, fake: FakeTwilio
) -> None:
    # Paused, so the start-up sweep cannot contact her mid-test (it would change the counts
    # whenever the test runs inside her contact hours).
    sms.ok("pause", sms.enrol())
    sms.start()
    before = sms.counts()
    for text in ("hello?", "who is this", "STOP"):
        sms.say(text, STRANGER)
    after = sms.counts()
    assert after == {**before, "counters": before["counters"] + 1}
    assert sms.query("SELECT name, value FROM counters") == [("unknown_sender:sms", 3)]
    assert fake.bodies_to(STRANGER) == []
    # Their messages are gone from the provider's log too, though nothing was stored.
    sms.wait_all_records_gone()
