"""Twilio's Messages data model and rules for the fake, without HTTP or threads of its own.

`MessageStore` answers the REST operations (create, fetch, update, delete, list) with the status
code and body Twilio would send, and moves messages through their lifecycle. It is thread-safe:
the fake's server thread and the test thread both call into it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlparse

from .twilio_resources import (
    FAILED_STATUSES,
    FINAL_STATUSES,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    error_body,
    inbound_webhook_form,
    is_valid_address,
    message_resource,
    new_sid,
    parse_rfc2822,
    rfc2822,
    status_callback_form,
    utcnow,
)

Params = dict[str, str | list[str]]
Result = tuple[int, dict[str, Any] | None]
Callback = tuple[str, dict[str, str]]  # (url, form) of a status callback that is due

DEFAULT_SENDER = "+15005550006"  # Twilio's "valid From" magic test number
MAX_BODY = 1600
NOT_COMPLETED = "Cannot delete message because delivery has not been completed"
DELIVERY_ERRORS = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}


def one(params: Params, key: str) -> str | None:
    """First value of a form/query parameter (Twilio ignores repeats of single fields)."""
    value = params.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def many(params: Params, key: str) -> list[str]:
    """All values of a repeatable parameter such as MediaUrl."""
    value = params.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def error(status: int, code: int, message: str) -> Result:
    """An error answer in Twilio's shape."""
    return status, error_body(status, code, message)


def not_found(path: str) -> Result:
    """Twilio's 404 for an unknown (or deleted) resource."""
    return error(404, 20404, f"The requested resource {path} was not found")


