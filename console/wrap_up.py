"""Wrap-up after a call: the disposition (from the operator-edited console/dispositions.yaml),
notes, the customer's reason for arrears, a promise to pay, a follow-up flag — stored with the
call and the customer, where the next agent's screen pop reads them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.desk import DeskError, wrapped_up
from db.models import AgentOffer, Call, PromiseToPay, WrapUp
from ivr.yamlsource import safe_load

DISPOSITIONS_FILE = Path(__file__).with_name("dispositions.yaml")
MAX_PROMISE_DAYS = 30  # agents may agree further out than the IVR's 14 days
MAX_NOTES = 4000


class Disposition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    label: str = Field(min_length=1, max_length=80)


class Dispositions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    dispositions: list[Disposition] = Field(min_length=1)

    def codes(self) -> set[str]:
        return {d.code for d in self.dispositions}


def load_dispositions(file: Path = DISPOSITIONS_FILE) -> Dispositions:
    return Dispositions.model_validate(safe_load(file))


def save_wrap_up(session: Session, offer: AgentOffer, dispositions: Dispositions, *,
                 disposition: str, notes: str, arrears_reason: str, follow_up: bool,
                 promise_amount: str, promise_date: str, now: datetime) -> WrapUp:
    if disposition not in dispositions.codes():
        raise DeskError(f"unknown disposition {disposition!r}")
    if wrapped_up(session, offer):
        raise DeskError("this call is wrapped up already")
    call = session.scalar(select(Call).where(Call.call_id == offer.call_id))
    customer_id = call.customer_id if call else None
    wrap = WrapUp(call_id=offer.call_id, agent=offer.agent, customer_id=customer_id, at=now,
                  disposition=disposition, notes=notes.strip()[:MAX_NOTES] or None,
                  arrears_reason=arrears_reason.strip()[:200] or None, follow_up=follow_up)
    session.add(wrap)
    if promise_amount.strip() or promise_date.strip():
        if customer_id is None:
            raise DeskError("a promise to pay needs a customer the IVR identified")
        session.add(_promise(customer_id, offer.call_id, promise_amount, promise_date, now))
    return wrap


def _promise(customer_id: str, call_id: str, amount_text: str, date_text: str,
             now: datetime) -> PromiseToPay:
    try:
        amount = Decimal(amount_text.strip())
        pay_by = date.fromisoformat(date_text.strip())
    except (InvalidOperation, ValueError) as exc:
        raise DeskError("a promise needs an amount (e.g. 1500.00) and a date "
                        "(YYYY-MM-DD)") from exc
    if not Decimal("0") < amount < Decimal("100000000"):
        raise DeskError("the promised amount must be above 0")
    today = now.date()
    if not today <= pay_by <= today + timedelta(days=MAX_PROMISE_DAYS):
        raise DeskError(f"the promised date must be within {MAX_PROMISE_DAYS} days")
    return PromiseToPay(customer_id=customer_id, call_id=call_id, made_at=now,
                        amount=amount.quantize(Decimal("0.01")), pay_by=pay_by, status="open")
