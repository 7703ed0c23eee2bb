"""The Twilio fake must look like Twilio to the real twilio-python async client.

These tests drive it only through `twilio.rest.Client` + `AsyncTwilioHttpClient` (and raw HTTP
where the wire format itself is the point), and check webhooks with `RequestValidator`, so a fake
that drifts from the real API or signs wrongly fails here before it misleads end-to-end tests.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .threaded_asgi import ThreadedASGIServer
from .twilio_api import FakeTwilio
from .twilio_resources import GSM7_BASIC, count_segments, encoding_of

# twilio 9.13 still passes aiohttp's deprecated BasicAuth; not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)

SENDER = "+15005550006"
SURVIVOR = "+4915112345678"
OTHER = "+447700900123"
SERVICE = "MG" + "1" * 32
RFC2822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
# Properties of `api.v2010.account.message` in Twilio's OpenAPI description.
MESSAGE_FIELDS = {
    "account_sid",
    "api_version",
    "body",
    "date_created",
    "date_sent",
    "date_updated",
    "direction",
    "error_code",
    "error_message",
    "from",
    "messaging_service_sid",
    "num_media",
    "num_segments",
    "price",
    "price_unit",
    "sid",
    "status",
    "subresource_uris",
    "to",
    "uri",
}


@dataclass(frozen=True)
class Received:
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    signature_valid: bool


class Receiver:
    """A webhook endpoint that checks signatures the way our service must (URL from config)."""

    def __init__(self, token: str) -> None:
        self.validator = RequestValidator(token)
        self.received: list[Received] = []
        self.status = 200
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self.server = ThreadedASGIServer(app, name="webhook-receiver")

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def _handle(self, request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        signature = request.headers.get("X-Twilio-Signature", "")
        valid = self.validator.validate(self.url(request.url.path), form, signature)
        self.received.append(Received(request.url.path, form, dict(request.headers), valid))
        return Response("<Response/>", status_code=self.status, media_type="text/xml")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(auth_token="secret-token-for-tests") as fake:
        yield fake
    assert fake.internal_errors == []


@pytest.fixture(scope="module")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver("secret-token-for-tests")
    receiver.server.start()
    yield receiver
    receiver.server.stop()


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Receiver:
    _receiver_server.received.clear()
    _receiver_server.status = 200
    return _receiver_server


@asynccontextmanager
async def twilio_client(
    fake: FakeTwilio, username: str, password: str, account_sid: str | None = None
) -> AsyncIterator[Client]:
    """A real twilio-python client aimed at the fake; the aiohttp session needs a running loop."""
    http = AsyncTwilioHttpClient()
    client = Client(username, password, account_sid, http_client=http)
    client.api.base_url = fake.base_url
    try:
        yield client
    finally:
        await http.close()


@pytest.fixture
async def client(fake: FakeTwilio) -> AsyncIterator[Client]:
    async with twilio_client(fake, fake.account_sid, fake.auth_token) as client:
        yield client


def raw(fake: FakeTwilio) -> httpx.Client:
    return httpx.Client(base_url=fake.base_url, auth=(fake.account_sid, fake.auth_token))


def messages_path(fake: FakeTwilio, sid: str | None = None) -> str:
    base = f"/2010-04-01/Accounts/{fake.account_sid}/Messages"
    return f"{base}/{sid}.json" if sid else f"{base}.json"


# -- wire format ------------------------------------------------------------------------------


async def test_create_returns_the_openapi_message_resource(
    fake: FakeTwilio, client: Client
) -> None:
    fake.auto_deliver = False
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="Hallo")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.status, message.direction) == ("queued", "outbound-api")
    assert isinstance(message.date_created, datetime) and message.date_created.tzinfo
    with raw(fake) as http:
        resource = http.get(messages_path(fake, message.sid)).json()
    assert set(resource) == MESSAGE_FIELDS
    assert RFC2822.match(resource["date_created"]) and RFC2822.match(resource["date_updated"])
    assert resource["date_sent"] is None and resource["price"] is None
    assert (resource["num_segments"], resource["num_media"]) == ("1", "0")
    assert resource["uri"] == messages_path(fake, message.sid)
    assert resource["subresource_uris"]["media"] == messages_path(fake, message.sid)[:-5] + (
        "/Media.json"
    )
    assert (resource["to"], resource["from"], resource["body"]) == (SURVIVOR, SENDER, "Hallo")
    call = fake.calls[0]
    assert (call.method, call.op, call.status) == ("POST", "create", 201)
    assert call.params["To"] == SURVIVOR and call.params["Body"] == "Hallo"


async def test_messaging_service_accepts_then_assigns_a_sender(
    fake: FakeTwilio, client: Client
) -> None:
    message = await client.messages.create_async(
        to=SURVIVOR, messaging_service_sid=SERVICE, body="Hallo"
    )
    assert (message.status, message.from_, message.messaging_service_sid) == (
        "accepted",
        None,
        SERVICE,
    )
    await fake.wait_for_async(lambda: fake.messages[message.sid]["status"] == "delivered")
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.from_ == SENDER
    assert fetched.date_sent is not None and fetched.price is None


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # an escape pair is never split across parts
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("👍" * 35, 1),  # surrogate pairs: 70 UTF-16 units
        ("👍" * 36, 2),
        ("a" * 66 + "👍" + "a" * 66, 3),  # 134 units, but the pair cannot straddle 67
        ("Grüße, ça va? ñ", 1),
    ],
)
def test_count_segments(body: str, segments: int) -> None:
    assert count_segments(body) == segments


def test_gsm_alphabet() -> None:
    assert len(GSM7_BASIC) == 127  # 128 code points minus ESC
    assert encoding_of("Grüße {x} €") == "GSM-7"
    assert encoding_of("Grüße ç") == "UCS-2"  # lower-case c-cedilla is not in GSM 03.38


async def test_num_segments_reaches_the_client_as_a_string(client: Client) -> None:
    long_ucs2 = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="ж" * 71)
    long_gsm = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="€" * 81)
    assert (long_ucs2.num_segments, long_gsm.num_segments) == ("2", "2")


# -- validation and auth ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": SENDER, "body": "x"}, 21604),
        ({"to": "015112345678", "from_": SENDER, "body": "x"}, 21211),
        ({"to": "+49 151 1234", "from_": SENDER, "body": "x"}, 21211),
        ({"to": SURVIVOR, "body": "x"}, 21603),
        ({"to": SURVIVOR, "from_": SENDER}, 21602),
        ({"to": SURVIVOR, "from_": SENDER, "body": "x" * 1601}, 21617),
        ({"to": SURVIVOR, "from_": SENDER, "body": "x", "status_callback": "ftp://x"}, 21609),
    ],
)
async def test_invalid_creates_are_refused_like_twilio(
    fake: FakeTwilio, client: Client, kwargs: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(**kwargs)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert fake.messages == {}


async def test_from_must_be_an_account_number_when_numbers_are_configured(
    fake: FakeTwilio, client: Client
) -> None:
    fake.numbers = [SENDER]
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=SURVIVOR, from_="+15550001111", body="x")
    assert caught.value.code == 21606
    assert (await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")).sid


async def test_wrong_credentials_and_foreign_account_get_20003(fake: FakeTwilio) -> None:
    async with twilio_client(fake, fake.account_sid, "wrong-token") as client:
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)

    key, secret = fake.add_api_key()
    async with twilio_client(fake, key, secret, "AC" + "0" * 32) as client:
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)

    async with twilio_client(fake, key, secret, fake.account_sid) as client:
        message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    assert fake.existing_sids(to=SURVIVOR) == [message.sid]
    assert [c.status for c in fake.calls] == [401, 401, 201]


def test_unknown_paths_and_methods_answer_twilio_errors(fake: FakeTwilio) -> None:
    with raw(fake) as http:
        missing = http.get(f"/2010-04-01/Accounts/{fake.account_sid}/Calls.json")
        wrong_method = http.delete(messages_path(fake))
        anonymous = httpx.get(fake.base_url + messages_path(fake))
    assert (missing.status_code, missing.json()["code"]) == (404, 20404)
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, 20004)
    assert anonymous.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


# -- opt-out -----------------------------------------------------------------------------------


async def test_opted_out_recipient_gets_21610(fake: FakeTwilio, client: Client) -> None:
    fake.opt_out(SURVIVOR)
    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="Umfrage")
    assert (caught.value.status, caught.value.code) == (400, 21610)
    assert "unsubscribed recipient" in caught.value.msg
    assert fake.bodies_to(SURVIVOR) == []
    assert (await client.messages.create_async(to=OTHER, from_=SENDER, body="x")).sid
    fake.opt_in(SURVIVOR)
    assert (await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="y")).sid


@pytest.mark.parametrize("keyword", [" stop ", "Unsubscribe", "QUIT"])
def test_inbound_stop_opts_out_and_start_opts_back_in(
    fake: FakeTwilio, receiver: Receiver, keyword: str
) -> None:
    fake.inbound(SURVIVOR, SENDER, "Bitte stop, nicht mehr schreiben", url=receiver.url("/sms"))
    assert fake.opted_out == set()  # only a whole-body keyword counts
    fake.inbound(SURVIVOR, SENDER, keyword, url=receiver.url("/sms"))
    assert SURVIVOR in fake.opted_out
    assert receiver.on("/sms")[1].form["Body"] == keyword  # the service still hears it
    fake.inbound(SURVIVOR, SENDER, "START", url=receiver.url("/sms"))
    assert SURVIVOR not in fake.opted_out


# -- lifecycle, delete, redaction --------------------------------------------------------------


async def test_delete_is_refused_with_20009_until_delivery_is_final(
    fake: FakeTwilio, client: Client
) -> None:
    fake.auto_deliver = False
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="Termin?")
    for status in ("queued", "sent"):
        fake.advance(message.sid, status)
        with pytest.raises(TwilioRestException) as caught:
            await client.messages(message.sid).delete_async()
        assert (caught.value.status, caught.value.code) == (409, 20009)
    assert fake.existing_sids() == [message.sid]

    fake.advance(message.sid, "delivered")
    assert await client.messages(message.sid).delete_async() is True
    assert fake.deleted == {message.sid}
    assert fake.existing_sids(to=SURVIVOR) == []
    assert fake.bodies_to(SURVIVOR) == ["Termin?"]  # the phone still got it
    for action in (
        client.messages(message.sid).fetch_async,
        client.messages(message.sid).delete_async,
    ):
        with pytest.raises(TwilioRestException) as caught:
            await action()
        assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_undelivered_and_inbound_messages_are_deletable(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    fake.auto_deliver = False
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    fake.advance(message.sid, "undelivered", error_code=30005)
    assert (await client.messages(message.sid).fetch_async()).error_code == 30005
    assert await client.messages(message.sid).delete_async()
    inbound = await fake.inbound_async(SURVIVOR, SENDER, "hi", url=receiver.url("/sms"))
    assert await client.messages(inbound).delete_async()
    assert fake.deleted == {message.sid, inbound}


async def test_redaction_waits_for_final_status_and_keeps_what_was_sent(
    fake: FakeTwilio, client: Client
) -> None:
    fake.auto_deliver = False
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="geheim")
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(message.sid).update_async(body="")
    assert caught.value.code == 20009
    fake.advance(message.sid, "delivered")
    assert (await client.messages(message.sid).update_async(body="")).body == ""
    assert fake.messages[message.sid]["body"] == ""
    assert fake.bodies_to(SURVIVOR, delivered_only=True) == ["geheim"]


def test_advance_rejects_unknown_sids_and_statuses(fake: FakeTwilio) -> None:
    with pytest.raises(KeyError):
        fake.advance("SM" + "0" * 32, "delivered")
    fake.inbound(SURVIVOR, SENDER, "x", url="http://127.0.0.1:9/unused")
    sid = next(iter(fake.messages))
    with pytest.raises(ValueError, match="status"):
        fake.advance(sid, "lost")


# -- callbacks and webhooks --------------------------------------------------------------------


async def test_status_callbacks_are_signed_and_in_order(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    message = await client.messages.create_async(
        to=SURVIVOR, from_=SENDER, body="x", status_callback=receiver.url("/status")
    )
    # The fake records an attempt once the answer is in, after the receiver has logged it.
    await fake.wait_for_async(lambda: len(fake.status_callbacks) == 2)

    forms = [r.form for r in receiver.on("/status")]
    assert [f["MessageStatus"] for f in forms] == ["sent", "delivered"]
    assert all(r.signature_valid for r in receiver.on("/status"))
    assert forms[-1] == {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": fake.account_sid,
        "From": SENDER,
        "To": SURVIVOR,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "ApiVersion": "2010-04-01",
    }
    assert [a.status for a in fake.status_callbacks] == [200, 200]


async def test_failed_delivery_reports_error_code(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    fake.fail_delivery_to(SURVIVOR, "undelivered", 30003)
    message = await client.messages.create_async(
        to=SURVIVOR, messaging_service_sid=SERVICE, body="x", status_callback=receiver.url("/s")
    )
    await fake.wait_for_async(lambda: len(receiver.on("/s")) == 3)
    forms = [r.form for r in receiver.on("/s")]
    assert [f["MessageStatus"] for f in forms] == ["queued", "sent", "undelivered"]
    assert forms[-1]["ErrorCode"] == "30003" and forms[-1]["MessagingServiceSid"] == SERVICE
    assert "ErrorCode" not in forms[1]
    fetched = await client.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)
    assert fake.bodies_to(SURVIVOR, delivered_only=True) == []


async def test_manual_advance_posts_callbacks_and_unreachable_urls_are_recorded(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}/status"
    fake.auto_deliver = False
    reachable = await client.messages.create_async(
        to=SURVIVOR, from_=SENDER, body="x", status_callback=receiver.url("/manual")
    )
    dead = await client.messages.create_async(
        to=OTHER, from_=SENDER, body="y", status_callback=dead_url
    )
    for status in ("sent", "failed"):
        fake.advance(reachable.sid, status, error_code=30007)
    fake.advance(dead.sid, "delivered")

    await fake.wait_for_async(lambda: len(fake.status_callbacks) == 3)
    assert [r.form["MessageStatus"] for r in receiver.on("/manual")] == ["sent", "failed"]
    assert receiver.on("/manual")[-1].form["ErrorCode"] == "30007"
    failed = [a for a in fake.status_callbacks if a.sid == dead.sid]
    assert failed[0].status is None and "Connect" in (failed[0].error or "")
    assert fake.messages[dead.sid]["status"] == "delivered"


async def test_inbound_webhook_is_signed_and_recorded(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    fake.messaging_service_sid = SERVICE
    sid = await fake.inbound_async(SURVIVOR, SENDER, "Mir geht es gut 👍", url=receiver.url("/sms"))

    (request,) = receiver.on("/sms")
    assert request.signature_valid
    assert request.headers["i-twilio-idempotency-token"]
    form = request.form
    assert (form["MessageSid"], form["SmsSid"], form["SmsMessageSid"]) == (sid, sid, sid)
    assert (form["From"], form["To"], form["Body"]) == (SURVIVOR, SENDER, "Mir geht es gut 👍")
    assert (form["FromCountry"], form["ToCountry"]) == ("DE", "US")
    assert (form["NumMedia"], form["NumSegments"], form["SmsStatus"]) == ("0", "1", "received")
    assert (form["AccountSid"], form["MessagingServiceSid"]) == (fake.account_sid, SERVICE)
    assert form["ApiVersion"] == "2010-04-01"
    response = fake.webhook_responses[sid]
    assert (response.status, response.body) == (200, "<Response/>")

    fetched = await client.messages(sid).fetch_async()
    assert (fetched.direction, fetched.status, fetched.body) == (
        "inbound",
        "received",
        form["Body"],
    )
    assert fetched.date_sent is not None


def test_inbound_records_webhook_failures(fake: FakeTwilio, receiver: Receiver) -> None:
    receiver.status = 500
    failing = fake.inbound(SURVIVOR, SENDER, "x", url=receiver.url("/sms"))
    unreachable = fake.inbound(SURVIVOR, SENDER, "y", url="http://127.0.0.1:9/sms", timeout=1)
    assert fake.webhook_responses[failing].status == 500
    assert fake.webhook_responses[unreachable].status is None
    assert fake.webhook_responses[unreachable].error


def test_inbound_media_uses_mm_sids(fake: FakeTwilio, receiver: Receiver) -> None:
    sid = fake.inbound(
        SURVIVOR, SENDER, "", url=receiver.url("/mms"), media_urls=["https://x.test/a.jpg"]
    )
    assert re.fullmatch(r"MM[0-9a-f]{32}", sid)
    form = receiver.on("/mms")[0].form
    assert (form["NumMedia"], form["MediaUrl0"]) == ("1", "https://x.test/a.jpg")
    assert fake.messages[sid]["num_media"] == "1"


def test_signed_form_lets_tests_forge_and_tamper(fake: FakeTwilio, receiver: Receiver) -> None:
    url = receiver.url("/sms")
    headers, form = fake.signed_form(url, {"From": SURVIVOR, "Body": "ja"})
    assert RequestValidator(fake.auth_token).validate(url, form, headers["X-Twilio-Signature"])
    httpx.post(url, data=form, headers=headers)
    httpx.post(url, data={**form, "Body": "nein"}, headers=headers)
    other_headers, _ = fake.signed_form(receiver.url("/elsewhere"), form)
    httpx.post(url, data=form, headers=other_headers)
    assert [r.signature_valid for r in receiver.on("/sms")] == [True, False, False]


# -- fault injection ---------------------------------------------------------------------------


async def test_fail_next_injects_twilio_errors_then_recovers(
    fake: FakeTwilio, client: Client
) -> None:
    fake.fail_next("create", 429)
    fake.fail_next("create", 400, code=21610, message="Attempt to send to unsubscribed", times=2)
    codes = []
    for _ in range(3):
        with pytest.raises(TwilioRestException) as caught:
            await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
        codes.append((caught.value.status, caught.value.code))
    assert codes == [(429, 20429), (400, 21610), (400, 21610)]
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    assert fake.existing_sids() == [message.sid]

    fake.fail_next("fetch", 500)
    with pytest.raises(TwilioRestException) as caught:
        await client.messages(message.sid).fetch_async()
    assert (caught.value.status, caught.value.code) == (500, 20500)
    assert (await client.messages(message.sid).fetch_async()).sid == message.sid

    fake.fail_next("list", 503)
    # twilio-python raises the plain base class for a failed page, not TwilioRestException.
    with pytest.raises(TwilioException) as page_error:
        await client.messages.list_async()
    assert page_error.value.args[1].status_code == 503
    assert '"code":20503' in page_error.value.args[1].text
    with pytest.raises(ValueError, match="op"):
        fake.fail_next("send", 500)


async def test_error_that_still_sent_the_sms(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next("create", 500, then_apply=True)
    with pytest.raises(TwilioRestException):
        await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="doppelt?")
    assert fake.bodies_to(SURVIVOR) == ["doppelt?"]


async def test_hang_then_apply_is_sent_but_no_answer(fake: FakeTwilio, client: Client) -> None:
    fake.hang_next("create", 5.0, then_apply=True)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(
            client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x"), 0.3
        )
    assert fake.bodies_to(SURVIVOR) == ["x"]
    call = await fake.wait_for_async(lambda: [c for c in fake.calls if c.op == "create"])
    assert call[0].status is None  # the answer never reached the client


async def test_hang_without_apply_drops_abandoned_requests(
    fake: FakeTwilio, client: Client
) -> None:
    fake.hang_next("create", 5.0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(
            client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x"), 0.3
        )
    await fake.wait_for_async(lambda: fake.calls, what="the abandoned request to be recorded")
    assert fake.calls[0].status is None and fake.messages == {}

    fake.hang_next("create", 0.2)  # a slow but patient Twilio
    started = asyncio.get_running_loop().time()
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="y")
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert fake.existing_sids() == [message.sid]


@pytest.mark.parametrize("truncated", [False, True])
async def test_malformed_answer_is_not_json_and_sends_nothing(
    fake: FakeTwilio, client: Client, truncated: bool
) -> None:
    fake.malformed_next("create", truncated=truncated)
    with pytest.raises(ValueError):  # json.JSONDecodeError inside the twilio client
        await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    assert fake.messages == {} and [c.status for c in fake.calls] == [201]
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="y")
    assert fake.existing_sids() == [message.sid]


async def test_restart_on_the_same_port_keeps_state(fake: FakeTwilio, client: Client) -> None:
    message = await client.messages.create_async(to=SURVIVOR, from_=SENDER, body="x")
    port = fake.port
    fake.refuse_connections(True)
    assert not fake.running
    with pytest.raises(aiohttp.ClientConnectionError):
        await client.messages(message.sid).fetch_async()
    fake.refuse_connections(False)
    assert fake.port == port and fake.base_url == f"http://127.0.0.1:{port}"
    assert (await client.messages(message.sid).fetch_async()).sid == message.sid


# -- list ------------------------------------------------------------------------------------


async def test_list_pages_filters_and_orders_newest_first(fake: FakeTwilio, client: Client) -> None:
    for index in range(5):
        await client.messages.create_async(to=SURVIVOR, from_=SENDER, body=f"s{index}")
    await client.messages.create_async(to=OTHER, from_=SENDER, body="o")

    listed = await client.messages.list_async(to=SURVIVOR, page_size=2)
    assert [m.body for m in listed] == ["s4", "s3", "s2", "s1", "s0"]
    assert len([c for c in fake.calls if c.op == "list"]) == 3

    with raw(fake) as http:
        page = http.get(messages_path(fake), params={"To": SURVIVOR, "PageSize": 2}).json()
        second = http.get(page["next_page_uri"]).json()
    assert (page["start"], page["end"], page["page"], page["page_size"]) == (0, 1, 0, 2)
    assert page["previous_page_uri"] is None and "Page=1" in page["next_page_uri"]
    assert page["uri"] == page["first_page_uri"]
    assert [m["body"] for m in second["messages"]] == ["s2", "s1"]
    assert second["previous_page_uri"] and (second["start"], second["end"]) == (2, 3)

    await fake.wait_for_async(lambda: len(fake.existing_sids()) == 6)
    await fake.wait_for_async(
        lambda: all(m["date_sent"] for m in fake.messages.values()), what="all sent"
    )
    today = datetime.now(UTC).date()
    assert len(await client.messages.list_async(date_sent=today)) == 6
    assert len(await client.messages.list_async(from_=SENDER, to=OTHER)) == 1


def test_serves_a_service_running_in_a_subprocess(fake: FakeTwilio) -> None:
    script = textwrap.dedent(
        """
        import sys
        from twilio.rest import Client

        base_url, account_sid, token, to = sys.argv[1:]
        client = Client(account_sid, token)  # the blocking client, as a CLI would use it
        client.api.base_url = base_url
        print(client.messages.create(to=to, from_="+15005550006", body="aus Subprozess").sid)
        """
    )
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    result = subprocess.run(
        [sys.executable, "-c", script, fake.base_url, fake.account_sid, fake.auth_token, OTHER],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=True,
    )
    assert fake.existing_sids(to=OTHER) == [result.stdout.strip()]
    assert fake.bodies_to(OTHER) == ["aus Subprozess"]


def test_reset_forgets_everything(fake: FakeTwilio, receiver: Receiver) -> None:
    fake.opt_out(OTHER)
    fake.fail_next("create", 500)
    fake.inbound(SURVIVOR, SENDER, "x", url=receiver.url("/sms"))
    fake.reset()
    assert (fake.messages, fake.calls, fake.opted_out, fake.webhook_responses) == (
        {},
        [],
        set(),
        {},
    )
    with raw(fake) as http:
        created = http.post(messages_path(fake), data={"To": OTHER, "From": SENDER, "Body": "x"})
    assert created.status_code == 201


def test_wait_for_explains_what_it_waited_for(fake: FakeTwilio) -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.05s waiting for the moon"):
        fake.wait_for(lambda: False, timeout=0.05, what="the moon")
    assert fake.wait_for(lambda: 42) == 42
