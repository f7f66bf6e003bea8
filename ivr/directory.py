"""An in-memory customer directory: the records behind lookups in demos, transcripts and
tests, and the shape sample data is written in.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ivr.ports import Customer, TicketState


class TicketRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ticket: str = Field(pattern=r"^\d{11}$")
    category: str
    status: str = "new"


class CustomerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    customer_id: str
    phones: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)
    cards: list[str] = Field(default_factory=list)
    attributes: dict[str, bool | int | str] = Field(default_factory=dict)
    secrets: dict[Literal["pin", "id_and_card"],
                  str] = Field(default_factory=dict, description=(
        "Verification secrets as argon2id hashes (`hotline db hash-secret`), never in "
        "clear."))
    tickets: list[TicketRecord] = Field(default_factory=list, description=(
        "Disputes, refunds and complaints the customer has open."))


class InMemoryDirectory:
    """`ivr.ports.Directory` over a list of records."""

    def __init__(self, records: list[CustomerRecord]) -> None:
        self._by: dict[str, dict[str, CustomerRecord]] = {
            "caller_number": {p: r for r in records for p in r.phones},
            "account": {a: r for r in records for a in r.accounts},
            "card": {n: r for r in records for n in r.cards},
        }

    def find_customer(self, by: str, value: str) -> Customer | None:
        found = self._by.get(by, {}).get(value)
        if found is None:
            return None
        return Customer(found.customer_id, dict(found.attributes))


def secrets_of(records: list[CustomerRecord]) -> dict[str, dict[str, str]]:
    """Customer id -> method -> argon2id hash, for an in-memory verifier."""
    return {r.customer_id: {str(method): hashed for method, hashed in r.secrets.items()}
            for r in records if r.secrets}


@dataclass
class InMemoryAccountServices:
    """`ivr.ports.AccountServices` over customer records: what it froze and was promised is
    kept for the caller (transcripts, the simulator) to check."""

    records: list[CustomerRecord]
    frozen: list[str] = field(default_factory=list)  # customer ids
    promises: list[tuple[str, str, date]] = field(default_factory=list)

    def freeze_cards(self, customer_id: str, *, call_id: str, now: datetime) -> int:
        cards = next((len(r.cards) or 1 for r in self.records
                      if r.customer_id == customer_id), 0)
        self.frozen.append(customer_id)
        return cards

    def promise_to_pay(self, customer_id: str, amount: str, pay_by: date, *, call_id: str,
                       now: datetime) -> None:
        self.promises.append((customer_id, amount, pay_by))

    def ticket(self, customer_id: str, ticket: str) -> TicketState | None:
        for record in self.records:
            if record.customer_id == customer_id:
                for own in record.tickets:
                    if own.ticket == ticket:
                        return TicketState(own.ticket, own.category, own.status)
        return None
