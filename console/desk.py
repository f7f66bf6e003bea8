"""The agent desk: what an agent sees when their phone rings (the screen pop), built from the
call records (presence itself: pbx.presence).

An agent only ever reaches a customer through a call offered to them: every lookup here
starts from the agent's own offer (agent_offers), never from an id the browser sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.complaints import overdue
from db.models import (
    Account,
    AgentOffer,
    Call,
    Callback,
    CallbackStatus,
    Complaint,
    Customer,
    PromiseToPay,
    QueueLeg,
    WrapUp,
)

LOCAL = ZoneInfo("Asia/Shanghai")  # the default line's time zone
REPEAT_WITHIN = timedelta(hours=24)
HISTORY = 5
LIVE_OFFERS = ("ringing", "answered", "completed")


class DeskError(ValueError):
    """Something the agent asked for that the desk does not allow."""


def current_offer(session: Session, agent_id: str) -> AgentOffer | None:
    """The call the agent's screen is about: ringing or in progress, or ended and not yet
    wrapped up."""
    offer = session.scalar(select(AgentOffer).where(
        AgentOffer.agent == agent_id, AgentOffer.status.in_(LIVE_OFFERS))
        .order_by(AgentOffer.offered_at.desc(), AgentOffer.id.desc()).limit(1))
    if offer is None:
        return None
    if offer.status == "completed" and wrapped_up(session, offer):
        return None
    return offer


def offer_of(session: Session, agent_id: str, call_id: str) -> AgentOffer:
    """The agent's own offer of this call; DeskError for any other call."""
    offer = session.scalar(select(AgentOffer).where(
        AgentOffer.agent == agent_id, AgentOffer.call_id == call_id,
        AgentOffer.status.in_(("answered", "completed")))
        .order_by(AgentOffer.offered_at.desc()).limit(1))
    if offer is None:
        raise DeskError("not a call you answered")
    return offer


def wrapped_up(session: Session, offer: AgentOffer) -> bool:
    return session.scalar(select(WrapUp.id).where(WrapUp.call_id == offer.call_id,
                                                  WrapUp.agent == offer.agent)) is not None