class MessageStore:
    """Messages of one account, with Twilio's validation and lifecycle rules."""

    def __init__(self, account_sid: str) -> None:
        self.account_sid = account_sid
        self._lock = threading.RLock()
        self._messages: dict[str, dict[str, Any]] = {}
        self._sent_bodies: dict[str, str] = {}  # as the phone got them, before redaction
        self._callback_urls: dict[str, str] = {}
        self._deleted: set[str] = set()
        self._opted_out: set[str] = set()
        self._outcomes: dict[str, tuple[str, int]] = {}

    # -- REST operations --------------------------------------------------------------------

    def create(self, params: Params, *, numbers: list[str] | None) -> tuple[Result, str | None]:
        """POST .../Messages.json; returns the answer and the new sid (None if refused)."""
        to = one(params, "To")
        from_ = one(params, "From") or None
        service = one(params, "MessagingServiceSid") or None
        body = one(params, "Body") or ""
        media = many(params, "MediaUrl")
        callback = one(params, "StatusCallback") or None
        if not to:
            return error(400, 21604, "A 'To' phone number is required."), None
        if not is_valid_address(to):
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number."), None
        if from_ is None and service is None:
            return error(400, 21603, "A 'From' phone number is required."), None
        if from_ is not None and numbers is not None and from_ not in numbers:
            message = (
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                "number or short code for your account."
            )
            return error(400, 21606, message), None
        if not body and not media and not one(params, "ContentSid"):
            return error(400, 21602, "Message body is required."), None
        if len(body) > MAX_BODY:
            message = "The concatenated message body exceeds the 1600 character limit."
            return error(400, 21617, message), None
        if callback is not None and urlparse(callback).scheme not in ("http", "https"):
            return error(400, 21609, f"Invalid StatusCallback url: {callback}"), None
        sid = new_sid("MM" if media else "SM")
        resource = message_resource(
            account_sid=self.account_sid,
            sid=sid,
            to=to,
            from_=from_,
            body=body,
            # A Messaging Service first accepts the message, then picks a sender and queues it.
            status="accepted" if service else "queued",
            direction="outbound-api",
            messaging_service_sid=service,
            num_media=len(media),
            created=utcnow(),
        )
        with self._lock:
            if to in self._opted_out:
                return error(400, 21610, "Attempt to send to unsubscribed recipient"), None
            self._messages[sid] = resource
            self._sent_bodies[sid] = body
            if callback:
                self._callback_urls[sid] = callback
            return (201, copy.deepcopy(resource)), sid

    def fetch(self, sid: str, path: str) -> Result:
        """GET .../Messages/{Sid}.json."""
        with self._lock:
            message = self._live(sid)
            return (200, copy.deepcopy(message)) if message else not_found(path)

    def update(self, sid: str, params: Params, path: str) -> Result:
        """POST .../Messages/{Sid}.json: redact (Body="") or cancel (Status=canceled)."""
        status, body = one(params, "Status"), one(params, "Body")
        with self._lock:
            message = self._live(sid)
            if message is None:
                return not_found(path)
            if status is not None:
                if status != "canceled" or message["status"] != "scheduled":
                    return error(400, 30409, "This message cannot be canceled")
                message["status"] = "canceled"
            if body is not None:
                if body != "":
                    # Approximation: Twilio only accepts an empty Body here (redaction).
                    return error(400, 20001, "Body can only be updated to an empty string")
                if message["status"] not in FINAL_STATUSES:
                    return error(409, 20009, NOT_COMPLETED)
                message["body"] = ""
            message["date_updated"] = rfc2822(utcnow())
            return 200, copy.deepcopy(message)

    def delete(self, sid: str, path: str) -> Result:
        """DELETE .../Messages/{Sid}.json: 204, or refused while delivery is not final.

        Twilio answers HTTP 409 Conflict with code 20009 then. The OpenAPI file lists only the
        204; the status comes from Twilio's error docs and clients that handle 20009.
        """
        with self._lock:
            message = self._live(sid)
            if message is None:
                return not_found(path)
            if message["status"] not in FINAL_STATUSES:
                return error(409, 20009, NOT_COMPLETED)
            self._deleted.add(sid)
            return 204, None

    def list_page(self, params: Params, path: str) -> Result:
        """GET .../Messages.json: newest first, filters To/From/DateSent[<>], Page/PageSize."""
        try:
            page_size = min(max(int(one(params, "PageSize") or 50), 1), 1000)
            page = max(int(one(params, "Page") or 0), 0)
        except ValueError:
            return error(400, 20001, "Invalid paging parameter")
        filters = {
            key: value
            for key in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if (value := one(params, key))
        }
        try:
            days = {key: _parse_day(value) for key, value in filters.items() if "Date" in key}
        except ValueError:
            return error(400, 20001, "Invalid DateSent filter")
        with self._lock:
            matching = [
                copy.deepcopy(message)
                for sid, message in reversed(self._messages.items())
                if sid not in self._deleted and _matches(message, filters, days)
            ]
        start = page * page_size
        chunk = matching[start : start + page_size]

        def page_uri(number: int, token: str | None = None) -> str:
            query: list[tuple[str, str | int]] = [*filters.items()]
            query += [("PageSize", page_size), ("Page", number)]
            if token:
                query.append(("PageToken", token))
            return f"{path}?{urlencode(query)}"

        has_next = start + page_size < len(matching)
        return 200, {
            "end": start + len(chunk) - 1 if chunk else 0,
            "first_page_uri": page_uri(0),
            "messages": chunk,
            "next_page_uri": page_uri(page + 1, "PA" + chunk[-1]["sid"][2:]) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }

    def _live(self, sid: str) -> dict[str, Any] | None:
        if sid in self._deleted:
            return None
        return self._messages.get(sid)

    # -- lifecycle ----------------------------------------------------------------------------

    def receive(
        self,
        from_number: str,
        to_number: str,
        body: str,
        media_urls: list[str],
        *,
        messaging_service_sid: str | None,
        auto_opt_out: bool,
    ) -> tuple[str, dict[str, str]]:
        """Record an inbound message; returns its sid and the webhook form Twilio would POST."""
        sid = new_sid("MM" if media_urls else "SM")
        now = utcnow()
        resource = message_resource(
            account_sid=self.account_sid,
            sid=sid,
            to=to_number,
            from_=from_number,
            body=body,
            status="received",
            direction="inbound",
            messaging_service_sid=messaging_service_sid,
            num_media=len(media_urls),
            created=now,
        )
        resource["date_sent"] = rfc2822(now)
        keyword = body.strip().upper()
        with self._lock:
            self._messages[sid] = resource
            self._sent_bodies[sid] = body
            if auto_opt_out and keyword in OPT_OUT_KEYWORDS:
                self._opted_out.add(from_number)
            elif auto_opt_out and keyword in OPT_IN_KEYWORDS:
                self._opted_out.discard(from_number)
        return sid, inbound_webhook_form(resource, media_urls)

    def delivery_path(self, sid: str) -> list[str]:
        """Statuses auto-delivery still has to go through, from the current one on."""
        with self._lock:
            message = self._messages.get(sid)
            if message is None or sid in self._deleted:
                return []
            final = self._outcomes.get(message["to"], ("delivered", 0))[0]
            path = ["accepted", "queued", "sent", final]
            current = message["status"]
        return path[path.index(current) :] if current in path[:-1] else []

    def transition(
        self,
        sid: str,
        status: str,
        *,
        expected: str | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        sender: str = DEFAULT_SENDER,
    ) -> tuple[bool, Callback | None]:
        """Set a status as Twilio would (sender, date_sent, error fields).

        Returns whether it changed (not if deleted or no longer `expected`) and the status
        callback now due, if the message has a StatusCallback.
        """
        now = rfc2822(utcnow())
        with self._lock:
            message = self._messages.get(sid)  # None after a reset() under a running task
            if message is None or sid in self._deleted:
                return False, None
            if expected and message["status"] != expected:
                return False, None
            message["status"] = status
            message["date_updated"] = now
            outbound = message["direction"] != "inbound"
            if outbound and status not in ("accepted", "scheduled", "canceled"):
                if message["from"] is None:  # the Messaging Service picked a sender
                    message["from"] = sender
                if status not in ("queued", "sending") and message["date_sent"] is None:
                    message["date_sent"] = now
                    message["price_unit"] = "USD"
            if status in FAILED_STATUSES:
                outcome_code = self._outcomes.get(message["to"], ("", 30008))[1]
                code = error_code or outcome_code
                message["error_code"] = code
                message["error_message"] = error_message or DELIVERY_ERRORS.get(code, "Unknown")
            url = self._callback_urls.get(sid)
            if url is None or not outbound:
                return True, None
            return True, (url, status_callback_form(message))

    # -- scenario settings --------------------------------------------------------------------

    def set_opted_out(self, number: str, opted_out: bool) -> None:
        """Refuse (21610) or allow sends to `number`."""
        with self._lock:
            if opted_out:
                self._opted_out.add(number)
            else:
                self._opted_out.discard(number)

    def set_outcome(self, number: str, status: str, error_code: int) -> None:
        """Make auto-delivery to `number` end in `status` with `error_code`."""
        with self._lock:
            self._outcomes[number] = (status, error_code)

    # -- queries (copies, safe from any thread) -----------------------------------------------

    def has(self, sid: str) -> bool:
        with self._lock:
            return sid in self._messages

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._messages)

    def deleted(self) -> set[str]:
        with self._lock:
            return set(self._deleted)

    def opted_out(self) -> set[str]:
        with self._lock:
            return set(self._opted_out)

    def statuses(self, last: int) -> dict[str, str]:
        with self._lock:
            return {sid: m["status"] for sid, m in list(self._messages.items())[-last:]}

    def existing_sids(self, to: str | None) -> list[str]:
        with self._lock:
            return [
                sid
                for sid, message in self._messages.items()
                if sid not in self._deleted and (to is None or message["to"] == to)
            ]

    def bodies_to(self, number: str, delivered_only: bool) -> list[str]:
        with self._lock:
            return [
                self._sent_bodies[sid]
                for sid, message in self._messages.items()
                if message["to"] == number
                and message["direction"] != "inbound"
                and (not delivered_only or message["status"] == "delivered")
            ]


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return parse_rfc2822(value).date()


def _matches(message: dict[str, Any], filters: dict[str, str], days: dict[str, date]) -> bool:
    if "To" in filters and message["to"] != filters["To"]:
        return False
    if "From" in filters and message["from"] != filters["From"]:
        return False
    if not days:
        return True
    if message["date_sent"] is None:
        return False
    sent = parse_rfc2822(message["date_sent"]).date()
    checks: dict[str, Callable[[date], bool]] = {
        "DateSent": lambda day: sent == day,
        "DateSent<": lambda day: sent <= day,
        "DateSent>": lambda day: sent >= day,
    }
    return all(checks[key](day) for key, day in days.items())
