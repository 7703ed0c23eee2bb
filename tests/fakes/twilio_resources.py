"""Pure builders for the Twilio fake: Message resources, error bodies, webhook forms, segments.

Kept apart from the HTTP server so the shapes can be read against Twilio's OpenAPI description
(`api.v2010.account.message`, 2010-04-01) without wading through threading code.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import phonenumbers

API_VERSION = "2010-04-01"
ERROR_DOCS = "https://www.twilio.com/docs/errors/{code}"

ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-fA-F]{32}$")
MESSAGE_SID_RE = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
SERVICE_SID_RE = re.compile(r"^MG[0-9a-fA-F]{32}$")
# E.164: "+", country code not starting with 0, at most 15 digits; channel prefixes allowed.
_ADDRESS_RE = re.compile(r"^(?:(?:whatsapp|messenger|rcs):)?\+[1-9]\d{1,14}$")

# `message_enum_status` in the OpenAPI file.
STATUSES = frozenset(
    {
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "accepted",
        "scheduled",
        "read",
        "partially_delivered",
        "canceled",
    }
)
# Twilio only lets a Message be deleted (or its body redacted) once delivery is settled.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received", "canceled", "read"})
FAILED_STATUSES = frozenset({"failed", "undelivered"})

# Keywords Twilio's built-in opt-out handling reacts to (case-insensitive, whole body).
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})

# GSM 03.38 default alphabet (without ESC) and the extension table (2 septets each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter prefix + 32 lowercase hex digits."""
    return prefix + uuid.uuid4().hex


def rfc2822(moment: datetime) -> str:
    """Format as Twilio does for `date-time-rfc-2822` fields, e.g. 'Thu, 24 Aug 2023 05:01:45 +0000'."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def parse_rfc2822(value: str) -> datetime:
    """Inverse of `rfc2822`, for filters over stored resources."""
    return parsedate_to_datetime(value)


def utcnow() -> datetime:
    """Aware UTC now; one place so every timestamp uses the same clock."""
    return datetime.now(UTC)


def is_valid_address(address: str) -> bool:
    """True for an E.164 number, optionally behind a channel prefix like 'whatsapp:'."""
    return bool(_ADDRESS_RE.match(address))


def country_of(address: str) -> str:
    """ISO country of a number as Twilio puts it in FromCountry/ToCountry ('' if unknown)."""
    number = address.split(":", 1)[-1]
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return ""
    return region if region and region != "ZZ" else ""


def encoding_of(body: str) -> str:
    """'GSM-7' if every character is in the GSM 03.38 alphabet, else 'UCS-2'."""
    allowed = GSM7_BASIC | GSM7_EXTENSION
    return "GSM-7" if all(ch in allowed for ch in body) else "UCS-2"


def count_segments(body: str) -> int:
    """Number of SMS segments, as billed and reported in `num_segments`.

    GSM-7: 160 septets in one segment, 153 per part otherwise; an extension character takes
    two septets and is never split across parts. UCS-2: 70 UTF-16 units, 67 per part; a
    surrogate pair (emoji) is never split.
    """
    if not body:
        return 1
    if encoding_of(body) == "GSM-7":
        units = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        single, per_part = 160, 153
    else:
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
        single, per_part = 70, 67
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for unit in units:
        if used + unit > per_part:
            parts, used = parts + 1, 0
        used += unit
    return parts


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's legacy REST error body, which twilio-python turns into TwilioRestException."""
    return {
        "code": code,
        "message": message,
        "more_info": ERROR_DOCS.format(code=code),
        "status": status,
    }


def message_uri(account_sid: str, sid: str) -> str:
    """Path of one Message resource, relative to the API base (the fake's 127.0.0.1 address)."""
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"


def message_resource(
    *,
    account_sid: str,
    sid: str,
    to: str,
    from_: str | None,
    body: str,
    status: str,
    direction: str,
    messaging_service_sid: str | None,
    num_media: int,
    created: datetime,
) -> dict[str, Any]:
    """A Message resource with every field of `api.v2010.account.message`, typed as Twilio does.

    Counters are strings (`num_segments`, `num_media`), dates RFC 2822, `price` null until
    billed (the fake never bills).
    """
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    stamp = rfc2822(created)
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": stamp,
        "date_sent": None,
        "date_updated": stamp,
        "direction": direction,
        "error_code": None,
        "error_message": None,
        "from": from_,
        "messaging_service_sid": messaging_service_sid,
        "num_media": str(num_media),
        "num_segments": str(count_segments(body)),
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "media": f"{base}/Media.json",
            "feedback": f"{base}/Feedback.json",
        },
        "to": to,
        "uri": f"{base}.json",
    }


def status_callback_form(resource: dict[str, Any]) -> dict[str, str]:
    """The form Twilio POSTs to a StatusCallback URL for the resource's current status."""
    form = {
        "MessageSid": resource["sid"],
        "SmsSid": resource["sid"],
        "AccountSid": resource["account_sid"],
        "From": resource["from"] or "",
        "To": resource["to"],
        "MessageStatus": resource["status"],
        "SmsStatus": resource["status"],
        "ApiVersion": API_VERSION,
    }
    if resource["messaging_service_sid"]:
        form["MessagingServiceSid"] = resource["messaging_service_sid"]
    if resource["status"] in FAILED_STATUSES and resource["error_code"] is not None:
        form["ErrorCode"] = str(resource["error_code"])
    return form


def inbound_webhook_form(resource: dict[str, Any], media_urls: list[str]) -> dict[str, str]:
    """The form Twilio POSTs to a number's incoming-message webhook.

    City/state/zip fields are empty, as Twilio sends them for most non-US numbers.
    """
    form = {
        "ToCountry": country_of(resource["to"]),
        "ToState": "",
        "SmsMessageSid": resource["sid"],
        "NumMedia": str(len(media_urls)),
        "ToCity": "",
        "FromZip": "",
        "SmsSid": resource["sid"],
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": resource["body"],
        "FromCountry": country_of(resource["from"]),
        "To": resource["to"],
        "ToZip": "",
        "NumSegments": resource["num_segments"],
        "MessageSid": resource["sid"],
        "AccountSid": resource["account_sid"],
        "From": resource["from"],
        "ApiVersion": API_VERSION,
    }
    if resource["messaging_service_sid"]:
        form["MessagingServiceSid"] = resource["messaging_service_sid"]
    for index, url in enumerate(media_urls):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = "image/jpeg"
    return form
