"""Complaint tickets: two clocks and a workflow, as banking complaint rules require.

- First reply within 48 hours of filing (configurable).
- Resolution within 15 days; extendable once to 30 days with a reason, and then by a further
  30 days only with a recorded approval (who approved, and a reference to the approval).
- Status: new → assigned → replied → resolved → closed (a step may be skipped forward, never
  back). A ticket is overdue when a clock has run out before its step was reached.
- Filing a complaint puts the call's recordings on legal hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.orm import Session

from db.models import Complaint, ComplaintExtension, Recording

STATUSES = ("new", "assigned", "replied", "resolved", "closed")


@dataclass(frozen=True)
class ComplaintPolicy:
    reply_within: timedelta = timedelta(hours=48)
    resolve_within: timedelta = timedelta(days=15)
    first_extension_to: timedelta = timedelta(days=30)  # from filing, with a reason
    approved_extension: timedelta = timedelta(days=30)  # further, with a recorded approval


class ComplaintError(ValueError):
    """A step the rules do not allow; the message says which rule."""


def open_complaint(session: Session, *, ticket: str, call_id: str | None, category: str,
                   opened_at: datetime, description_ref: str | None = None,
                   transcript: str | None = None, callback_number: str | None = None,
                   event_id: str | None = None,
                   policy: ComplaintPolicy = ComplaintPolicy()) -> Complaint:
    complaint = Complaint(ticket=ticket, call_id=call_id, event_id=event_id,
                          category=category, description_ref=description_ref,
                          transcript=transcript, callback_number=callback_number,
                          status="new", opened_at=opened_at,
                          reply_due=opened_at + policy.reply_within,
                          resolution_due=opened_at + policy.resolve_within)
    session.add(complaint)
    if call_id is not None:
        hold_recordings(session, call_id)
    return complaint


def hold_recordings(session: Session, call_id: str) -> None:
    session.execute(update(Recording).where(Recording.call_id == call_id)
                    .values(legal_hold=True))


def advance(complaint: Complaint, status: str, at: datetime, *,
            assignee: str | None = None) -> None:
    if status not in STATUSES:
        raise ComplaintError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if STATUSES.index(status) <= STATUSES.index(complaint.status):
        raise ComplaintError(f"ticket {complaint.ticket} is {complaint.status}: it cannot go "
                             f"back to or stay at {status}")
    if status == "assigned":
        if not assignee:
            raise ComplaintError("assigning needs the person it is assigned to")
        complaint.assigned_to = assignee
    if STATUSES.index(status) >= STATUSES.index("replied") and complaint.replied_at is None:
        complaint.replied_at = at
    if STATUSES.index(status) >= STATUSES.index("resolved") and complaint.resolved_at is None:
        complaint.resolved_at = at
    if status == "closed":
        complaint.closed_at = at
    complaint.status = status


def extend(complaint: Complaint, at: datetime, *, reason: str,
           approved_by: str | None = None, approval_ref: str | None = None,
           policy: ComplaintPolicy = ComplaintPolicy()) -> datetime:
    """Extend the resolution deadline: the first time to 30 days from filing, the second
    time by 30 more days and only with a recorded approval; never a third time."""
    if complaint.status in ("resolved", "closed"):
        raise ComplaintError(f"ticket {complaint.ticket} is already {complaint.status}")
    if not reason.strip():
        raise ComplaintError("an extension needs a reason")
    done = len(complaint.extensions)
    if done == 0:
        new_due = complaint.opened_at + policy.first_extension_to
    elif done == 1:
        if not (approved_by and approval_ref):
            raise ComplaintError("a second extension needs a recorded approval: who approved "
                                 "it (--approved-by) and where it is recorded (--approval-ref)")
        new_due = complaint.resolution_due + policy.approved_extension
    else:
        raise ComplaintError(f"ticket {complaint.ticket} was extended twice already: no "
                             "further extension is allowed")
    complaint.extensions.append(ComplaintExtension(
        extended_at=at, new_due=new_due, approved_by=approved_by,
        approval_ref=approval_ref or reason))
    complaint.resolution_due = new_due
    return new_due


def overdue(complaint: Complaint, now: datetime) -> list[str]:
    """Which clocks ran out: 'reply' and/or 'resolution'."""
    late = []
    replied = complaint.replied_at
    if (replied or now) > complaint.reply_due:
        late.append("reply")
    resolved = complaint.resolved_at
    if (resolved or now) > complaint.resolution_due:
        late.append("resolution")
    return late


def complaints_by_urgency() -> tuple[ColumnElement[Any], ...]:
    """ORDER BY for a work list: open tickets first, the one whose clock runs out soonest at
    the top (the reply until it is sent, then the resolution); then settled ones, newest
    first."""
    settled = Complaint.status.in_(("resolved", "closed"))
    next_due = case((Complaint.replied_at.is_(None), Complaint.reply_due),
                    else_=Complaint.resolution_due)
    return (case((settled, 1), else_=0), case((settled, None), else_=next_due),
            Complaint.opened_at.desc())


def find(session: Session, *, status: str | None = None, category: str | None = None,
         since: datetime | None = None, until: datetime | None = None) -> Sequence[Complaint]:
    query = select(Complaint).order_by(Complaint.opened_at)
    if status:
        query = query.where(Complaint.status == status)
    if category:
        query = query.where(Complaint.category == category)
    if since:
        query = query.where(Complaint.opened_at >= since)
    if until:
        query = query.where(Complaint.opened_at < until)
    return session.scalars(query).all()
