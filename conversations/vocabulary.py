"""The closed vocabularies of the core: phase, outcome, message kind, statuses, states.

Invariant: every member equals the string stored in the database and in the sealed
session state, so typing them changes no stored value; a new value is added here only.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Phase(StrEnum):
    """Where a session is; ``paused`` can resume, ``ended`` cannot."""

    NEW = "new"
    GATE = "gate"
    SNOOZE = "snooze"
    CODE = "code"
    #: Consent reaffirmed for this timepoint, after the gate and the code word.
    CONSENT = "consent"
    QUESTION = "question"
    HELP = "help"
    PAUSED = "paused"
    ENDED = "ended"


@unique
class Outcome(StrEnum):
    """How a session ended: the engine sets all but the last two, the shell sets those."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    EXPIRED = "expired"
    LATER = "later"
    IDLE = "idle"
    SNOOZED = "snoozed"
    #: "Not this time" at the consent question: the timepoint ends, no reminders.
    DECLINED = "declined"
    LOCKED = "locked"
    SAFE_WORD = "safe_word"
    DURESS = "duress"
    WITHDRAW_REQUESTED = "withdraw_requested"
    WITHDRAWN = "withdrawn"
    OPTED_OUT = "opted_out"
    #: Set by the shell: her address failed for good.
    UNREACHABLE = "unreachable"
    #: Set by the shell: a throwaway state for a message from a woman not in a session.
    INACTIVE = "inactive"


@unique
class MessageKind(StrEnum):
    """What a message to her is for; the shell renders and schedules by it."""

    OPENER = "opener"
    REMINDER = "reminder"
    GATE = "gate"
    SNOOZE = "snooze"
    CODE = "code"
    CONSENT = "consent"
    INFO = "info"
    QUESTION = "question"
    REPROMPT = "reprompt"
    HELP = "help"
    NOTICE = "notice"
    CLOSING = "closing"
    DECOY = "decoy"


@unique
class ParticipantStatus(StrEnum):
    """Her standing in the study; only staff move her back to ``active`` (DESIGN.md §1.7)."""

    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    WITHDRAWN = "withdrawn"
    ERASED = "erased"


@unique
class TimepointState(StrEnum):
    """How far the contact for one timepoint got."""

    SCHEDULED = "scheduled"
    HELD = "held"
    SENT = "sent"
    IN_PROGRESS = "in_progress"
    SNOOZED = "snoozed"
    #: She said "not this time" when asked whether it is still OK to ask (consent).
    DECLINED = "declined"
    COMPLETED = "completed"
    MISSED = "missed"
    CANCELLED = "cancelled"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    WITHDRAWN = "withdrawn"
    PAUSED = "paused"


#: The messages a contact opens with: they carry the contact's dedupe key and wave priority.
SCHEDULED_KINDS = frozenset({MessageKind.OPENER, MessageKind.REMINDER})
