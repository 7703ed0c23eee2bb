"""The stores, built once over one database and one key ring, handed to whoever uses them.

Modules take ``Stores`` (or only the store they use), never the App or the service: what a
function can reach is what its signature says.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.crypto import KeyRing
from bot.store.db import Database
from bot.store.organisations import Organisations
from bot.store.outbox import Outbox
from bot.store.participants import Participants
from bot.store.programmes import Programmes
from bot.store.scope import OutsideScope
from bot.store.sessions import Answers, Sessions
from bot.store.staff import StaffStore
from bot.store.transcript import Transcript


@dataclass(frozen=True)
class Stores:
    db: Database
    ring: KeyRing
    clock: Clock
    organisations: Organisations
    participants: Participants
    programmes: Programmes
    sessions: Sessions
    answers: Answers
    outbox: Outbox
    transcript: Transcript
    staff: StaffStore

    @classmethod
    def over(cls, db: Database, ring: KeyRing, clock: Clock) -> Stores:
        """The stores of ``db``; its transactions check ``ring``'s key file once each."""
        db.guard_transactions(ring.checked_once)
        outside = OutsideScope(db, clock)
        return cls(
            db=db,
            ring=ring,
            clock=clock,
            organisations=Organisations(db),
            participants=Participants(db, ring, outside),
            programmes=Programmes(db, outside),
            sessions=Sessions(db, ring),
            answers=Answers(db, ring),
            outbox=Outbox(db, ring),
            transcript=Transcript(db, ring),
            staff=StaffStore(db, ring, outside),
        )
