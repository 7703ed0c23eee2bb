"""What a staff alert says, in the staff member's language (DESIGN.md §6).

An alert carries the code, level, pseudonym, programme, reason codes with
labels, her safe window and channel and the time, and NOTHING she wrote or
answered: it is built only from ``AlertFacts``, which the store reads from the
escalation row and her contact settings.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.channels.base import STAFF_ALERT_KIND, Button, Rendered
from bot.store.escalations import AlertFacts
from bot.text.i18n import Translator
from conversations.messages import N_

STAFF_KIND = STAFF_ALERT_KIND

LEVEL_LABELS = {"URGENT": N_("URGENT"), "HIGH": N_("HIGH"), "ROUTINE": N_("ROUTINE")}
REASON_LABELS = {
    "not_safe_wants_help": N_("not safe now and wants help today"),
    "strangulation": N_("choked or strangled"),
    "threat_to_kill": N_("threat to kill"),
    "weapon": N_("weapon used or threatened"),
    "fear_for_life": N_("afraid for her life"),
    "duress_word": N_("duress word used"),
    "new_physical_violence": N_("new physical violence"),
    "new_sexual_violence": N_("new sexual violence"),
    "children_afraid": N_("children very upset or afraid"),
    "children_harmed": N_("children harmed"),
    "police_called": N_("police called"),
    "contact_request": N_("asks to be contacted"),
    "safe_word_used": N_("safe word used, contact paused"),
    "opted_out": N_("opted out"),
    "unreachable": N_("cannot be reached"),
    "blocked": N_("she blocked the bot"),
    "invalid_number": N_("phone number not valid"),
    "chat_not_found": N_("chat no longer exists"),
    "code_word_locked": N_("locked after wrong code words"),
    "withdraw_requested": N_("asks to withdraw: confirm with her on a safe route"),
    "message_outside_session": N_("wrote outside a survey: reach her on her safe route"),
}
CHANNEL_LABELS = {"telegram": N_("Telegram"), "sms": N_("SMS"), "console": N_("console")}

TITLE = N_("{level} alert {code}")
REMINDER = N_("Reminder {attempt}: not acknowledged yet.")
BACKUP = N_("You are the backup: nobody on call has acknowledged it.")
WHO = N_("Partner {pseudonym}, programme {programme}")
REASONS = N_("Reasons: {reasons}")
WINDOW = N_("Safe to contact: {window} ({timezone}), by {channel}")
RAISED = N_("Raised: {time}")
SMS_REPLY = N_("Reply ACK {code} or DONE {code}")
CONSOLE_REPLY = N_("Acknowledge with: followup escalations ack {code} --by NAME")
ACKNOWLEDGE = N_("Acknowledge")
RESOLVE = N_("Resolve")
DIGEST_TITLE = N_("Daily digest: {count} routine escalation(s)")
DIGEST_LINE = N_("{code} {pseudonym} ({programme}): {reasons}")
DIGEST_REPLY = N_("Acknowledge each with ACK <code>, or from the command line.")
DONE_ACK = N_("{code} acknowledged by {name}.")
DONE_RESOLVE = N_("{code} resolved by {name}.")
ALREADY = N_("{code} is already {state}.")
NO_SUCH = N_("No open escalation {code}.")
STATE_LABELS = {
    "open": N_("open"),
    "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"),
}


def reasons_text(tr: Translator, reasons: tuple[str, ...]) -> str:
    """'choked or strangled (strangulation); ...': label in her worker's language, code kept."""
    return "; ".join(
        f"{tr.gettext(REASON_LABELS[r])} ({r})" if r in REASON_LABELS else r for r in reasons
    )


def when(moment: datetime, zone: str, language: str) -> str:
    tz = ZoneInfo(zone)
    return f"{format_datetime(moment, 'medium', tzinfo=tz, locale=language)} ({zone})"


def alert(
    facts: AlertFacts, channel: str, language: str, *, attempt: int = 1, backup: bool = False
) -> Rendered:
    """One alert for one route; Telegram gets Acknowledge/Resolve buttons, SMS a reply hint."""
    tr = Translator(language)
    level = tr.gettext(LEVEL_LABELS.get(facts.level, facts.level))
    lines = [tr.format(TITLE, {"level": level, "code": facts.code})]
    if attempt > 1:
        lines.append(tr.format(REMINDER, {"attempt": attempt}))
    if backup:
        lines.append(tr.gettext(BACKUP))
    lines += [
        tr.format(WHO, {"pseudonym": facts.pseudonym, "programme": facts.programme}),
        tr.format(REASONS, {"reasons": reasons_text(tr, facts.reasons)}),
        tr.format(
            WINDOW,
            {
                "window": facts.her_window,
                "timezone": facts.her_zone,
                "channel": tr.gettext(CHANNEL_LABELS.get(facts.her_channel, facts.her_channel)),
            },
        ),
        tr.format(RAISED, {"time": when(facts.raised_at, facts.programme_zone, language)}),
    ]
    buttons: tuple[Button, ...] = ()
    if channel == "telegram":
        buttons = (
            Button(tr.gettext(ACKNOWLEDGE), f"esc:ack:{facts.code}"),
            Button(tr.gettext(RESOLVE), f"esc:resolve:{facts.code}"),
        )
    elif channel == "sms":
        lines.append(tr.format(SMS_REPLY, {"code": facts.code}))
    else:
        lines.append(tr.format(CONSOLE_REPLY, {"code": facts.code}))
    return Rendered(text="\n".join(lines), buttons=buttons, kind=STAFF_KIND)


def digest(items: list[AlertFacts], language: str) -> Rendered:
    """The daily ROUTINE digest for one staff route."""
    tr = Translator(language)
    lines = [tr.format(DIGEST_TITLE, {"count": len(items)})]
    for facts in items:
        lines.append(
            tr.format(
                DIGEST_LINE,
                {
                    "code": facts.code,
                    "pseudonym": facts.pseudonym,
                    "programme": facts.programme,
                    "reasons": reasons_text(tr, facts.reasons),
                },
            )
        )
    lines.append(tr.gettext(DIGEST_REPLY))
    return Rendered(text="\n".join(lines), kind=STAFF_KIND)


def reply(msgid: str, language: str, **params: str) -> Rendered:
    """A short answer to a staff action (confirmation, already done, unknown code)."""
    tr = Translator(language)
    if "state" in params:
        params["state"] = tr.gettext(STATE_LABELS.get(params["state"], params["state"]))
    return Rendered(text=tr.format(msgid, dict(params)), kind=STAFF_KIND)
