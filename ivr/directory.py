"""An in-memory customer directory: the records behind lookups in demos, transcripts and
tests, and the shape sample data is written in.

Must not import pyst2, Asterisk, Vosk or SQLAlchemy.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ivr.ports import Customer


class CustomerRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    customer_id: str
    phones: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)
    cards: list[str] = Field(default_factory=list)
    attributes: dict[str, bool | int | str] = Field(default_factory=dict)


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
