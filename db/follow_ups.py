"""Follow-ups: the messages callers leave when no agent took their call in time (or after
hours), each answered within a deadline (24 hours). Open until someone records what was done;
late when its deadline passed before that."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import FollowUp

ANSWER_WITHIN = timedelta(hours=24)  # what the no-agent prompts promise the caller
STATUSES = ("open", "done")


class FollowUpError(ValueError):
    """A step the workflow does not allow; the message says why."""


def open_follow_up(session: Session, *, event_id: str, call_id: str, opened_at: datetime,
                   message_ref: str, duration_ms: int | None, queue: str | None,
                   language: str | None, intent: str | None, customer_id: str | None,
                   reply_to: str | None) -> FollowUp:
    follow_up = FollowUp(event_id=event_id, call_id=call_id, opened_at=opened_at,
                         due_at=opened_at + ANSWER_WITHIN, message_ref=message_ref,
                         duration_ms=duration_ms, queue=queue, language=language,
                         intent=intent, customer_id=customer_id, reply_to=reply_to,
                         status="open")
    session.add(follow_up)
    return follow_up


def complete(follow_up: FollowUp, at: datetime, *, by: str, outcome: str) -> None:
    if follow_up.status == "done":
        raise FollowUpError(f"follow-up {follow_up.id} was done already "
                            f"({follow_up.done_by})")
    if not by.strip() or not outcome.strip():
        raise FollowUpError("say who answered the message and what was done")
    follow_up.status = "done"
    follow_up.done_at = at
    follow_up.done_by = by.strip()[:64]
    follow_up.outcome = outcome.strip()[:2000]


def late(follow_up: FollowUp, now: datetime) -> bool:
    """Past its deadline before it was done (or still open after it)."""
    return (follow_up.done_at or now) > follow_up.due_at


def find(session: Session, *, status: str | None = None, since: datetime | None = None,
         until: datetime | None = None) -> Sequence[FollowUp]:
    query = select(FollowUp).order_by(FollowUp.due_at)
    if status:
        if status not in STATUSES:
            raise FollowUpError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        query = query.where(FollowUp.status == status)
    if since:
        query = query.where(FollowUp.opened_at >= since)
    if until:
        query = query.where(FollowUp.opened_at < until)
    return session.scalars(query).all()