def screen_pop(session: Session, offer: AgentOffer, words: Mapping[str, str],
               now: datetime, dialects: Mapping[str, str] | None = None,
               zone: ZoneInfo = LOCAL) -> dict[str, Any]:
    """Everything the agent needs about the offered call, without asking again; times in
    the line's local time (`zone`)."""
    def when(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

    call = session.scalar(select(Call).where(Call.call_id == offer.call_id))
    if call is None:  # the offer is there, the call's record not yet: ring first, fill in
        return {"call_id": offer.call_id, "state": offer.status, "queue": offer.queue}
    leg = session.scalar(select(QueueLeg).where(QueueLeg.call_id == call.call_id)
                         .order_by(QueueLeg.joined_at.desc()).limit(1))
    waited_s = None
    if leg is not None:
        waited_s = leg.wait_s if leg.wait_s is not None else \
            int(((offer.answered_at or now) - leg.joined_at).total_seconds())
    path = call.path.split(">") if call.path else []
    pop: dict[str, Any] = {
        "call_id": call.call_id, "state": offer.status, "queue": offer.queue,
        "caller": call.caller_masked or "withheld",
        "verified": call.verified or "no", "verify_failures": call.verify_failures or 0,
        "language": (dialects or {}).get(call.language or "", call.language),
        "intent": call.intent, "reason": call.reason, "waited_s": waited_s,
        "path": [words.get(node, node) for node in path],
        "flags": [], "customer": None,
    }
    if call.caller_key and _repeat_caller(session, call):
        pop["flags"].append("repeat caller (24 h)")
    history_filter = _same_caller(call)
    if call.customer_id:
        customer = session.get(Customer, call.customer_id)
        if customer is not None:
            if customer.vip:
                pop["flags"].append("VIP")
            pop["customer"] = _customer(session, customer, when)
    if history_filter is not None:
        pop["history"] = _history(session, call, history_filter, when)
        pop["callbacks"] = [
            {"not_before": when(c.not_before), "queue": c.queue,
             "status": c.status}
            for c in session.scalars(select(Callback).join(Call, Call.call_id == Callback.call_id)
                                     .where(history_filter, Callback.status.in_(
                                         (CallbackStatus.BOOKED, CallbackStatus.DIALLING))))]
        pop["complaints"] = [
            {"ticket": c.ticket, "category": c.category, "status": c.status,
             "reply_due": when(c.reply_due), "resolution_due": when(c.resolution_due),
             "overdue": overdue(c, now)}
            for c in session.scalars(select(Complaint).join(Call, Call.call_id == Complaint.call_id)
                                     .where(history_filter,
                                            Complaint.status.not_in(("resolved", "closed"))))]
    return pop


def _same_caller(call: Call) -> Any:
    """Calls of the same customer or from the same number (its keyed hash)."""
    tests = []
    if call.customer_id:
        tests.append(Call.customer_id == call.customer_id)
    if call.caller_key:
        tests.append(Call.caller_key == call.caller_key)
    return or_(*tests) if tests else None


def _repeat_caller(session: Session, call: Call) -> bool:
    started = call.started_at
    if started is None:
        return False
    return session.scalar(select(Call.call_id).where(
        Call.caller_key == call.caller_key, Call.call_id != call.call_id,
        Call.started_at >= started - REPEAT_WITHIN, Call.started_at < started).limit(1)) \
        is not None


def _history(session: Session, call: Call, same: Any,
             when: Callable[[datetime], str]) -> list[dict[str, Any]]:
    earlier = session.scalars(select(Call).where(same, Call.call_id != call.call_id)
                              .order_by(Call.started_at.desc()).limit(HISTORY)).all()
    dispositions = {w.call_id: w.disposition for w in session.scalars(
        select(WrapUp).where(WrapUp.call_id.in_([c.call_id for c in earlier])))}
    return [{"at": when(c.started_at) if c.started_at else None,
             "intent": c.intent, "outcome": c.outcome,
             "disposition": dispositions.get(c.call_id)} for c in earlier]


def _customer(session: Session, customer: Customer,
              when: Callable[[datetime], str]) -> dict[str, Any]:
    accounts = session.scalars(select(Account).where(
        Account.customer_id == customer.customer_id).order_by(Account.account_no)).all()
    notes = session.scalars(select(WrapUp).where(WrapUp.customer_id == customer.customer_id)
                            .order_by(WrapUp.at.desc()).limit(HISTORY)).all()
    arrears = next((n.arrears_reason for n in notes if n.arrears_reason), None)
    promises = session.scalars(select(PromiseToPay).where(
        PromiseToPay.customer_id == customer.customer_id)
        .order_by(PromiseToPay.made_at.desc()).limit(HISTORY)).all()
    return {
        "id": customer.customer_id, "vip": customer.vip,
        "preferred_language": customer.preferred_language,
        "accounts": [{"account": f"…{a.account_no[-4:]}", "kind": a.kind, "status": a.status,
                      "balance": _money(a.balance), "minimum_due": _money(a.minimum_due),
                      "due_date": a.due_date.isoformat() if a.due_date else None,
                      "days_overdue": a.days_overdue,
                      "overdue_amount": _money(a.overdue_amount)} for a in accounts],
        "arrears_reason": arrears,
        "promises": [{"amount": _money(p.amount), "pay_by": p.pay_by.isoformat(),
                      "status": p.status} for p in promises],
        "notes": [{"at": when(n.at), "agent": n.agent,
                   "disposition": n.disposition, "notes": n.notes} for n in notes],
    }


def _money(value: object) -> str | None:
    return None if value is None else f"{value:.2f}"
