"""When a callback may be dialled: outside the quiet hours (ivr.contact_policy), within the
daily attempts, and inside the line's business hours — never on its holidays, with its worked
weekend days (ivr.calendar). The callback node books with it and the dialler dials with it.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from datetime import datetime

from ivr.calendar import next_open
from ivr.contact_policy import Decision, earliest_call, may_call
from ivr.menu_schema import LineSettings

# Quiet hours and opening hours alternate at most a few times a day.
MAX_ROUNDS = 20


class NoOpening(ValueError):
    """The line's callback hours do not open in the weeks ahead."""


def earliest_contact(now: datetime, line: LineSettings) -> datetime:
    """The first moment from `now` outside the quiet hours and inside the callback hours.
    Raises NoOpening."""
    hours = line.callback_hours()
    moment = now
    for _round in range(MAX_ROUNDS):
        allowed = earliest_call(moment, line.contact)
        opened = next_open(hours, allowed) if hours is not None else allowed
        if opened is None:
            break
        if earliest_call(opened, line.contact) == opened:
            return opened
        moment = opened
    raise NoOpening(f"no time to call back: {line.contact.business_hours} hours never open "
                    "outside the quiet hours")


def may_dial(now: datetime, attempts: list[datetime], line: LineSettings) -> Decision:
    """May a callback be dialled now, given the attempts already made on its number?"""
    decision = may_call(now, attempts, line.contact)
    if not decision.allowed:
        return Decision(False, earliest_contact(decision.not_before, line), decision.reason)
    earliest = earliest_contact(now, line)
    if earliest > now:
        return Decision(False, earliest, "outside business hours")
    return decision
