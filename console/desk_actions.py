"""What an agent does for the caller from the desk, on the call they answered: book a
callback (checked number, the line's calendar) and open a complaint ticket (the same number
format and clocks as the IVR's)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.desk import DeskError
from db.complaints import open_complaint
from db.models import AgentOffer, Call, Callback, CallbackStatus, Complaint
from ivr.menu_schema import LineSettings
from ivr.phone import dialable
from ivr.ports import TicketIssuer, TicketUnavailable
from ivr.scheduling import NoOpening, earliest_contact

COMPLAINT_CATEGORIES = ("complaint-service", "complaint-fees", "complaint-collections",
                        "complaint-other")  # as the IVR's complaint menu files them
DEFAULT_QUEUE = "general"


def _call(session: Session, offer: AgentOffer) -> Call:
    call = session.scalar(select(Call).where(Call.call_id == offer.call_id))
    if call is None:
        raise DeskError("the call's record is not there yet; try again in a moment")
    return call


def book_callback(session: Session, offer: AgentOffer, line: LineSettings | None,
                  number_text: str, now: datetime) -> Callback:
    number = dialable("".join(c for c in number_text if c.isdigit()))
    if number is None:
        raise DeskError("not a Chinese mobile or fixed-line number (with its area code)")
    call = _call(session, offer)
    try:
        not_before = earliest_contact(now, line) if line is not None else now
    except NoOpening as exc:
        raise DeskError("the line's calendar has no opening for a callback") from exc
    callback = Callback(event_id=f"desk-{uuid.uuid4().hex[:24]}", call_id=call.call_id,
                        booked_at=now, number=number, queue=call.queue or DEFAULT_QUEUE,
                        language=call.language or "cmn", intent=call.intent,
                        not_before=not_before, status=CallbackStatus.BOOKED)
    session.add(callback)
    return callback


def file_complaint(session: Session, offer: AgentOffer, tickets: TicketIssuer | None,
                   category: str, description: str, now: datetime) -> Complaint:
    if category not in COMPLAINT_CATEGORIES:
        raise DeskError(f"category is one of {', '.join(COMPLAINT_CATEGORIES)}")
    if not description.strip():
        raise DeskError("say what the complaint is about")
    if tickets is None:
        raise DeskError("no ticket store on this console")
    call = _call(session, offer)
    try:
        ticket = tickets.issue(now)
    except TicketUnavailable as exc:
        raise DeskError(f"no ticket number now: {exc}") from exc
    return open_complaint(session, ticket=ticket, call_id=call.call_id, category=category,
                          opened_at=now, transcript=description.strip()[:4000])
